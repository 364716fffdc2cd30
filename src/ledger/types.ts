import type { KeyObject } from 'node:crypto';
import type { AppendOptions } from './entry.js';

/** What a ledger entry records about one decision. Known values first; others are allowed. */
export type LedgerDecision =
  | 'allow'
  | 'deny'
  | 'hold'
  | 'reroute'
  | 'approval'
  | 'denial'
  | 'timeout'
  | 'policy_reload'
  | 'key_change'
  | (string & {});

/**
 * One ledger entry. Its leaf data is the entry's RFC 8785 canonical JSON, so the same object always
 * hashes the same way. Extra fields are allowed (and hashed); content itself never goes in, only a
 * commitment to it.
 */
export interface LedgerEntry {
  v: 1;
  /** RFC 3339 timestamp. */
  time: string;
  decisionId: string;
  /** Pseudonym of the principal (HMAC of its id with a server secret), never the id itself. */
  principal: string;
  action: string;
  labels: string[];
  decision: LedgerDecision;
  policyVersion?: string;
  provider?: string;
  model?: string;
  /** hex(SHA-256(salt || content)), see commitContent(). */
  commitment?: string;
  [extra: string]: unknown;
}

/** What callers pass to append(): `v` is implied and `time` defaults to the ledger's clock. */
export type LedgerEntryInput = Omit<LedgerEntry, 'v' | 'time'> & { v?: 1; time?: string };

export interface LedgerRecord {
  index: number;
  /** The leaf data: canonical JSON bytes. */
  data: Uint8Array;
  entry: LedgerEntry;
  leafHash: Uint8Array;
}

/** The checkpoint signer: the key name doubles as the log's origin line. */
export interface LedgerSigner {
  name: string;
  /** Ed25519 private key (KeyObject or PKCS#8 PEM). */
  privateKey: KeyObject | string;
}

/** Read access to a ledger: what the HTTP routes and the verifier CLI need. */
export interface LedgerReader {
  /** Number of committed entries. */
  size(): number;
  entry(index: number): LedgerRecord | undefined;
  /** Root hash of the tree at `treeSize` (default: current size). */
  root(treeSize?: number): Uint8Array;
  /** Inclusion proof of `index` in the tree of `treeSize` entries (default: current size). */
  inclusionProof(index: number, treeSize?: number): Uint8Array[];
  /** Consistency proof between trees of size1 and size2 entries (default: current size). */
  consistencyProof(size1: number, size2?: number): Uint8Array[];
  /** A tlog-tiles tile: full (width undefined) or the first `width` hashes; undefined when not available. */
  tile(level: number, index: number, width?: number): Uint8Array | undefined;
  /** A tlog-tiles entry bundle: full (width undefined) or the first `width` entries; undefined when not available. */
  entryBundle(index: number, width?: number): Uint8Array | undefined;
  /** Signed checkpoints the log has issued and stored, newest first (at most `limit`). */
  storedCheckpoints(limit?: number): { size: number; note: string }[];
}

export interface Ledger extends LedgerReader {
  readonly origin: string;
  /**
   * Appends one entry; resolves once the transaction holding it has committed. With `content`, the
   * entry's commitment is computed from it (see contentSalt); the content itself is not kept.
   */
  append(entry: LedgerEntryInput, o?: AppendOptions): Promise<{ index: number }>;
  /** Signed checkpoint note for the current size (signed once per size). */
  checkpoint(): string;
  /** Verifier keys (vkeys) for this log, current one first, then rotated-out ones. */
  verifiers(): string[];
  stats(): LedgerStats;
  /** Commits what is queued and stops accepting appends. Does not close the database. */
  close(): Promise<void>;
}

export interface LedgerStats {
  size: number;
  transactions: number;
  appended: number;
  failedBatches: number;
  queued: number;
  largestBatch: number;
}
