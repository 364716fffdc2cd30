// Upstream calls on undici's dispatch API: a handler object receives the response directly, with no
// Readable body or request() wrapper per call. Non-streaming answers are collected and parsed whole;
// streamed ones are handed to the SSE parser chunk by chunk. Failures map exactly as in http.ts.
import { errors as undiciErrors, type Dispatcher } from 'undici';
import { RedlineError } from '../errors.js';
import { parseSse, type SseEvent } from '../wire/index.js';
import { httpError, networkError, type UpstreamCall } from './http.js';
import { Watched } from './watch.js';

/**
 * POSTs JSON and resolves with `read` of the parsed JSON of a 2xx answer, for calls that want the
 * whole body. It talks to the dispatcher directly with a handler that collects the body chunks,
 * skipping what request() builds per call (an AsyncResource, a Readable body, the text() consumer,
 * the signal plumbing), which profiles showed as a large share of the gateway's CPU per upstream call.
 * The call is built and the answer read inside the exchange, so a provider's complete() needs no
 * async layer of its own, and anything either throws rejects the promise. Failures: an error status
 * (httpError), a socket error or timeout (networkError), and a body that is not JSON (retryable:
 * garbage or truncation).
 */
export function postForJson<T>(call: () => UpstreamCall, read: (json: unknown) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    const answer = (json: unknown) => {
      let value: T;
      try {
        value = read(json);
      } catch (e) {
        return reject(e); // inside undici's handler: a throw here would reach undici, not the caller
      }
      resolve(value);
    };
    new JsonExchange(call(), answer, reject).start();
  });
}

/**
 * One POST on undici's dispatch API (the controller handler API, which v7 does not mark deprecated):
 * the total timeout and the client's abort, released as soon as the exchange is over. An error status
 * is read whole and rejects with httpError; what a 2xx answer becomes is the subclass's.
 */
abstract class Exchange extends Watched implements Dispatcher.DispatchHandler {
  protected controller: Dispatcher.DispatchController | null = null;
  /** No longer watched (watch.ts): the exchange is over for redline, whatever undici reports later. */
  protected released = false;
  private abortReason: unknown = undefined;
  protected status = 0;
  protected headers: Record<string, string | string[] | undefined> = {};
  protected chunks: Buffer[] = [];
  protected size = 0;

  constructor(
    protected readonly call: UpstreamCall,
    private readonly rejectStart: (e: RedlineError) => void,
  ) {
    super();
  }

  start(): void {
    const { call } = this;
    let target: { origin: string; path: string };
    try {
      if (call.signal.aborted) throw call.signal.reason;
      target = splitUrl(call.url);
    } catch (err) {
      this.released = true;
      this.rejectStart(networkError(call.provider, err, call.signal));
      return;
    }
    this.watch(call.signal, call.timeouts.totalMs);
    const { origin, path } = target;
    call.dispatcher.dispatch({
      origin,
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...call.headers },
      body: JSON.stringify(call.body),
      headersTimeout: call.timeouts.firstByteMs,
      bodyTimeout: call.timeouts.firstByteMs,
    }, this);
  }

  /**
   * Client gone or total timeout: fail now (the request may still be queued for a connection, where
   * undici would not notice for a while) and tear the request down, now or as soon as it starts.
   */
  abort(reason: unknown): void {
    if (this.released) return;
    this.abortReason = reason;
    this.aborted(reason);
    this.release();
    this.controller?.abort(reason as Error);
  }

  /** What an abort (client, total timeout, or the consumer closing) does to the caller. */
  protected abstract aborted(reason: unknown): void;

  protected release(): void {
    this.released = true;
    this.unwatch();
  }

  protected get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /**
   * The promise from start() rejects: with the upstream's error status if one came (even when reading
   * its body then failed), else with the failure mapped.
   */
  protected failStart(err: unknown): void {
    if (this.released) return;
    this.release();
    const { provider } = this.call;
    if (this.status !== 0 && !this.ok) this.rejectStart(httpError(provider, this.status, this.headers, err ? '' : utf8(this.chunks, this.size)));
    else this.rejectStart(networkError(provider, err, this.call.signal));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.released) controller.abort(this.abortReason as Error); // aborted while queued
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx informational; the real answer follows
    this.status = statusCode;
    this.headers = headers;
  }

  abstract onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void;
  abstract onResponseEnd(): void;
  abstract onResponseError(c: Dispatcher.DispatchController, err: Error): void;
}

class JsonExchange extends Exchange {
  constructor(call: UpstreamCall, private readonly resolve: (v: unknown) => void, reject: (e: RedlineError) => void) {
    super(call, reject);
  }

