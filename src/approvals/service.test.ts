import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { RedlineError } from '../errors.js';
import { loadOrCreateSigningKey, verifyDisclosure, type SigningKey } from '../ledger/index.js';
import { openDatabase } from '../store/index.js';
import { verifyReceipt, type VerificationErrorCode } from '../verify/index.js';
import { createApprovalService, verifyWebhookSignature, type ApprovalService, type ApprovalServiceOptions, type HoldInput } from './index.js';

const KEY_NAME = 'redline-receipts';
let dir: string;
let db: Database.Database;
let key: SigningKey;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'redline-approvals-'));
  db = openDatabase(dir);
  key = loadOrCreateSigningKey(join(dir, 'receipts'), KEY_NAME);
});
after(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

interface FakeLedger {
  entries: Record<string, unknown>[];
  failing: boolean;
  append: (e: Record<string, unknown>) => Promise<{ index: number }>;
}

function fakeLedger(): FakeLedger {
  const l: FakeLedger = {
    entries: [],
    failing: false,
    append: async (e) => {
      if (l.failing) throw new RedlineError('LEDGER_PUSHBACK', 'ledger is busy', { retryAfter: 1 });
      l.entries.push(e);
      return { index: l.entries.length - 1 };
    },
  };
  return l;
}

const open: ApprovalService[] = [];
function service(over: Partial<ApprovalServiceOptions> = {}): { svc: ApprovalService; ledger: FakeLedger } {
  const ledger = fakeLedger();
  const svc = createApprovalService({ db, signingKey: key, keyName: KEY_NAME, ledgerAppend: ledger.append, sweepIntervalMs: 60_000, ...over });
  open.push(svc);
  return { svc, ledger };
}
after(() => open.forEach((s) => s.close()));

const operator = { id: 'prn_operator', name: 'operator' };
const alice = { id: 'prn_alice', name: 'alice', roles: ['fires_approver'] };
const bob = { id: 'prn_bob', name: 'bob', roles: ['fires_approver', 'analyst'] };
const carol = { id: 'prn_carol', name: 'carol', roles: ['fires_approver'] };
const ARGS = '{"grid":"38S MB 12345 67890","munition":"M795","rounds":4}';

function holdInput(over: Partial<HoldInput> = {}): HoldInput {
  return {
    requestId: 'req_' + Math.random().toString(36).slice(2),
    requester: operator,
    toolName: 'fire_mission',
    toolCallId: 'call_abc',
    arguments: ARGS,
    effect: 'lethal',
    requirement: { approvers: 2, roles: ['fires_approver'] },
    timeoutSeconds: 600,
    mode: 'wait',
    api: 'openai',
    ...over,
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, reason?: string): Promise<RedlineError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof RedlineError, `expected a RedlineError, got ${String(err)}`);
  assert.equal(err.code, code);
  if (reason !== undefined) assert.equal(err.details?.reason, reason);
  return err;
}

function verifyCode(fn: () => unknown): VerificationErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as { code: VerificationErrorCode }).code;
  }
}

