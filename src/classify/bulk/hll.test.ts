import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { HyperLogLog, estimateFromRegisters } from './hll.js';
import { keyedHash } from './tracker.js';
import { RedlineError } from '../../errors.js';

const SECRET = new Uint8Array(32).fill(42);

function fill(h: HyperLogLog, from: number, to: number, kind = 'phone'): HyperLogLog {
  for (let i = from; i < to; i++) h.addHash(keyedHash(SECRET, kind, `+1202${String(i).padStart(7, '0')}`));
  return h;
}

function within3Se(h: HyperLogLog, n: number): void {
  const est = h.count();
  const rel = Math.abs(est - n) / n;
  assert.ok(rel <= 3 * h.standardError, `estimate ${est} for ${n}: ${(rel * 100).toFixed(2)}% > 3σ ${(3 * h.standardError * 100).toFixed(2)}%`);
}

test('empty sketch counts zero; small sets are near exact', () => {
  const h = new HyperLogLog();
  assert.equal(h.count(), 0);
  assert.equal(h.isEmpty(), true);
  fill(h, 0, 10);
  assert.equal(h.count(), 10);
  fill(h, 0, 10);
  assert.equal(h.count(), 10, 'repeats do not count');
});

test('10,000 distinct values within 3 standard errors (p = 12 and 14)', () => {
  within3Se(fill(new HyperLogLog(12), 0, 10_000), 10_000);
  within3Se(fill(new HyperLogLog(14), 0, 10_000), 10_000);
});

test('100,000 distinct values within 3 standard errors (p = 12)', () => {
  within3Se(fill(new HyperLogLog(12), 0, 100_000), 100_000);
});

test('standard error is 1.04/sqrt(m)', () => {
  assert.ok(Math.abs(new HyperLogLog(12).standardError - 0.01625) < 1e-5);
  assert.ok(Math.abs(new HyperLogLog(14).standardError - 0.008125) < 1e-6);
});

test('merge equals the sketch of the union, register for register', () => {
  const a = fill(new HyperLogLog(), 0, 6_000);
  const b = fill(new HyperLogLog(), 4_000, 9_000);
  const both = fill(new HyperLogLog(), 0, 9_000);
  const merged = a.clone().merge(b);
  assert.deepEqual(merged.registers, both.registers);
  within3Se(merged, 9_000);
  assert.equal(estimateFromRegisters(12, [a.registers, b.registers]), merged.count());
  assert.notDeepEqual(a.registers, merged.registers, 'clone kept a unchanged');
  assert.throws(() => a.merge(new HyperLogLog(14)), (e: unknown) => e instanceof RedlineError);
});

test('serialise round trip: sparse for small sets, dense for large', () => {
  const small = fill(new HyperLogLog(), 0, 50);
  const s = small.serialize();
  assert.equal(s[2], 1, 'sparse encoding');
  const set = small.registers.filter((v) => v !== 0).length;
  assert.ok(set > 40 && set <= 50);
  assert.equal(s.length, 3 + 3 * set);
  assert.deepEqual(HyperLogLog.deserialize(s).registers, small.registers);
  const big = fill(new HyperLogLog(), 0, 20_000);
  const d = big.serialize();
  assert.equal(d[2], 0, 'dense encoding');
  assert.equal(d.length, 3 + 4096);
  const back = HyperLogLog.deserialize(d);
  assert.deepEqual(back.registers, big.registers);
  assert.equal(back.count(), big.count());
  assert.deepEqual(HyperLogLog.deserialize(new HyperLogLog(14).serialize()).registers, new Uint8Array(1 << 14));
});

test('malformed bytes are rejected, not half-read', () => {
  const good = fill(new HyperLogLog(), 0, 50).serialize();
  const bad = [
    new Uint8Array(0),
    Uint8Array.of(2, 12, 0),
    Uint8Array.of(1, 3, 0),
    Uint8Array.of(1, 12, 7),
    good.subarray(0, good.length - 1),
    Uint8Array.of(1, 12, 1, 0x20, 0x00, 1), // index 8192 >= m
    Uint8Array.of(1, 12, 1, 0, 1, 60), // rank above 64 - p + 1
    Uint8Array.of(1, 12, 0, 1, 2, 3),
  ];
  for (const b of bad) assert.throws(() => HyperLogLog.deserialize(b), (e: unknown) => e instanceof RedlineError && e.code === 'INTERNAL');
});

test('rank uses all 64 - p bits', () => {
  const h = new HyperLogLog(12);
  // idx 0, then 52 zero bits: the maximum rank 53.
  h.addHash(new Uint8Array(8));
  assert.equal(h.registers[0], 53);
  // idx = 0xfff, next bit set: rank 1.
  const x = new Uint8Array(8);
  x[0] = 0xff;
  x[1] = 0xf8;
  h.addHash(x);
  assert.equal(h.registers[4095], 1);
  // idx 1 with the first 1-bit in the low word.
  const y = new Uint8Array(8);
  y[1] = 0x10;
  y[7] = 1;
  h.addHash(y);
  assert.equal(h.registers[1], 52);
  assert.throws(() => h.addHash(createHash('md5').digest().subarray(0, 4)), (e: unknown) => e instanceof RedlineError);
});
