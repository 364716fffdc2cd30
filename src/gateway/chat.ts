// One handler for both chat APIs: a ClientCodec says how to parse and render one wire format, and
// this file runs the pipeline, streams or sends the answer, and records the request.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Socket } from 'node:net';
import { RedlineError } from '../errors.js';
import type { RequestLog } from '../store/index.js';
import type { ChatRequest, ChatResponse, StreamEvent, Usage } from '../wire/index.js';
import type { Caller } from './auth.js';
import { errorBody, normaliseError, type ApiFlavour } from './errors.js';
import type { Metrics } from './metrics.js';
import { handle, type Outcome, type PipelineDeps } from './pipeline.js';
import type { Gate, GateContext, GateReport } from './gate.js';

export interface StreamEncoder { encode(ev: StreamEvent): string; end(): string }

export interface ClientCodec {
  flavour: ApiFlavour;
  parse(body: unknown): ChatRequest;
  render(res: ChatResponse, o: { id: string; model: string; created: number }): unknown;
  encoder(o: { id: string; model: string; created: number; includeUsage: boolean }): StreamEncoder;
  /** A mid-stream error in the format's own streaming shape. */
  errorFrame(e: RedlineError): string;
  /** redline's report (approvals, receipts, holds) as one extra streaming frame the SDKs tolerate. */
  extensionFrame(o: { id: string; model: string; created: number; report: GateReport }): string;
  responseId(requestId: string): string;
}

export interface ChatDeps extends PipelineDeps {
  requests: RequestLog;
  metrics: Metrics;
  storeContent: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
    /** Set once a chat handler has taken the request: from then on it writes the request's record. */
    recorded?: boolean;
  }
}