describe('2-of-M approval and its receipt', () => {
  test('distinct approvers release the call with a receipt that verifies', async () => {
    const { svc, ledger } = service();
    const held = await svc.hold(holdInput());
    assert.match(held.id, /^apr_[0-9a-f]{24}$/);
    assert.equal(held.status, 'pending');
    assert.equal(held.requirement.approvers, 2);
    assert.equal(held.argsEncoding, 'rfc8785');
    assert.equal(held.holdLedgerIndex, 0);
    assert.equal(ledger.entries[0]!.decision, 'hold');
    assert.equal(ledger.entries[0]!.approvalId, held.id);
    assert.equal(ledger.entries[0]!.action, 'tool_call');
    assert.equal(ledger.entries[0]!.effect, 'lethal');
    assert.ok(!JSON.stringify(ledger.entries[0]).includes('M795'), 'the ledger never carries argument values');

    const one = await svc.decide(held.id, alice, 'approve', 'grid checked against the no-strike list');
    assert.equal(one.status, 'pending');
    assert.equal(one.receipt, undefined);
    assert.equal(ledger.entries.length, 1);

    const two = await svc.decide(held.id, bob, 'approve', 'second check: target confirmed');
    assert.equal(two.status, 'approved');
    assert.deepEqual(two.decisions.map((d) => [d.approver.name, d.verdict, d.reason]), [
      ['alice', 'approve', 'grid checked against the no-strike list'],
      ['bob', 'approve', 'second check: target confirmed'],
    ]);
    const entry = ledger.entries[1]!;
    assert.equal(entry.decision, 'approval');
    assert.deepEqual(entry.approvers, [alice.id, bob.id]);
    assert.equal(two.ledgerIndex, 1);
    assert.ok(two.receipt);
    assert.equal(two.receipt.payload.ledger_index, 1);
    assert.deepEqual(two.receipt.payload.approvers.map((a) => a.name), ['alice', 'bob']);
    assert.deepEqual(two.receipt.payload.requester, operator);

    // The executor verifies with the public key only, and key order in the arguments does not matter.
    const reordered = '{ "rounds": 4, "munition": "M795", "grid": "38S MB 12345 67890" }';
    const v = verifyReceipt(JSON.stringify(two.receipt), { publicKey: key.vkey, tool: 'fire_mission', arguments: reordered });
    assert.equal(v.payload.approval_id, held.id);
    assert.equal(verifyCode(() => verifyReceipt(two.receipt, { publicKey: key.vkey, tool: 'fire_mission', arguments: ARGS.replace('4', '8') })), 'ARGS_MISMATCH');
    assert.equal(verifyCode(() => verifyReceipt(two.receipt, { publicKey: key.vkey, tool: 'cancel_mission', arguments: ARGS })), 'TOOL_MISMATCH');
    const expiresAt = Date.parse(two.receipt.payload.expires_at);
    assert.equal(expiresAt - Date.parse(two.receipt.payload.issued_at), 3600_000);
    assert.equal(verifyCode(() => verifyReceipt(two.receipt, { publicKey: key.vkey, tool: 'fire_mission', arguments: ARGS, now: new Date(expiresAt) })), 'EXPIRED');

    // The ledger commitment opens with the stored salt and the arguments, for a later audit.
    const salt = (db.prepare('SELECT args_salt FROM approvals WHERE id = ?').get(held.id) as { args_salt: string }).args_salt;
    verifyDisclosure({ v: 1, time: '2025-01-01T00:00:00Z', ...entry }, salt, ARGS);

    // Decided is final.
    await rejectsWith(svc.decide(held.id, carol, 'approve', 'late'), 'CONFLICT', 'already_decided');
    await rejectsWith(svc.decide(held.id, carol, 'deny', 'late'), 'CONFLICT', 'already_decided');
    assert.equal((await svc.get(held.id))?.status, 'approved');
  });

  test('the requester can never decide on its own call, even as admin', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput({ requester: operator }));
    await rejectsWith(svc.decide(held.id, { ...operator, roles: ['admin', 'fires_approver'] }, 'approve', 'mine'), 'FORBIDDEN', 'self_approval');
    await rejectsWith(svc.decide(held.id, { ...operator, roles: ['fires_approver'] }, 'deny', 'mine'), 'FORBIDDEN', 'self_approval');
    const a = await svc.get(held.id);
    assert.equal(a?.status, 'pending');
    assert.equal(a?.decisions.length, 0);
  });

  test('each approver counts once', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput());
    await svc.decide(held.id, alice, 'approve', 'ok');
    await rejectsWith(svc.decide(held.id, alice, 'approve', 'ok again'), 'FORBIDDEN', 'duplicate_approver');
    // Same principal id under another display name is still the same approver.
    await rejectsWith(svc.decide(held.id, { ...alice, name: 'alice2' }, 'approve', 'ok'), 'FORBIDDEN', 'duplicate_approver');
    const a = await svc.get(held.id);
    assert.equal(a?.status, 'pending');
    assert.equal(a?.decisions.length, 1);
    // Changing one's mind towards not acting is allowed, and ends it.
    assert.equal((await svc.decide(held.id, alice, 'deny', 'new information')).status, 'denied');
  });

  test('approvers need a listed role, or approver/admin when none is listed', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput());
    await rejectsWith(svc.decide(held.id, { id: 'prn_x', name: 'x', roles: ['approver', 'admin'] }, 'approve', 'ok'), 'FORBIDDEN', 'missing_role');
    await rejectsWith(svc.decide(held.id, { id: 'prn_y', name: 'y', roles: [] }, 'deny', 'no'), 'FORBIDDEN', 'missing_role');
    const open = await svc.hold(holdInput({ effect: 'financial', requirement: { approvers: 1, roles: [] } }));
    await rejectsWith(svc.decide(open.id, { id: 'prn_z', name: 'z', roles: ['fires_approver', 'analyst'] }, 'approve', 'ok'), 'FORBIDDEN', 'missing_role');
    assert.equal((await svc.decide(open.id, { id: 'prn_adm', name: 'adm', roles: ['admin'] }, 'approve', 'ok')).status, 'approved');
  });

  test('a reason is required and a verdict must be approve or deny', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput());
    for (const reason of ['', '   ', undefined as unknown as string]) {
      const e = await rejectsWith(svc.decide(held.id, alice, 'approve', reason), 'INVALID_REQUEST');
      assert.equal(e.param, 'reason');
    }
    await rejectsWith(svc.decide(held.id, alice, 'maybe' as 'approve', 'hmm'), 'INVALID_REQUEST');
    await rejectsWith(svc.decide('apr_000000000000000000000000', alice, 'approve', 'ok'), 'NOT_FOUND');
  });
});

