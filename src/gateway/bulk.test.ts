// Bulk collection, scripted: one principal sends batches of distinct US-person identifiers (phone
// numbers, e-mail addresses on US-only domains, SSNs) until its distinct count crosses the default
// pack's thresholds (policies/default/30-bulk.cedar: hold at 200, deny at 1000). Another principal's
// count is its own, and both counts survive a restart on the same data dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';

// Batches stay well clear of the thresholds: the tracker's HyperLogLog has ±1.6 % standard error, so
// a count meant to be 900 or 1150 is never read on the wrong side of 1000.
const HEAD = 'Format these conference registrants into a mailing list for the newsletter:';

/** Identifier i (distinct for distinct i < 9000): an e-mail on a .gov domain, a US phone number or an SSN. */
function identifier(i: number): string {
  switch (i % 3) {
    case 0: return `member${i}@springfield.gov`;
    case 1: {
      const x = 2_000_000 + i;
      return `(312) ${200 + (x % 700)}-${String(x % 10_000).padStart(4, '0')}`;
    }
    default: return `${100 + (i % 500)}-${String(10 + (i % 89)).padStart(2, '0')}-${1000 + i}`;
  }
}

function batch(from: number, n: number): string {
  const lines: string[] = [HEAD];
  for (let i = from; i < from + n; i++) lines.push(identifier(i));
  return lines.join('\n');
}

let gw: TestGateway;
let dataDir: string;
const keys: Record<string, string> = {};

before(async () => {
  gw = await startTestGateway();
  dataDir = gw.dataDir;
  keys.one = await gw.keyFor('collector-one');
  keys.two = await gw.keyFor('collector-two');
});
after(async () => { await gw.stop(); });

async function send(who: string, text: string): Promise<{ status: number; decision: string; body: any }> {
  const size = gw.ledger.size();
  const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: text }] }, { authorization: `Bearer ${keys[who]}` });
  const body = await res.json();
  // The request's decision entry (a hold also records the approval it opened, so there may be two).
  const requestId = res.headers.get('x-request-id');
  const added = Array.from({ length: gw.ledger.size() - size }, (_, i) => gw.ledger.entry(size + i)!.entry);
  const decisions = added.filter((e) => e.requestId === requestId && e.decisionId.startsWith('dec_'));
  assert.equal(decisions.length, 1, 'one decision entry per request');
  return { status: res.status, decision: decisions[0]!.decision, body };
}

function assertHold(r: { status: number; decision: string; body: any }): void {
  assert.equal(r.decision, 'hold');
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'approval_required');
  assert.match(r.body.error.approval_id ?? '', /\S/);
  assert.ok(r.body.error.reasons.some((x: string) => /many distinct persons/.test(x)), r.body.error.reasons.join('; '));
}

function assertDeny(r: { status: number; decision: string; body: any }): void {
  assert.equal(r.decision, 'deny');
  assert.equal(r.status, 403);
  assert.equal(r.body.error.code, 'policy_denied');
  assert.ok(r.body.error.reasons.some((x: string) => /bulk collection/.test(x)), r.body.error.reasons.join('; '));
}

test('the batches are what they claim: distinct protected identifiers, lawful wording', async () => {
  const res = await gw.post('/v1/redline/classify', { text: batch(0, 250) });
  const c = await res.json() as { top: string; scores: Record<string, number> };
  assert.equal(c.top, 'administrative');
  assert.ok(c.scores.domestic_mass_surveillance! < 0.5, 'the wording alone is not a red line');
  const ids = new Set(Array.from({ length: 1200 }, (_, i) => identifier(i)));
  assert.equal(ids.size, 1200);
});

test('hold past 200 distinct persons, deny past 1000; another principal is unaffected', async () => {
  const first = await send('one', batch(0, 150));
  assert.equal(first.status, 200);
  assert.equal(first.decision, 'allow');
  for (const from of [150, 400, 650]) assertHold(await send('one', batch(from, 250))); // ~400, ~650, ~900
  assertDeny(await send('one', batch(900, 250)));                                     // ~1150
  // Once past the deny threshold, anything this principal sends in the window is refused.
  assertDeny(await send('one', 'What is the capital of France?'));

  // The same identifiers from someone else start that principal's own count.
  const other = await send('two', batch(0, 150));
  assert.equal(other.status, 200);
  assert.equal(other.decision, 'allow');
});

test('counts persist across a restart on the same data dir', async () => {
  await gw.close();
  gw = await startTestGateway({}, {}, { dataDir });
  keys.one = await gw.keyFor('collector-one');
  keys.two = await gw.keyFor('collector-two');
  assertDeny(await send('one', batch(5000, 10)));
  // 150 before the restart + 100 now: past the hold threshold, which 100 alone is not.
  assertHold(await send('two', batch(6000, 100)));
  // A principal new to this data dir starts at zero.
  keys.three = await gw.keyFor('collector-three');
  const fresh = await send('three', batch(6000, 100));
  assert.equal(fresh.status, 200);
});
