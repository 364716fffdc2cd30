import type { KeyObject } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { ToolEffect } from '../classify/labels.js';
import type { SigningKey } from '../ledger/index.js';
import type { ArgsEncoding, Receipt } from '../verify/index.js';

export type { ToolEffect };

/** `approving` exists only inside the store (quorum reached, ledger entry being written); callers see `pending`. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';
export type Verdict = 'approve' | 'deny';

export interface PrincipalRef { id: string; name: string }
export interface Approver extends PrincipalRef { roles: string[] }

export interface ApprovalRequirement {
  /** Distinct approvals needed. Never below 1: lethal effects always need a human (taxonomy), and a hold nobody can release is a bug. */
  approvers: number;
  /** Roles an approver must hold one of; empty means 'approver' or 'admin'. */
  roles: string[];
}

export interface ApprovalDecision {
  approver: PrincipalRef;
  verdict: Verdict;
  reason: string;
  /** RFC 3339. */
  at: string;
}

export interface Approval {
  /** 'apr_' + 24 hex digits. */
  id: string;
  status: ApprovalStatus;
  requestId: string;
  requester: PrincipalRef;
  toolName: string;
  toolCallId: string;
  /** The arguments as the model produced them (JSON text, unparsed). */
  arguments: string;
  /** Lower-case hex SHA-256; see argsEncoding for what it covers. */
  argsHash: string;
  /** 'raw_text' marks arguments that were not JSON, hashed as text. */
  argsEncoding: ArgsEncoding;
  effect: ToolEffect;
  requirement: ApprovalRequirement;
  mode: 'wait' | 'defer';
  api: 'openai' | 'anthropic';
  createdAt: string;
  expiresAt: string;
  /** When it left pending. */
  decidedAt?: string;
  decisions: ApprovalDecision[];
  /** Present exactly when status is 'approved'. */
  receipt?: Receipt;
  /** Index of the ledger entry recording the final decision (approval, denial or timeout). */
  ledgerIndex?: number;
  /** Index of the ledger entry recording the hold. */
  holdLedgerIndex?: number;
}

export interface HoldInput {
  requestId: string;
  requester: PrincipalRef;
  toolName: string;
  toolCallId: string;
  /** JSON text as the model produced it. */
  arguments: string;
  effect: ToolEffect;
  requirement: ApprovalRequirement;
  timeoutSeconds: number;
  mode: 'wait' | 'defer';
  api: 'openai' | 'anthropic';
}

export interface ListOptions { status?: ApprovalStatus; limit?: number }

export interface WebhookConfig {
  url: string;
  secret: string;
  /** Per attempt (default 3000 ms). */
  timeoutMs?: number;
}

export interface ApprovalServiceOptions {
  db: Database.Database;
  /** The receipt signing key: a ledger SigningKey (see loadOrCreateSigningKey) or an Ed25519 private KeyObject. */
  signingKey: SigningKey | KeyObject;
  /** Names the key in receipts' key_id (and so in the vkey handed to executors). */
  keyName: string;
  /**
   * Appends to the transparency ledger. Entries carry raw principal ids in `principal` and
   * `approvers`; the caller's wrapper must pseudonymise them before they reach the public log.
   */
  ledgerAppend: (entry: Record<string, unknown>) => Promise<{ index: number }>;
  webhook?: WebhookConfig;
  /** Gateway base URL for status_url in webhook events (default: a relative path). */
  publicUrl?: string;
  /** Receipt lifetime (default 3600 s). */
  receiptTtlSeconds?: number;
  /** Milliseconds since the epoch (default Date.now). */
  now?: () => number;
  /** How often expiry and the ledger outbox are swept (default 1000 ms). */
  sweepIntervalMs?: number;
  /** How often waitFor re-reads the database for decisions made by another process (default 500 ms). */
  pollIntervalMs?: number;
}

export interface ApprovalService {
  hold(h: HoldInput): Promise<Approval>;
  decide(id: string, approver: Approver, verdict: Verdict, reason: string): Promise<Approval>;
  get(id: string): Promise<Approval | undefined>;
  list(o?: ListOptions): Promise<Approval[]>;
  /** Resolves once the approval is approved, denied or expired; rejects with the signal's reason on abort. */
  waitFor(id: string, signal: AbortSignal): Promise<Approval>;
  /** Expires overdue approvals and retries ledger writes that failed; the timers call it, tests may too. */
  sweep(): Promise<void>;
  /** Waits for webhook deliveries in flight (for shutdown and tests). */
  drain(): Promise<void>;
  /** Stops timers and rejects open waitFor calls. Does not close the database. */
  close(): void;
}
