// Cross-request counting of distinct protected persons per principal over a sliding window — the
// "large quantities of data acquired without discriminants" of PPD-28 fn. 5, seen one request at a time.
//
// What is counted: distinct identifiers that point at the protected population (findings with
// protected = true), keyed by kind + normalized form. This approximates distinct *persons*: one person
// with a phone, an e-mail and an address counts three times, and identifiers with no country (see
// DetectOptions.unknownOrigin) are not counted at all unless the deployment says so. The error is
// towards over-counting a small set of people, which only matters far below bulk thresholds.
//
// The window is split into `buckets` time slices with one HyperLogLog per principal per slice; the
// count is the union of the slices inside the window, so it slides with one-slice granularity (a value
// leaves the count between (buckets-1)/buckets and 1 window after it was seen).
import { RedlineError } from '../../errors.js';
import { hmacSha256 } from '../../verify/index.js';
import type { PiiFinding } from '../pii/index.js';
import { DEFAULT_PRECISION, estimateFromRegisters, HyperLogLog } from './hll.js';

export interface SketchStore {
  load(principal: string, bucket: number): Uint8Array | undefined;
  save(principal: string, bucket: number, sketch: Uint8Array): void;
  /** Deletes every sketch whose bucket is < olderThanBucket. */
  prune(olderThanBucket: number): void;
  /** Optional: save many at once (one transaction). Used by flush() when present. */
  saveMany?(items: readonly { principal: string; bucket: number; sketch: Uint8Array }[]): void;
}

export interface BulkTrackerOptions {
  /** Server secret for the keyed hash; at least 16 bytes. Changing it restarts every count. */
  secret: Uint8Array;
  windowSeconds: number;
  /** Slices per window; default 12. */
  buckets?: number;
  store: SketchStore;
  /** Clock in milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** HyperLogLog precision; default 12 (±1.6 % standard error, 4 KiB per active slice). */
  precision?: number;
}

export interface BulkTracker {
  /** Adds the protected findings of one request; returns the principal's distinct count afterwards. */
  observe(principal: string, findings: readonly PiiFinding[]): { distinct: number };
  /** Distinct protected identifiers the principal has sent inside the window. */
  distinct(principal: string): number;
  /** Writes changed sketches to the store, prunes expired ones and drops idle principals from memory. */
  flush(): void;
  /** Relative standard error of the counts. */
  readonly standardError: number;
}

interface Entry {
  /** bucket number -> sketch; only buckets inside the window that exist. */
  sketches: Map<number, HyperLogLog>;
  dirty: Set<number>;
  /** Union registers of the window's closed buckets, valid while the current bucket is `unionAt`. */
  closedUnion: Uint8Array | undefined;
  unionAt: number;
  touched: boolean;
  /** The last estimate and the bucket it was made in: most requests add nothing new, so it is reused. */
  cached?: { cur: number; value: number };
}

/** HMAC-SHA256(secret, kind ':' normalized): what the sketch sees instead of the identifier. */
export function keyedHash(secret: Uint8Array, kind: string, normalized: string): Uint8Array {
  return hmacSha256(secret, `${kind}:${normalized}`);
}

export function createBulkTracker(o: BulkTrackerOptions): BulkTracker {
  if (!(o.secret instanceof Uint8Array) || o.secret.length < 16) {
    throw new RedlineError('CONFIG_INVALID', 'bulk tracker secret must be at least 16 bytes');
  }
  const nBuckets = o.buckets ?? 12;
  if (!Number.isInteger(nBuckets) || nBuckets < 1 || nBuckets > 1024) {
    throw new RedlineError('CONFIG_INVALID', 'bulk tracker buckets must be an integer 1..1024');
  }
  if (!(o.windowSeconds > 0)) throw new RedlineError('CONFIG_INVALID', 'bulk tracker window must be positive');
  const p = o.precision ?? DEFAULT_PRECISION;
  const secret = Uint8Array.from(o.secret);
  const sliceMs = (o.windowSeconds * 1000) / nBuckets;
  const now = o.now ?? Date.now;
  const store = o.store;
  const hot = new Map<string, Entry>();

  const currentBucket = () => Math.floor(now() / sliceMs);
  const oldestLive = (cur: number) => cur - nBuckets + 1;

  function entryFor(principal: string, cur: number): Entry {
    let e = hot.get(principal);
    if (!e) {
      // First use since start (or since eviction): the store holds what earlier runs saw.
      e = { sketches: new Map(), dirty: new Set(), closedUnion: undefined, unionAt: NaN, touched: true };
      for (let b = oldestLive(cur); b <= cur; b++) {
        const bytes = store.load(principal, b);
        if (!bytes) continue;
        const h = HyperLogLog.deserialize(bytes);
        if (h.p === p) e.sketches.set(b, h);
      }
      hot.set(principal, e);
    }
    e.touched = true;
    // Slices that slid out of the window stop counting at once, flushed or not.
    for (const b of e.sketches.keys()) {
      if (b < oldestLive(cur)) {
        e.sketches.delete(b);
        e.dirty.delete(b);
      }
    }
    return e;
  }

  function count(e: Entry, cur: number): number {
    if (e.cached && e.cached.cur === cur) return e.cached.value;
    if (e.unionAt !== cur || !e.closedUnion) {
      const closed: Uint8Array[] = [];
      for (const [b, h] of e.sketches) if (b !== cur) closed.push(h.registers);
      const u = new Uint8Array(1 << p);
      for (const r of closed) for (let i = 0; i < u.length; i++) if (r[i]! > u[i]!) u[i] = r[i]!;
      e.closedUnion = u;
      e.unionAt = cur;
    }
    const current = e.sketches.get(cur);
    const value = estimateFromRegisters(p, current ? [e.closedUnion, current.registers] : [e.closedUnion]);
    e.cached = { cur, value };
    return value;
  }

  return {
    standardError: 1.04 / Math.sqrt(1 << p),

    observe(principal, findings) {
      const cur = currentBucket();
      const e = entryFor(principal, cur);
      let sketch = e.sketches.get(cur);
      for (const f of findings) {
        if (!f.protected) continue;
        if (!sketch) {
          sketch = new HyperLogLog(p);
          e.sketches.set(cur, sketch);
        }
        if (sketch.addHash(keyedHash(secret, f.kind, f.normalized))) {
          e.dirty.add(cur);
          e.cached = undefined;
        }
      }
      return { distinct: count(e, cur) };
    },

    distinct(principal) {
      const cur = currentBucket();
      return count(entryFor(principal, cur), cur);
    },

    flush() {
      const cur = currentBucket();
      const items: { principal: string; bucket: number; sketch: Uint8Array }[] = [];
      for (const [principal, e] of hot) {
        for (const b of e.dirty) {
          const h = e.sketches.get(b);
          if (!h || b < oldestLive(cur)) continue;
          // Merge with what is stored: another instance sharing the store may have written this slice
          // since we loaded it, and a union never loses anything (HLL merge is idempotent).
          const stored = store.load(principal, b);
          if (stored) {
            const s = HyperLogLog.deserialize(stored);
            if (s.p === p) h.merge(s);
          }
          items.push({ principal, bucket: b, sketch: h.serialize() });
        }
        e.dirty.clear();
        e.closedUnion = undefined;
        e.cached = undefined;
        // Principals idle since the previous flush leave memory; the store has them.
        if (!e.touched) hot.delete(principal);
        e.touched = false;
      }
      if (items.length > 0) {
        if (store.saveMany) store.saveMany(items);
        else for (const it of items) store.save(it.principal, it.bucket, it.sketch);
      }
      store.prune(oldestLive(cur));
    },
  };
}