export function chatHandler(codec: ClientCodec, deps: ChatDeps) {
  return async function chat(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const startedAt = performance.now();
    const caller = request.caller!;
    const req = codec.parse(request.body);                                  // 400 INVALID_REQUEST (recordRefused)
    const signal = clientGone(request.raw.socket);
    const record = recorder(codec.flavour, request.id, caller, req, deps, startedAt);
    request.recorded = true;
    let outcome: Outcome;
    let approvalMode: 'wait' | 'defer' | undefined;
    try {
      const legalAuthority = headerValue(request.headers['x-redline-legal-authority']);
      approvalMode = approvalModeOf(request);
      const approvalId = headerValue(request.headers['x-redline-approval-id']);
      outcome = await handle({
        api: codec.flavour, requestId: request.id, req, caller, signal, startedAt,
        ...(legalAuthority && { legalAuthority }), ...(approvalMode && { approvalMode }), ...(approvalId && { approvalId }),
      }, deps);
    } catch (err) {
      record.fail(err);
      throw err;
    }
    decisionHeaders(reply, outcome);
    const created = Math.floor(Date.now() / 1000);
    const id = codec.responseId(request.id);
    // Built only when there is a tool call to gate: most answers have none.
    const gctx = () => gateContext(codec.flavour, request, caller, outcome, signal, approvalMode);
    if (outcome.kind === 'complete') {
      // While a wait-mode approval is pending the answer is held open: headers go out with status 200
      // and a space every keep-alive interval (leading whitespace is valid JSON), so proxies and clients
      // do not time out. Denied or timed-out calls still end in a 200 with a refusal the client can show.
      let hijacked = false;
      const keepAlive = () => {
        if (!hijacked) {
          hijacked = true;
          reply.hijack();
          reply.raw.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...(reply.getHeaders() as Record<string, string>) });
        }
        reply.raw.write(' ');
      };
      let gated: Awaited<ReturnType<ChatDeps['gate']['gateResponse']>>;
      try {
        // Only tool calls are gated: an answer without one skips a layer of async work.
        gated = outcome.response.content.some(isToolCall)
          ? await deps.gate.gateResponse(gctx(), outcome.response, keepAlive)
          : { response: outcome.response, report: NO_REPORT };
      } catch (err) {
        // The held call could not be decided or recorded: it is not delivered (fail closed).
        record.fail(err);
        if (!hijacked) throw err;
        reply.raw.end(JSON.stringify(errorBody(codec.flavour, normaliseError(err))));
        return;
      }
      const { response, report } = gated;
      const rendered = codec.render(response, { id, model: response.model, created }) as Record<string, unknown>;
      const body = JSON.stringify(hasReport(report) ? { ...rendered, redline: report } : rendered);
      // The answer leaves first; the request record and metrics are bookkeeping the client need not wait for.
      if (hijacked) reply.raw.end(body);
      else reply.type('application/json').send(body);
      record.done(200, outcome, response.usage, response);
      return;
    }
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...(reply.getHeaders() as Record<string, string>),
    });
    const model = modelOf(outcome.first, outcome.target.model);
    const enc = codec.encoder({ id, model, created, includeUsage: req.includeUsage ?? false });
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let firstSent = false;
    const report: GateReport = { approvals: [], holds: [] };
    // A model can only call tools it was offered: without tools there is nothing to gate, and the
    // events come straight from the provider with no extra layer of async iteration.
    const gated = req.tools?.length ? deps.gate.gateStream(gctx(), outcome.first, outcome.rest, report) : undefined;
    const source: AsyncIterator<StreamEvent | { type: 'keepalive' }> = gated ?? outcome.rest;
    try {
      let ev: StreamEvent | { type: 'keepalive' } | undefined = outcome.first;
      if (gated) { const n = await gated.next(); ev = n.done ? undefined : n.value; }
      for (; ev; ev = await nextOf(source)) {
        if (ev.type === 'keepalive') {
          raw.write(': keep-alive\n\n');
          continue;
        }
        if (ev.type === 'finish') usage = ev.usage;
        let out = enc.encode(ev);
        if (ev.type === 'finish' && hasReport(report)) out = codec.extensionFrame({ id, model, created, report }) + out;
        if (out && !(firstSent || active > QUIET ? writeCoalesced(raw, out) : writeNow(raw, out))) await drained(raw, signal);
        if (!firstSent) {
          firstSent = true;
          deps.metrics.ttft.observe({ api: codec.flavour, provider: outcome.target.provider, model: outcome.target.model }, (performance.now() - startedAt) / 1000);
        }
      }
      raw.end(enc.end());
      record.done(200, outcome, usage);
    } catch (err) {
      const e = normaliseError(err);
      if (!signal.aborted && !raw.destroyed) raw.end(codec.errorFrame(e));
      else raw.destroy();
      await gated?.return(undefined).catch(() => {});
      await outcome.rest.return?.().catch(() => {});
      record.done(signal.aborted ? 499 : 200, outcome, usage, undefined, signal.aborted ? 'CLIENT_CLOSED' : e.code);
    }
  };
}

/**
 * Aborted when the client's connection closes: the request in flight on it (HTTP/1.1 serves one at a
 * time) has lost its client, and its upstream call is torn down. One controller per connection rather
 * than per request: an AbortController and a 'close' listener on every request showed in profiles,
 * and every listener a request adds to the signal is removed when that request's step ends.
 */
const kClientGone = Symbol('redline.clientGone');
function clientGone(socket: Socket & { [kClientGone]?: AbortController }): AbortSignal {
  let ac = socket[kClientGone];
  if (!ac) {
    const c = (ac = socket[kClientGone] = new AbortController());
    if (socket.destroyed) c.abort();
    else socket.once('close', () => c.abort());
  }
  return ac.signal;
}

/**
 * Frames produced in the same turn of the event loop (one upstream read usually carries several
 * events) leave in one writev instead of one syscall each: the socket is corked at the first write
 * and uncorked on the next turn.
 */
const corked = new WeakSet<NodeJS.WritableStream>();
function writeCoalesced(raw: import('node:http').ServerResponse, chunk: string): boolean {
  if (!corked.has(raw)) {
    corked.add(raw);
    raw.cork();
    setImmediate(() => { corked.delete(raw); raw.uncork(); });
  }
  return raw.write(chunk);
}

