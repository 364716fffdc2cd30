import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newRequestId } from './app.js';

test('request ids: req_ + 20 alphanumerics, unique, and in time order', () => {
  const ids = Array.from({ length: 5_000 }, (_, i) => newRequestId(1_700_000_000_000 + Math.floor(i / 10)));
  for (const id of ids) assert.match(id, /^req_[A-Za-z0-9]{20}$/);
  assert.equal(new Set(ids).size, ids.length);
  // Ids of later milliseconds sort after earlier ones (the request log's index is appended to, not scattered).
  for (let i = 10; i < ids.length; i += 10) assert.ok(ids[i - 1]!.slice(0, 12) < ids[i]!.slice(0, 12), `${ids[i - 1]} < ${ids[i]}`);
  assert.ok(newRequestId(Date.UTC(2030, 0, 1)) > newRequestId(Date.UTC(2026, 0, 1)));
  // Same millisecond: same prefix, different random part.
  const [a, b] = [newRequestId(42), newRequestId(42)];
  assert.equal(a.slice(0, 12), b.slice(0, 12));
  assert.notEqual(a, b);
});
