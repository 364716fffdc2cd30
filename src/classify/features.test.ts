import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureExtractor } from './features.js';

const fx = new FeatureExtractor({ bits: 18, charMin: 3, charMax: 4, bigrams: true });
const sorted = (a: Int32Array): number[] => [...a].sort((x, y) => x - y);

test('case, punctuation and digits fold; apostrophes vanish inside words', () => {
  assert.deepEqual(sorted(fx.extract('Engage the TARGET!')), sorted(fx.extract('engage, the target')));
  assert.deepEqual(sorted(fx.extract('grid 1234')), sorted(fx.extract('grid 9876')));
  assert.deepEqual(sorted(fx.extract("don't")), sorted(fx.extract('dont')));
  assert.notDeepEqual(sorted(fx.extract('engage the target')), sorted(fx.extract('target the engage')));
});

test('features are distinct buckets within range, and deterministic', () => {
  const a = fx.extract('Plan the convoy from the port to the forward operating base.');
  assert.equal(new Set(a).size, a.length);
  for (const b of a) assert.ok(b >= 0 && b < 1 << 18);
  assert.deepEqual(a, new FeatureExtractor(fx.config).extract('Plan the convoy from the port to the forward operating base.'));
  // unigrams + bigrams + char n-grams: more than the word count, bounded by the character count.
  assert.ok(a.length > 11 && a.length < 200, String(a.length));
});

test('ranges are honoured and do not form bigrams across separate adds', () => {
  const text = 'xxxx alpha bravo yyyy';
  fx.begin();
  fx.add(text, 5, 16);
  assert.deepEqual(sorted(fx.view()), sorted(fx.extract('alpha bravo')));
  fx.begin();
  fx.add('alpha');
  fx.add('bravo');
  const split = sorted(fx.view());
  const joined = sorted(fx.extract('alpha bravo'));
  assert.ok(split.length < joined.length);
  for (const b of split) assert.ok(joined.includes(b));
});

test('a long run without separators gives one unigram, not thousands of n-grams', () => {
  assert.equal(fx.extract('a'.repeat(10_000)).length, 1);
  assert.equal(fx.extract('').length, 0);
  assert.equal(fx.extract('  ...  ').length, 0);
});

test('non-Latin scripts produce features', () => {
  assert.ok(fx.extract('Колонна прибудет завтра').length > 3);
  assert.deepEqual(sorted(fx.extract('КОЛОННА')), sorted(fx.extract('колонна')));
  assert.ok(fx.extract('我们明天上午开会').length > 0);
});