  protected aborted(reason: unknown): void {
    this.chunks = [];
    this.failStart(reason);
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    if (this.released) return;
    if (!this.ok) return this.failStart(undefined);
    const { provider } = this.call;
    let json: unknown;
    try {
      json = JSON.parse(utf8(this.chunks, this.size));
    } catch {
      return this.failStart(new RedlineError('UPSTREAM_FAILED', `provider ${provider} returned a body that is not JSON`, { details: { provider, retryable: true } }));
    }
    this.release();
    this.chunks = [];
    this.resolve(json);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.failStart(err);
  }
}

/**
 * A streamed 2xx body straight from the dispatch handler, for parseSse: chunks as they arrive, read
 * errors (resets, stalls, the client's abort, the total timeout) as raw errors for networkError, like
 * undici's body stream. close() lets go of a body not read to its end (the connection with it).
 */
export interface UpstreamBody extends AsyncIterable<Buffer> {
  close(): void;
}

/** Resolves once 2xx headers arrived; an error status rejects with httpError. */
export function postForStream(call: UpstreamCall): Promise<UpstreamBody> {
  return new Promise((resolve, reject) => {
    new StreamExchange(call, resolve, reject).start();
  });
}

/** Bytes buffered ahead of the reader before the socket is paused (undici's body stream default). */
const STREAM_HIGH_WATER = 64 * 1024;

class StreamExchange extends Exchange implements UpstreamBody, AsyncIterator<Buffer> {
  private opened = false;
  private ended = false;
  private error: unknown = undefined;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private waiter: { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: unknown) => void } | null = null;

  constructor(call: UpstreamCall, private readonly resolveStart: (b: UpstreamBody) => void, reject: (e: RedlineError) => void) {
    super(call, reject);
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.queue.shift();
    if (chunk) {
      this.queued -= chunk.length;
      if (this.controller?.paused && this.queued < STREAM_HIGH_WATER) this.controller.resume();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.error !== undefined) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  return(): Promise<IteratorResult<Buffer>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (!this.ended) this.abort(new undiciErrors.RequestAbortedError());
  }

  protected aborted(reason: unknown): void {
    if (!this.opened) return this.failStart(reason);
    this.queue.length = 0;
    this.queued = 0;
    this.fail(reason);
  }

  override onResponseStart(c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    super.onResponseStart(c, statusCode, headers);
    if (this.ok && !this.released) {
      this.opened = true;
      this.resolveStart(this);
    }
  }

  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.opened) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    } else if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve({ value: chunk, done: false });
    } else if (!this.released) {
      this.queue.push(chunk);
      this.queued += chunk.length;
      if (this.queued >= STREAM_HIGH_WATER) c.pause();
    }
  }

  onResponseEnd(): void {
    if (!this.opened) return this.failStart(undefined);
    if (this.released) return;
    this.ended = true;
    this.release();
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ value: undefined, done: true });
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (!this.opened) return this.failStart(err);
    if (this.released) return;
    this.release();
    this.fail(err);
  }

  /** Chunks already queued are still read; the error comes after them. */
  private fail(err: unknown): void {
    this.error = err ?? new undiciErrors.RequestAbortedError();
    const w = this.waiter;
    this.waiter = null;
    w?.reject(this.error);
  }
}

/** The body as text the way undici's body.text() reads it: UTF-8, a leading BOM skipped. */
function utf8(chunks: Buffer[], size: number): string {
  if (size === 0) return '';
  const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  const start = size > 2 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  return buf.toString('utf8', start, size);
}

/**
 * dispatch() wants origin and path apart. Providers post to a handful of fixed URLs, so each is parsed
 * once; the bound only guards against a config that would mint URLs without end.
 */
const splitCache = new Map<string, { origin: string; path: string }>();
function splitUrl(url: string): { origin: string; path: string } {
  let s = splitCache.get(url);
  if (s) return s;
  const u = new URL(url);
  s = { origin: u.origin, path: `${u.pathname}${u.search}` };
  if (splitCache.size >= 1024) splitCache.clear();
  splitCache.set(url, s);
  return s;
}

/**
 * The SSE events of a streamed body, read errors and stalls mapped to RedlineError; the body is let go
 * when the reader stops early (break, return, a throw), which closes its connection.
 */
export async function* readSse(provider: string, body: UpstreamBody, signal: AbortSignal): AsyncGenerator<SseEvent> {
  try {
    yield* parseSse(body);
  } catch (err) {
    throw networkError(provider, err, signal);
  } finally {
    body.close();
  }
}
