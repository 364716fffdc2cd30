import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RedlineError } from '../errors.js';
import {
  EMPTY_ROOT,
  TileHashReader,
  VerificationError,
  canonicalBytes,
  leafHash,
  rootFromLeaves,
  verifyCheckpoint,
  verifyConsistency,
  verifyDisclosure,
  verifyInclusion,
} from '../verify/index.js';
import {
  commitContent,
  contentSalt,
  createLedger,
  loadOrCreateSigningKey,
  openLedgerReader,
  pseudonymizePrincipal,
  readVerifierKeys,
  rotateSigningKey,
  type LedgerEntryInput,
} from './index.js';
import { TreeState } from './tree.js';

const ORIGIN = 'redline.test/ledger';
const signer = () => ({ name: ORIGIN, privateKey: generateKeyPairSync('ed25519').privateKey });
const FIXED = () => new Date('2025-01-02T03:04:05.678Z');

function entry(i: number, extra: Partial<LedgerEntryInput> = {}): LedgerEntryInput {
  return { decisionId: `dec_${i}`, principal: 'p'.repeat(64), action: 'chat.completions', labels: ['general'], decision: 'allow', ...extra };
}

async function fill(ledger: ReturnType<typeof createLedger>, n: number, from = 0): Promise<number[]> {
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => ledger.append(entry(from + i))));
  return rs.map((r) => r.index);
}

function isPushback(e: unknown): boolean {
  return e instanceof RedlineError && e.code === 'LEDGER_PUSHBACK' && e.status === 503;
}

test('concurrent appends are group-committed: dense distinct indices, far fewer transactions', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), now: FIXED });
  const indices = await fill(ledger, 2000);
  assert.deepEqual([...indices].sort((a, b) => a - b), Array.from({ length: 2000 }, (_, i) => i));
  assert.equal(new Set(indices).size, 2000);
  const s = ledger.stats();
  assert.equal(s.size, 2000);
  assert.ok(s.transactions <= 2, `expected 1-2 transactions, got ${s.transactions}`);

  // Appends awaited one by one cannot share a transaction.
  for (let i = 0; i < 5; i++) await ledger.append(entry(9000 + i));
  assert.equal(ledger.stats().transactions, s.transactions + 5);

  // maxBatch bounds a transaction.
  const small = createLedger({ db: new Database(':memory:'), signer: signer(), maxBatch: 100 });
  await fill(small, 1000);
  assert.equal(small.stats().transactions, 10);
  assert.equal(small.stats().largestBatch, 100);
});

