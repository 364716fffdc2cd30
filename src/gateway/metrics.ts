// Prometheus metrics (prom-client). Labels use resolved names only (route alias, provider, model from
// config), never raw client input, so cardinality stays bounded.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  requests: Counter<'api' | 'alias' | 'provider' | 'status'>;
  latency: Histogram<'api' | 'provider' | 'model' | 'stream'>;
  ttft: Histogram<'api' | 'provider' | 'model'>;
  upstreamErrors: Counter<'provider' | 'model' | 'code'>;
  tokens: Counter<'provider' | 'model' | 'direction'>;
  failures: Counter<'stage'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'redline_process_' });
  const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
  return {
    registry,
    requests: new Counter({ name: 'redline_requests_total', help: 'Requests by API, route alias, provider and HTTP status', labelNames: ['api', 'alias', 'provider', 'status'], registers: [registry] }),
    latency: new Histogram({ name: 'redline_request_duration_seconds', help: 'Request latency, end to end', labelNames: ['api', 'provider', 'model', 'stream'], buckets, registers: [registry] }),
    ttft: new Histogram({ name: 'redline_time_to_first_token_seconds', help: 'Streams: time to the first event sent to the client', labelNames: ['api', 'provider', 'model'], buckets, registers: [registry] }),
    upstreamErrors: new Counter({ name: 'redline_upstream_errors_total', help: 'Upstream failures by provider, model and error code', labelNames: ['provider', 'model', 'code'], registers: [registry] }),
    tokens: new Counter({ name: 'redline_tokens_total', help: 'Tokens by provider, model and direction (input/output)', labelNames: ['provider', 'model', 'direction'], registers: [registry] }),
    failures: new Counter({ name: 'redline_fail_closed_total', help: 'Requests refused because a stage (policy, classifier, ledger) could not decide', labelNames: ['stage'], registers: [registry] }),
  };
}
