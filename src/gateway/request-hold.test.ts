// A whole request that policy holds: defer mode answers approval_required with an approval id and the
// same request goes through once approved (other content does not); wait mode blocks until decided.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY_DIR } from '../policy/index.js';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';
import { generateApiKey, hashApiKey, keyDisplayPrefix } from '../store/index.js';

let gw: TestGateway;
let trainee = '';
let supervisor = '';

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-policy-'));
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
  writeFileSync(join(dir, '60-trainee-hold.cedar'), `
@id("trainee-needs-sign-off")
@reason("requests by trainees need a supervisor's sign-off")
@severity("medium")
@effect("hold")
forbid (principal, action, resource)
when { principal.roles.contains("trainee") };
`);
  gw = await startTestGateway({ policy: { dir, watch: false, hold: { roles: ['supervisor'], timeoutSeconds: 30 } } });
  const mk = async (name: string, roles: string[]) => {
    const p = await gw.store.keys.createPrincipal({ name, roles });
    const key = generateApiKey();
    await gw.store.keys.addKey({ principalId: p.id, label: 't', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
    return key;
  };
  trainee = await mk('trainee-1', ['trainee']);
  supervisor = await mk('sup-1', ['supervisor']);
});
after(async () => { await gw.stop(); });

const body = (text: string) => ({ model: 'demo', messages: [{ role: 'user', content: text }] });
const as = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });

test('defer: approval_required with an approval id; approved, the same request is released; other content is not', async () => {
  const first = await gw.post('/v1/chat/completions', body('summarise the duty roster'), as(trainee));
  assert.equal(first.status, 403);
  const err = (await first.json() as any).error;
  assert.equal(err.code, 'approval_required');
  assert.match(err.approval_id, /^apr_/);
  assert.match(err.reasons.join(' '), /supervisor's sign-off/);
  const approve = await fetch(`${gw.url}/v1/redline/approvals/${err.approval_id}/approve`, { method: 'POST', headers: { ...as(supervisor), 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'fine' }) });
  const approveText = await approve.text();
  assert.equal(approve.status, 200, approveText);
  const again = await gw.post('/v1/chat/completions', body('summarise the duty roster'), as(trainee, { 'x-redline-approval-id': err.approval_id }));
  assert.equal(again.status, 200, await again.text());
  const other = await gw.post('/v1/chat/completions', body('something else entirely'), as(trainee, { 'x-redline-approval-id': err.approval_id }));
  assert.equal(other.status, 403);
});

test('wait: the request blocks until a supervisor decides', async () => {
  const pending = gw.post('/v1/messages', { ...body('list the vehicles due for service'), max_tokens: 50 }, { authorization: '', 'x-api-key': trainee, 'x-redline-approval-mode': 'wait' });
  let id = '';
  for (let i = 0; i < 100 && !id; i++) {
    const list = await (await fetch(`${gw.url}/v1/redline/approvals?status=pending`, { headers: as(supervisor) })).json() as any;
    id = list.data.find((a: any) => a.tool_call.name === 'redline.request')?.id ?? '';
    if (!id) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(id, 'a pending approval for the request appeared');
  await fetch(`${gw.url}/v1/redline/approvals/${id}/approve`, { method: 'POST', headers: { ...as(supervisor), 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'ok' }) });
  const res = await pending;
  assert.equal(res.status, 200);
  assert.equal((await res.json() as any).type, 'message');
});

test('a bad approval mode header is a 400', async () => {
  const r = await gw.post('/v1/chat/completions', body('x'), as(trainee, { 'x-redline-approval-mode': 'later' }));
  assert.equal(r.status, 400);
});