test('entries are stored as canonical JSON with v and time filled in', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), now: FIXED });
  const { index } = await ledger.append(entry(1, { model: 'gpt-x', extraField: { z: 1, a: [2, 1] } }));
  const rec = ledger.entry(index)!;
  assert.equal(rec.entry.v, 1);
  assert.equal(rec.entry.time, '2025-01-02T03:04:05.678Z');
  assert.deepEqual(rec.data, canonicalBytes(rec.entry));
  assert.equal(new TextDecoder().decode(rec.data).slice(0, 40), '{"action":"chat.completions","decision":');
  assert.deepEqual(rec.leafHash, leafHash(rec.data));
  assert.equal(ledger.entry(1), undefined);

  await assert.rejects(ledger.append({ ...entry(2), labels: 'general' as unknown as string[] }), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
  await assert.rejects(ledger.append({ ...entry(2), time: 'yesterday' }), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
  await assert.rejects(ledger.append({ ...entry(2), commitment: 'abc' }), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
  await assert.rejects(ledger.append({ ...entry(2), blob: 'x'.repeat(70_000) }), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
  await assert.rejects(ledger.append({ ...entry(2), bad: Number.NaN }), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
  assert.equal(ledger.size(), 1);
});

test('proofs for every (index, size ≤ 70) and sampled large pairs verify against roots rebuilt from the entries', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), now: FIXED });
  await fill(ledger, 5000);
  const leaves = Array.from({ length: 5000 }, (_, i) => ledger.entry(i)!.leafHash);
  const roots = new Map<number, Uint8Array>();
  const rootOf = (s: number): Uint8Array => {
    let r = roots.get(s);
    if (!r) roots.set(s, (r = rootFromLeaves(leaves.slice(0, s))));
    return r;
  };
  for (let size = 1; size <= 70; size++) {
    assert.deepEqual(ledger.root(size), rootOf(size));
    for (let i = 0; i < size; i++) verifyInclusion(leaves[i]!, i, size, ledger.inclusionProof(i, size), rootOf(size));
    for (let s1 = 1; s1 <= size; s1++) verifyConsistency(s1, size, ledger.consistencyProof(s1, size), rootOf(s1), rootOf(size));
  }
  const sizes = [255, 256, 257, 4095, 4096, 4097, 4999, 5000];
  for (const size of sizes) {
    assert.deepEqual(ledger.root(size), rootOf(size), `root ${size}`);
    for (const i of [0, 15, 16, 255, 256, size - 1]) if (i < size) verifyInclusion(leaves[i]!, i, size, ledger.inclusionProof(i, size), rootOf(size));
    for (const s1 of sizes) if (s1 <= size) verifyConsistency(s1, size, ledger.consistencyProof(s1, size), rootOf(s1), rootOf(size));
  }
  assert.deepEqual(ledger.root(0), EMPTY_ROOT);
  assert.deepEqual(ledger.consistencyProof(0, 10), []);

  const notFound = (e: unknown) => e instanceof RedlineError && e.code === 'NOT_FOUND';
  const invalid = (e: unknown) => e instanceof RedlineError && e.code === 'INVALID_REQUEST';
  assert.throws(() => ledger.inclusionProof(5000, 5000), notFound);
  assert.throws(() => ledger.inclusionProof(1, 5001), notFound);
  assert.throws(() => ledger.consistencyProof(10, 5001), notFound);
  assert.throws(() => ledger.consistencyProof(11, 10), invalid);
  assert.throws(() => ledger.inclusionProof(-1, 10), invalid);
  assert.throws(() => ledger.inclusionProof(1.5, 10), invalid);
});

test('tiles and entry bundles follow tlog-tiles and yield the same root', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), now: FIXED });
  await fill(ledger, 255);
  assert.equal(ledger.tile(0, 0), undefined);
  assert.equal(ledger.tile(0, 0, 255)!.length, 255 * 32);
  assert.equal(ledger.tile(0, 0, 1)!.length, 32);
  assert.equal(ledger.entryBundle(0), undefined);
  await fill(ledger, 70000 - 255, 255);
  assert.equal(ledger.tile(0, 272)!.length, 8192);
  assert.equal(ledger.tile(0, 273), undefined);
  assert.equal(ledger.tile(0, 273, 112)!.length, 112 * 32);
  assert.equal(ledger.tile(0, 273, 113), undefined);
  assert.equal(ledger.tile(1, 1, 17)!.length, 17 * 32);
  assert.equal(ledger.tile(2, 0, 1)!.length, 32);
  assert.equal(ledger.tile(2, 0, 2), undefined);
  // A partial tile of an older size is a prefix of today's full tile.
  assert.deepEqual(ledger.tile(0, 0, 7), ledger.tile(0, 0)!.subarray(0, 7 * 32));
  assert.equal(ledger.entryBundle(273, 112)!.length > 0, true);
  assert.equal(ledger.entryBundle(273, 113), undefined);

  const size = ledger.size();
  const reader = new TileHashReader(size, async (L, N, w) => ledger.tile(L, N, w)!);
  assert.deepEqual(await reader.root(), ledger.root());
  const cp = verifyCheckpoint(ledger.checkpoint(), ledger.verifiers(), { origin: ORIGIN });
  assert.deepEqual(cp.rootHash, ledger.root());
});

