import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createBulkTracker, type SketchStore } from './index.js';
import { detectPii, type PiiFinding } from '../pii/index.js';
import { createMemorySketchStore, createSqliteSketchStore } from '../../store/sketch-store.js';
import { RedlineError } from '../../errors.js';

const SECRET = new TextEncoder().encode('test-secret-0123456789abcdef');

function persons(from: number, to: number, prot = true): PiiFinding[] {
  const out: PiiFinding[] = [];
  for (let i = from; i < to; i++) out.push({ kind: 'phone', normalized: `+1202${String(i).padStart(7, '0')}`, start: 0, end: 1, protected: prot });
  return out;
}

function clock(start = 1_700_000_000_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms) };
}

/** A store that counts calls, around any other. */
function counting(inner: SketchStore) {
  const calls = { load: 0, save: 0, saved: 0, prune: 0 };
  const store: SketchStore = {
    load: (p, b) => (calls.load++, inner.load(p, b)),
    save: (p, b, s) => (calls.save++, calls.saved++, inner.save(p, b, s)),
    prune: (b) => (calls.prune++, inner.prune(b)),
  };
  return { store, calls };
}

function near(actual: number, expected: number, se: number): void {
  assert.ok(Math.abs(actual - expected) <= Math.max(1, 3 * se * expected), `${actual} not within 3σ of ${expected}`);
}

test('options are checked', () => {
  const store = createMemorySketchStore();
  const bad = (o: Partial<Parameters<typeof createBulkTracker>[0]>) => () =>
    createBulkTracker({ secret: SECRET, windowSeconds: 60, store, ...o });
  const isConfig = (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID';
  assert.throws(bad({ secret: new Uint8Array(8) }), isConfig);
  assert.throws(bad({ windowSeconds: 0 }), isConfig);
  assert.throws(bad({ buckets: 0 }), isConfig);
});

test('only protected findings count; repeats count once', () => {
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 3600, store: createMemorySketchStore() });
  assert.equal(t.observe('a', persons(0, 30, false)).distinct, 0);
  assert.equal(t.observe('a', persons(0, 30)).distinct, 30);
  assert.equal(t.observe('a', persons(0, 30)).distinct, 30);
  assert.equal(t.observe('a', [{ kind: 'email', normalized: '+12020000000', start: 0, end: 1, protected: true }]).distinct, 31, 'kind is part of the key');
  assert.equal(t.distinct('b'), 0);
});

test('sliding window: slices expire one by one', () => {
  const c = clock();
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 60, buckets: 6, store: createMemorySketchStore(), now: c.now });
  const se = t.standardError;
  near(t.observe('a', persons(0, 100)).distinct, 100, se);
  c.set(30_000);
  const both = t.observe('a', persons(100, 150)).distinct;
  near(both, 150, se);
  c.set(59_999);
  assert.equal(t.distinct('a'), both);
  c.set(60_000); // slice 0 (t = 0..10 s) leaves the window
  const rest = t.distinct('a');
  near(rest, 50, se);
  c.set(89_999);
  assert.equal(t.distinct('a'), rest);
  c.set(90_000); // slice 3 leaves
  assert.equal(t.distinct('a'), 0);
  near(t.observe('a', persons(0, 10)).distinct, 10, se);
});

test('no store write on the request path; flush writes the changed slices in one batch', () => {
  const c = clock();
  const { store, calls } = counting(createMemorySketchStore());
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 60, buckets: 6, store, now: c.now });
  for (let i = 0; i < 50; i++) t.observe(`p${i % 5}`, persons(i * 10, i * 10 + 10));
  assert.equal(calls.save, 0);
  t.flush();
  assert.equal(calls.saved, 5, 'one slice for each of five principals');
  t.flush();
  assert.equal(calls.saved, 5, 'nothing changed, nothing written');
  c.set(15_000);
  t.observe('p0', persons(0, 1000));
  t.flush();
  assert.equal(calls.saved, 6);
});

test('idle principals leave memory and come back from the store', () => {
  const { store, calls } = counting(createMemorySketchStore());
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 60, buckets: 6, store, now: () => 0 });
  const seen = t.observe('a', persons(0, 200)).distinct;
  const loadsBefore = calls.load;
  t.flush(); // a was active: stays
  t.flush(); // a idle since the last flush: evicted
  assert.equal(calls.load, loadsBefore + 1, 'flush merges with the stored slice');
  assert.equal(t.distinct('a'), seen);
  assert.equal(calls.load, loadsBefore + 1 + 6, 'reloaded all six slices of the window');
});

