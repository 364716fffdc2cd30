// The request path, top to bottom, with the failure status of each step beside it. Routes parse the
// client's wire format into a ChatRequest and render the result back; nothing here sees a wire format.
import { RedlineError } from '../errors.js';
import type { Provider } from '../providers/index.js';
import type { Executor, RouteTable, Target } from '../routing/index.js';
import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';
import type { Assessor, Assessment } from './assess.js';
import type { Caller } from './auth.js';
import { decideCall, enforce, type CallDecision, type PolicyDeps } from './decide.js';
import type { ApiFlavour } from './errors.js';
import { contentOf, contentValue, decisionEntry, type RecordDeps } from './record.js';
import type { DeliveryMode, Gate } from './gate.js';
import { sha256Hex } from '../verify/index.js';

export interface Call {
  api: ApiFlavour;
  requestId: string;
  req: ChatRequest;
  caller: Caller;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  startedAt: number;
  /** Warrant or court-order reference the client attached (x-redline-legal-authority). */
  legalAuthority?: string;
  /** x-redline-approval-mode: how the client waits for human decisions. */
  approvalMode?: DeliveryMode;
  /** x-redline-approval-id: an approval that releases this (held) request. */
  approvalId?: string;
}

export interface PipelineDeps {
  routes: RouteTable;
  executor: Executor;
  providers: ReadonlyMap<string, Provider>;
  timeoutsOf(provider: string): { connectMs: number; firstByteMs: number; totalMs: number };
  assessor: Assessor;
  policy: PolicyDeps;
  record: RecordDeps;
  gate: Gate;
}

interface Routed { target: Target; alias: string; attempts: number; assessment: Assessment; decided: CallDecision; targetIndex: number; ledgerIndex: number }
export type Outcome =
  | (Routed & { kind: 'complete'; response: ChatResponse })
  | (Routed & { kind: 'stream'; first: StreamEvent; rest: AsyncIterator<StreamEvent> });

export async function handle(call: Call, deps: PipelineDeps): Promise<Outcome> {
  const route = deps.routes.resolve(call.req.model);                       // 404 MODEL_NOT_FOUND
  const assessed = assess(call, deps);                                     // 503 CLASSIFIER_FAILED
  const assessment = assessed instanceof Promise ? await assessed : assessed;
  const decided = decideCall(call, route, assessment, deps.policy);        // 503 POLICY_FAILED
  // Every decision is durable in the ledger before the client hears of it; see commitBefore for when
  // an allowed request may go upstream while its entry commits. Group commit batches concurrent
  // requests into one transaction, so this costs latency (one commit) rather than throughput.
  const recorded = deps.record.ledger.append(decisionEntry(call, route, assessment, decided, deps.record), { content: contentValue(call) }); // 503 LEDGER_PUSHBACK
  const kind = decided.decision.kind;
  const overlap = deps.record.commitBefore === 'response' && (kind === 'allow' || kind === 'reroute');
  if (!overlap) await recorded;
  else {
    // Awaited below, after the upstream call. A ledger that refuses at once (queue full, closed,
    // unreadable) is known before anything goes upstream: the rejection of an already settled promise
    // is handled in the microtask queued here, ahead of the one that resumes this function. (Cheaper
    // than Promise.race, which builds an array and a promise per request.)
    let refused: { error: unknown } | undefined;
    recorded.catch((error: unknown) => { refused = { error }; });
    await undefined;
    if (refused) throw refused.error;
  }
  enforce(decided.decision);                                               // 403 POLICY_DENIED
  let allowed = decided.allowed;
  if (kind === 'hold') {
    const ctx = { api: call.api, requestId: call.requestId, requester: { id: call.caller.principal.id, name: call.caller.principal.name }, input: decided.input, target: decided.targets[Math.max(0, decided.decision.targetIndex)]!, signal: call.signal, ...(call.approvalMode && { requestedMode: call.approvalMode }) };
    await deps.gate.holdRequest(ctx, sha256Hex(contentOf(call)), decided.decision.reasons, call.approvalId); // 403 APPROVAL_REQUIRED / POLICY_DENIED
    // Released by a human: the targets that were held may serve it, not only the allowed ones.
    allowed = (i) => decided.allowed(i) || decided.decision.perTarget[i]?.effect === 'hold';
  }
  let r: Awaited<ReturnType<Executor['execute']>> & { value: Attempt };
  try {
    r = await deps.executor.execute(route, (t) => forward(call, t, deps), {
      signal: call.signal, firstIndex: decided.decision.targetIndex, allowed,
    });                                                                    // 429/502/503/504
  } catch (err) {
    await recorded; // a decision that could not be recorded outranks the upstream's failure
    throw err;
  }
  let ledgerIndex: number;
  try {
    ({ index: ledgerIndex } = await recorded);
  } catch (err) {
    // Not on record: the answer is discarded (fail closed), and an open stream is let go.
    if (r.value.kind === 'stream') await r.value.rest.return?.()?.catch?.(() => {});
    throw err;
  }
  // Written out per kind, without spreads: on this V8 copying properties in with a spread costs about
  // 1 µs each (measured 8 µs for this object), once per request.
  const { target, targetIndex, attempts } = r;
  const alias = route.alias;
  const v = r.value;
  return v.kind === 'complete'
    ? { kind: 'complete', response: v.response, target, targetIndex, alias, attempts, assessment, decided, ledgerIndex }
    : { kind: 'stream', first: v.first, rest: v.rest, target, targetIndex, alias, attempts, assessment, decided, ledgerIndex };
}