describe('deny, timeout and the lethal floor', () => {
  test('one deny ends it, after any number of approvals', async () => {
    const { svc, ledger } = service();
    const held = await svc.hold(holdInput({ requirement: { approvers: 3, roles: ['fires_approver'] } }));
    await svc.decide(held.id, alice, 'approve', 'ok');
    const denied = await svc.decide(held.id, bob, 'deny', 'civilians reported near the grid');
    assert.equal(denied.status, 'denied');
    assert.equal(denied.receipt, undefined);
    assert.ok(denied.decidedAt);
    assert.equal(ledger.entries.at(-1)!.decision, 'denial');
    assert.equal(ledger.entries.at(-1)!.deniedBy, bob.id);
    assert.equal(denied.ledgerIndex, ledger.entries.length - 1);
    await rejectsWith(svc.decide(held.id, carol, 'approve', 'ok'), 'CONFLICT', 'already_decided');
  });

  test('past its deadline an approval expires, with a ledger entry, and cannot be decided', async () => {
    let clock = Date.parse('2025-05-01T10:00:00Z');
    const { svc, ledger } = service({ now: () => clock });
    const held = await svc.hold(holdInput({ timeoutSeconds: 60 }));
    const other = await svc.hold(holdInput({ timeoutSeconds: 600 }));
    clock += 59_000;
    await svc.sweep();
    assert.equal((await svc.get(held.id))?.status, 'pending');
    clock += 2_000;
    await svc.sweep();
    const a = await svc.get(held.id);
    assert.equal(a?.status, 'expired');
    assert.equal((await svc.get(other.id))?.status, 'pending');
    const timeouts = ledger.entries.filter((e) => e.decision === 'timeout');
    assert.equal(timeouts.length, 1);
    assert.equal(timeouts[0]!.approvalId, held.id);
    assert.equal(a?.ledgerIndex, ledger.entries.indexOf(timeouts[0]!));
    await rejectsWith(svc.decide(held.id, alice, 'approve', 'too late'), 'APPROVAL_EXPIRED');
    assert.deepEqual((await svc.list({ status: 'expired' })).map((x) => x.id).filter((id) => id === held.id), [held.id]);

    // A decision that arrives after the deadline but before any sweep also finds it expired.
    clock += 600_000;
    await rejectsWith(svc.decide(other.id, alice, 'approve', 'too late'), 'APPROVAL_EXPIRED');
    assert.equal((await svc.get(other.id))?.status, 'expired');
    assert.equal(ledger.entries.filter((e) => e.decision === 'timeout' && e.approvalId === other.id).length, 1);
  });

  test('lethal effects need a human even when configured with zero approvers; configuration can only raise it', async () => {
    const { svc } = service();
    const zero = await svc.hold(holdInput({ requirement: { approvers: 0, roles: ['fires_approver'] } }));
    assert.equal(zero.requirement.approvers, 1);
    assert.equal(zero.status, 'pending');
    const negative = await svc.hold(holdInput({ requirement: { approvers: -5, roles: ['fires_approver'] } }));
    assert.equal(negative.requirement.approvers, 1);
    const nan = await svc.hold(holdInput({ requirement: { approvers: Number.NaN, roles: ['fires_approver'] } }));
    assert.equal(nan.requirement.approvers, 1);
    const three = await svc.hold(holdInput({ requirement: { approvers: 3, roles: ['fires_approver'] } }));
    assert.equal(three.requirement.approvers, 3);
    const approved = await svc.decide(zero.id, alice, 'approve', 'checked');
    assert.equal(approved.status, 'approved');
    assert.equal(approved.receipt?.payload.approvers.length, 1);
  });

  test('arguments that are not JSON are hashed as text and marked', async () => {
    const { svc } = service();
    const raw = '{grid: 38S MB, rounds: 4';
    const held = await svc.hold(holdInput({ arguments: raw, requirement: { approvers: 1, roles: ['fires_approver'] } }));
    assert.equal(held.argsEncoding, 'raw_text');
    const a = await svc.decide(held.id, alice, 'approve', 'ok');
    assert.equal(a.receipt?.payload.args_encoding, 'raw_text');
    assert.equal(verifyCode(() => verifyReceipt(a.receipt, { publicKey: key.vkey, tool: 'fire_mission', arguments: raw })), 'ok');
    assert.equal(verifyCode(() => verifyReceipt(a.receipt, { publicKey: key.vkey, tool: 'fire_mission', arguments: raw + '}' })), 'ARGS_MISMATCH');
  });

  test('invalid holds are refused as internal errors', async () => {
    const { svc } = service();
    await rejectsWith(svc.hold(holdInput({ effect: 'deadly' as 'lethal' })), 'INTERNAL');
    await rejectsWith(svc.hold(holdInput({ timeoutSeconds: 0 })), 'INTERNAL');
    await rejectsWith(svc.hold(holdInput({ toolName: '' })), 'INTERNAL');
    await rejectsWith(svc.hold(holdInput({ arguments: { a: 1 } as unknown as string })), 'INTERNAL');
  });
});

