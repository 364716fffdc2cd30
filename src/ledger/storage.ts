// The ledger's SQLite tables. Storage knows rows, not trees: tree.ts decides what to write.
//
//   ledger_entries      idx -> canonical JSON bytes of the entry (the leaf data)
//   ledger_nodes        one row per 256-wide chunk of node hashes of one "stratum" (every 4th tree
//                       level: 0, 4, 8, ...). Strata 0, 8, 16, ... are exactly the tlog-tiles tiles of
//                       levels 0, 1, 2, ...; the in-between strata cost ~7% more space and make any
//                       node hash a single row read plus at most 7 SHA-256 calls, so an inclusion proof
//                       in a 10-million-entry log is about six row reads.
//                       Only full chunks are stored (schema 2): a chunk is written once, by the batch
//                       that fills it. The partial right-edge chunk of each stratum is rebuilt from the
//                       entries on open (tree.ts rebuildTails) and kept in memory, so a commit does not
//                       rewrite up to 8 KB per stratum (overflow pages) as schema 1 did. A partial tile
//                       for an older size is a prefix of the full chunk, because the hash of a complete
//                       node never changes.
//   ledger_checkpoints  every checkpoint the log has signed, by size (for offline audit)
//   ledger_meta         schema version, origin
//
// The committed size is max(idx) + 1, read from the entries' own b-tree. Schema 2 also kept it as a
// row of ledger_meta, updated by every commit: one more page written per transaction. Schema 1 also
// stored each stratum's partial chunk. A writer opening an older schema deletes what it no longer
// keeps and marks schema 3 in one transaction; readers accept all three (they never rely on a partial
// row or the size row).
import type Database from 'better-sqlite3';
import { RedlineError } from '../errors.js';

export const STRATUM_STEP = 4;
export const CHUNK_WIDTH = 256;
export const HASH_BYTES = 32;
const SCHEMA_VERSION = '3';
const FULL_CHUNK_BYTES = CHUNK_WIDTH * HASH_BYTES;

/** Rows of ledger_nodes are keyed by one integer (chunk · 64 + stratum) so lookups hit the rowid b-tree directly. */
const nodeRowId = (stratum: number, chunk: number): number => chunk * 64 + stratum;

export interface ChunkWrite {
  stratum: number;
  chunk: number;
  hashes: Uint8Array;
}

export interface LedgerStorage {
  readonly readonly: boolean;
  size(): number;
  origin(): string | undefined;
  readChunk(stratum: number, chunk: number): Uint8Array | undefined;
  readEntry(index: number): Uint8Array | undefined;
  /** Entries [begin, end) in order; fewer if the log is shorter. */
  readEntries(begin: number, end: number): Uint8Array[];
  /** Writes entries, the node chunks they filled (full chunks only) and the new size in one transaction; throws if anything fails. */
  writeBatch(start: number, entries: readonly Uint8Array[], chunks: readonly ChunkWrite[]): void;
  saveCheckpoint(size: number, note: string, at: string): void;
  checkpoints(limit: number): { size: number; note: string }[];
}

