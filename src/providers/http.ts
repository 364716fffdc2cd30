// The one way providers talk HTTP upstream: undici with keep-alive, the three timeouts, and the
// mapping from upstream failures to RedlineError codes that routing uses to retry or fall back.
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { RedlineError } from '../errors.js';
import type { Timeouts } from './types.js';

export function createDispatcher(timeouts: Timeouts): Agent {
  return new Agent({
    connect: { timeout: timeouts.connectMs },
    keepAliveTimeout: 30_000,
    connections: 256,
    pipelining: 1,
  });
}

export interface UpstreamCall {
  provider: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  dispatcher: Dispatcher;
  signal: AbortSignal;
  timeouts: Timeouts;
}

/** Parses one SSE data payload as JSON, or fails as an upstream fault. */
export function parseEventJson(provider: string, data: string): any {
  try {
    return JSON.parse(data);
  } catch {
    // Retryable like a garbled non-streaming body: as the first event it reaches no client, so the
    // executor may try again or fall back; later in a stream nothing is retried whatever this says.
    throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} sent a stream event that is not JSON`, { details: { provider, retryable: true } });
  }
}

export function httpError(provider: string, status: number, headers: Record<string, string | string[] | undefined>, bodyText: string): RedlineError {
  const upstreamMessage = extractMessage(bodyText);
  const retryAfter = parseRetryAfter(headers['retry-after']);
  const details = { provider, upstreamStatus: status, retryable: false as boolean };
  const msg = `provider ${provider} answered ${status}${upstreamMessage ? `: ${upstreamMessage}` : ''}`;
  if (status === 429) return new RedlineError('RATE_LIMITED', msg, { details: { ...details, retryable: true }, ...(retryAfter !== undefined && { retryAfter }) });
  if (status === 503 || status === 529) return new RedlineError('UPSTREAM_UNAVAILABLE', msg, { details: { ...details, retryable: true }, ...(retryAfter !== undefined && { retryAfter }) });
  if (status === 408 || status >= 500) return new RedlineError('UPSTREAM_FAILED', msg, { details: { ...details, retryable: true }, ...(retryAfter !== undefined && { retryAfter }) });
  // The target's fault, not the request's: the same call fails again there, but another target (with
  // its own key) may serve it, so the executor falls back without retrying and counts it against the target.
  if (status === 401 || status === 403) return new RedlineError('UPSTREAM_FAILED', `provider ${provider} refused redline's credentials (${status})`, { details: { ...details, targetFault: true } });
  return new RedlineError('UPSTREAM_REJECTED', msg, { status: status === 404 ? 404 : status === 413 ? 413 : status === 422 ? 422 : 400, details });
}

export function networkError(provider: string, err: unknown, clientSignal: AbortSignal): RedlineError {
  if (err instanceof RedlineError) return err;
  if (clientSignal.aborted) return new RedlineError('UPSTREAM_FAILED', 'client went away', { details: { provider, retryable: false, clientAborted: true }, cause: err });
  const timeout = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError
    || err instanceof undiciErrors.ConnectTimeoutError || (err as Error)?.name === 'TimeoutError';
  if (timeout) return new RedlineError('UPSTREAM_TIMEOUT', `provider ${provider} timed out`, { details: { provider, retryable: true }, cause: err });
  return new RedlineError('UPSTREAM_FAILED', `provider ${provider} connection failed: ${(err as Error)?.message ?? String(err)}`, { details: { provider, retryable: true }, cause: err });
}

function extractMessage(bodyText: string): string | undefined {
  try {
    const j = JSON.parse(bodyText);
    const m = j?.error?.message ?? j?.message ?? (Array.isArray(j) ? j[0]?.error?.message : undefined);
    return typeof m === 'string' ? m.slice(0, 500) : undefined;
  } catch {
    return undefined;
  }
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  if (/^\d+$/.test(s.trim())) return Number(s.trim());
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - Date.now()) / 1000));
}
