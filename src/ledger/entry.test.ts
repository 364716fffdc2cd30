import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { isRedlineError } from '../errors.js';
import { contentSalt, toLedgerEntry } from './entry.js';

test('contentSalt is HMAC-SHA256(secret, "content:" + decision id), as createHmac computes it', () => {
  const secrets = [new Uint8Array(32).fill(7), randomBytes(32), randomBytes(1), randomBytes(64), randomBytes(65), randomBytes(200)];
  const ids = ['dec_1', 'dec_' + 'f'.repeat(20), '', 'dec_ünïcödé_✓', 'x'.repeat(300)];
  for (const secret of secrets) {
    for (const id of ids) {
      const want = createHmac('sha256', secret).update('content:' + id).digest();
      assert.deepEqual(Buffer.from(contentSalt(new Uint8Array(secret), id)), want, `secret of ${secret.length} bytes, id ${JSON.stringify(id.slice(0, 20))}`);
    }
  }
  // The same secret object twice (its pads are remembered) and a different secret with the same bytes.
  const s = randomBytes(32);
  assert.deepEqual(contentSalt(s, 'dec_a'), contentSalt(s, 'dec_a'));
  assert.deepEqual(contentSalt(Buffer.from(s), 'dec_a'), contentSalt(s, 'dec_a'));
  assert.notDeepEqual(contentSalt(s, 'dec_a'), contentSalt(s, 'dec_b'));
});

test('an entry with an own "__proto__" field is refused, not stored without it', () => {
  const now = () => new Date('2026-12-07T00:00:00Z');
  const ok = { decisionId: 'dec_1', principal: 'p', action: 'chat', decision: 'allow', labels: [] };
  assert.deepEqual(Object.keys(toLedgerEntry(ok, now)), ['action', 'decision', 'decisionId', 'labels', 'principal', 'time', 'v']);
  const input = JSON.parse('{"decisionId":"dec_1","principal":"p","action":"chat","decision":"allow","labels":[],"__proto__":{"x":1}}');
  assert.throws(() => toLedgerEntry(input, now), (e: unknown) => isRedlineError(e) && e.code === 'INTERNAL' && /__proto__/.test(e.message));
});

test('entries of different shapes, one after another, each get their own keys in sorted order and their own time', () => {
  // toLedgerEntry remembers the key order of the last shape it saw and the text of the last millisecond.
  const base = { decisionId: 'dec_1', principal: 'p', action: 'chat', decision: 'allow', labels: ['x'] };
  const shapes: Array<[Record<string, unknown>, boolean]> = [
    [base, false],
    [base, true],
    [{ ...base, zeta: 1, alpha: 'a' }, false],
    [{ alpha: 'b', ...base, zeta: 2 }, true], // same keys, other insertion order
    [{ ...base, commitment: 'a'.repeat(64) }, false], // a caller's own commitment is kept
    [{ ...base, commitment: 'a'.repeat(64) }, true], // and replaced by the reserved slot when content follows
    [base, false],
  ];
  let t = Date.parse('2026-12-07T10:00:00.000Z');
  for (const [input, withCommitment] of shapes) {
    const at = new Date(t);
    const e = toLedgerEntry(input as never, () => at, withCommitment) as unknown as Record<string, unknown>;
    const want = [...new Set([...Object.keys(input), 'v', 'time', ...(withCommitment ? ['commitment'] : [])])].sort();
    assert.deepEqual(Object.keys(e), want);
    for (const k of Object.keys(input)) if (k !== 'commitment') assert.deepEqual(e[k], input[k], k);
    if ('commitment' in input || withCommitment) assert.equal(e.commitment, withCommitment ? '' : input.commitment);
    assert.equal(e.v, 1);
    assert.equal(e.time, at.toISOString());
    t += 1;
  }
  // Two entries in the same millisecond, then the clock going back: each names its own time.
  const same = new Date('2026-12-07T10:00:01.500Z');
  assert.equal(toLedgerEntry(base as never, () => same).time, '2026-12-07T10:00:01.500Z');
  assert.equal(toLedgerEntry(base as never, () => new Date(same.getTime())).time, '2026-12-07T10:00:01.500Z');
  assert.equal(toLedgerEntry(base as never, () => new Date('2026-12-07T09:59:59.999Z')).time, '2026-12-07T09:59:59.999Z');
});