test('checkpoints are signed once per size, stored, and verify with the published keys', async () => {
  const db = new Database(':memory:');
  const ledger = createLedger({ db, signer: signer(), checkpointHistoryMs: 0 });
  const empty = verifyCheckpoint(ledger.checkpoint(), ledger.verifiers());
  assert.equal(empty.size, 0);
  assert.deepEqual(empty.rootHash, EMPTY_ROOT);
  await fill(ledger, 10);
  const a = ledger.checkpoint();
  assert.equal(ledger.checkpoint(), a);
  await fill(ledger, 1, 10);
  const b = ledger.checkpoint();
  assert.notEqual(a, b);
  assert.equal(verifyCheckpoint(b, ledger.verifiers()[0]!).size, 11);
  assert.deepEqual(ledger.storedCheckpoints().map((c) => c.size), [11, 10, 0]);
  assert.equal(openLedgerReader(db).latestCheckpoint(), b);

  // With the default interval, polling does not add a row per size; close() keeps the last one.
  let t = 0;
  const db2 = new Database(':memory:');
  const polled = createLedger({ db: db2, signer: signer(), now: () => new Date(t) });
  for (let i = 0; i < 5; i++) {
    await polled.append(entry(i));
    polled.checkpoint();
    t += 1000;
  }
  assert.deepEqual(polled.storedCheckpoints().map((c) => c.size), [1]);
  await polled.append(entry(9));
  await polled.close();
  assert.deepEqual(polled.storedCheckpoints().map((c) => c.size), [6, 1]);
  assert.equal(verifyCheckpoint(openLedgerReader(db2).latestCheckpoint()!, polled.verifiers()).size, 6);
});

