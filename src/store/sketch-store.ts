// Storage for the bulk tracker's HyperLogLog sketches: opaque bytes per (principal, time bucket).
// Synchronous on purpose: the tracker reads a principal's sketches once, on first use, and writes them
// in batches from flush(), never per request. A shared (PostgreSQL) store would sit behind a
// write-behind cache with the same shape.
import type Database from 'better-sqlite3';
import type { SketchStore } from '../classify/bulk/index.js';

export function createSqliteSketchStore(db: Database.Database): SketchStore {
  db.exec(`CREATE TABLE IF NOT EXISTS bulk_sketches (
    principal TEXT NOT NULL, bucket INTEGER NOT NULL, sketch BLOB NOT NULL, PRIMARY KEY (principal, bucket))`);
  const get = db.prepare<[string, number], { sketch: Buffer }>('SELECT sketch FROM bulk_sketches WHERE principal = ? AND bucket = ?');
  const put = db.prepare<[string, number, Uint8Array]>(
    'INSERT INTO bulk_sketches (principal, bucket, sketch) VALUES (?, ?, ?) ON CONFLICT (principal, bucket) DO UPDATE SET sketch = excluded.sketch',
  );
  const del = db.prepare<[number]>('DELETE FROM bulk_sketches WHERE bucket < ?');
  const putMany = db.transaction((items: readonly { principal: string; bucket: number; sketch: Uint8Array }[]) => {
    for (const it of items) put.run(it.principal, it.bucket, it.sketch);
  });
  return {
    load(principal, bucket) {
      const row = get.get(principal, bucket);
      return row ? new Uint8Array(row.sketch) : undefined;
    },
    save(principal, bucket, sketch) {
      put.run(principal, bucket, sketch);
    },
    saveMany(items) {
      putMany(items);
    },
    prune(olderThanBucket) {
      del.run(olderThanBucket);
    },
  };
}

/** The in-memory store: for tests and for deployments that accept losing counts on restart. */
export function createMemorySketchStore(): SketchStore & { size(): number } {
  const rows = new Map<string, Map<number, Uint8Array>>();
  return {
    load(principal, bucket) {
      const b = rows.get(principal)?.get(bucket);
      return b ? b.slice() : undefined;
    },
    save(principal, bucket, sketch) {
      let m = rows.get(principal);
      if (!m) rows.set(principal, (m = new Map()));
      m.set(bucket, sketch.slice());
    },
    prune(olderThanBucket) {
      for (const [p, m] of rows) {
        for (const b of m.keys()) if (b < olderThanBucket) m.delete(b);
        if (m.size === 0) rows.delete(p);
      }
    },
    size() {
      let n = 0;
      for (const m of rows.values()) n += m.size;
      return n;
    },
  };
}
