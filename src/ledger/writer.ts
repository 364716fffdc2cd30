// The single writer of a ledger: the in-memory right edge of the tree and the storage it commits to.
// Both the in-thread ledger (ledger.ts) and the ledger thread (worker.ts) commit through this, so
// there is one definition of "a batch is durable and the tree has grown by it".
import { RedlineError } from '../errors.js';
import { leafHash } from '../verify/index.js';
import type { LedgerStorage } from './storage.js';
import { TreeState } from './tree.js';

export interface Committed {
  /** Index of the batch's first entry. */
  start: number;
  leafHashes: Uint8Array[];
}

/** The tree's right edge as the stored log has it: full chunks read, partial ones rebuilt from entries. */
export function loadTree(s: LedgerStorage): TreeState {
  return TreeState.load(s.size(), (st, c) => s.readChunk(st, c), (b, e) => s.readEntries(b, e));
}

export class LedgerWriter {
  private state: TreeState;
  /** Set when a reload after a failed commit failed too; the next commit reloads first. */
  private broken: unknown;

  constructor(private readonly storage: LedgerStorage) {
    this.state = this.load();
  }

  get tree(): TreeState {
    return this.state;
  }

  private load(): TreeState {
    return loadTree(this.storage);
  }

  /** Throws LEDGER_PUSHBACK while the database cannot be read back (disk gone, file locked). */
  ensureLoaded(): void {
    if (this.broken === undefined) return;
    try {
      this.state = this.load();
      this.broken = undefined;
    } catch (e) {
      this.broken = e;
      throw new RedlineError('LEDGER_PUSHBACK', 'the ledger is unavailable', { retryAfter: 1, cause: e });
    }
  }

  /**
   * Writes the entries (canonical bytes) and the node chunks they fill in one transaction, and grows
   * the tree. On failure the tree is put back and reloaded from the database, which is the truth after
   * a failed or uncertain commit, and the error is rethrown for the caller to refuse the batch.
   */
  commit(entries: readonly Uint8Array[]): Committed {
    this.ensureLoaded();
    const mark = this.state.mark();
    const start = this.state.size;
    const leafHashes = entries.map((d) => leafHash(d));
    try {
      const chunks = this.state.appendLeaves(leafHashes);
      this.storage.writeBatch(start, entries, chunks);
    } catch (e) {
      this.state.rollback(mark);
      try {
        this.state = this.load();
      } catch (e2) {
        this.broken = e2;
      }
      throw e;
    }
    return { start, leafHashes };
  }
}
