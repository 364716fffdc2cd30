import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedlineError } from '../errors.js';
import { CircuitBreaker, createExecutor, createRouteTable } from './index.js';

test('breaker: opens after the threshold, lets one trial through after the cooldown, closes on success', () => {
  let now = 0;
  const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000, now: () => now });
  assert.ok(b.allow());
  b.failure();
  assert.equal(b.current(), 'closed');
  b.failure();
  assert.equal(b.current(), 'open');
  assert.equal(b.allow(), false);
  now = 1_000;
  assert.equal(b.allow(), true, 'one trial after the cooldown');
  assert.equal(b.allow(), false, 'only one trial at a time');
  b.failure();
  assert.equal(b.current(), 'open', 'a failed trial reopens');
  now = 2_000;
  assert.ok(b.allow());
  b.success();
  assert.equal(b.current(), 'closed');
});

test('route table: aliases, provider/model, and unknown models', () => {
  const t = createRouteTable([{ alias: 'a', targets: [{ provider: 'p', model: 'm' }] }], ['p', 'q']);
  assert.equal(t.resolve('a').targets[0]!.model, 'm');
  assert.deepEqual(t.resolve('q/some-model').targets, [{ provider: 'q', model: 'some-model' }]);
  assert.throws(() => t.resolve('zz/m'), (e: RedlineError) => e.code === 'MODEL_NOT_FOUND');
  assert.throws(() => t.resolve('q/'), (e: RedlineError) => e.code === 'MODEL_NOT_FOUND');
});

const retryable = (code: 'RATE_LIMITED' | 'UPSTREAM_FAILED', retryAfter?: number) => new RedlineError(code, 'x', { details: { retryable: true }, ...(retryAfter !== undefined && { retryAfter }) });
const route = { alias: 'r', targets: [{ provider: 'a', model: '1' }, { provider: 'b', model: '2' }] };
const signal = new AbortController().signal;

test('executor: retries, then falls back; a non-retryable error stops at once', async () => {
  const ex = createExecutor({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 }, { failureThreshold: 10, cooldownMs: 1_000 });
  const seen: string[] = [];
  const r = await ex.execute(route, async (t) => { seen.push(t.provider); if (t.provider === 'a') throw retryable('UPSTREAM_FAILED'); return 'ok'; }, { signal });
  assert.equal(r.value, 'ok');
  assert.deepEqual(seen, ['a', 'a', 'b']);
  assert.equal(r.attempts, 3);
  const seen2: string[] = [];
  await assert.rejects(ex.execute(route, async (t) => { seen2.push(t.provider); throw new RedlineError('UPSTREAM_REJECTED', 'bad', { details: { retryable: false } }); }, { signal }), (e: RedlineError) => e.code === 'UPSTREAM_REJECTED');
  assert.deepEqual(seen2, ['a']);
});

test('executor: a Retry-After beyond the limit moves to the next target instead of waiting', async () => {
  const ex = createExecutor({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 }, { failureThreshold: 10, cooldownMs: 1_000 });
  const seen: string[] = [];
  const r = await ex.execute(route, async (t) => { seen.push(t.provider); if (t.provider === 'a') throw retryable('RATE_LIMITED', 30); return t.provider; }, { signal });
  assert.equal(r.value, 'b');
  assert.deepEqual(seen, ['a', 'b']);
});

test('executor: policy can exclude targets; none left is 503', async () => {
  const ex = createExecutor({ maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 }, { failureThreshold: 10, cooldownMs: 1_000 });
  const r = await ex.execute(route, async (t) => t.provider, { signal, allowed: (i) => i === 1 });
  assert.equal(r.value, 'b');
  await assert.rejects(ex.execute(route, async (t) => t.provider, { signal, allowed: () => false }), (e: RedlineError) => e.code === 'UPSTREAM_UNAVAILABLE');
});

test('executor: a client that leaves during a half-open trial frees the trial for the next request', async () => {
  const ex = createExecutor({ maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 }, { failureThreshold: 1, cooldownMs: 20 });
  const one = { alias: 'one', targets: [{ provider: 'a', model: '1' }] };
  await assert.rejects(ex.execute(one, async () => { throw retryable('UPSTREAM_FAILED'); }, { signal }));
  assert.equal(ex.breakerStates()[0]!.state, 'open');
  await new Promise((r) => setTimeout(r, 25));
  const gone = new AbortController();
  await assert.rejects(ex.execute(one, async () => { gone.abort(); throw new RedlineError('UPSTREAM_FAILED', 'client went away', { details: { clientAborted: true } }); }, { signal: gone.signal }));
  const r = await ex.execute(one, async () => 'served', { signal });
  assert.equal(r.value, 'served', 'the next request gets the trial');
  assert.equal(ex.breakerStates()[0]!.state, 'closed');
});

test('executor: a target that refuses redline\'s credentials is not retried, falls back, and counts against its circuit', async () => {
  const ex = createExecutor({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 50 }, { failureThreshold: 2, cooldownMs: 60_000 });
  const seen: string[] = [];
  const denied = () => new RedlineError('UPSTREAM_FAILED', 'refused credentials', { details: { retryable: false, targetFault: true } });
  for (let i = 0; i < 2; i++) {
    const r = await ex.execute(route, async (t) => { seen.push(t.provider); if (t.provider === 'a') throw denied(); return t.provider; }, { signal });
    assert.equal(r.value, 'b');
  }
  assert.deepEqual(seen, ['a', 'b', 'a', 'b']);
  assert.equal(ex.breakerStates().find((s) => s.provider === 'a')!.state, 'open');
  const only = { alias: 'only', targets: [{ provider: 'a', model: '1' }] };
  await assert.rejects(ex.execute(only, async () => 'x', { signal }), (e: RedlineError) => e.code === 'UPSTREAM_UNAVAILABLE' && e.retryAfter !== undefined && e.retryAfter >= 59 && e.retryAfter <= 60);
});
