// The approvals tables, in the gateway's SQLite file. Created with IF NOT EXISTS rather than through
// the store's user_version migrations, which belong to src/store; several processes may share the file.
import type Database from 'better-sqlite3';
import type { Receipt } from '../verify/index.js';
import type { Approval, ApprovalDecision, ApprovalStatus, Verdict } from './types.js';

/** Stored status: 'approving' is a claim while the approval's ledger entry is being written. */
export type RowStatus = ApprovalStatus | 'approving';

export interface ApprovalRow {
  id: string;
  status: RowStatus;
  request_id: string;
  requester_id: string;
  requester_name: string;
  tool_name: string;
  tool_call_id: string;
  arguments: string;
  args_sha256: string;
  args_encoding: string;
  /** Salt of the ledger commitment to the arguments, kept so they can be disclosed to an auditor. */
  args_salt: string;
  args_commitment: string;
  effect: string;
  approvers_required: number;
  roles: string;
  mode: string;
  api: string;
  created_ms: number;
  expires_ms: number;
  decided_ms: number | null;
  /** When a process claimed the row for finishing (approving) or for writing its ledger outbox. */
  claimed_ms: number | null;
  hold_ledger_index: number | null;
  ledger_index: number | null;
  receipt: string | null;
  /** A ledger entry (JSON) still to be appended for a denial or timeout. */
  ledger_due: string | null;
}