/** Chat requests between their recorder's creation and its record: how busy the gateway is. */
let active = 0;
/** At most this many requests in flight counts as quiet; see writeNow. */
const QUIET = 2;

/**
 * Sends the stream's first frame (with the response headers) at once. Node corks a socket on each
 * response write and uncorks it on the next tick, which comes only after every event already buffered
 * from the upstream has been encoded; uncorking here measured 7% less time to first token at one
 * connection (interleaved A/B, 2026-12-07). It costs a second write syscall per stream, measured 9%
 * fewer streams/s at 16 connections, so it is done only while the gateway is quiet.
 */
function writeNow(raw: import('node:http').ServerResponse, chunk: string): boolean {
  const ok = raw.write(chunk);
  raw.socket?.uncork();
  return ok;
}

async function nextOf<T>(it: AsyncIterator<T>): Promise<T | undefined> {
  const n = await it.next();
  return n.done ? undefined : n.value;
}

const NO_REPORT: GateReport = { approvals: [], holds: [] };
const isToolCall = (p: { type: string }) => p.type === 'tool_call';

function hasReport(r: GateReport): boolean {
  return r.approvals.length > 0 || r.holds.length > 0;
}

function approvalModeOf(request: FastifyRequest): 'wait' | 'defer' | undefined {
  const mode = headerValue(request.headers['x-redline-approval-mode']);
  if (mode !== undefined && mode !== 'wait' && mode !== 'defer') throw new RedlineError('INVALID_REQUEST', 'x-redline-approval-mode must be "wait" or "defer".');
  return mode;
}

function gateContext(api: ApiFlavour, request: FastifyRequest, caller: Caller, o: Outcome, signal: AbortSignal, mode: 'wait' | 'defer' | undefined): GateContext {
  return {
    api, requestId: request.id, signal,
    requester: { id: caller.principal.id, name: caller.principal.name },
    input: o.decided.input,
    target: o.decided.targets[o.targetIndex]!,
    ...(mode && { requestedMode: mode }),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.trim() ? s.trim().slice(0, 256) : undefined;
}

/** Says which target served the call and why: the decision, and for a reroute what was skipped. */
function decisionHeaders(reply: FastifyReply, o: Outcome): void {
  const d = o.decided.decision;
  reply.header('x-redline-provider', o.target.provider);
  reply.header('x-redline-model', o.target.model);
  reply.header('x-redline-decision', d.kind);
  reply.header('x-redline-decision-id', d.decisionId);
  reply.header('x-redline-policy-version', d.policyVersion.slice(0, 16));
  if (d.kind === 'reroute') {
    const skipped = d.perTarget.slice(0, d.targetIndex).map((v) => `${v.target.provider}/${v.target.model}`);
    reply.header('x-redline-rerouted', `from=${skipped.join(',')}; to=${o.target.provider}/${o.target.model}`);
    reply.header('x-redline-reroute-reason', encodeURIComponent(d.perTarget.slice(0, d.targetIndex).flatMap((v) => v.reasons).join('; ')).slice(0, 1024));
  }
}

function modelOf(first: StreamEvent, fallback: string): string {
  return first.type === 'start' ? first.model : fallback;
}

function drained(raw: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new RedlineError('UPSTREAM_FAILED', 'client went away', { details: { clientAborted: true } }));
    const done = () => { signal.removeEventListener('abort', abort); resolve(); };
    const abort = () => { raw.off('drain', done); reject(new RedlineError('UPSTREAM_FAILED', 'client went away', { details: { clientAborted: true } })); };
    raw.once('drain', done);
    signal.addEventListener('abort', abort, { once: true });
  });
}

const FAIL_CLOSED_STAGES: Partial<Record<string, string>> = { CLASSIFIER_FAILED: 'classifier', POLICY_FAILED: 'policy', LEDGER_PUSHBACK: 'ledger' };

