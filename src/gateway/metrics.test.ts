import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetrics } from './metrics.js';

const series = async (m: ReturnType<typeof createMetrics>, name: string) =>
  (await m.registry.metrics()).split('\n').filter((l) => l.startsWith(name + '{')).sort();

test('summed counters show on every scrape exactly what direct increments would, per label set', async () => {
  const m = createMetrics();
  m.requests.add(1, 'openai', 'a', 'p', '200');
  m.requests.add(1, 'openai', 'a', 'p', '200');
  m.requests.add(1, 'anthropic', 'a', 'p', '429');
  m.tokens.add(5, 'p', 'm', 'input');
  m.tokens.add(0, 'p', 'm', 'output'); // a zero still creates its series, as inc(labels, 0) does
  assert.deepEqual(await series(m, 'redline_requests_total'), [
    'redline_requests_total{api="anthropic",alias="a",provider="p",status="429"} 1',
    'redline_requests_total{api="openai",alias="a",provider="p",status="200"} 2',
  ]);
  assert.deepEqual(await series(m, 'redline_tokens_total'), [
    'redline_tokens_total{provider="p",model="m",direction="input"} 5',
    'redline_tokens_total{provider="p",model="m",direction="output"} 0',
  ]);
  // A second scrape hands over only what was added since: nothing is counted twice.
  m.requests.add(1, 'openai', 'a', 'p', '200');
  m.tokens.add(2.5, 'p', 'm', 'input');
  assert.deepEqual(await series(m, 'redline_requests_total'), [
    'redline_requests_total{api="anthropic",alias="a",provider="p",status="429"} 1',
    'redline_requests_total{api="openai",alias="a",provider="p",status="200"} 3',
  ]);
  assert.match((await series(m, 'redline_tokens_total'))[0]!, / 7\.5$/);
  assert.equal(await series(m, 'redline_tokens_total').then((s) => s.length), 2);
  // prom-client's own reader sees the same values.
  const got = await m.requests.metric.get();
  assert.equal(got.values.reduce((a, v) => a + v.value, 0), 4);
});

test('a summed counter refuses what a counter cannot add', () => {
  const m = createMetrics();
  for (const n of [-1, Number.NaN, Number.POSITIVE_INFINITY]) assert.throws(() => m.tokens.add(n, 'p', 'm', 'input'), TypeError);
});

test('process and Node.js metrics keep the names standard dashboards look for', async () => {
  const text = await createMetrics().registry.metrics();
  assert.match(text, /^process_cpu_seconds_total /m);
  assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(text, /redline_process_/);
});
