// A lethal tool call through both client APIs, streamed and not: held until two commanders approve
// (never the requester), delivered with a receipt that verifies offline; denied and timed-out calls
// become a refusal; defer mode returns at once with a hold object.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';
import { generateApiKey, hashApiKey, keyDisplayPrefix } from '../store/index.js';
import { verifyReceipt } from '../verify/index.js';

let gw: TestGateway;
const keys: Record<string, string> = {};

async function principal(name: string, roles: string[]): Promise<string> {
  const p = await gw.store.keys.createPrincipal({ name, roles });
  const key = generateApiKey();
  await gw.store.keys.addKey({ principalId: p.id, label: 'test', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
  return key;
}

before(async () => {
  gw = await startTestGateway({
    tools: {
      declared: [{ name: 'fire_mission', effect: 'lethal' }, { name: 'lookup_weather', effect: 'none' }],
      approvals: { lethal: { approvers: 2, roles: ['commander'], timeoutSeconds: 30 } },
      keepAliveSeconds: 1,
    },
  });
  keys.analyst = await principal('analyst', ['analyst']);
  keys.cdr1 = await principal('cdr-1', ['commander']);
  keys.cdr2 = await principal('cdr-2', ['commander']);
});
after(async () => { await gw.stop(); });

const fireTool = { name: 'fire_mission', description: 'Request a fire mission', parameters: { type: 'object', properties: { grid: { type: 'string' }, rounds: { type: 'integer' } }, required: ['grid', 'rounds'] } };
const auth = (who: string) => ({ authorization: `Bearer ${keys[who]}` });

async function api(method: string, path: string, who: string, body?: unknown) {
  const res = await fetch(gw.url + path, { method, headers: { ...auth(who), 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
  return { status: res.status, json: await res.json() as any };
}

/** Waits until a pending approval for the analyst's call shows up, as an approver would see it. */
async function pendingApproval(): Promise<any> {
  for (let i = 0; i < 100; i++) {
    const r = await api('GET', '/v1/redline/approvals?status=pending', 'cdr1');
    if (r.json.data?.length) return r.json.data[0];
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('no pending approval appeared');
}

function receiptKey(): string {
  return readFileSync(join(gw.dataDir, 'receipts', 'verifiers'), 'utf8').trim().split('\n').at(-1)!;
}

describe('wait mode', () => {
  test('OpenAI, not streamed: the requester cannot approve; two commanders release the call with a receipt', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: keys.analyst!, maxRetries: 0, timeout: 30_000 });
    const answer = openai.chat.completions.create({ model: 'demo', tools: [{ type: 'function', function: fireTool }], messages: [{ role: 'user', content: 'prepare the mission request' }] });
    const a = await pendingApproval();
    assert.equal(a.tool_call.name, 'fire_mission');
    assert.equal(a.effect, 'lethal');
    const self = await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'analyst', { reason: 'mine' });
    assert.equal(self.status, 403);
    assert.equal((await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'cdr1', { reason: 'grid checked, no collateral concern' })).status, 200);
    assert.equal((await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'cdr1', { reason: 'again' })).status, 403, 'one approver counts once');
    assert.equal((await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'cdr2', { reason: 'concur' })).status, 200);
    const r = await answer as any;
    const call = r.choices[0].message.tool_calls[0];
    assert.equal(call.function.name, 'fire_mission');
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    const receipt = r.redline.approvals[0].receipt;
    const v = verifyReceipt(receipt, { publicKey: receiptKey(), tool: 'fire_mission', arguments: call.function.arguments });
    assert.equal(v.payload.approvers.length, 2);
    assert.throws(() => verifyReceipt(receipt, { publicKey: receiptKey(), tool: 'fire_mission', arguments: { grid: 'elsewhere', rounds: 9 } }), /ARGS_MISMATCH|arguments/i);
  });

  test('Anthropic, streamed: text streams, the tool_use is buffered, keep-alives flow, then it is released', async () => {
    const res = fetch(gw.url + '/v1/messages', {
      method: 'POST', headers: { 'x-api-key': keys.analyst!, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', max_tokens: 200, stream: true, tools: [{ name: 'fire_mission', input_schema: fireTool.parameters }], messages: [{ role: 'user', content: 'prepare the mission request' }] }),
    });
    const a = await pendingApproval();
    await new Promise((r) => setTimeout(r, 1_300)); // at least one keep-alive interval
    await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'cdr1', { reason: 'ok' });
    await api('POST', `/v1/redline/approvals/${a.id}/approve`, 'cdr2', { reason: 'ok' });
    const text = await (await res).text();
    assert.match(text, /: keep-alive/);
    assert.ok(text.indexOf('text_delta') < text.indexOf('"tool_use"'), 'text came before the released call');
    assert.match(text, /event: redline/);
    assert.match(text, /"stop_reason":"tool_use"/);
  });

  test('OpenAI, streamed: a denial removes the call and ends the turn with a refusal', async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: keys.analyst!, maxRetries: 0 });
    const streamed = (async () => {
      let text = '';
      let finish: string | null = null;
      let calls = 0;
      for await (const c of await openai.chat.completions.create({ model: 'demo', stream: true, tools: [{ type: 'function', function: fireTool }], messages: [{ role: 'user', content: 'prepare the mission request' }] })) {
        text += c.choices[0]?.delta?.content ?? '';
        calls += c.choices[0]?.delta?.tool_calls?.length ?? 0;
        finish = c.choices[0]?.finish_reason ?? finish;
      }
      return { text, finish, calls };
    })();
    const a = await pendingApproval();
    assert.equal((await api('POST', `/v1/redline/approvals/${a.id}/deny`, 'cdr2', { reason: 'civilians reported near the grid' })).status, 200);
    const r = await streamed;
    assert.equal(r.calls, 0);
    assert.equal(r.finish, 'stop');
    assert.match(r.text, /not carried out: denied by cdr-2: civilians reported near the grid/);
  });

  test('Anthropic, not streamed: a timeout removes the call', async () => {
    const g2 = await startTestGateway({ tools: { declared: [{ name: 'fire_mission', effect: 'lethal' }], approvals: { lethal: { approvers: 1, timeoutSeconds: 1 } } } });
    try {
      const anthropic = new Anthropic({ baseURL: g2.url, apiKey: g2.key, maxRetries: 0 });
      const m = await anthropic.messages.create({ model: 'demo', max_tokens: 100, tools: [{ name: 'fire_mission', input_schema: fireTool.parameters as any }], messages: [{ role: 'user', content: 'prepare the mission request' }] });
      assert.equal(m.stop_reason, 'end_turn');
      assert.ok(!m.content.some((b) => b.type === 'tool_use'));
      assert.match(JSON.stringify(m.content), /timed out/);
      assert.equal((m as any).redline.approvals[0].status, 'expired');
    } finally {
      await g2.stop();
    }
  });
});

