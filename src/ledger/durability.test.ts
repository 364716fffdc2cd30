import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { TILE_WIDTH, leafHash, rootFromLeaves, tileWidthAt, verifyCheckpoint } from '../verify/index.js';
import { createLedger, openLedgerReader, type LedgerReader } from './index.js';

const CHILD = fileURLToPath(new URL('./durability.child.ts', import.meta.url));

test('after kill -9 under load, every acknowledged append is in a consistent log', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-durability-'));
  try {
    const dbPath = join(dir, 'redline.db');
    const pem = join(dir, 'key.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });

    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath, pem, 'redline.test/durability'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked: number[] = [];
    let buf = '';
    const killed = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!; // an unterminated last line was not fully written: ignore it
      for (const l of lines) if (/^\d+$/.test(l)) acked.push(Number(l));
      if (acked.length >= 5000 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    assert.equal(await killed, 'SIGKILL');
    assert.ok(acked.length >= 5000, `child acknowledged only ${acked.length} appends`);

    const db = new Database(dbPath);
    const ledger = createLedger({ db, signer: { name: 'redline.test/durability', privateKey } });
    const size = ledger.size();
    const max = Math.max(...acked);
    if (process.env.LEDGER_TEST_VERBOSE) console.log({ acked: acked.length, max, size });
    assert.ok(size > max, `log has ${size} entries but index ${max} was acknowledged`);
    const seqs = new Set<number>();
    const leaves: Uint8Array[] = [];
    for (let i = 0; i < size; i++) {
      const rec = ledger.entry(i);
      assert.ok(rec, `entry ${i} missing`);
      leaves.push(leafHash(rec.data));
      seqs.add(rec.entry.seq as number);
    }
    assert.equal(seqs.size, size, 'every stored entry is a distinct append');
    for (const i of acked) assert.ok(i < size);
    // The stored node hashes agree with a rebuild from the surviving entries, and the log keeps going.
    assert.deepEqual(ledger.root(), rootFromLeaves(leaves));
    const { index } = await ledger.append({ decisionId: 'after', principal: 'p', action: 'chat', labels: [], decision: 'allow' });
    assert.equal(index, size);
    verifyCheckpoint(ledger.checkpoint(), ledger.verifiers());
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every tile, and sampled roots and proofs, of `size` entries agree between two readers. */
function assertSameTree(got: LedgerReader, want: LedgerReader, size: number, what: string): void {
  assert.deepEqual(got.root(size), want.root(size), `${what}: root`);
  for (let level = 0; TILE_WIDTH ** level <= size; level++) {
    const hashes = Math.floor(size / TILE_WIDTH ** level);
    for (let n = 0; n <= Math.floor(hashes / TILE_WIDTH); n++) {
      const w = tileWidthAt(level, n, size);
      if (w === 0) continue;
      const t = got.tile(level, n, w);
      assert.ok(t, `${what}: tile ${level}/${n} width ${w ?? 'full'} is served`);
      assert.deepEqual(t, want.tile(level, n, w), `${what}: tile ${level}/${n} width ${w ?? 'full'}`);
    }
  }
  const samples = [0, 1, 255, 256, 4095, 4096, size - 2, size - 1].filter((i) => i >= 0 && i < size);
  for (const i of samples) assert.deepEqual(got.inclusionProof(i, size), want.inclusionProof(i, size), `${what}: inclusion ${i}`);
  for (const s1 of [1, 17, 256, 4097, size - 1].filter((x) => x >= 1 && x <= size)) {
    assert.deepEqual(got.root(s1), want.root(s1), `${what}: root at ${s1}`);
    assert.deepEqual(got.consistencyProof(s1, size), want.consistencyProof(s1, size), `${what}: consistency ${s1}`);
  }
}

test('kill -9 right after commits that left partial chunks: the reopened log equals a fresh rebuild', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-durability-'));
  try {
    const dbPath = join(dir, 'redline.db');
    const pem = join(dir, 'key.pem');
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileSync(pem, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    // 4500 entries: full and partial chunks at stratum 0 (17 full) and 4 (1 full), partial at 8.
    const target = 4500;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath, pem, 'redline.test/durability', String(target)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (/^done$/m.test(out) && !child.killed) child.kill('SIGKILL');
    });
    assert.equal(await exited, 'SIGKILL');
    assert.match(out, /^done$/m, 'the child finished its appends before the kill');

    const db = new Database(dbPath);
    // Only full chunks are ever stored; the right edge must come back from the entries.
    const partialRows = db.prepare('SELECT count(*) AS n FROM ledger_nodes WHERE length(hashes) < 8192').get() as { n: number };
    assert.equal(partialRows.n, 0);
    const ledger = createLedger({ db, signer: { name: 'redline.test/durability', privateKey } });
    assert.equal(ledger.size(), target);

    const fresh = createLedger({ db: new Database(':memory:'), signer: { name: 'redline.test/fresh', privateKey } });
    const leaves: Uint8Array[] = [];
    await Promise.all(Array.from({ length: target }, (_, i) => {
      const rec = ledger.entry(i)!;
      leaves.push(leafHash(rec.data));
      return fresh.append(rec.entry);
    }));
    for (let i = 0; i < target; i += 97) assert.deepEqual(fresh.entry(i)!.data, ledger.entry(i)!.data);
    assert.deepEqual(ledger.root(), rootFromLeaves(leaves));
    assertSameTree(ledger, fresh, target, 'writer after restart');

    // A read-only reader of the file (the verifier CLI's path) rebuilds the same right edge.
    const ro = new Database(dbPath, { readonly: true });
    assertSameTree(openLedgerReader(ro), fresh, target, 'read-only reader');

    // Appending on the rebuilt edge fills chunks exactly as an uninterrupted log would (stratum 0
    // chunk 17 and stratum 4 chunk 1 fill up on the way), and the reader follows the growth.
    const more = 4096 * 2 + 300 - target;
    const extra = Array.from({ length: more }, (_, i) => ({ decisionId: `x${i}`, principal: 'p', action: 'chat', labels: [], decision: 'allow', time: '2025-01-01T00:00:00Z' }));
    await Promise.all(extra.map((e) => ledger.append(e)));
    await Promise.all(extra.map((e) => fresh.append(e)));
    assertSameTree(ledger, fresh, target + more, 'writer after more appends');
    assertSameTree(openLedgerReader(ro), fresh, target + more, 'read-only reader after more appends');
    assert.deepEqual(verifyCheckpoint(ledger.checkpoint(), ledger.verifiers()).rootHash, fresh.root());
    ro.close();
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
