// The operator's ledger commands against a real gateway's data directory: `ledger disclose` produces a
// disclosure that `ledger verify --disclosure` accepts, and `ledger rotate-key` swaps the signing key so
// that checkpoints from before and after the rotation both verify with the verifiers file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestGateway, type TestGateway } from '../../testing/gateway.js';
import { runDisclose, runLedgerVerify, runRotateKey, type VerifyOptions } from './ledger.js';

const CONFIG = { server: { storeContent: true } };
let gw: TestGateway;
let dataDir: string;

type Runner<O> = (o: O, out: (l: string) => void, err: (l: string) => void) => Promise<number>;
async function run<O>(f: Runner<O>, o: O): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await f(o, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}
const verify = (o: VerifyOptions) => run(runLedgerVerify, o);

async function chat(text: string): Promise<number> {
  const before = gw.ledger.size();
  const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: text }] });
  assert.equal(res.status, 200, await res.text());
  for (let i = before; i < gw.ledger.size(); i++) if (gw.ledger.entry(i)!.entry.action === 'chat') return i;
  throw new Error('no chat entry appended');
}

before(async () => {
  gw = await startTestGateway(CONFIG);
  dataDir = gw.dataDir;
});
after(async () => {
  rmSync(dataDir, { recursive: true, force: true });
});

test('disclose prints {index, salt, content} that ledger verify --disclosure accepts', async () => {
  const first = await chat('Plan the fuel resupply for three depots.');
  const second = await chat('Summarise the maintenance backlog.');
  const secondRequest = gw.ledger.entry(second)!.entry.requestId as string;
  await gw.close(); // flushes request records and stores the final checkpoint
  const keyFile = join(dataDir, 'ledger', 'verifiers');

  const d = await run(runDisclose, { dir: dataDir, index: String(first), out: join(dataDir, 'disclosure.json') });
  assert.equal(d.code, 0, d.err.join('\n'));
  const doc = JSON.parse(readFileSync(join(dataDir, 'disclosure.json'), 'utf8'));
  assert.deepEqual(Object.keys(doc), ['index', 'salt', 'content']);
  assert.equal(doc.index, first);
  assert.match(doc.salt, /^[0-9a-f]{64}$/);
  assert.deepEqual(JSON.parse(doc.content), { messages: [{ content: [{ text: 'Plan the fuel resupply for three depots.', type: 'text' }], role: 'user' }], system: 'Be brief.', tools: null });
  const ok = await verify({ dir: dataDir, keyFile, disclosure: join(dataDir, 'disclosure.json') });
  assert.equal(ok.code, 0, ok.err.join('\n'));
  assert.match(ok.out.at(-1)!, /^disclosure: entry \d+ is in the tree and its commitment matches/);

  // Printed to stdout without --out; another entry's salt does not open this one.
  const printed = await run(runDisclose, { dir: dataDir, index: String(second) });
  assert.equal(printed.code, 0, printed.err.join('\n'));
  writeFileSync(join(dataDir, 'swapped.json'), JSON.stringify({ ...JSON.parse(printed.out.join('\n')), index: first }));
  assert.match((await verify({ dir: dataDir, keyFile, disclosure: join(dataDir, 'swapped.json') })).err[0]!, /^FAIL disclosure: COMMITMENT_MISMATCH/);

  // Content that was never stored cannot be disclosed, and the command says why.
  const db = new Database(join(dataDir, 'redline.db'));
  assert.equal(db.prepare('UPDATE requests SET content = NULL WHERE id = ?').run(secondRequest).changes, 1);
  db.close();
  const none = await run(runDisclose, { dir: dataDir, index: String(second) });
  assert.equal(none.code, 1);
  assert.match(none.err[0]!, /^FAIL disclose: the content of entry \d+ was not stored \(server\.storeContent is off/);
  assert.match((await run(runDisclose, { dir: dataDir, index: '999' })).err[0]!, /^FAIL disclose: the log has \d+ entries; there is no entry 999/);
  assert.match((await run(runDisclose, { dir: dataDir, index: '-1' })).err[0]!, /--index must be/);
});

test('rotate-key: checkpoints signed before and after the rotation both verify with the verifiers file', async () => {
  const keyFile = join(dataDir, 'ledger', 'verifiers');
  const oldKey = readFileSync(keyFile, 'utf8').trim();
  assert.equal(oldKey.split('\n').length, 1);
  // The gateway is stopped (previous test); its final checkpoint was stored on close.
  const db = new Database(join(dataDir, 'redline.db'), { readonly: true });
  const oldNote = (db.prepare('SELECT note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1').get() as { note: string }).note;
  db.close();
  writeFileSync(join(dataDir, 'old.checkpoint'), oldNote);

  assert.match((await run(runRotateKey, { dir: dataDir, origin: 'some.other/log' })).err[0]!, /^FAIL rotate-key: the current key signs for origin redline\.local\/ledger/);
  assert.match((await run(runRotateKey, { dir: join(dataDir, 'nowhere') })).err[0]!, /^FAIL rotate-key: no ledger signing key/);
  const r = await run(runRotateKey, { dir: dataDir });
  assert.equal(r.code, 0, r.err.join('\n'));
  const newKey = r.out[0]!;
  assert.match(newKey, /^redline\.local\/ledger\+[0-9a-f]{8}\+/);
  assert.notEqual(newKey, oldKey);
  assert.deepEqual(readFileSync(keyFile, 'utf8').trim().split('\n'), [oldKey, newKey], 'the old vkey stays, the new one is added');

  // Restart on the same data directory: the gateway signs with the new key and logs the rotation.
  gw = await startTestGateway(CONFIG, {}, { dataDir });
  try {
    await chat('Draft the training schedule for next month.');
    assert.deepEqual(gw.ledger.verifiers().sort(), [oldKey, newKey].sort());
    const rotation = Array.from({ length: gw.ledger.size() }, (_, i) => gw.ledger.entry(i)!.entry).find((e) => e.action === 'key_change' && e.change === 'ledger_key_rotated');
    assert.equal(rotation?.change, 'ledger_key_rotated');
    assert.equal(rotation?.vkey, newKey);
    assert.equal(rotation?.previous, oldKey);
    writeFileSync(join(dataDir, 'new.checkpoint'), gw.ledger.checkpoint());
  } finally {
    await gw.close();
  }

  const both = await verify({ dir: dataDir, keyFile, oldCheckpoint: join(dataDir, 'old.checkpoint') });
  assert.equal(both.code, 0, both.err.join('\n'));
  assert.match(both.out[0]!, new RegExp(`signed by ${newKey.split('+').slice(0, 2).join('\\+').replace('.', '\\.')}`));
  assert.ok(both.out.some((l) => /^stored checkpoints: \d+ signed checkpoints agree with the entries$/.test(l)), both.out.join('\n'));
  assert.ok(both.out.some((l) => l.startsWith('consistency: old checkpoint')), both.out.join('\n'));
  const old = await verify({ dir: dataDir, keyFile, checkpoint: join(dataDir, 'old.checkpoint') });
  assert.equal(old.code, 0, old.err.join('\n'));

  // Each checkpoint needs its own key: neither key alone verifies both.
  assert.match((await verify({ dir: dataDir, key: [newKey], checkpoint: join(dataDir, 'old.checkpoint') })).err[0]!, /^FAIL checkpoint: UNKNOWN_KEY/);
  assert.match((await verify({ dir: dataDir, key: [oldKey], checkpoint: join(dataDir, 'new.checkpoint') })).err[0]!, /^FAIL checkpoint: UNKNOWN_KEY/);
});
