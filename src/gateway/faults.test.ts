// Upstream faults over real loopback HTTP: retries, fallback, timeouts, resets, garbage, circuit
// breaking, and a client that leaves mid-stream.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';
import { startFakeOpenAI } from '../testing/fake-openai.js';
import { startFakeAnthropic } from '../testing/fake-anthropic.js';
import type { FakeUpstream } from '../testing/fake-upstream.js';

let gw: TestGateway;
let a: FakeUpstream;
let b: FakeUpstream;

// Each test uses its own route whose targets have their own model names, so circuit breakers
// (one per provider+model) do not carry over between tests.
const route = (alias: string, models: string[]) => ({ alias, targets: models.map((m, i) => ({ provider: i === 0 ? 'primary' : 'secondary', model: m })) });

before(async () => {
  a = await startFakeOpenAI();
  b = await startFakeAnthropic();
  gw = await startTestGateway({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: `${a.url}/v1`, timeouts: { firstByteMs: 300, totalMs: 5_000 } },
      { name: 'secondary', kind: 'anthropic', baseUrl: b.url },
      { name: 'patient', kind: 'openai', baseUrl: `${a.url}/v1`, timeouts: { firstByteMs: 1_500, totalMs: 5_000 } },
    ],
    routes: [
      route('retry', ['r1']), route('fallback', ['f1', 'f2']), route('single', ['s1']), route('reject', ['x1', 'x2']),
      route('sfallback', ['sf1', 'sf2']), route('smid', ['sm1', 'sm2']), route('leave', ['l1']), route('breaker', ['b1', 'b2']),
      route('hang', ['h1']), route('sgarbage', ['sg1', 'sg2']), route('creds', ['c1', 'c2']), route('limited', ['rl1']), route('sbusy', ['sb1', 'sb2']), { alias: 'sslow', targets: [{ provider: 'patient', model: 'ss1' }] }, { alias: 'abusy', targets: [{ provider: 'secondary', model: 'ab1' }] },
    ],
    retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 2_000 },
    circuitBreaker: { failureThreshold: 3, cooldownMs: 60_000 },
  });
});
after(async () => { await gw.stop(); await a.close(); await b.close(); });
// A test whose circuit opened mid-way leaves behaviours queued; each test starts from an empty queue.
beforeEach(() => { a.clear(); b.clear(); });

const ask = (model: string, extra: Record<string, unknown> = {}) => gw.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'q' }], ...extra });
const count = (f: FakeUpstream) => f.requests.length;

describe('retries and fallback', () => {
  test('a 429 with Retry-After is retried on the same target', async () => {
    const before = count(a);
    a.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '0' } });
    const res = await ask('retry');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'primary');
    assert.equal(count(a) - before, 2);
  });

  test('5xx on every attempt falls back to the next target', async () => {
    const [ca, cb] = [count(a), count(b)];
    a.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 502 });
    const res = await ask('fallback');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    assert.equal(count(a) - ca, 2);
    assert.equal(count(b) - cb, 1);
    assert.match((await res.json() as any).choices[0].message.content, /echo: q/);
  });

  test('an upstream 400 is the caller\'s error: passed through, no fallback', async () => {
    const cb = count(b);
    a.enqueue({ kind: 'status', status: 400, message: 'bad tool schema' });
    const res = await ask('reject');
    assert.equal(res.status, 400);
    const body = await res.json() as any;
    assert.equal(body.error.code, 'upstream_rejected');
    assert.match(body.error.message, /bad tool schema/);
    assert.equal(count(b), cb);
  });

  test('reset and garbage become 502 in the client\'s shape', async () => {
    a.enqueue({ kind: 'reset' }, { kind: 'reset' });
    const r1 = await ask('single');
    assert.equal(r1.status, 502);
    assert.equal((await r1.json() as any).error.code, 'upstream_failed');
    a.enqueue({ kind: 'garbage' }, { kind: 'garbage' });
    const r2 = await gw.post('/v1/messages', { model: 'single', max_tokens: 10, messages: [{ role: 'user', content: 'q' }] });
    assert.equal(r2.status, 502);
    const body = await r2.json() as any;
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'api_error');
  });

  test('a target that refuses redline\'s key is not retried: the next target serves', async () => {
    const [ca, cb] = [count(a), count(b)];
    a.enqueue({ kind: 'status', status: 401 });
    const res = await ask('creds');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    assert.equal(count(a) - ca, 1, 'no retry against a refused key');
    assert.equal(count(b) - cb, 1);
  });

  test('a 429 that names no wait still tells the client when to retry', async () => {
    a.enqueue({ kind: 'status', status: 429 }, { kind: 'status', status: 429 });
    const res = await ask('limited');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.equal((await res.json() as any).error.code, 'rate_limited');
  });

  test('a hanging upstream times out with 504', async () => {
    a.enqueue({ kind: 'hang' }, { kind: 'hang' });
    const res = await ask('hang');
    assert.equal(res.status, 504);
    assert.equal((await res.json() as any).error.code, 'upstream_timeout');
  });
});