describe('the ledger comes first for approvals, and is retried for denials and timeouts', () => {
  test('no ledger entry, no hold', async () => {
    const { svc, ledger } = service();
    ledger.failing = true;
    const before = (await svc.list({ limit: 1000 })).length;
    await rejectsWith(svc.hold(holdInput()), 'LEDGER_PUSHBACK');
    assert.equal((await svc.list({ limit: 1000 })).length, before);
  });

  test('an approval the ledger refuses is rolled back; the approver can retry', async () => {
    const { svc, ledger } = service();
    const held = await svc.hold(holdInput({ requirement: { approvers: 1, roles: ['fires_approver'] } }));
    ledger.failing = true;
    await rejectsWith(svc.decide(held.id, alice, 'approve', 'ok'), 'LEDGER_PUSHBACK');
    const a = await svc.get(held.id);
    assert.equal(a?.status, 'pending');
    assert.equal(a?.decisions.length, 0);
    ledger.failing = false;
    const ok = await svc.decide(held.id, alice, 'approve', 'ok');
    assert.equal(ok.status, 'approved');
    assert.equal(ok.receipt?.payload.ledger_index, ok.ledgerIndex);
  });

  test('a denial stands while the ledger is down and is written by a later sweep', async () => {
    const { svc, ledger } = service();
    const held = await svc.hold(holdInput());
    ledger.failing = true;
    const denied = await svc.decide(held.id, alice, 'deny', 'no');
    assert.equal(denied.status, 'denied');
    assert.equal(denied.ledgerIndex, undefined);
    ledger.failing = false;
    await svc.sweep();
    const a = await svc.get(held.id);
    assert.equal(ledger.entries.filter((e) => e.decision === 'denial' && e.approvalId === held.id).length, 1);
    assert.equal(a?.ledgerIndex, ledger.entries.length - 1);
    await svc.sweep();
    assert.equal(ledger.entries.filter((e) => e.decision === 'denial' && e.approvalId === held.id).length, 1, 'written once');
  });
});

