import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type Database from 'better-sqlite3';
import type { ApprovalService } from '../../approvals/index.js';
import type { SigningKey } from '../../ledger/index.js';
import type { Principal } from '../../store/index.js';
import { startApprovalsApp, testPrincipal, type ApprovalsApp } from '../../testing/approvals-app.js';
import { buildProgram } from '../program.js';
import { decideApproval, listApprovals, register as registerApprovals, showApproval } from './approvals.js';
import { register as registerReceipt, runReceiptVerify } from './receipt.js';

const principal = testPrincipal;
const PRINCIPALS: Record<string, Principal> = {
  operator: principal('prn_operator', ['operator']),
  alice: principal('prn_alice', ['approver']),
  bob: principal('prn_bob', ['approver']),
};

let dir: string;
let db: Database.Database;
let key: SigningKey;
let svc: ApprovalService;
let app: FastifyInstance;
let url: string;

let fixture: ApprovalsApp;

before(async () => {
  fixture = await startApprovalsApp(PRINCIPALS);
  ({ dir, db, key, svc, app } = fixture);
  url = fixture.url;
});

after(async () => {
  await fixture.close();
});

const ARGS = '{"account":"ops-7","amount_usd":2500}';
const hold = () =>
  svc.hold({
    requestId: 'req_cli',
    requester: { id: 'prn_operator', name: 'operator' },
    toolName: 'transfer_funds',
    toolCallId: 'call_9',
    arguments: ARGS,
    effect: 'financial',
    requirement: { approvers: 2, roles: [] },
    timeoutSeconds: 600,
    mode: 'defer',
    api: 'anthropic',
  });

test('approvals list / approve / deny / show over HTTP, then receipt verify offline', async () => {
  const a = await hold();
  const alice = { url, key: 'alice' };

  const listed = await listApprovals(alice, { status: 'pending' });
  assert.equal(listed.ok, true);
  assert.ok(listed.lines.some((l) => l.startsWith(a.id) && l.includes('transfer_funds') && l.includes('0/2')));

  const noKey = await listApprovals({ url }, {});
  assert.equal(noKey.ok, false);
  assert.match(noKey.lines[0]!, /no API key/);
  const badKey = await listApprovals({ url, key: 'mallory' }, {});
  assert.equal(badKey.ok, false);
  assert.match(badKey.lines[0]!, /^AUTH_FAILED: /);

  const self = await decideApproval({ url, key: 'operator' }, a.id, 'approve', 'mine');
  assert.equal(self.ok, false);
  assert.match(self.lines[0]!, /^FORBIDDEN: /);

  const one = await decideApproval(alice, a.id, 'approve', 'budget line checked');
  assert.deepEqual(one, { ok: true, lines: [`recorded approval 1 of 2 for ${a.id}; still pending`] });
  const two = await decideApproval({ url, key: 'bob' }, a.id, 'approve', 'countersigned');
  assert.deepEqual(two, { ok: true, lines: [`${a.id} is now approved`] });

  const shown = await showApproval({ url, key: 'operator' }, a.id);
  assert.equal(shown.ok, true);
  const doc = JSON.parse(shown.lines[0]!);
  assert.equal(doc.status, 'approved');

  // receipt verify accepts the approval document as served, or the bare receipt.
  const approvalFile = join(dir, 'approval.json');
  const receiptFile = join(dir, 'receipt.json');
  const argsFile = join(dir, 'args.json');
  const keyFile = join(dir, 'receipts', 'verifiers');
  writeFileSync(approvalFile, shown.lines[0]!);
  writeFileSync(receiptFile, JSON.stringify(doc.receipt));
  writeFileSync(argsFile, '{\n  "amount_usd": 2500,\n  "account": "ops-7"\n}\n');

  for (const receipt of [approvalFile, receiptFile]) {
    for (const args of [argsFile, ARGS]) {
      const r = runReceiptVerify({ receipt, tool: 'transfer_funds', args, key: keyFile });
      assert.equal(r.ok, true, r.lines.join());
      assert.match(r.lines[0]!, new RegExp(`^valid: approval ${a.id} for transfer_funds .*approved by alice, bob`));
    }
  }
  const pemFile = join(dir, 'receipt-key.pem');
  writeFileSync(pemFile, key.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  assert.equal(runReceiptVerify({ receipt: receiptFile, tool: 'transfer_funds', args: ARGS, key: pemFile }).ok, true);

  const code = (o: Partial<Parameters<typeof runReceiptVerify>[0]>) => {
    const r = runReceiptVerify({ receipt: receiptFile, tool: 'transfer_funds', args: ARGS, key: keyFile, ...o });
    assert.equal(r.ok, false);
    return /^invalid: ([A-Z_]+): /.exec(r.lines[0]!)?.[1];
  };
  assert.equal(code({ args: '{"account":"ops-7","amount_usd":25000}' }), 'ARGS_MISMATCH');
  assert.equal(code({ tool: 'transfer_funds_fast' }), 'TOOL_MISMATCH');
  assert.equal(code({ now: '2999-01-01T00:00:00Z' }), 'EXPIRED');
  const otherKey = join(dir, 'other.pem');
  writeFileSync(otherKey, generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }));
  assert.equal(code({ key: otherKey }), 'UNKNOWN_KEY');
  const truncated = join(dir, 'truncated.json');
  writeFileSync(truncated, JSON.stringify(doc.receipt).slice(0, 50));
  assert.equal(code({ receipt: truncated }), 'MALFORMED_RECEIPT');
  const json = runReceiptVerify({ receipt: receiptFile, tool: 'x', args: ARGS, key: keyFile, json: true });
  assert.deepEqual(JSON.parse(json.lines[0]!).code, 'TOOL_MISMATCH');
  assert.equal(runReceiptVerify({ receipt: join(dir, 'missing.json'), tool: 'x', args: ARGS, key: keyFile }).ok, false);

  const b = await hold();
  const denied = await decideApproval(alice, b.id, 'deny', 'wrong account');
  assert.deepEqual(denied, { ok: true, lines: [`${b.id} is now denied`] });
});

test('the commands register and parse through commander', async (t) => {
  const a = await hold();
  const program = buildProgram([registerApprovals, registerReceipt]).exitOverride();
  const out: string[] = [];
  t.mock.method(console, 'log', (s: string) => void out.push(s));
  await program.parseAsync(['approvals', 'approve', a.id, '--reason', 'looks right', '--url', url, '--key', 'alice'], { from: 'user' });
  assert.deepEqual(out, [`recorded approval 1 of 2 for ${a.id}; still pending`]);
  const names = program.commands.map((c) => c.name()).sort();
  assert.deepEqual(names, ['approvals', 'receipt']);
  assert.deepEqual(program.commands.find((c) => c.name() === 'approvals')!.commands.map((c) => c.name()).sort(), ['approve', 'deny', 'list', 'show']);
});
