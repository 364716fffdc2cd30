// The one way providers talk HTTP upstream: undici with keep-alive, the three timeouts, and the
// mapping from upstream failures to RedlineError codes that routing uses to retry or fall back.
import { EventEmitter } from 'node:events';
import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { RedlineError } from '../errors.js';
import { parseSse, type SseEvent } from '../wire/index.js';
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

/**
 * What undici aborts an upstream call on: the client going away or the total timeout. undici accepts
 * an EventEmitter with `aborted`/`reason` as well as an AbortSignal; building an AbortController per
 * call and listening on its signal cost about 7 µs of CPU per upstream call (measured at 16 concurrent
 * calls); an EventEmitter costs well under 1.
 */
class UpstreamAbort extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort');
  }
}

/** POSTs JSON and returns the response once a 2xx status has arrived; any other status throws. */
export async function postJson(call: UpstreamCall): Promise<Dispatcher.ResponseData> {
  // One abort source per upstream call carries both the client's abort and the total timeout. Cheaper
  // than AbortSignal.any + AbortSignal.timeout on every request, and the timer is cleared as soon as
  // the body is done rather than living on until it fires.
  const ac = new UpstreamAbort();
  const onClientAbort = () => ac.abort(call.signal.reason);
  if (call.signal.aborted) ac.abort(call.signal.reason);
  else call.signal.addEventListener('abort', onClientAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new DOMException('total timeout', 'TimeoutError')), call.timeouts.totalMs);
  const release = () => {
    clearTimeout(timer);
    call.signal.removeEventListener('abort', onClientAbort);
  };
  let res: Dispatcher.ResponseData;
  try {
    res = await request(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...call.headers },
      body: JSON.stringify(call.body),
      dispatcher: call.dispatcher,
      signal: ac,
      headersTimeout: call.timeouts.firstByteMs,
      bodyTimeout: call.timeouts.firstByteMs,
    });
  } catch (err) {
    release();
    throw networkError(call.provider, err, call.signal);
  }
  res.body.once('close', release);
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const text = await res.body.text().catch(() => '');
    throw httpError(call.provider, res.statusCode, res.headers, text);
  }
  return res;
}

/** Iterates the SSE events of a streamed body, mapping read errors and stalls to RedlineError. */
export async function* readSse(provider: string, res: Dispatcher.ResponseData, signal: AbortSignal): AsyncGenerator<SseEvent> {
  try {
    yield* parseSse(res.body);
  } catch (err) {
    throw networkError(provider, err, signal);
  } finally {
    if (!res.body.destroyed) res.body.destroy();
  }
}

/** Parses one SSE data payload as JSON, or fails as an upstream fault. */
export function parseEventJson(provider: string, data: string): any {
  try {
    return JSON.parse(data);
  } catch {
    throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} sent a stream event that is not JSON`, { details: { provider, retryable: false } });
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
  if (status === 401 || status === 403) return new RedlineError('UPSTREAM_FAILED', `provider ${provider} refused redline's credentials (${status})`, { details });
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
