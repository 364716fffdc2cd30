import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { hmacSha256 } from './hmac.js';

test('hmacSha256 gives the RFC 4231 test vectors (cases 1, 2 and 6, a key longer than a block)', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  assert.equal(hex(hmacSha256(new Uint8Array(20).fill(0x0b), 'Hi There')), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  assert.equal(hex(hmacSha256(Buffer.from('Jefe'), 'what do ya want for nothing?')), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  assert.equal(hex(hmacSha256(new Uint8Array(131).fill(0xaa), 'Test Using Larger Than Block-Size Key - Hash Key First')), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
});

test('hmacSha256 agrees with createHmac for keys and messages of many lengths', () => {
  for (const n of [1, 16, 32, 63, 64, 65, 128, 200]) {
    const key = randomBytes(n);
    for (const m of ['', 'a', 'content:dec_1', 'ünïcödé ✓ 🚀', 'x'.repeat(1000)]) {
      assert.equal(Buffer.from(hmacSha256(key, m)).toString('hex'), createHmac('sha256', key).update(m, 'utf8').digest('hex'), `key ${n} bytes, message ${m.length} chars`);
    }
  }
});
