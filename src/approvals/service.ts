// Human approval of held tool calls. A hold is a row in SQLite plus a ledger entry; named principals
// approve or deny it with a reason; N distinct approvals release it with a signed receipt, one deny or
// the deadline ends it. State changes happen inside IMMEDIATE transactions so that several gateway
// processes sharing the database file cannot both finish the same approval.
//
// Ledger writes follow the direction of safety. An approval takes effect only once its ledger entry
// is written (the receipt carries that entry's index), so if the ledger refuses, the approver's
// decision is rolled back and the error reaches them. A denial or a timeout takes effect at once; its
// ledger entry waits in an outbox column and is retried by the sweep until the ledger takes it.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { TOOL_EFFECTS } from '../classify/labels.js';
import { RedlineError } from '../errors.js';
import { commitContent } from '../ledger/index.js';
import { hashToolArguments } from '../verify/index.js';
import { createReceiptSigner } from './receipt.js';
import { openApprovalTables, toApproval, type ApprovalRow } from './store.js';
import type {
  Approval,
  ApprovalRequirement,
  ApprovalService,
  ApprovalServiceOptions,
  Approver,
  HoldInput,
  ListOptions,
  ToolEffect,
  Verdict,
} from './types.js';
import { createWebhookSender } from './webhook.js';

/** Who may decide when a requirement names no roles. */
export const DEFAULT_APPROVER_ROLES: readonly string[] = ['approver', 'admin'];

/** A claim older than this belongs to a process that died or hung; the sweep takes the work over. */
const CLAIM_STALE_MS = 30_000;
const MAX_REASON_LENGTH = 2000;
const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;

/**
 * The number of distinct approvals a hold needs. Lethal effects always need a human, whatever the
 * configuration says (shared/taxonomy.md, "Tool effects"); configuration can only raise the number.
 * Any other hold also needs one, since a hold released by nobody would never be released.
 */
export function requiredApprovers(effect: ToolEffect, configured: number): number {
  let n = Number.isFinite(configured) ? Math.floor(configured) : 0;
  if (effect === 'lethal') n = Math.max(n, 1);
  return Math.max(n, 1);
}

/** Whether a principal with these roles may approve or deny under `requirement`. */
export function mayDecide(requirement: Pick<ApprovalRequirement, 'roles'>, roles: readonly string[]): boolean {
  const allowed = requirement.roles.length > 0 ? requirement.roles : DEFAULT_APPROVER_ROLES;
  return roles.some((r) => allowed.includes(r));
}

const iso = (ms: number) => new Date(ms).toISOString();
const newApprovalId = () => 'apr_' + randomBytes(12).toString('hex');

function badHold(what: string): never {
  // The gateway builds holds itself: a malformed one is a bug there, and the call fails closed.
  throw new RedlineError('INTERNAL', `invalid hold: ${what}`);
}

const nonEmpty = (s: unknown): s is string => typeof s === 'string' && s.length > 0;

function checkHold(h: HoldInput): void {
  if (!h || typeof h !== 'object') badHold('not an object');
  for (const k of ['requestId', 'toolName', 'toolCallId'] as const) if (!nonEmpty(h[k])) badHold(`${k} must be a non-empty string`);
  if (!h.requester || !nonEmpty(h.requester.id) || !nonEmpty(h.requester.name)) badHold('requester needs an id and a name');
  if (typeof h.arguments !== 'string') badHold('arguments must be the JSON text the model produced');
  if (!(TOOL_EFFECTS as readonly string[]).includes(h.effect)) badHold('unknown tool effect');
  if (!h.requirement || typeof h.requirement.approvers !== 'number' || !Array.isArray(h.requirement.roles) || !h.requirement.roles.every(nonEmpty)) {
    badHold('requirement needs approvers (number) and roles (strings)');
  }
  if (typeof h.timeoutSeconds !== 'number' || !(h.timeoutSeconds > 0) || h.timeoutSeconds > MAX_TIMEOUT_SECONDS) {
    badHold(`timeoutSeconds must be in (0, ${MAX_TIMEOUT_SECONDS}]`);
  }
  if (h.mode !== 'wait' && h.mode !== 'defer') badHold('mode must be wait or defer');
  if (h.api !== 'openai' && h.api !== 'anthropic') badHold('api must be openai or anthropic');
}

