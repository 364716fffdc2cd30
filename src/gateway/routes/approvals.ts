// The approvals API, for people and bots deciding on held tool calls, and for clients that deferred
// one. Register it inside the authenticated scope: every route needs request.caller. An approval is
// visible to its requester, to admins, to principals who may decide on it and to those who did; to
// anyone else it does not exist (404), so ids cannot be probed. Errors are thrown as RedlineError and
// rendered by the app's error handler (OpenAI error shape on /v1/redline/*).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mayDecide, type Approval, type ApprovalService, type ApprovalStatus } from '../../approvals/index.js';
import { RedlineError } from '../../errors.js';
import type { Caller } from '../auth.js';

export interface ApprovalRoutesOptions {
  approvals: Pick<ApprovalService, 'get' | 'list' | 'decide'>;
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'denied', 'expired'];
const ID = /^apr_[0-9a-f]{24}$/;
const MAX_LIMIT = 500;

function callerOf(request: FastifyRequest): Caller {
  const c = (request as FastifyRequest & { caller?: Caller }).caller;
  if (!c) throw new RedlineError('AUTH_FAILED', 'Missing API key.');
  return c;
}

export function canSee(a: Approval, principal: { id: string; roles: string[] }): boolean {
  return (
    a.requester.id === principal.id ||
    principal.roles.includes('admin') ||
    mayDecide(a.requirement, principal.roles) ||
    a.decisions.some((d) => d.approver.id === principal.id)
  );
}

/** The wire form: snake_case like the rest of /v1. The released call and receipt appear once approved. */
/**
 * The requester sees its pending call's hash but not its arguments: the call is not delivered until
 * approved, and the arguments are what would let a client act on it. Approvers see everything.
 */
export function approvalJson(a: Approval, viewerId?: string): Record<string, unknown> {
  const withheld = viewerId === a.requester.id && a.status !== 'approved';
  return {
    object: 'redline.approval',
    id: a.id,
    status: a.status,
    request_id: a.requestId,
    requester: a.requester,
    tool_call: withheld ? { id: a.toolCallId, name: a.toolName } : { id: a.toolCallId, name: a.toolName, arguments: a.arguments },
    args_sha256: a.argsHash,
    args_encoding: a.argsEncoding,
    effect: a.effect,
    requirement: a.requirement,
    approvals: a.decisions.filter((d) => d.verdict === 'approve').length,
    mode: a.mode,
    api: a.api,
    created_at: a.createdAt,
    expires_at: a.expiresAt,
    decided_at: a.decidedAt ?? null,
    decisions: a.decisions,
    hold_ledger_index: a.holdLedgerIndex ?? null,
    ledger_index: a.ledgerIndex ?? null,
    ...(a.status === 'approved' && a.receipt
      ? { released_tool_call: { id: a.toolCallId, name: a.toolName, arguments: a.arguments }, receipt: a.receipt }
      : {}),
  };
}

function parseList(q: unknown): { status?: ApprovalStatus; limit: number } {
  const query = (q ?? {}) as Record<string, unknown>;
  const out: { status?: ApprovalStatus; limit: number } = { limit: 100 };
  if (query.status !== undefined) {
    if (typeof query.status !== 'string' || !(STATUSES as readonly string[]).includes(query.status)) {
      throw new RedlineError('INVALID_REQUEST', `status must be one of ${STATUSES.join(', ')}`, { param: 'status' });
    }
    out.status = query.status as ApprovalStatus;
  }
  if (query.limit !== undefined) {
    const n = typeof query.limit === 'string' && /^[1-9][0-9]{0,3}$/.test(query.limit) ? Number(query.limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) throw new RedlineError('INVALID_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`, { param: 'limit' });
    out.limit = n;
  }
  return out;
}

function reasonOf(body: unknown): string {
  const reason = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).reason : undefined;
  if (typeof reason !== 'string' || reason.trim().length === 0) {
    throw new RedlineError('INVALID_REQUEST', 'Send a JSON body with a non-empty "reason".', { param: 'reason' });
  }
  return reason;
}

export async function approvalRoutes(app: FastifyInstance, o: ApprovalRoutesOptions): Promise<void> {
  const { approvals } = o;

  const visible = async (request: FastifyRequest): Promise<{ caller: Caller; approval: Approval }> => {
    const caller = callerOf(request);
    const id = (request.params as { id?: string }).id ?? '';
    const approval = ID.test(id) ? await approvals.get(id) : undefined;
    if (!approval || !canSee(approval, caller.principal)) {
      throw new RedlineError('NOT_FOUND', 'No such approval.', { details: { approval_id: id } });
    }
    return { caller, approval };
  };

  app.get('/v1/redline/approvals', async (request, reply) => {
    const caller = callerOf(request);
    const { status, limit } = parseList(request.query);
    // Filtered after the query: visibility depends on roles the database does not hold. Reading the
    // newest MAX_LIMIT rows bounds the work; older approvals are reached with a status filter.
    const all = await approvals.list({ ...(status && { status }), limit: MAX_LIMIT });
    const data = all.filter((a) => canSee(a, caller.principal)).slice(0, limit).map((a) => approvalJson(a, caller.principal.id));
    return reply.header('cache-control', 'no-store').send({ object: 'list', data });
  });

  app.get('/v1/redline/approvals/:id', async (request, reply) => {
    const { caller, approval } = await visible(request);
    return reply.header('cache-control', 'no-store').send(approvalJson(approval, caller.principal.id));
  });

  for (const verdict of ['approve', 'deny'] as const) {
    app.post(`/v1/redline/approvals/:id/${verdict}`, async (request, reply) => {
      const { caller, approval } = await visible(request);
      const reason = reasonOf(request.body);
      const p = caller.principal;
      const decided = await approvals.decide(approval.id, { id: p.id, name: p.name, roles: p.roles }, verdict, reason);
      return reply.header('cache-control', 'no-store').send(approvalJson(decided, p.id));
    });
  }
}