test('two instances sharing a store: flush merges, nothing is lost', () => {
  const store = createMemorySketchStore();
  const a = createBulkTracker({ secret: SECRET, windowSeconds: 60, store, now: () => 0 });
  const b = createBulkTracker({ secret: SECRET, windowSeconds: 60, store, now: () => 0 });
  a.observe('p', persons(0, 300));
  b.observe('p', persons(200, 500));
  a.flush();
  b.flush();
  const fresh = createBulkTracker({ secret: SECRET, windowSeconds: 60, store, now: () => 0 });
  near(fresh.distinct('p'), 500, fresh.standardError);
});

test('flush prunes slices that left the window', () => {
  const c = clock();
  const store = createMemorySketchStore();
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 60, buckets: 6, store, now: c.now });
  t.observe('a', persons(0, 10));
  t.flush();
  assert.equal(store.size(), 1);
  c.set(120_000);
  t.observe('b', persons(0, 10));
  t.flush();
  assert.equal(store.size(), 1, "a's old slice pruned, b's new one kept");
});

test('SQLite: counts survive a restart and the file holds no identifier', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bulk-'));
  try {
    const file = join(dir, 'redline.db');
    const c = clock();
    const identifiers: string[] = [];
    let before: number;
    {
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      const t = createBulkTracker({ secret: SECRET, windowSeconds: 3600, store: createSqliteSketchStore(db), now: c.now });
      for (let r = 0; r < 40; r++) {
        c.set(r * 60_000);
        const lines: string[] = [];
        for (let i = 0; i < 10; i++) {
          const n = r * 10 + i;
          const ssn = `${String(200 + n).padStart(3, '0')}-${String(10 + (n % 80)).padStart(2, '0')}-${String(1000 + n)}`;
          const email = `person${n}@agency.gov`;
          identifiers.push(ssn, ssn.replace(/-/g, ''), email);
          lines.push(`${ssn} ${email}`);
        }
        t.observe('analyst', detectPii(lines.join('\n')));
        if (r % 10 === 9) t.flush();
      }
      before = t.distinct('analyst');
      near(before, 800, t.standardError);
      t.flush();
      db.close();
    }
    {
      const db = new Database(file);
      const t = createBulkTracker({ secret: SECRET, windowSeconds: 3600, store: createSqliteSketchStore(db), now: c.now });
      assert.equal(t.distinct('analyst'), before);
      t.observe('analyst', persons(0, 5));
      t.flush();
      db.close();
    }
    const bytes = Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
    assert.ok(bytes.length > 0 && bytes.includes(Buffer.from('analyst')), 'the principal is stored');
    for (const id of [...identifiers, '+12020000000', '2020000000']) {
      assert.equal(bytes.includes(Buffer.from(id)), false, 'raw identifier found in the database file');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bulk scenario: 5,000 distinct US persons cross the threshold; a second principal keeps its own count', () => {
  const threshold = 1000;
  const t = createBulkTracker({ secret: SECRET, windowSeconds: 24 * 3600, store: createMemorySketchStore(), now: () => 0 });
  let crossedAt = -1;
  let bMax = 0;
  for (let r = 0; r < 250; r++) {
    // Analyst A pastes 20 new records per request; analyst B keeps working on the same 10 people,
    // with foreign contacts mixed in.
    const rows = Array.from({ length: 20 }, (_, i) => {
      const n = r * 20 + i;
      return `${n},${String(100 + (n % 600)).padStart(3, '0')}-${String(10 + Math.floor(n / 600))}-${String(2000 + n)}`;
    });
    const a = t.observe('analyst-a', detectPii(`id,ssn\n${rows.join('\n')}`));
    if (crossedAt < 0 && a.distinct >= threshold) crossedAt = r;
    const b = t.observe('analyst-b', detectPii(`case notes: 536-22-${1000 + (r % 10)} met +44 20 7946 ${String(1000 + r).slice(-4)}`));
    bMax = Math.max(bMax, b.distinct);
  }
  near(t.distinct('analyst-a'), 5000, t.standardError);
  assert.ok(crossedAt >= 45 && crossedAt <= 55, `crossed after ${crossedAt + 1} requests (expected ~50)`);
  assert.equal(bMax, 10);
  assert.equal(t.distinct('analyst-b'), 10);
});
