// Bulk collection, scripted: one principal sends batches of distinct US-person identifiers (phone
// numbers, e-mail addresses on US-only domains, SSNs) until its distinct count crosses the default
// pack's thresholds (policies/default/30-bulk.cedar: hold at 200, deny at 1000). Another principal's
// count is its own, and both counts survive a restart on the same data dir.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';

// 50 identifiers per request: the shipped classifier reads a pasted list of more than about 60
// identifiers as domestic mass surveillance on its own, whatever the ask around it, and the red line
// would then decide before the bulk thresholds are reached. The first test checks that every batch
// sent here classifies as lawful, so a model change that moves that limit shows up there.
const BATCH = 50;
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

// The tracker's HyperLogLog has ±1.6 % standard error, so the assertions keep 3σ away from the
// thresholds: ≤150 allow, 250..950 hold, ≥1100 deny; counts of 200, 1000 and 1050 are only required
// not to be the wrong side's extreme (a deny below 1000, an allow past 200).
const PLAN = Array.from({ length: 22 }, (_, k) => ({ from: k * BATCH, total: (k + 1) * BATCH }));
const RESTART = [5000, 6000, 6050, 7000];

test('the batches are what they claim: distinct protected identifiers, lawful wording', async () => {
  const items = [...PLAN.map((p) => p.from), ...RESTART].map((from) => ({ id: from, text: batch(from, BATCH) }));
  const res = await gw.post('/v1/redline/classify', { items });
  const body = await res.json() as { results: Array<{ id: number; top: string; scores: Record<string, number> }> };
  for (const r of body.results) {
    assert.equal(r.top, 'administrative', `batch from ${r.id}`);
    assert.ok(r.scores.domestic_mass_surveillance! < 0.5, `batch from ${r.id}: the wording alone is not a red line`);
  }
  const ids = new Set(Array.from({ length: 1200 }, (_, i) => identifier(i)));
  assert.equal(ids.size, 1200);
});

test('hold past 200 distinct persons, deny past 1000; another principal is unaffected', async () => {
  const seen: string[] = [];
  for (const { from, total } of PLAN) {
    const r = await send('one', batch(from, BATCH));
    seen.push(`${total}:${r.decision}`);
    if (total <= 150) {
      assert.equal(r.status, 200, seen.join(' '));
      assert.equal(r.decision, 'allow');
    } else if (total >= 250 && total <= 950) assertHold(r);
    else if (total >= 1100) assertDeny(r);
    else assert.notEqual(r.decision, total < 1000 ? 'deny' : 'allow', seen.join(' '));
  }
  // Once past the deny threshold, anything this principal sends in the window is refused.
  assertDeny(await send('one', 'What is the capital of France?'));

  // The same identifiers from someone else start that principal's own count.
  for (const from of [0, 50, 100]) {
    const other = await send('two', batch(from, BATCH));
    assert.equal(other.status, 200);
    assert.equal(other.decision, 'allow');
  }
});

test('counts persist across a restart on the same data dir', async () => {
  await gw.close();
  gw = await startTestGateway({}, {}, { dataDir });
  keys.one = await gw.keyFor('collector-one');
  keys.two = await gw.keyFor('collector-two');
  assertDeny(await send('one', batch(RESTART[0]!, BATCH)));
  // 150 before the restart + 100 now: past the hold threshold, which 100 alone is not.
  assert.notEqual((await send('two', batch(RESTART[1]!, BATCH))).decision, 'deny'); // ~200
  assertHold(await send('two', batch(RESTART[2]!, BATCH)));                          // ~250
  // A principal new to this data dir starts at zero.
  keys.three = await gw.keyFor('collector-three');
  const fresh = await send('three', batch(RESTART[3]!, BATCH));
  assert.equal(fresh.status, 200);
  assert.equal(fresh.decision, 'allow');
});
