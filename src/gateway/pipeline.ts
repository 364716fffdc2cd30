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
import { decisionEntry, type RecordDeps } from './record.js';

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
}

export interface PipelineDeps {
  routes: RouteTable;
  executor: Executor;
  providers: ReadonlyMap<string, Provider>;
  timeoutsOf(provider: string): { connectMs: number; firstByteMs: number; totalMs: number };
  assessor: Assessor;
  policy: PolicyDeps;
  record: RecordDeps;
}

interface Routed { target: Target; alias: string; attempts: number; assessment: Assessment; decided: CallDecision; targetIndex: number; ledgerIndex: number }
export type Outcome =
  | (Routed & { kind: 'complete'; response: ChatResponse })
  | (Routed & { kind: 'stream'; first: StreamEvent; rest: AsyncIterator<StreamEvent> });

export async function handle(call: Call, deps: PipelineDeps): Promise<Outcome> {
  const route = deps.routes.resolve(call.req.model);                       // 404 MODEL_NOT_FOUND
  const assessment = await deps.assessor.assess(call.req, call.caller.principal.id, call.signal); // 503 CLASSIFIER_FAILED
  const decided = decideCall(call, route, assessment, deps.policy);        // 503 POLICY_FAILED
  // The ledger append (group commit) runs while the upstream answers; the response waits for both, so
  // an entry is durable before the answer it records reaches the client.
  const logged = deps.record.ledger.append(decisionEntry(call, route, assessment, decided, deps.record.secret)); // 503 LEDGER_PUSHBACK
  logged.catch(() => {});
  if (decided.decision.kind === 'deny' || decided.decision.kind === 'hold') {
    await logged;
    enforce(decided.decision);                                             // 403 POLICY_DENIED / APPROVAL_REQUIRED
  }
  let r;
  try {
    r = await deps.executor.execute(route, (t) => forward(call, t, deps), {
      signal: call.signal, firstIndex: decided.decision.targetIndex, allowed: decided.allowed,
    });                                                                    // 429/502/503/504
  } catch (err) {
    await logged; // a ledger failure outranks the upstream's: the decision itself went unrecorded
    throw err;
  }
  let ledgerIndex: number;
  try {
    ledgerIndex = (await logged).index;
  } catch (err) {
    if (r.value.kind === 'stream') await r.value.rest.return?.(undefined).catch(() => {});
    throw err;
  }
  return { ...r.value, target: r.target, targetIndex: r.targetIndex, alias: route.alias, attempts: r.attempts, assessment, decided, ledgerIndex };
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
