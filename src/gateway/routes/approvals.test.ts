import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type Database from 'better-sqlite3';
import type { ApprovalService, HoldInput } from '../../approvals/index.js';
import type { SigningKey } from '../../ledger/index.js';
import type { Principal } from '../../store/index.js';
import { startApprovalsApp, testPrincipal, type ApprovalsApp } from '../../testing/approvals-app.js';
import { verifyReceipt } from '../../verify/index.js';

// Principals by bearer token: the test app stands in for the gateway's authenticator.
const principal = testPrincipal;
const PRINCIPALS: Record<string, Principal> = {
  operator: principal('prn_operator', ['operator']),
  alice: principal('prn_alice', ['fires_approver']),
  bob: principal('prn_bob', ['fires_approver']),
  admin: principal('prn_admin', ['admin']),
  analyst: principal('prn_analyst', ['analyst']),
};

let dir: string;
let db: Database.Database;
let key: SigningKey;
let svc: ApprovalService;
let app: FastifyInstance;
let base: string;
let clock = Date.now();

let fixture: ApprovalsApp;

before(async () => {
  fixture = await startApprovalsApp(PRINCIPALS, { now: () => clock });
  ({ dir, db, key, svc, app } = fixture);
  base = fixture.url;
});

after(async () => {
  await fixture.close();
});

async function http(method: 'GET' | 'POST', path: string, as?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(as && { authorization: `Bearer ${as}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

const ARGS = '{"grid":"38S MB 12345 67890","rounds":4}';
const hold = (over: Partial<HoldInput> = {}) =>
  svc.hold({
    requestId: 'req_routes',
    requester: { id: 'prn_operator', name: 'operator' },
    toolName: 'fire_mission',
    toolCallId: 'call_1',
    arguments: ARGS,
    effect: 'lethal',
    requirement: { approvers: 2, roles: ['fires_approver'] },
    timeoutSeconds: 600,
    mode: 'defer',
    api: 'openai',
    ...over,
  });

describe('approvals API', () => {
  test('2-of-M over HTTP, visibility, and the released call with its receipt', async () => {
    const a = await hold();
    const path = `/v1/redline/approvals/${a.id}`;

    assert.equal((await http('GET', path)).status, 401);
    const hidden = await http('GET', path, 'analyst');
    assert.equal(hidden.status, 404, 'invisible to principals who are not involved');
    assert.equal(hidden.json.error.code, 'not_found');
    for (const who of ['operator', 'alice', 'admin']) assert.equal((await http('GET', path, who)).status, 200, who);

    const seen = await http('GET', path, 'operator');
    assert.equal(seen.json.status, 'pending');
    // The requester sees which call is held, not its arguments, until it is approved.
    assert.deepEqual(seen.json.tool_call, { id: 'call_1', name: 'fire_mission' });
    assert.equal(typeof seen.json.args_sha256, 'string');
    const approverView = await http('GET', path, 'alice');
    assert.deepEqual(approverView.json.tool_call, { id: 'call_1', name: 'fire_mission', arguments: ARGS });
    assert.equal(seen.json.released_tool_call, undefined);
    assert.equal(seen.json.receipt, undefined);

    const listed = await http('GET', '/v1/redline/approvals?status=pending', 'alice');
    assert.equal(listed.status, 200);
    assert.ok(listed.json.data.some((x: { id: string }) => x.id === a.id));
    assert.ok(!(await http('GET', '/v1/redline/approvals', 'analyst')).json.data.some((x: { id: string }) => x.id === a.id));

    const self = await http('POST', `${path}/approve`, 'operator', { reason: 'mine' });
    assert.equal(self.status, 403);
    assert.equal(self.json.error.code, 'forbidden');

    const noReason = await http('POST', `${path}/approve`, 'alice', {});
    assert.equal(noReason.status, 400);
    assert.equal(noReason.json.error.param, 'reason');
    assert.equal((await http('POST', `${path}/approve`, 'alice')).status, 400);

    const one = await http('POST', `${path}/approve`, 'alice', { reason: 'checked the no-strike list' });
    assert.equal(one.status, 200);
    assert.equal(one.json.status, 'pending');
    assert.equal(one.json.approvals, 1);
    assert.equal((await http('POST', `${path}/approve`, 'alice', { reason: 'again' })).status, 403);

    const two = await http('POST', `${path}/approve`, 'bob', { reason: 'confirmed' });
    assert.equal(two.status, 200);
    assert.equal(two.json.status, 'approved');

    const released = await http('GET', path, 'operator');
    assert.deepEqual(released.json.released_tool_call, { id: 'call_1', name: 'fire_mission', arguments: ARGS });
    assert.deepEqual(released.json.decisions.map((d: { approver: { name: string }; reason: string }) => [d.approver.name, d.reason]), [
      ['alice', 'checked the no-strike list'],
      ['bob', 'confirmed'],
    ]);
    const v = verifyReceipt(released.json.receipt, { publicKey: key.vkey, tool: 'fire_mission', arguments: '{"rounds":4,"grid":"38S MB 12345 67890"}', now: new Date(clock) });
    assert.equal(v.payload.approval_id, a.id);

    const late = await http('POST', `${path}/deny`, 'alice', { reason: 'too late' });
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'conflict');
  });

  test('deny, expiry and bad queries', async () => {
    const a = await hold();
    const denied = await http('POST', `/v1/redline/approvals/${a.id}/deny`, 'bob', { reason: 'no' });
    assert.equal(denied.json.status, 'denied');
    assert.equal(denied.json.receipt, undefined);
    assert.equal(denied.json.released_tool_call, undefined);

    const b = await hold({ timeoutSeconds: 5 });
    clock += 10_000;
    const gone = await http('POST', `/v1/redline/approvals/${b.id}/approve`, 'alice', { reason: 'ok' });
    assert.equal(gone.status, 410);
    assert.equal(gone.json.error.code, 'approval_expired');

    assert.equal((await http('GET', '/v1/redline/approvals?status=maybe', 'admin')).status, 400);
    assert.equal((await http('GET', '/v1/redline/approvals?limit=0', 'admin')).status, 400);
    assert.equal((await http('GET', '/v1/redline/approvals?limit=2', 'admin')).json.data.length, 2);
    assert.equal((await http('GET', '/v1/redline/approvals/apr_nope', 'admin')).status, 404);
    assert.equal((await http('POST', '/v1/redline/approvals/apr_000000000000000000000000/approve', 'admin', { reason: 'x' })).status, 404);
    const expired = await http('GET', '/v1/redline/approvals?status=expired', 'admin');
    assert.deepEqual(expired.json.data.map((x: { id: string }) => x.id), [b.id]);
  });
});