describe('streams', () => {
  test('failure before the first byte falls back to the next target', async () => {
    a.enqueue({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const res = await ask('sfallback', { stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    const text = await res.text();
    assert.match(text, /"content":"echo:"/);
    assert.match(text, /data: \[DONE\]/);
  });

  test('a stream whose first event is garbage is retried, then falls back', async () => {
    const [ca, cb] = [count(a), count(b)];
    a.enqueue({ kind: 'garbage' }, { kind: 'garbage' });
    const res = await ask('sgarbage', { stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    assert.match(await res.text(), /data: \[DONE\]/);
    assert.equal(count(a) - ca, 2);
    assert.equal(count(b) - cb, 1);
  });

  test('an error right after the stream opens (before any content) is retried, then falls back', async () => {
    const [ca, cb] = [count(a), count(b)];
    a.enqueue({ kind: 'error_after_start' }, { kind: 'error_after_start' });
    const res = await ask('sbusy', { stream: true });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    assert.match(await res.text(), /"content":"echo:"/);
    assert.equal(count(a) - ca, 2);
    assert.equal(count(b) - cb, 1);
  });

  test('a stream that opens and then goes quiet gets its headers and opening frame within the wait window', async () => {
    a.enqueue({ kind: 'stall_after_start' });
    const t0 = performance.now();
    const res = await ask('sslow', { stream: true });
    const headersAfter = performance.now() - t0;
    // The upstream's first-byte timeout here is 1.5 s: the opening went out long before it fired, so
    // the timeout is a mid-stream error, not a refusal before the stream.
    assert.equal(res.status, 200);
    assert.ok(headersAfter < 1_000, `headers after ${headersAfter.toFixed(0)} ms`);
    const text = await res.text();
    assert.match(text, /"role":"assistant"/);
    assert.match(text, /timed out/);
  });

  test('Anthropic\'s overloaded_error in a stream stays an overload: 503 overloaded_error, with Retry-After', async () => {
    b.enqueue({ kind: 'error_after_start' }, { kind: 'error_after_start' });
    const res = await gw.post('/v1/messages', { model: 'abusy', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'q' }] });
    assert.equal(res.status, 503);
    assert.ok(res.headers.get('retry-after'));
    const body = await res.json() as any;
    assert.equal(body.error.type, 'overloaded_error');
  });

  test('a reset after the first byte ends the stream with an error event, no fallback', async () => {
    const cb = count(b);
    a.enqueue({ kind: 'reset_mid_stream' });
    const res = await ask('smid', { stream: true });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /"error":\{/);
    assert.doesNotMatch(text, /\[DONE\]/);
    assert.equal(count(b), cb);
  });

  test('a client that leaves aborts the upstream request, and the gateway keeps serving', async () => {
    const abortedBefore = a.aborted();
    const { request } = await import('node:http');
    await new Promise<void>((resolve) => {
      a.enqueue({ kind: 'stall_after_headers' });
      const req = request(gw.url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' } });
      req.on('error', () => resolve());
      req.end(JSON.stringify({ model: 'leave', stream: true, messages: [{ role: 'user', content: 'q' }] }));
      setTimeout(() => { req.destroy(); resolve(); }, 150);
    });
    for (let i = 0; i < 40 && a.aborted() === abortedBefore; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(a.aborted() > abortedBefore, 'upstream saw the request aborted');
    const ok = await gw.post('/v1/chat/completions', { model: 'retry', messages: [{ role: 'user', content: 'still there?' }] });
    assert.equal(ok.status, 200);
  });
});

describe('circuit breaker', () => {
  test('after repeated failures the target is skipped until its cooldown passes', async () => {
    for (let i = 0; i < 2; i++) {
      a.enqueue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
      assert.equal((await ask('breaker')).headers.get('x-redline-provider'), 'secondary');
    }
    // Four failures on b1 passed the threshold of 3: it is open now and gets no traffic.
    const ca = count(a);
    const res = await ask('breaker');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'secondary');
    assert.equal(count(a), ca);
  });
});