describe('defer mode', () => {
  test('the answer returns at once with a hold; the approved call and receipt are fetched later', async () => {
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST', headers: { ...auth('analyst'), 'content-type': 'application/json', 'x-redline-approval-mode': 'defer' },
      body: JSON.stringify({ model: 'demo', tools: [{ type: 'function', function: fireTool }], messages: [{ role: 'user', content: 'prepare the mission request' }] }),
    });
    const body = await res.json() as any;
    assert.equal(res.status, 200);
    assert.equal(body.choices[0].message.tool_calls, undefined);
    assert.equal(body.choices[0].finish_reason, 'stop');
    const hold = body.redline.holds[0];
    assert.match(hold.status_url, /\/v1\/redline\/approvals\/apr_/);
    const before = await api('GET', `/v1/redline/approvals/${hold.approval_id}`, 'analyst');
    assert.equal(before.json.status, 'pending');
    assert.equal(before.json.tool_call.arguments, undefined, 'the requester cannot read a held call');
    await api('POST', `/v1/redline/approvals/${hold.approval_id}/approve`, 'cdr1', { reason: 'ok' });
    await api('POST', `/v1/redline/approvals/${hold.approval_id}/approve`, 'cdr2', { reason: 'ok' });
    const after = await api('GET', `/v1/redline/approvals/${hold.approval_id}`, 'analyst');
    assert.equal(after.json.status, 'approved');
    const call = after.json.released_tool_call;
    assert.equal(call.name, 'fire_mission');
    verifyReceipt(after.json.receipt, { publicKey: receiptKey(), tool: 'fire_mission', arguments: call.arguments });
  });

  test('tools without a declared effect pass straight through', async () => {
    const r = await gw.post('/v1/chat/completions', { model: 'demo', tools: [{ type: 'function', function: { name: 'lookup_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }], messages: [{ role: 'user', content: 'weather' }] });
    const body = await r.json() as any;
    assert.equal(body.choices[0].message.tool_calls[0].function.name, 'lookup_weather');
    assert.equal(body.redline, undefined);
  });
});
