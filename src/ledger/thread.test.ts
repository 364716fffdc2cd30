// The ledger on its own thread: the same log as the in-thread ledger, entries acknowledged only after
// they commit, reads served from the mirrored tree, and failures refused rather than lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RedlineError } from '../errors.js';
import { canonicalBytes, commitmentOf, leafHash, rootFromLeaves, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../verify/index.js';
import { contentSalt, createLedger, startLedgerThread, type Ledger, type LedgerEntryInput } from './index.js';

const ORIGIN = 'redline.test/thread';
const key = generateKeyPairSync('ed25519').privateKey;
const signer = { name: ORIGIN, privateKey: key };
const secret = new Uint8Array(32).fill(7);

const entry = (i: number, extra: Partial<LedgerEntryInput> = {}): LedgerEntryInput =>
  ({ decisionId: `dec_${i}`, principal: 'p'.repeat(64), action: 'chat', labels: ['general'], decision: 'allow', time: '2026-01-01T00:00:00Z', ...extra });

function withLedger(fn: (l: Ledger, db: Database.Database, file: string) => Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'redline-thread-'));
    const file = join(dir, 'l.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    const ledger = await startLedgerThread({ db, signer, synchronous: 'NORMAL', commitmentSecret: secret });
    try {
      await fn(ledger, db, file);
    } finally {
      await ledger.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('concurrent appends get dense distinct indices; proofs, tiles and checkpoints come from the mirrored tree', withLedger(async (ledger, db) => {
  const n = 600;
  const rs = await Promise.all(Array.from({ length: n }, (_, i) => ledger.append(entry(i))));
  assert.deepEqual(rs.map((r) => r.index).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  assert.equal(ledger.size(), n);
  const s = ledger.stats();
  assert.equal(s.appended, n);
  assert.ok(s.transactions < n / 10, `group commit: ${s.transactions} transactions for ${n} entries`);

  // The leaves are the entries' canonical bytes in index order, whatever thread hashed them.
  const leaves = Array.from({ length: n }, (_, i) => leafHash(ledger.entry(i)!.data));
  const root = rootFromLeaves(leaves);
  assert.deepEqual(ledger.root(), root);
  for (const i of [0, 1, 255, 256, 599]) verifyInclusion(leaves[i]!, i, n, ledger.inclusionProof(i), root);
  verifyConsistency(300, n, ledger.consistencyProof(300), rootFromLeaves(leaves.slice(0, 300)), root);
  assert.deepEqual(verifyCheckpoint(ledger.checkpoint(), ledger.verifiers(), { origin: ORIGIN }).rootHash, root);

  // The database written by the thread is the same log to an in-thread writer opening it later.
  const again = createLedger({ db, signer });
  assert.deepEqual(again.root(), root);
}));

test('content is committed by the thread with a salt from the secret and the decision id, never stored', withLedger(async (ledger) => {
  const content = { system: null, messages: [{ role: 'user', content: 'résumé ☃ of the convoy plan' }], tools: null };
  const { index } = await ledger.append(entry(1), { content });
  const stored = ledger.entry(index)!;
  assert.equal(stored.entry.commitment, commitmentOf(contentSalt(secret, 'dec_1'), canonicalBytes(content)));
  assert.ok(!new TextDecoder().decode(stored.data).includes('convoy'), 'the content itself is not in the log');
}));

test('a malformed entry is refused alone; the entries sent with it commit', withLedger(async (ledger) => {
  const results = await Promise.allSettled([
    ledger.append(entry(1)),
    ledger.append({ ...entry(2), decisionId: '' }),
    ledger.append(entry(3), { content: { n: 10n } }), // JSON cannot carry a BigInt
    ledger.append(entry(4)),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled']);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as RedlineError).code, 'INTERNAL');
  assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ index: number }>).value.index), [0, 1]);
  assert.equal(ledger.size(), 2);
}));

test('a commit that fails is refused with LEDGER_PUSHBACK, and the thread and the mirror recover from the database', withLedger(async (ledger, _db, file) => {
  await ledger.append(entry(0));
  // Another writer (which must never exist) adds a row behind the ledger's back: the thread's size
  // check refuses the next commit, reloads, and the log goes on from what the database holds.
  const other = new Database(file);
  other.prepare('INSERT INTO ledger_entries (idx, data) VALUES (1, ?)').run(Buffer.from(canonicalBytes({ ...entry(99), v: 1 })));
  other.close();
  await assert.rejects(ledger.append(entry(1)), (e: unknown) => e instanceof RedlineError && e.code === 'LEDGER_PUSHBACK' && e.status === 503);
  assert.equal(ledger.stats().failedBatches, 1);
  const { index } = await ledger.append(entry(2));
  assert.equal(index, 2);
  assert.equal(ledger.size(), 3);
  const leaves = [0, 1, 2].map((i) => leafHash(ledger.entry(i)!.data));
  assert.deepEqual(ledger.root(), rootFromLeaves(leaves));
}));

test('after close, appends are refused and a final checkpoint is kept', withLedger(async (ledger) => {
  await ledger.append(entry(0));
  await ledger.close();
  await assert.rejects(ledger.append(entry(1)), (e: unknown) => e instanceof RedlineError && e.code === 'LEDGER_PUSHBACK');
  assert.equal(ledger.storedCheckpoints(1)[0]?.size, 1);
}));
