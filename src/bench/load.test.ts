import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasToken } from './load.js';

test('time to first token: an opening chunk with only the role is not a token; content split across chunks is', () => {
  const opening = 'data: {"choices":[{"delta":{"role":"assistant","content":""}}]}\n\n';
  assert.equal(hasToken(opening, 0), false);
  const token = 'data: {"choices":[{"delta":{"content":"echo:"}}]}\n\n';
  assert.equal(hasToken(opening + token, opening.length), true);
  const split = opening + 'data: {"choices":[{"delta":{"content":"';
  assert.equal(hasToken(split, opening.length), false, 'the character after the key has not arrived');
  assert.equal(hasToken(split + 'e"}}]}', split.length), true, 'found once it has');
});