/**
 * The record of a chat request refused before its handler ran or before its body parsed (no valid
 * key, malformed JSON, a body over the limit, a schema violation): a client sending bad requests is
 * worth seeing. Without an authenticated caller there is no one to record it against, so it is only
 * counted in the metrics.
 */
export function recordRefused(api: ApiFlavour, request: FastifyRequest, elapsedMs: number, err: unknown, deps: ChatDeps): void {
  if (request.recorded) return;
  request.recorded = true;
  if (!request.caller) {
    deps.metrics.requests.add(1, api, 'unknown', 'none', String(normaliseError(err).status));
    return;
  }
  recorder(api, request.id, request.caller, undefined, deps, performance.now() - elapsedMs).fail(err);
}

/**
 * Writes the request record and metrics exactly once, whichever way the request ends. `req` is absent
 * for a body that did not parse.
 */
function recorder(api: ApiFlavour, requestId: string, caller: Caller, req: ChatRequest | undefined, deps: ChatDeps, startedAt: number) {
  let written = false;
  active++;
  const write = (status: number, o: { alias: string; provider: string | null; model: string | null; attempts: number; logContent?: boolean }, usage: Usage, errorCode: string | null, res?: ChatResponse) => {
    if (written) return;
    written = true;
    active--;
    const latencyMs = performance.now() - startedAt;
    deps.requests.record({
      id: requestId, time: new Date().toISOString(), principalId: caller.principal.id, keyId: caller.key.id, api,
      alias: o.alias, provider: o.provider, model: o.model, status, errorCode, stream: req?.stream ?? false,
      inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, latencyMs, attempts: o.attempts,
      // Content is kept when the operator opted in, or when the deciding policy obliges it (log_content).
      content: req && (deps.storeContent || o.logContent) ? JSON.stringify({ request: req, response: res ?? null }) : null,
    });
    const m = deps.metrics;
    m.requests.add(1, api, o.alias, o.provider ?? 'none', String(status));
    if (o.provider && o.model) {
      m.latency.observe({ api, provider: o.provider, model: o.model, stream: String(req?.stream ?? false) }, latencyMs / 1000);
      if (usage.inputTokens) m.tokens.add(usage.inputTokens, o.provider, o.model, 'input');
      if (usage.outputTokens) m.tokens.add(usage.outputTokens, o.provider, o.model, 'output');
    }
  };
  return {
    done(status: number, o: Outcome, usage: Usage, res?: ChatResponse, errorCode: string | null = null) {
      write(status, { alias: o.alias, provider: o.target.provider, model: o.target.model, attempts: o.attempts, logContent: o.decided.decision.obligations.includes('log_content') }, usage, errorCode, res);
    },
    fail(err: unknown) {
      const e = normaliseError(err);
      const stage = FAIL_CLOSED_STAGES[e.code];
      if (stage) deps.metrics.failures.inc({ stage });
      let alias = 'unknown';
      try { if (req) alias = deps.routes.resolve(req.model).alias; } catch { /* unknown model: keep 'unknown' so labels stay bounded */ }
      write(e.status, { alias, provider: null, model: null, attempts: 0 }, { inputTokens: 0, outputTokens: 0 }, e.code);
    },
  };
}

export function sendError(reply: FastifyReply, flavour: ApiFlavour, err: unknown): FastifyReply {
  const e = normaliseError(err);
  // Every "try again later" answer says when: the upstream's or the breaker's time when known, else
  // a second (SDKs otherwise fall back to their own backoff, which may be far longer).
  if (e.retryAfter !== undefined) reply.header('retry-after', String(e.retryAfter));
  else if (e.code === 'LEDGER_PUSHBACK' || e.code === 'RATE_LIMITED' || e.code === 'UPSTREAM_UNAVAILABLE') reply.header('retry-after', '1');
  return reply.code(e.status).type('application/json').send(JSON.stringify(errorBody(flavour, e)));
}