describe('waitFor', () => {
  test('resolves when the approval is decided', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput({ requirement: { approvers: 2, roles: ['fires_approver'] } }));
    const ac = new AbortController();
    let settled = false;
    const waiting = svc.waitFor(held.id, ac.signal).finally(() => { settled = true; });
    await svc.decide(held.id, alice, 'approve', 'ok');
    await new Promise((r) => setImmediate(r));
    assert.equal(settled, false, 'one of two approvals does not release it');
    await svc.decide(held.id, bob, 'approve', 'ok');
    const a = await waiting;
    assert.equal(a.status, 'approved');
    assert.ok(a.receipt);
    // Already decided: resolves at once.
    assert.equal((await svc.waitFor(held.id, ac.signal)).status, 'approved');
  });

  test('rejects on abort, and for unknown ids', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput());
    const ac = new AbortController();
    const waiting = svc.waitFor(held.id, ac.signal);
    ac.abort(new Error('client went away'));
    await assert.rejects(waiting, /client went away/);
    await assert.rejects(svc.waitFor(held.id, AbortSignal.abort()), (e: unknown) => (e as Error).name === 'AbortError');
    await rejectsWith(svc.waitFor('apr_ffffffffffffffffffffffff', new AbortController().signal), 'NOT_FOUND');
  });

  test('sees a decision made by another process sharing the database file', async () => {
    const { svc } = service({ pollIntervalMs: 20 });
    const held = await svc.hold(holdInput({ requirement: { approvers: 1, roles: ['fires_approver'] } }));
    const waiting = svc.waitFor(held.id, new AbortController().signal);
    const db2 = openDatabase(dir);
    try {
      const other = createApprovalService({ db: db2, signingKey: key, keyName: KEY_NAME, ledgerAppend: fakeLedger().append, sweepIntervalMs: 60_000 });
      await other.decide(held.id, carol, 'deny', 'from the other gateway');
      other.close();
      const a = await waiting;
      assert.equal(a.status, 'denied');
      assert.equal(a.decisions[0]?.reason, 'from the other gateway');
    } finally {
      db2.close();
    }
  });

  test('close rejects open waits', async () => {
    const { svc } = service();
    const held = await svc.hold(holdInput());
    const waiting = svc.waitFor(held.id, new AbortController().signal);
    svc.close();
    await rejectsWith(waiting, 'INTERNAL');
    await rejectsWith(svc.hold(holdInput()), 'INTERNAL');
  });
});

describe('webhook', () => {
  let server: Server;
  let url: string;
  const received: { body: string; headers: IncomingMessage['headers'] }[] = [];
  let failNext = 0;
  let onRequest: (() => void) | undefined;

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.statusCode = failNext-- > 0 ? 500 : 204;
        res.end();
        onRequest?.();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/redline`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
  });

  test('a hold is announced with a signature the receiver can verify, and without argument values', async () => {
    received.length = 0;
    failNext = 0;
    const secret = 'whsec_test_0123456789';
    const { svc } = service({ webhook: { url, secret }, publicUrl: 'https://gw.example.mil/' });
    const held = await svc.hold(holdInput());
    await svc.drain();
    assert.equal(received.length, 1);
    const { body, headers } = received[0]!;
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-redline-event'], 'approval.held');
    const sig = headers['x-redline-signature'] as string;
    assert.match(sig, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.equal(verifyWebhookSignature(sig, body, secret), true);
    assert.equal(verifyWebhookSignature(sig, body, 'another secret'), false);
    assert.equal(verifyWebhookSignature(sig, body.replace('fire_mission', 'fire_mission2'), secret), false);
    assert.equal(verifyWebhookSignature(sig, body, secret, { now: Date.now() + 3600_000 }), false, 'too old to accept');
    const event = JSON.parse(body);
    assert.equal(event.type, 'approval.held');
    assert.equal(event.approval.id, held.id);
    assert.equal(event.approval.tool_name, 'fire_mission');
    assert.equal(event.approval.effect, 'lethal');
    assert.deepEqual(event.approval.requester, operator);
    assert.equal(event.approval.status_url, `https://gw.example.mil/v1/redline/approvals/${held.id}`);
    assert.ok(!body.includes('M795') && !body.includes('38S'), 'no argument values in the webhook');

    await svc.decide(held.id, alice, 'deny', 'no');
    await svc.drain();
    assert.equal(JSON.parse(received.at(-1)!.body).type, 'approval.denied');
  });

  test('a failed delivery is retried once', async () => {
    received.length = 0;
    failNext = 1;
    const { svc } = service({ webhook: { url, secret: 'whsec_retry_0123456789' } });
    await svc.hold(holdInput());
    await svc.drain();
    assert.equal(received.length, 2);
    assert.equal(received[0]!.body, received[1]!.body);
  });

  test('a webhook that is misconfigured is refused at start', () => {
    assert.throws(() => service({ webhook: { url: 'ftp://127.0.0.1/x', secret: 'whsec_0123456789abcdef' } }), (e: unknown) => (e as RedlineError).code === 'CONFIG_INVALID');
    assert.throws(() => service({ webhook: { url, secret: 'short' } }), (e: unknown) => (e as RedlineError).code === 'CONFIG_INVALID');
  });

  test('an unreachable receiver never blocks or fails the hold', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const { svc } = service({ webhook: { url: `http://127.0.0.1:${port}/`, secret: 'whsec_dead_0123456789', timeoutMs: 500 } });
    const held = await svc.hold(holdInput());
    assert.equal(held.status, 'pending');
    await svc.drain();
  });
});
