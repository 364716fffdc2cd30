import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { ledgerRoutes } from '../../gateway/routes/ledger.js';
import { commitContent, createLedger } from '../../ledger/index.js';
import { runLedgerVerify, type VerifyOptions } from './ledger.js';

const ORIGIN = 'redline.test/cli';

async function run(o: VerifyOptions): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runLedgerVerify(o, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

async function makeLog(dir: string, n: number) {
  const db = new Database(join(dir, 'redline.db'));
  db.pragma('journal_mode = WAL');
  const ledger = createLedger({ db, signer: { name: ORIGIN, privateKey: generateKeyPairSync('ed25519').privateKey } });
  const secret = commitContent('what the operator typed');
  await Promise.all(Array.from({ length: n }, (_, i) => ledger.append({
    decisionId: `d${i}`, principal: 'p', action: 'chat', labels: ['general'], decision: 'allow', ...(i === 7 && { commitment: secret.commitment }),
  })));
  return { db, ledger, secret };
}

test('verify --dir: checkpoint, full rebuild, stored checkpoints, consistency, inclusion, disclosure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-cli-'));
  try {
    const { db, ledger, secret } = await makeLog(dir, 600);
    const vkey = ledger.verifiers()[0]!;
    writeFileSync(join(dir, 'old.checkpoint'), ledger.checkpoint());
    await Promise.all(Array.from({ length: 100 }, (_, i) => ledger.append({ decisionId: `e${i}`, principal: 'p', action: 'chat', labels: [], decision: 'deny' })));
    await ledger.close(); // signs and stores the final checkpoint
    db.close();
    writeFileSync(join(dir, 'disclosure.json'), JSON.stringify({ index: 7, salt: secret.salt, content: 'what the operator typed' }));
    writeFileSync(join(dir, 'keys'), `# trusted\n${vkey}\n`);

    const ok = await run({ dir, keyFile: join(dir, 'keys'), origin: ORIGIN, oldCheckpoint: join(dir, 'old.checkpoint'), index: '650', disclosure: join(dir, 'disclosure.json'), saveCheckpoint: join(dir, 'saved') });
    assert.equal(ok.code, 0, ok.err.join('\n'));
    assert.deepEqual(ok.out.map((l) => l.split(':')[0]), ['checkpoint', 'entries', 'stored checkpoints', 'consistency', 'inclusion', 'disclosure']);
    assert.match(ok.out[0]!, /size 700/);

    // Failures name the check and the reason.
    const wrongKey = await run({ dir, key: [createLedger({ db: new Database(':memory:'), signer: { name: ORIGIN, privateKey: generateKeyPairSync('ed25519').privateKey } }).verifiers()[0]!] });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.err[0]!, /^FAIL checkpoint: UNKNOWN_KEY/);
    writeFileSync(join(dir, 'bad-disclosure.json'), JSON.stringify({ index: 7, salt: secret.salt, content: 'something else' }));
    const badDisclosure = await run({ dir, key: [vkey], disclosure: join(dir, 'bad-disclosure.json') });
    assert.match(badDisclosure.err[0]!, /^FAIL disclosure: COMMITMENT_MISMATCH/);
    assert.match((await run({ dir, key: [vkey], index: '700' })).err[0]!, /^FAIL inclusion: INDEX_OUT_OF_RANGE/);
    assert.match((await run({ dir, key: [vkey], origin: 'elsewhere' })).err[0]!, /^FAIL checkpoint: ORIGIN_MISMATCH/);
    assert.match((await run({ key: [vkey] })).err[0]!, /^FAIL setup/);
    assert.match((await run({ dir })).err[0]!, /^FAIL setup/);

    // Without the final checkpoint, the latest stored one (size 600) is verified and the rest reported.
    const raw = new Database(join(dir, 'redline.db'));
    raw.prepare('DELETE FROM ledger_checkpoints WHERE size = 700').run();
    const partial = await run({ dir, key: [vkey] });
    assert.equal(partial.code, 0, partial.err.join('\n'));
    assert.match(partial.out[0]!, /size 600 /);
    assert.match(partial.out[1]!, /^note: 100 later entries/);

    // Rewrite history: change one entry in the database file.
    raw.prepare('UPDATE ledger_entries SET data = ? WHERE idx = 5').run(Buffer.from('{"forged":true}'));
    raw.close();
    const tampered = await run({ dir, key: [vkey] });
    assert.equal(tampered.code, 1);
    assert.match(tampered.err[0]!, /^FAIL entries: ROOT_MISMATCH/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('verify --url: the same checks over HTTP from a running server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-cli-'));
  const { db, ledger } = await makeLog(dir, 1000);
  const app = Fastify();
  await ledgerRoutes(app, { ledger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const vkey = ledger.verifiers()[0]!;
    writeFileSync(join(dir, 'old'), ledger.checkpoint());
    await ledger.append({ decisionId: 'later', principal: 'p', action: 'chat', labels: [], decision: 'allow' });
    const ok = await run({ url, key: [vkey], oldCheckpoint: join(dir, 'old'), index: '999' });
    assert.equal(ok.code, 0, ok.err.join('\n'));
    assert.deepEqual(ok.out.map((l) => l.split(':')[0]), ['checkpoint', 'entries', 'consistency', 'inclusion']);

    // An "old" checkpoint from a different history (signed by the log's own key) is caught.
    const other = createLedger({ db: new Database(':memory:'), signer: { name: ORIGIN, privateKey: generateKeyPairSync('ed25519').privateKey } });
    await other.append({ decisionId: 'x', principal: 'p', action: 'chat', labels: [], decision: 'allow' });
    writeFileSync(join(dir, 'foreign'), other.checkpoint());
    const foreign = await run({ url, key: [vkey, other.verifiers()[0]!], oldCheckpoint: join(dir, 'foreign') });
    assert.equal(foreign.code, 1);
    assert.match(foreign.err[0]!, /^FAIL consistency: INCONSISTENT/);
    const down = await run({ url: 'http://127.0.0.1:1', key: [vkey] });
    assert.match(down.err[0]!, /^FAIL checkpoint/);
  } finally {
    await app.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
