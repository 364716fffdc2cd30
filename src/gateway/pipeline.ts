// The request path, top to bottom, with the failure status of each step beside it. Routes parse the
// client's wire format into a ChatRequest and render the result back; nothing here sees a wire format.
import { RedlineError } from '../errors.js';
import type { Provider } from '../providers/index.js';
import type { Executor, RouteTable, Target } from '../routing/index.js';
import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';
import type { Caller } from './auth.js';
import type { ApiFlavour } from './errors.js';

export interface Call {
  api: ApiFlavour;
  requestId: string;
  req: ChatRequest;
  caller: Caller;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  startedAt: number;
}

export interface PipelineDeps {
  routes: RouteTable;
  executor: Executor;
  providers: ReadonlyMap<string, Provider>;
  timeoutsOf(provider: string): { connectMs: number; firstByteMs: number; totalMs: number };
}

interface Routed { target: Target; alias: string; attempts: number }
export type Outcome =
  | (Routed & { kind: 'complete'; response: ChatResponse })
  | (Routed & { kind: 'stream'; first: StreamEvent; rest: AsyncIterator<StreamEvent> });

export async function handle(call: Call, deps: PipelineDeps): Promise<Outcome> {
  const route = deps.routes.resolve(call.req.model);                       // 404 MODEL_NOT_FOUND
  const r = await deps.executor.execute(route, (t) => forward(call, t, deps), { signal: call.signal }); // 429/502/503/504
  return { ...r.value, target: r.target, alias: route.alias, attempts: r.attempts };
}

/** One attempt against one target. For streams it includes the first event, so fallback stays possible. */
async function forward(call: Call, target: Target, deps: PipelineDeps): Promise<{ kind: 'complete'; response: ChatResponse } | { kind: 'stream'; first: StreamEvent; rest: AsyncIterator<StreamEvent> }> {
  const provider = deps.providers.get(target.provider);
  if (!provider) throw new RedlineError('CONFIG_INVALID', `route target names unknown provider ${target.provider}`);
  const opts = { model: target.model, signal: call.signal, timeouts: deps.timeoutsOf(target.provider) };
  if (!call.req.stream) return { kind: 'complete', response: await provider.complete(call.req, opts) };
  const it = provider.stream(call.req, opts)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new RedlineError('UPSTREAM_FAILED', `provider ${target.provider} closed the stream without an event`, { details: { provider: target.provider, retryable: true } });
  return { kind: 'stream', first: first.value, rest: it };
}
