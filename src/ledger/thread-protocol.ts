// Messages between the gateway's thread and the ledger thread (worker.ts). Structured clone carries
// them; leaf hashes travel back as one transferred buffer, 32 bytes per committed entry, in order.
import type { LedgerEntryInput } from './types.js';

export interface LedgerThreadData {
  file: string;
  origin: string;
  synchronous: 'FULL' | 'NORMAL';
  /** Salts content commitments; copied into the thread once at start. */
  secret?: Uint8Array;
}

export interface AppendItem {
  input: LedgerEntryInput;
  content?: unknown;
}

export type ToLedgerThread =
  /**
   * `items` is the JSON text of an AppendItem[]: serialising plain data with JSON.stringify and
   * cloning one string cost about half of what structured clone of the same objects did (profiled at
   * 16 connections), and entries and content are JSON by definition.
   */
  | { t: 'append'; id: number; items: string }
  | { t: 'close' };

export type FromLedgerThread =
  | { t: 'ready'; size: number }
  /**
   * One commit, which may hold several append messages. Entries are numbered from `start` in message
   * order, items whose `errors` slot is set (malformed entries) taking no index.
   */
  | { t: 'done'; start: number; hashes: Uint8Array; acks: { id: number; errors: (string | null)[] }[] }
  /** The commit failed: every entry of these messages is refused. */
  | { t: 'failed'; ids: number[]; message: string }
  | { t: 'closed' };
