// Events that are not requests also reach the ledger: key changes made by the CLI (through the store's
// outbox, since only the gateway appends to the ledger) and policy reloads.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';

let gw: TestGateway;
before(async () => { gw = await startTestGateway(); });
after(async () => { await gw.stop(); });

async function entries(): Promise<any[]> {
  const out = [];
  for (let i = 0; i < gw.ledger.size(); i++) out.push((await (await fetch(`${gw.url}/v1/redline/ledger/entries/${i}`)).json() as any));
  return out;
}

test('a key created and revoked with the CLI lands in the ledger as key_change, pseudonymised', async () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { env: { ...process.env, REDLINE_DATA_DIR: gw.dataDir }, encoding: 'utf8' });
  const created = cli('keys', 'create', '--principal', 'auditor-1', '--role', 'auditor', '--json');
  assert.equal(created.status, 0, created.stderr);
  const { id, principal } = JSON.parse(created.stdout);
  assert.equal(cli('keys', 'revoke', id).status, 0);
  let found: any[] = [];
  for (let i = 0; i < 60 && found.length < 2; i++) {
    await new Promise((r) => setTimeout(r, 100));
    found = (await entries()).map((e) => e.entry ?? e).filter((e) => e.action === 'key_change' && e.keyId === id);
  }
  assert.deepEqual(found.map((e) => e.change), ['key_created', 'key_revoked']);
  assert.notEqual(found[0].principal, principal.id, 'the ledger holds a pseudonym, not the principal id');
  assert.match(found[0].principal, /^[0-9a-f]{64}$/);
});

test('a policy reload is recorded with its outcome and version', async () => {
  const before = gw.ledger.size();
  const r = await gw.reloadPolicy('test');
  assert.ok(r.ok);
  const all = await entries();
  const e = all.slice(before).map((x) => x.entry ?? x).find((x) => x.action === 'policy_reload');
  assert.ok(e, 'policy_reload entry appended');
  assert.equal(e.outcome, 'loaded');
  assert.equal(e.policyVersion, r.ok ? r.version : '');
});
