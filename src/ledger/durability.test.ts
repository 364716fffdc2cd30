import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { leafHash, rootFromLeaves, verifyCheckpoint } from '../verify/index.js';
import { createLedger } from './index.js';

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