export interface DecisionRow {
  approval_id: string;
  seq: number;
  approver_id: string;
  approver_name: string;
  verdict: Verdict;
  reason: string;
  at_ms: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  request_id TEXT NOT NULL,
  requester_id TEXT NOT NULL,
  requester_name TEXT NOT NULL,
  tool_name TEXT NOT NULL,
  tool_call_id TEXT NOT NULL,
  arguments TEXT NOT NULL,
  args_sha256 TEXT NOT NULL,
  args_encoding TEXT NOT NULL,
  args_salt TEXT NOT NULL,
  args_commitment TEXT NOT NULL,
  effect TEXT NOT NULL,
  approvers_required INTEGER NOT NULL,
  roles TEXT NOT NULL,
  mode TEXT NOT NULL,
  api TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  claimed_ms INTEGER,
  hold_ledger_index INTEGER,
  ledger_index INTEGER,
  receipt TEXT,
  ledger_due TEXT
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals(status, expires_ms);
CREATE INDEX IF NOT EXISTS approvals_created ON approvals(created_ms);
CREATE INDEX IF NOT EXISTS approvals_ledger_due ON approvals(id) WHERE ledger_due IS NOT NULL;
CREATE TABLE IF NOT EXISTS approval_decisions (
  approval_id TEXT NOT NULL REFERENCES approvals(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  approver_id TEXT NOT NULL,
  approver_name TEXT NOT NULL,
  verdict TEXT NOT NULL,
  reason TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  PRIMARY KEY (approval_id, seq)
);`;

const iso = (ms: number) => new Date(ms).toISOString();

type S<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** The prepared statements the service runs; spelled out because declaration output cannot name better-sqlite3's own type. */
export interface ApprovalQueries {
  insert: S<unknown[]>;
  remove: S<[string]>;
  byId: S<[string], ApprovalRow>;
  list: S<[number], ApprovalRow>;
  listStatus: S<[string, string, number], ApprovalRow>;
  decisions: S<[string], DecisionRow>;
  insertDecision: S<unknown[]>;
  removeDecision: S<[string, number]>;
  setHoldIndex: S<[number, string]>;
  setStatus: S<[RowStatus, number | null, string | null, string, RowStatus]>;
  claimApproving: S<[number, string]>;
  reclaim: S<[number, string, number]>;
  unclaimApproving: S<[string, number]>;
  finishApproved: S<[number, number, string, string, number]>;
  overdue: S<[number], { id: string }>;
  staleApproving: S<[number], ApprovalRow>;
  dueLedger: S<[number], ApprovalRow>;
  claimDue: S<[number, string, number]>;
  finishDue: S<[number, string, number]>;
  releaseDue: S<[string, number]>;
}

export function openApprovalTables(db: Database.Database): ApprovalQueries {
  db.exec(SCHEMA);
  const q: ApprovalQueries = {
    insert: db.prepare(`INSERT INTO approvals (id, status, request_id, requester_id, requester_name, tool_name, tool_call_id,
      arguments, args_sha256, args_encoding, args_salt, args_commitment, effect, approvers_required, roles, mode, api,
      created_ms, expires_ms) VALUES (@id, @status, @request_id, @requester_id, @requester_name, @tool_name, @tool_call_id,
      @arguments, @args_sha256, @args_encoding, @args_salt, @args_commitment, @effect, @approvers_required, @roles, @mode, @api,
      @created_ms, @expires_ms)`),
    remove: db.prepare<[string]>('DELETE FROM approvals WHERE id = ?'),
    byId: db.prepare<[string], ApprovalRow>('SELECT * FROM approvals WHERE id = ?'),
    list: db.prepare<[number], ApprovalRow>('SELECT * FROM approvals ORDER BY created_ms DESC, id LIMIT ?'),
    listStatus: db.prepare<[string, string, number], ApprovalRow>('SELECT * FROM approvals WHERE status IN (?, ?) ORDER BY created_ms DESC, id LIMIT ?'),
    decisions: db.prepare<[string], DecisionRow>('SELECT * FROM approval_decisions WHERE approval_id = ? ORDER BY seq'),
    insertDecision: db.prepare(`INSERT INTO approval_decisions (approval_id, seq, approver_id, approver_name, verdict, reason, at_ms)
      VALUES (@approval_id, @seq, @approver_id, @approver_name, @verdict, @reason, @at_ms)`),
    removeDecision: db.prepare<[string, number]>('DELETE FROM approval_decisions WHERE approval_id = ? AND seq = ?'),
    setHoldIndex: db.prepare<[number, string]>('UPDATE approvals SET hold_ledger_index = ? WHERE id = ?'),
    setStatus: db.prepare<[RowStatus, number | null, string | null, string, RowStatus]>(
      'UPDATE approvals SET status = ?, decided_ms = ?, ledger_due = ? WHERE id = ? AND status = ?'),
    claimApproving: db.prepare<[number, string]>("UPDATE approvals SET status = 'approving', claimed_ms = ? WHERE id = ? AND status = 'pending'"),
    reclaim: db.prepare<[number, string, number]>('UPDATE approvals SET claimed_ms = ? WHERE id = ? AND claimed_ms = ?'),
    unclaimApproving: db.prepare<[string, number]>("UPDATE approvals SET status = 'pending', claimed_ms = NULL WHERE id = ? AND status = 'approving' AND claimed_ms = ?"),
    finishApproved: db.prepare<[number, number, string, string, number]>(
      "UPDATE approvals SET status = 'approved', decided_ms = ?, ledger_index = ?, receipt = ?, claimed_ms = NULL WHERE id = ? AND status = 'approving' AND claimed_ms = ?"),
    overdue: db.prepare<[number], { id: string }>("SELECT id FROM approvals WHERE status = 'pending' AND expires_ms <= ?"),
    staleApproving: db.prepare<[number], ApprovalRow>("SELECT * FROM approvals WHERE status = 'approving' AND claimed_ms <= ?"),
    dueLedger: db.prepare<[number], ApprovalRow>('SELECT * FROM approvals WHERE ledger_due IS NOT NULL AND (claimed_ms IS NULL OR claimed_ms <= ?)'),
    claimDue: db.prepare<[number, string, number]>('UPDATE approvals SET claimed_ms = ? WHERE id = ? AND ledger_due IS NOT NULL AND IFNULL(claimed_ms, -1) = ?'),
    finishDue: db.prepare<[number, string, number]>('UPDATE approvals SET ledger_due = NULL, ledger_index = ?, claimed_ms = NULL WHERE id = ? AND claimed_ms = ?'),
    releaseDue: db.prepare<[string, number]>('UPDATE approvals SET claimed_ms = NULL WHERE id = ? AND claimed_ms = ?'),
  };
  return q;
}

export function toApproval(r: ApprovalRow, decisions: DecisionRow[]): Approval {
  const a: Approval = {
    id: r.id,
    status: r.status === 'approving' ? 'pending' : r.status,
    requestId: r.request_id,
    requester: { id: r.requester_id, name: r.requester_name },
    toolName: r.tool_name,
    toolCallId: r.tool_call_id,
    arguments: r.arguments,
    argsHash: r.args_sha256,
    argsEncoding: r.args_encoding as Approval['argsEncoding'],
    effect: r.effect as Approval['effect'],
    requirement: { approvers: r.approvers_required, roles: JSON.parse(r.roles) as string[] },
    mode: r.mode as Approval['mode'],
    api: r.api as Approval['api'],
    createdAt: iso(r.created_ms),
    expiresAt: iso(r.expires_ms),
    decisions: decisions.map((d): ApprovalDecision => ({
      approver: { id: d.approver_id, name: d.approver_name }, verdict: d.verdict, reason: d.reason, at: iso(d.at_ms),
    })),
  };
  if (r.decided_ms !== null && r.status !== 'approving') a.decidedAt = iso(r.decided_ms);
  if (r.status === 'approved' && r.receipt !== null) a.receipt = JSON.parse(r.receipt) as Receipt;
  if (r.ledger_index !== null) a.ledgerIndex = r.ledger_index;
  if (r.hold_ledger_index !== null) a.holdLedgerIndex = r.hold_ledger_index;
  return a;
}