/**
 * The assessment, with anything unexpected from it turned into a fail-closed refusal. Synchronous
 * unless a guard model is configured.
 */
function assess(call: Call, deps: PipelineDeps): Assessment | Promise<Assessment> {
  try {
    const a = deps.assessor.assess(call.req, call.caller.principal.id, call.signal);
    return a instanceof Promise ? a.catch(classifierFailed) : a;
  } catch (err) {
    return classifierFailed(err);
  }
}

function classifierFailed(err: unknown): never {
  if (err instanceof RedlineError) throw err;
  throw new RedlineError('CLASSIFIER_FAILED', 'The request could not be classified, so it is refused (fail closed).', { cause: err, details: { stage: 'classifier' } });
}

type Attempt = { kind: 'complete'; response: ChatResponse } | { kind: 'stream'; first: StreamEvent; rest: AsyncIterator<StreamEvent> };

/** One attempt against one target. For streams it includes the first event, so fallback stays possible. */
async function forward(call: Call, target: Target, deps: PipelineDeps): Promise<Attempt> {
  const provider = deps.providers.get(target.provider);
  if (!provider) throw new RedlineError('CONFIG_INVALID', `route target names unknown provider ${target.provider}`);
  const opts = { model: target.model, signal: call.signal, timeouts: deps.timeoutsOf(target.provider) };
  if (!call.req.stream) return { kind: 'complete', response: await provider.complete(call.req, opts) };
  const it = provider.stream(call.req, opts)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) throw new RedlineError('UPSTREAM_FAILED', `provider ${target.provider} closed the stream without an event`, { details: { provider: target.provider, retryable: true } });
  if (first.value.type !== 'start') return { kind: 'stream', first: first.value, rest: it };
  // A start event carries no content, and upstreams report overload or failure right after it
  // (Anthropic's overloaded_error): wait briefly for the event after it, so that such a stream can
  // still be retried or fall back before anything reaches the client. The wait is bounded because a
  // reasoning model may think for minutes before its first content, and the client (and any proxy in
  // between) should have the response headers and the opening frame meanwhile. No content is
  // delayed by this: the opening frame goes out with the next event, or when the window ends.
  const next = it.next();
  next.catch(() => {}); // a failure after the window is the consumer's to see, when it reads on
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([next, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), OPENING_WINDOW_MS); })]);
  clearTimeout(timer);
  return { kind: 'stream', first: first.value, rest: withHead(early === undefined ? next : Promise.resolve(early), it) };
}

/** How long a stream's contentless opening waits for the next event (see forward). */
const OPENING_WINDOW_MS = 250;

/** `it`, with an already-requested result handed out first. */
function withHead<T>(head: Promise<IteratorResult<T>>, it: AsyncIterator<T>): AsyncIterator<T> {
  let pending: Promise<IteratorResult<T>> | undefined = head;
  return {
    next() {
      if (pending === undefined) return it.next();
      const r = pending;
      pending = undefined;
      return r;
    },
    return(value?: unknown) {
      pending = undefined;
      return it.return ? it.return(value) : Promise.resolve({ done: true, value: undefined as T });
    },
  };
}
