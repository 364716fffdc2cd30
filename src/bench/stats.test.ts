import assert from 'node:assert/strict';
import { test } from 'node:test';
import { percentile, Samples, summarise } from './stats.js';

test('percentile uses nearest rank', () => {
  const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(s, 50), 5);
  assert.equal(percentile(s, 90), 9);
  assert.equal(percentile(s, 99), 10);
  assert.equal(percentile(s, 100), 10);
  assert.equal(percentile(s, 0), 1);
  assert.ok(Number.isNaN(percentile([], 50)));
});

test('summarise sorts numerically, not as strings', () => {
  const r = summarise([10, 9, 100, 2, 1]);
  assert.equal(r.n, 5);
  assert.equal(r.p50, 9);
  assert.equal(r.max, 100);
  assert.equal(r.mean, 24.4);
});

test('Samples grows past its initial capacity and keeps every value', () => {
  const s = new Samples();
  for (let i = 3000; i >= 1; i--) s.push(i);
  assert.equal(s.length, 3000);
  const r = s.summary();
  assert.equal(r.n, 3000);
  assert.equal(r.p50, 1500);
  assert.equal(r.p99, 2970);
  assert.equal(r.max, 3000);
});