test('reopening continues the same log; a different origin is refused', async () => {
  const db = new Database(':memory:');
  const s = signer();
  const first = createLedger({ db, signer: s });
  await fill(first, 300);
  const root = first.root();
  await first.close();
  await assert.rejects(first.append(entry(1)), isPushback);

  const again = createLedger({ db, signer: s });
  assert.equal(again.size(), 300);
  assert.deepEqual(again.root(), root);
  const more = await fill(again, 50, 300);
  assert.equal(Math.min(...more), 300);
  const leaves = Array.from({ length: 350 }, (_, i) => again.entry(i)!.leafHash);
  assert.deepEqual(again.root(), rootFromLeaves(leaves));
  assert.throws(() => createLedger({ db, signer: { ...signer(), name: 'other.example/log' } }), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
});

test('only full node chunks are stored; a schema 1 database (partial chunks and a size row stored) is read and migrated', async () => {
  const db = new Database(':memory:');
  const s = signer();
  const first = createLedger({ db, signer: s, now: FIXED });
  await fill(first, 4500);
  await first.close();
  const partialRows = () => (db.prepare('SELECT count(*) AS n FROM ledger_nodes WHERE length(hashes) < 8192').get() as { n: number }).n;
  assert.equal(partialRows(), 0);
  // stratum 0: chunks 0..16; stratum 4: chunk 0 (ids are chunk * 64 + stratum)
  const ids = (db.prepare('SELECT id FROM ledger_nodes ORDER BY id').all() as { id: number }[]).map((r) => r.id);
  assert.deepEqual(ids, [0, 4, ...Array.from({ length: 16 }, (_, i) => (i + 1) * 64)]);

  // Turn it into what schema 1 wrote: the partial chunk of every stratum stored as well.
  const tree = TreeState.load(4500, (st, c) => {
    const r = db.prepare('SELECT hashes FROM ledger_nodes WHERE id = ?').get(c * 64 + st) as { hashes: Buffer } | undefined;
    return r?.hashes;
  }, (b, e) => (db.prepare('SELECT data FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx').all(b, e) as { data: Buffer }[]).map((r) => r.data));
  for (const [st, c] of [[0, 17], [4, 1], [8, 0]] as const) {
    db.prepare('INSERT INTO ledger_nodes (id, hashes) VALUES (?, ?)').run(c * 64 + st, tree.tailChunk(st, c));
  }
  db.prepare(`UPDATE ledger_meta SET value = '1' WHERE key = 'schema'`).run();
  db.prepare(`INSERT INTO ledger_meta (key, value) VALUES ('size', '4500')`).run();
  assert.equal(partialRows(), 3);
  const leaves = Array.from({ length: 4500 }, (_, i) => first.entry(i)!.leafHash);
  const root = rootFromLeaves(leaves);
  assert.deepEqual(openLedgerReader(db).root(), root);

  // A writer migrates it: partial rows and the size row go, the schema says 3, and the log carries on.
  const again = createLedger({ db, signer: s, now: FIXED });
  assert.equal((db.prepare(`SELECT value FROM ledger_meta WHERE key = 'schema'`).get() as { value: string }).value, '3');
  assert.equal(partialRows(), 0);
  assert.equal(db.prepare(`SELECT value FROM ledger_meta WHERE key = 'size'`).get(), undefined);
  assert.deepEqual(again.root(), root);
  const reader = openLedgerReader(db);
  assert.deepEqual(reader.tile(0, 17, 148), again.tile(0, 17, 148));
  await fill(again, 100, 4500);
  for (let i = 4500; i < 4600; i++) leaves.push(again.entry(i)!.leafHash);
  assert.deepEqual(again.root(), rootFromLeaves(leaves));
  // The reader rebuilt its right edge at 4500; it notices the growth and serves the new edge.
  assert.deepEqual(reader.root(), rootFromLeaves(leaves));
  assert.deepEqual(reader.tile(0, 17, 248), again.tile(0, 17, 248));
  assert.deepEqual(reader.tile(1, 0, 17), again.tile(1, 0, 17));
  assert.deepEqual(reader.inclusionProof(4599), again.inclusionProof(4599));

  db.prepare(`UPDATE ledger_meta SET value = '4' WHERE key = 'schema'`).run();
  assert.throws(() => createLedger({ db, signer: s }), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
  assert.throws(() => openLedgerReader(db), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
});

test('a failed write rejects the whole batch with LEDGER_PUSHBACK and the log carries on intact', async () => {
  const db = new Database(':memory:');
  const ledger = createLedger({ db, signer: signer() });
  await fill(ledger, 100);
  db.exec(`CREATE TRIGGER ledger_test_fail BEFORE INSERT ON ledger_entries WHEN NEW.idx >= 100 BEGIN SELECT RAISE(ABORT, 'disk says no'); END`);
  const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => ledger.append(entry(100 + i))));
  assert.equal(results.length, 50);
  for (const r of results) assert.ok(r.status === 'rejected' && isPushback(r.reason));
  assert.equal(ledger.stats().failedBatches, 1);
  assert.equal(ledger.size(), 100);
  db.exec('DROP TRIGGER ledger_test_fail');
  const next = await fill(ledger, 10, 100);
  assert.deepEqual(next, Array.from({ length: 10 }, (_, i) => 100 + i));
  const leaves = Array.from({ length: 110 }, (_, i) => ledger.entry(i)!.leafHash);
  assert.deepEqual(ledger.root(), rootFromLeaves(leaves));
  verifyCheckpoint(ledger.checkpoint(), ledger.verifiers());
});

test('TreeState rollback to a mark undoes a batch, including chunks it filled and strata it started', () => {
  const none = () => undefined;
  const leaves = (tag: string, n: number) => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}${i}`)));
  const base = leaves('a', 250);
  const a = TreeState.load(0, none);
  a.appendLeaves(base);
  const mark = a.mark();
  const filled = a.appendLeaves(leaves('x', 4000)); // fills stratum 0 chunks, starts stratum 8
  assert.ok(filled.length > 10);
  a.rollback(mark);
  assert.equal(a.size, 250);
  assert.deepEqual(a.root(), rootFromLeaves(base));
  assert.equal(a.tailChunk(0, 0)!.length, 250 * 32);
  assert.equal(a.tailChunk(8, 0), undefined);

  const other = leaves('y', 300);
  const got = a.appendLeaves(other);
  const b = TreeState.load(0, none);
  b.appendLeaves(base);
  const want = b.appendLeaves(other);
  assert.deepEqual(got, want);
  assert.deepEqual(a.root(), rootFromLeaves([...base, ...other]));
  for (const [st, c] of [[0, 2], [4, 0], [8, 0]] as const) assert.deepEqual(a.tailChunk(st, c), b.tailChunk(st, c));
});

test('a full queue pushes back instead of growing without bound', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), maxQueue: 10 });
  const results = await Promise.allSettled(Array.from({ length: 15 }, (_, i) => ledger.append(entry(i))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
  assert.ok(results.slice(10).every((r) => r.status === 'rejected' && isPushback(r.reason)));
});

test('entries are sealed at commit time, each on its own: content that cannot be committed refuses only its entry', async () => {
  const secret = new Uint8Array(32).fill(9);
  let t = 0;
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer(), commitmentSecret: secret, now: () => new Date(Date.UTC(2025, 0, 1, 0, 0, t++)) });
  const ok = { messages: [{ role: 'user', content: 'fine' }] };
  // One turn of appends, so one group commit: the middle one carries a lone surrogate (not I-JSON).
  const results = await Promise.allSettled([
    ledger.append(entry(1), { content: ok }),
    ledger.append(entry(2), { content: { messages: [{ role: 'user', content: 'bad \ud800' }] } }),
    ledger.append(entry(3), { content: ok }),
  ]);
  assert.equal(results[0]!.status, 'fulfilled');
  assert.equal(results[2]!.status, 'fulfilled');
  assert.ok(results[1]!.status === 'rejected' && results[1].reason instanceof RedlineError && results[1].reason.code === 'INTERNAL');
  assert.deepEqual(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.index] : [])), [0, 1]);
  assert.equal(ledger.stats().transactions, 1);
  // The time is the decision's (taken at append), not the commit's; the commitment opens with the derived salt.
  const first = ledger.entry(0)!;
  assert.equal(first.entry.time, '2025-01-01T00:00:00.000Z');
  assert.equal(ledger.entry(1)!.entry.time, '2025-01-01T00:00:02.000Z');
  verifyDisclosure(first.data, contentSalt(secret, first.entry.decisionId), canonicalBytes(ok));
});

test('content commitments and principal pseudonyms', async () => {
  const ledger = createLedger({ db: new Database(':memory:'), signer: signer() });
  const { salt, commitment } = commitContent('classified prompt text');
  assert.match(salt, /^[0-9a-f]{64}$/);
  const principal = pseudonymizePrincipal('server-secret', 'user-42');
  assert.equal(principal, pseudonymizePrincipal('server-secret', 'user-42'));
  assert.notEqual(principal, pseudonymizePrincipal('other-secret', 'user-42'));
  const { index } = await ledger.append(entry(1, { principal, commitment }));
  const rec = ledger.entry(index)!;
  assert.ok(!new TextDecoder().decode(rec.data).includes('classified'));
  verifyDisclosure(rec.data, salt, 'classified prompt text');
  assert.throws(() => verifyDisclosure(rec.entry, salt, 'other text'), (e: unknown) => e instanceof VerificationError && e.code === 'COMMITMENT_MISMATCH');
});

test('signing keys: created 0600 outside the database, reloaded, rotated with old vkeys kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-keys-'));
  try {
    const k1 = loadOrCreateSigningKey(join(dir, 'ledger'), ORIGIN);
    const pem = join(dir, 'ledger', 'signing-key.pem');
    assert.equal(statSync(pem).mode & 0o777, 0o600);
    assert.equal(loadOrCreateSigningKey(join(dir, 'ledger'), ORIGIN).vkey, k1.vkey);
    assert.deepEqual(readVerifierKeys(join(dir, 'ledger')), [k1.vkey]);

    const db = new Database(':memory:');
    const l1 = createLedger({ db, signer: k1 });
    await fill(l1, 5);
    const oldNote = l1.checkpoint();
    await l1.close();

    const { key: k2, previous } = rotateSigningKey(join(dir, 'ledger'), ORIGIN);
    assert.equal(previous, k1.vkey);
    assert.notEqual(k2.vkey, k1.vkey);
    assert.ok(!readFileSync(pem, 'utf8').includes(k1.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString().split('\n')[1]!));
    const verifiers = readVerifierKeys(join(dir, 'ledger'));
    assert.deepEqual(verifiers, [k1.vkey, k2.vkey]);
    assert.equal(loadOrCreateSigningKey(join(dir, 'ledger'), ORIGIN).vkey, k2.vkey);

    const l2 = createLedger({ db, signer: k2, verifiers });
    assert.deepEqual(l2.verifiers(), [k2.vkey, k1.vkey]);
    await fill(l2, 5, 5);
    const newNote = l2.checkpoint();
    assert.throws(() => verifyCheckpoint(oldNote, k2.vkey), (e: unknown) => e instanceof VerificationError && e.code === 'UNKNOWN_KEY');
    const oldCp = verifyCheckpoint(oldNote, l2.verifiers());
    const newCp = verifyCheckpoint(newNote, l2.verifiers());
    verifyConsistency(oldCp.size, newCp.size, l2.consistencyProof(oldCp.size, newCp.size), oldCp.rootHash, newCp.rootHash);

    chmodSync(pem, 0o644);
    assert.throws(() => loadOrCreateSigningKey(join(dir, 'ledger'), ORIGIN), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
    assert.throws(() => loadOrCreateSigningKey(join(dir, 'x'), 'bad name'), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