const notFound = (id: string) => new RedlineError('NOT_FOUND', 'No such approval.', { details: { approval_id: id } });
const expired = (id: string) => new RedlineError('APPROVAL_EXPIRED', 'The approval expired before it was decided.', { details: { approval_id: id } });
const closedError = () => new RedlineError('INTERNAL', 'The approval service is closed.');

type Outcome = { kind: 'expired' } | { kind: 'denied' } | { kind: 'pending' } | { kind: 'approving'; seq: number; claim: number };

export function createApprovalService(o: ApprovalServiceOptions): ApprovalService {
  const { db } = o;
  const q = openApprovalTables(db);
  const now = o.now ?? Date.now;
  const signer = createReceiptSigner(o.signingKey, o.keyName);
  const ttlSeconds = o.receiptTtlSeconds ?? 3600;
  if (!(ttlSeconds > 0)) throw new RedlineError('CONFIG_INVALID', 'receiptTtlSeconds must be positive');
  const webhook = o.webhook ? createWebhookSender({ ...o.webhook, now }) : undefined;
  const statusBase = (o.publicUrl ?? '').replace(/\/+$/, '');
  const pollMs = o.pollIntervalMs ?? 500;

  // In-process wake-ups; the event name is the approval id.
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const timers = new Map<string, NodeJS.Timeout>();
  const waiters = new Set<(err: unknown) => void>();
  /** Ids whose ledger write this process has in flight. */
  const busy = new Set<string>();
  let closed = false;

  const load = (id: string): Approval | undefined => {
    const r = q.byId.get(id);
    return r ? toApproval(r, q.decisions.all(id)) : undefined;
  };
  const mustLoad = (id: string): Approval => {
    const a = load(id);
    if (!a) throw notFound(id);
    return a;
  };
  const changed = (id: string) => events.emit(id);
  const assertOpen = () => {
    if (closed) throw closedError();
  };

  /** The ledger entry for a step of this approval. Holds raw principal ids; see ApprovalServiceOptions.ledgerAppend. */
  const entryFor = (r: ApprovalRow, decision: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    decision,
    action: 'tool_call',
    decisionId: r.id,
    principal: r.requester_id,
    labels: [],
    approvalId: r.id,
    requestId: r.request_id,
    toolName: r.tool_name,
    toolCallId: r.tool_call_id,
    effect: r.effect,
    // A salted commitment, not args_sha256: the ledger is public and tool arguments can be guessable.
    commitment: r.args_commitment,
    ...extra,
  });

  const notify = (type: string, a: Approval): void => {
    if (!webhook) return;
    void webhook.send({
      type,
      created: Math.floor(now() / 1000),
      // No argument values and no reasons: webhook receivers (chat rooms, pagers) are told that
      // something waits and where, and read the rest through the authenticated API.
      approval: {
        id: a.id,
        status: a.status,
        request_id: a.requestId,
        tool_name: a.toolName,
        tool_call_id: a.toolCallId,
        effect: a.effect,
        requester: a.requester,
        requirement: a.requirement,
        approvals: a.decisions.filter((d) => d.verdict === 'approve').length,
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        status_url: `${statusBase}/v1/redline/approvals/${a.id}`,
      },
    });
  };

  const decideTx = db.transaction((id: string, approver: Approver, verdict: Verdict, reason: string, nowMs: number): Outcome => {
    const r = q.byId.get(id);
    if (!r) throw notFound(id);
    if (r.status === 'pending' && nowMs >= r.expires_ms) {
      q.setStatus.run('expired', nowMs, JSON.stringify(entryFor(r, 'timeout')), id, 'pending');
      return { kind: 'expired' };
    }
    if (r.status === 'expired') throw expired(id);
    if (r.status === 'approving') {
      throw new RedlineError('CONFLICT', 'The approval is being finalised.', { details: { reason: 'in_progress', approval_id: id } });
    }
    if (r.status !== 'pending') {
      throw new RedlineError('CONFLICT', `The approval is already ${r.status}.`, { details: { reason: 'already_decided', approval_id: id, status: r.status } });
    }
    if (approver.id === r.requester_id) {
      throw new RedlineError('FORBIDDEN', 'A principal cannot decide on its own tool call.', { details: { reason: 'self_approval', approval_id: id } });
    }
    const roles = JSON.parse(r.roles) as string[];
    if (!mayDecide({ roles }, approver.roles)) {
      throw new RedlineError('FORBIDDEN', 'This principal does not hold a role that may decide on this approval.', {
        details: { reason: 'missing_role', approval_id: id, roles: roles.length > 0 ? roles : DEFAULT_APPROVER_ROLES },
      });
    }
    const prior = q.decisions.all(id);
    // A deny from someone who approved earlier is allowed: changing one's mind towards not acting.
    if (verdict === 'approve' && prior.some((d) => d.approver_id === approver.id)) {
      throw new RedlineError('FORBIDDEN', 'This principal has already approved; each approver counts once.', { details: { reason: 'duplicate_approver', approval_id: id } });
    }
    const seq = (prior.at(-1)?.seq ?? 0) + 1;
    q.insertDecision.run({ approval_id: id, seq, approver_id: approver.id, approver_name: approver.name, verdict, reason, at_ms: nowMs });
    if (verdict === 'deny') {
      q.setStatus.run('denied', nowMs, JSON.stringify(entryFor(r, 'denial', { deniedBy: approver.id })), id, 'pending');
      return { kind: 'denied' };
    }
    const distinct = new Set([...prior.filter((d) => d.verdict === 'approve').map((d) => d.approver_id), approver.id]);
    if (distinct.size >= r.approvers_required) {
      q.claimApproving.run(nowMs, id);
      return { kind: 'approving', seq, claim: nowMs };
    }
    return { kind: 'pending' };
  });

  const revertTx = db.transaction((id: string, seq: number, claim: number) => {
    if (q.unclaimApproving.run(id, claim).changes === 1) q.removeDecision.run(id, seq);
  });

  const expireTx = db.transaction((id: string, nowMs: number): boolean => {
    const r = q.byId.get(id);
    if (!r || r.status !== 'pending' || r.expires_ms > nowMs) return false;
    return q.setStatus.run('expired', nowMs, JSON.stringify(entryFor(r, 'timeout')), id, 'pending').changes === 1;
  });

  /** Writes the approval's ledger entry, signs the receipt and marks it approved; the caller holds the claim. */
  async function finishApproval(id: string, claim: number): Promise<void> {
    const r = q.byId.get(id);
    if (!r || r.status !== 'approving' || r.claimed_ms !== claim) return;
    const seen = new Set<string>();
    const approvers = q.decisions
      .all(id)
      .filter((d) => d.verdict === 'approve' && !seen.has(d.approver_id) && seen.add(d.approver_id))
      .map((d) => ({ id: d.approver_id, name: d.approver_name, at: iso(d.at_ms) }));
    busy.add(id);
    try {
      const { index } = await o.ledgerAppend(entryFor(r, 'approval', { approvers: approvers.map((a) => a.id) }));
      const t = now();
      const receipt = signer.sign({
        approval_id: r.id,
        request_id: r.request_id,
        tool: r.tool_name,
        tool_call_id: r.tool_call_id,
        args_sha256: r.args_sha256,
        args_encoding: r.args_encoding as 'rfc8785' | 'raw_text',
        effect: r.effect,
        requester: { id: r.requester_id, name: r.requester_name },
        approvers,
        issued_at: iso(t),
        expires_at: iso(t + ttlSeconds * 1000),
        ledger_index: index,
      });
      q.finishApproved.run(t, index, JSON.stringify(receipt), id, claim);
    } finally {
      busy.delete(id);
    }
  }

  /** Appends one row's outbox entry if no other process holds it. Failures leave it for the next sweep. */
  async function flushRow(r: ApprovalRow): Promise<void> {
    if (busy.has(r.id) || r.ledger_due === null) return;
    const claim = now();
    if (q.claimDue.run(claim, r.id, r.claimed_ms ?? -1).changes !== 1) return;
    busy.add(r.id);
    try {
      const { index } = await o.ledgerAppend(JSON.parse(r.ledger_due) as Record<string, unknown>);
      q.finishDue.run(index, r.id, claim);
    } catch {
      q.releaseDue.run(r.id, claim);
    } finally {
      busy.delete(r.id);
    }
  }

  async function runSweep(): Promise<void> {
    if (closed) return;
    const t = now();
    for (const { id } of q.overdue.all(t)) {
      if (expireTx.immediate(id, t)) {
        changed(id);
        const a = load(id);
        if (a) notify('approval.expired', a);
      }
    }
    for (const r of q.staleApproving.all(t - CLAIM_STALE_MS)) {
      if (busy.has(r.id) || r.claimed_ms === null) continue;
      if (q.reclaim.run(t, r.id, r.claimed_ms).changes !== 1) continue;
      try {
        await finishApproval(r.id, t);
        changed(r.id);
        const a = load(r.id);
        if (a?.status === 'approved') notify('approval.approved', a);
      } catch {
        // The ledger still refuses; the claim goes stale again and a later sweep retries.
      }
    }
    for (const r of q.dueLedger.all(t - CLAIM_STALE_MS)) await flushRow(r);
  }

  let sweepChain: Promise<void> = Promise.resolve();
  let queuedSweeps = 0;
  const sweep = (): Promise<void> => {
    queuedSweeps++;
    const run = () => runSweep().finally(() => void queuedSweeps--);
    sweepChain = sweepChain.then(run, run);
    return sweepChain;
  };
  const interval = setInterval(() => {
    if (queuedSweeps === 0) sweep().catch(() => undefined);
  }, o.sweepIntervalMs ?? 1000);
  interval.unref();

  const scheduleExpiry = (id: string, delayMs: number) => {
    const timer = setTimeout(() => {
      timers.delete(id);
      sweep().catch(() => undefined);
    }, Math.max(0, delayMs) + 5);
    timer.unref();
    timers.set(id, timer);
  };
  const clearExpiry = (id: string) => {
    const t = timers.get(id);
    if (t) clearTimeout(t);
    timers.delete(id);
  };

  return {
    async hold(h) {
      assertOpen();
      checkHold(h);
      const nowMs = now();
      const id = newApprovalId();
      const digest = hashToolArguments(h.arguments);
      const { salt, commitment } = commitContent(h.arguments);
      const row = {
        id,
        status: 'pending',
        request_id: h.requestId,
        requester_id: h.requester.id,
        requester_name: h.requester.name,
        tool_name: h.toolName,
        tool_call_id: h.toolCallId,
        arguments: h.arguments,
        args_sha256: digest.sha256,
        args_encoding: digest.encoding,
        args_salt: salt,
        args_commitment: commitment,
        effect: h.effect,
        approvers_required: requiredApprovers(h.effect, h.requirement.approvers),
        roles: JSON.stringify([...new Set(h.requirement.roles)]),
        mode: h.mode,
        api: h.api,
        created_ms: nowMs,
        expires_ms: nowMs + Math.ceil(h.timeoutSeconds * 1000),
      };
      q.insert.run(row);
      const stored = q.byId.get(id)!;
      let index: number;
      try {
        ({ index } = await o.ledgerAppend(entryFor(stored, 'hold', { approversRequired: row.approvers_required, expiresAt: iso(row.expires_ms) })));
      } catch (e) {
        // No ledger record, no hold: the gateway fails the tool call closed.
        q.remove.run(id);
        throw e;
      }
      q.setHoldIndex.run(index, id);
      scheduleExpiry(id, row.expires_ms - nowMs);
      const a = mustLoad(id);
      notify('approval.held', a);
      return a;
    },

    async decide(id, approver, verdict, reason) {
      assertOpen();
      if (verdict !== 'approve' && verdict !== 'deny') throw new RedlineError('INVALID_REQUEST', 'verdict must be approve or deny', { param: 'verdict' });
      if (typeof reason !== 'string' || reason.trim().length === 0) {
        throw new RedlineError('INVALID_REQUEST', 'A reason is required for every decision.', { param: 'reason' });
      }
      if (reason.length > MAX_REASON_LENGTH) throw new RedlineError('INVALID_REQUEST', `reason is longer than ${MAX_REASON_LENGTH} characters`, { param: 'reason' });
      if (!approver || !nonEmpty(approver.id) || !nonEmpty(approver.name) || !Array.isArray(approver.roles)) {
        throw new RedlineError('INTERNAL', 'invalid approver');
      }
      const outcome = decideTx.immediate(id, approver, verdict, reason.trim(), now());
      switch (outcome.kind) {
        case 'expired': {
          clearExpiry(id);
          changed(id);
          const a = load(id);
          if (a) notify('approval.expired', a);
          const row = q.byId.get(id);
          if (row) await flushRow(row);
          throw expired(id);
        }
        case 'denied': {
          clearExpiry(id);
          changed(id);
          const row = q.byId.get(id);
          if (row) await flushRow(row);
          const a = mustLoad(id);
          notify('approval.denied', a);
          return a;
        }
        case 'approving': {
          try {
            await finishApproval(id, outcome.claim);
          } catch (e) {
            revertTx(id, outcome.seq, outcome.claim);
            changed(id);
            throw e;
          }
          clearExpiry(id);
          changed(id);
          const a = mustLoad(id);
          notify('approval.approved', a);
          return a;
        }
        default:
          changed(id);
          return mustLoad(id);
      }
    },

    async get(id) {
      return typeof id === 'string' ? load(id) : undefined;
    },

    async list(lo: ListOptions = {}) {
      const limit = Math.min(1000, Math.max(1, Math.floor(lo.limit ?? 100)));
      const rows = lo.status
        ? q.listStatus.all(lo.status, lo.status === 'pending' ? 'approving' : lo.status, limit)
        : q.list.all(limit);
      return rows.map((r) => toApproval(r, q.decisions.all(r.id)));
    },

    waitFor(id, signal) {
      return new Promise<Approval>((resolve, reject) => {
        if (closed) return reject(closedError());
        if (signal.aborted) return reject(signal.reason);
        let done = false;
        let poll: NodeJS.Timeout | undefined;
        const finish = () => {
          done = true;
          events.off(id, check);
          clearInterval(poll);
          signal.removeEventListener('abort', onAbort);
          waiters.delete(onClose);
        };
        function check() {
          if (done) return;
          let a: Approval | undefined;
          try {
            a = load(id);
          } catch (e) {
            finish();
            return reject(e);
          }
          if (!a) {
            finish();
            reject(notFound(id));
          } else if (a.status !== 'pending') {
            finish();
            resolve(a);
          }
        }
        function onAbort() {
          if (done) return;
          finish();
          reject(signal.reason);
        }
        function onClose(err: unknown) {
          if (done) return;
          finish();
          reject(err);
        }
        events.on(id, check);
        // Another process sharing the database file may decide; there is no cross-process event to wait
        // on. The timer stays referenced: someone is awaiting this promise.
        poll = setInterval(check, pollMs);
        signal.addEventListener('abort', onAbort, { once: true });
        waiters.add(onClose);
        check();
      });
    },

    sweep,

    async drain() {
      await sweepChain;
      await webhook?.idle();
    },

    close() {
      if (closed) return;
      closed = true;
      clearInterval(interval);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const w of [...waiters]) w(closedError());
    },
  };
}