export function openLedgerStorage(
  db: Database.Database,
  o: {
    origin?: string;
    synchronous?: 'FULL' | 'NORMAL';
    readonly?: boolean;
    /** The connection is the ledger's alone (the ledger thread's): its level is set once, here. */
    dedicated?: boolean;
  } = {},
): LedgerStorage {
  const ro = o.readonly ?? db.readonly;
  if (!ro) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger_nodes (id INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, signed_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS ledger_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    db.prepare(`INSERT OR IGNORE INTO ledger_meta (key, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
  } else {
    const t = db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('ledger_entries', 'ledger_nodes', 'ledger_meta')`).get() as { n: number };
    if (t.n !== 3) throw new RedlineError('NOT_FOUND', 'this database holds no redline ledger');
  }
  const getMeta = db.prepare<[string], { value: string }>('SELECT value FROM ledger_meta WHERE key = ?');
  let schema = getMeta.get('schema')?.value;
  if ((schema === '1' || schema === '2') && !ro) {
    db.transaction(() => {
      if (schema === '1') db.prepare('DELETE FROM ledger_nodes WHERE length(hashes) < ?').run(FULL_CHUNK_BYTES);
      db.prepare(`DELETE FROM ledger_meta WHERE key = 'size'`).run();
      db.prepare(`UPDATE ledger_meta SET value = ? WHERE key = 'schema'`).run(SCHEMA_VERSION);
    })();
    schema = SCHEMA_VERSION;
  }
  if (schema !== SCHEMA_VERSION && !(ro && (schema === '1' || schema === '2'))) {
    throw new RedlineError('CONFIG_INVALID', `ledger schema version ${schema ?? 'missing'} is not supported`);
  }

  const storedOrigin = getMeta.get('origin')?.value;
  if (o.origin !== undefined && !ro) {
    if (storedOrigin === undefined) db.prepare(`INSERT INTO ledger_meta (key, value) VALUES ('origin', ?)`).run(o.origin);
    else if (storedOrigin !== o.origin) {
      throw new RedlineError('CONFIG_INVALID', `this ledger's origin is "${storedOrigin}"; a signer named "${o.origin}" would start a different log`);
    }
  }

  const q = {
    chunk: db.prepare<[number], { hashes: Buffer }>('SELECT hashes FROM ledger_nodes WHERE id = ?'),
    entry: db.prepare<[number], { data: Buffer }>('SELECT data FROM ledger_entries WHERE idx = ?'),
    entries: db.prepare<[number, number], { data: Buffer }>('SELECT data FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx'),
    maxIdx: db.prepare<[], { m: number | null }>('SELECT max(idx) AS m FROM ledger_entries'),
    checkpoints: db.prepare<[number], { size: number; note: string }>('SELECT size, note FROM ledger_checkpoints ORDER BY size DESC LIMIT ?'),
    ...(ro ? {} : {
      insertEntry: db.prepare<[number, Uint8Array]>('INSERT INTO ledger_entries (idx, data) VALUES (?, ?)'),
      putChunk: db.prepare<[number, Uint8Array]>('INSERT OR REPLACE INTO ledger_nodes (id, hashes) VALUES (?, ?)'),
      putCheckpoint: db.prepare<[number, string, string]>('INSERT OR IGNORE INTO ledger_checkpoints (size, note, signed_at) VALUES (?, ?, ?)'),
    }),
  };

  const size = (): number => {
    const m = q.maxIdx.get()?.m;
    return m === null || m === undefined ? 0 : m + 1;
  };

  const synchronous = o.synchronous ?? 'FULL';
  const wanted = synchronous === 'FULL' ? 2 : 1;
  if (o.dedicated && !ro) db.exec(`PRAGMA synchronous = ${synchronous}`);
  const write = ro ? undefined : db.transaction((start: number, entries: readonly Uint8Array[], chunks: readonly ChunkWrite[]) => {
    // Guard against a second writer on the same file: our in-memory tree would no longer match.
    if (size() !== start) throw new RedlineError('INTERNAL', 'ledger size changed underneath this writer');
    for (let i = 0; i < entries.length; i++) q.insertEntry!.run(start + i, entries[i]!);
    for (const c of chunks) q.putChunk!.run(nodeRowId(c.stratum, c.chunk), c.hashes);
  });

  return {
    readonly: ro,
    size,
    origin: () => getMeta.get('origin')?.value,
    readChunk(stratum, chunk) {
      const r = q.chunk.get(nodeRowId(stratum, chunk));
      return r ? new Uint8Array(r.hashes.buffer, r.hashes.byteOffset, r.hashes.byteLength) : undefined;
    },
    readEntry(index) {
      const r = q.entry.get(index);
      return r ? new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength) : undefined;
    },
    readEntries(begin, end) {
      return q.entries.all(begin, end).map((r) => new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength));
    },
    writeBatch(start, entries, chunks) {
      if (!write) throw new RedlineError('INTERNAL', 'ledger storage is read-only');
      // Durability: the synchronous level is per connection and the connection may be shared with
      // other stores that chose NORMAL, so it is raised only around the ledger's own commits.
      // FULL syncs the journal (the WAL in WAL mode) before COMMIT returns, so an acknowledged entry
      // survives kill -9 and also power loss; NORMAL in WAL mode survives kill -9 only.
      // The level is read fresh each time: SQLite evaluates PRAGMA synchronous when the statement is
      // compiled, so a cached prepared statement can return a stale level. Setting goes through exec,
      // which skips building a Statement object.
      // A dedicated connection has its level already; NORMAL is the level every redline connection
      // opens with, so only FULL needs raising around the commit.
      if (o.dedicated || wanted === 1) return void write.immediate(start, entries, chunks);
      const before = db.pragma('synchronous', { simple: true }) as number;
      if (before < wanted) db.exec(`PRAGMA synchronous = ${synchronous}`);
      try {
        // IMMEDIATE takes the write lock up front: the size check reads first, and a deferred
        // transaction whose read snapshot another connection (the gateway's own store, when the ledger
        // writes from its thread) has moved past cannot upgrade to a write and fails with SQLITE_BUSY
        // at once, busy timeout or not.
        write.immediate(start, entries, chunks);
      } finally {
        if (before < wanted) db.exec(`PRAGMA synchronous = ${before}`);
      }
    },
    saveCheckpoint(sz, note, at) {
      q.putCheckpoint?.run(sz, note, at);
    },
    checkpoints(limit) {
      return q.checkpoints.all(limit);
    },
  };
}
