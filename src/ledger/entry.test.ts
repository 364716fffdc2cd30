import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { contentSalt } from './entry.js';

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
