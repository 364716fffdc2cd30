import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { RedlineError, type ErrorCode } from '../errors.js';
import { startFakeAnthropic } from '../testing/fake-anthropic.js';
import type { FakeUpstream } from '../testing/fake-upstream.js';
import type { ChatRequest, StreamEvent } from '../wire/index.js';
import { createAnthropicProvider } from './anthropic.js';
import type { CallOptions, Provider, Timeouts } from './types.js';

const timeouts: Timeouts = { connectMs: 2_000, firstByteMs: 3_000, totalMs: 8_000 };

const req: ChatRequest = {
  model: 'alias',
  system: 'be brief',
  stream: false,
  messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }],
  tools: [{ name: 'weather', description: 'forecast', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
};

async function withFake(fn: (fake: FakeUpstream, p: Provider) => Promise<void>): Promise<void> {
  const fake = await startFakeAnthropic();
  const p = createAnthropicProvider({ name: 'anth', kind: 'anthropic', baseUrl: `${fake.url}/`, apiKey: 'sk-test', headers: { 'x-extra': 'yes' }, timeouts });
  try {
    await fn(fake, p);
  } finally {
    await p.close?.();
    await fake.close();
  }
}

function opts(over: Partial<CallOptions> = {}): CallOptions {
  return { model: 'claude-real', signal: new AbortController().signal, timeouts, ...over };
}

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function isCode(code: ErrorCode, check: (e: RedlineError) => void = () => {}) {
  return (e: unknown) => {
    assert.ok(e instanceof RedlineError, `expected RedlineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check(e);
    return true;
  };
}

test('complete: reply in the real shape, sent with the right path, headers and body', async () => {
  await withFake(async (fake, p) => {
    const res = await p.complete(req, opts());
    assert.deepEqual(res.content, [{ type: 'text', text: 'echo: hello there' }]);
    assert.equal(res.stopReason, 'end');
    assert.equal(res.model, 'claude-real');
    assert.ok(res.usage.inputTokens > 0 && res.usage.outputTokens > 0);
    const r = fake.requests[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/v1/messages');
    assert.equal(r.headers['x-api-key'], 'sk-test');
    assert.equal(r.headers['anthropic-version'], '2023-06-01');
    assert.equal(r.headers['x-extra'], 'yes');
    assert.equal(r.body.model, 'claude-real');
    assert.equal(r.body.max_tokens, 4096);
    assert.equal(r.body.stream, false);
    assert.equal(r.body.system, 'be brief');
    assert.deepEqual(r.body.tools[0].input_schema, { type: 'object', properties: { city: { type: 'string' } } });
  });
});

test('complete: tool call', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'tool_call', name: 'weather', arguments: { city: 'Oslo', days: 3 }, text: 'Checking.' });
    const res = await p.complete(req, opts());
    assert.equal(res.stopReason, 'tool_use');
    assert.equal(res.content[0]?.type, 'text');
    const call = res.content[1];
    assert.ok(call?.type === 'tool_call');
    assert.equal(call.name, 'weather');
    assert.ok(call.id.length > 0);
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo', days: 3 });
  });
});

test('stream: text arrives as deltas and ends with finish', async () => {
  await withFake(async (fake, p) => {
    const evs = await collect(p.stream({ ...req, stream: true }, opts()));
    assert.equal(fake.requests[0]!.body.stream, true);
    assert.equal(evs[0]?.type, 'start');
    const text = evs.flatMap((e) => (e.type === 'text_delta' ? [e.text] : [])).join('');
    assert.equal(text, 'echo: hello there');
    assert.ok(evs.filter((e) => e.type === 'text_delta').length > 1, 'several fragments');
    const fin = evs.at(-1);
    assert.ok(fin?.type === 'finish');
    assert.equal(fin.stopReason, 'end');
    assert.ok(fin.usage.inputTokens > 0 && fin.usage.outputTokens > 0);
  });
});

test('stream: tool_use arguments arrive as input_json_delta fragments', async () => {
  await withFake(async (fake, p) => {
    const args = { city: 'San Francisco', units: 'metric', days: [1, 2, 3] };
    fake.enqueue({ kind: 'tool_call', name: 'weather', arguments: args });
    const evs = await collect(p.stream({ ...req, stream: true }, opts()));
    const start = evs.find((e) => e.type === 'tool_call_start');
    assert.ok(start?.type === 'tool_call_start');
    assert.equal(start.name, 'weather');
    const deltas = evs.flatMap((e) => (e.type === 'tool_call_delta' && e.index === start.index ? [e.argumentsDelta] : []));
    assert.ok(deltas.length > 1, 'fragmented');
    assert.deepEqual(JSON.parse(deltas.join('')), args);
    assert.ok(evs.some((e) => e.type === 'block_stop' && e.index === start.index));
    const fin = evs.at(-1);
    assert.ok(fin?.type === 'finish' && fin.stopReason === 'tool_use');
  });
});

test('429 with Retry-After becomes RATE_LIMITED with retryAfter, for complete and stream', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '7' } }, { kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    await assert.rejects(p.complete(req, opts()), isCode('RATE_LIMITED', (e) => {
      assert.equal(e.retryAfter, 7);
      assert.equal(e.details?.retryable, true);
    }));
    const it = p.stream({ ...req, stream: true }, opts())[Symbol.asyncIterator]();
    await assert.rejects(it.next(), isCode('RATE_LIMITED', (e) => assert.equal(e.retryAfter, 3)));
  });
});

test('529 overloaded → UPSTREAM_UNAVAILABLE; 500 → UPSTREAM_FAILED; 400 → UPSTREAM_REJECTED; 401 → UPSTREAM_FAILED', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'status', status: 529, message: 'Overloaded' });
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_UNAVAILABLE', (e) => {
      assert.equal(e.details?.retryable, true);
      assert.equal(e.details?.upstreamStatus, 529);
    }));
    fake.enqueue({ kind: 'status', status: 529 });
    await assert.rejects(p.stream({ ...req, stream: true }, opts())[Symbol.asyncIterator]().next(), isCode('UPSTREAM_UNAVAILABLE'));
    fake.enqueue({ kind: 'status', status: 500 });
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.retryable, true)));
    fake.enqueue({ kind: 'status', status: 400, message: 'max_tokens: too large' });
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_REJECTED', (e) => {
      assert.equal(e.status, 400);
      assert.equal(e.details?.retryable, false);
    }));
    fake.enqueue({ kind: 'status', status: 401 });
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.retryable, false)));
  });
});

test('a hanging upstream hits the first-byte timeout → UPSTREAM_TIMEOUT', async () => {
  await withFake(async (fake, p) => {
    const short = { ...timeouts, firstByteMs: 150 };
    fake.enqueue({ kind: 'hang' }, { kind: 'hang' }, { kind: 'stall_after_headers' });
    await assert.rejects(p.complete(req, opts({ timeouts: short })), isCode('UPSTREAM_TIMEOUT', (e) => assert.equal(e.details?.retryable, true)));
    await assert.rejects(p.stream({ ...req, stream: true }, opts({ timeouts: short }))[Symbol.asyncIterator]().next(), isCode('UPSTREAM_TIMEOUT'));
    await assert.rejects(p.stream({ ...req, stream: true }, opts({ timeouts: short }))[Symbol.asyncIterator]().next(), isCode('UPSTREAM_TIMEOUT'));
  });
});

test('reset and garbage are retryable UPSTREAM_FAILED; the provider keeps working afterwards', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'reset' }, { kind: 'garbage' }, { kind: 'reset' }, { kind: 'garbage' });
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.retryable, true)));
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.retryable, true)));
    await assert.rejects(p.stream({ ...req, stream: true }, opts())[Symbol.asyncIterator]().next(), isCode('UPSTREAM_FAILED'));
    await assert.rejects(p.stream({ ...req, stream: true }, opts())[Symbol.asyncIterator]().next(), isCode('UPSTREAM_FAILED'));
    const ok = await p.complete(req, opts());
    assert.equal(ok.stopReason, 'end');
  });
});

test('reset mid-stream: events already received, then UPSTREAM_FAILED', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'reset_mid_stream' }, { kind: 'reset_mid_stream' });
    const got: StreamEvent[] = [];
    await assert.rejects((async () => { for await (const e of p.stream({ ...req, stream: true }, opts())) got.push(e); })(), isCode('UPSTREAM_FAILED'));
    assert.equal(got[0]?.type, 'start');
    assert.ok(got.some((e) => e.type === 'text_delta'));
    assert.ok(!got.some((e) => e.type === 'finish'));
    await assert.rejects(p.complete(req, opts()), isCode('UPSTREAM_FAILED'));
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  // Bounded by the test runner's timeout; no wall-clock assertion.
  while (!cond()) await tick();
}

test('client abort tears down the upstream request (before headers and mid-stream)', async () => {
  await withFake(async (fake, p) => {
    fake.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const pending = p.complete(req, opts({ signal: ac.signal }));
    await waitFor(() => fake.requests.length === 1);
    ac.abort();
    await assert.rejects(pending, isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.clientAborted, true)));
    await waitFor(() => fake.aborted() === 1);

    fake.enqueue({ kind: 'stall_after_headers' });
    const ac2 = new AbortController();
    const it = p.stream({ ...req, stream: true }, opts({ signal: ac2.signal }))[Symbol.asyncIterator]();
    const first = it.next();
    await waitFor(() => fake.requests.length === 2);
    ac2.abort();
    await assert.rejects(first, isCode('UPSTREAM_FAILED', (e) => assert.equal(e.details?.clientAborted, true)));
    await waitFor(() => fake.aborted() === 2);
  });
});

test('fake answers other paths with an Anthropic-shaped 404', async () => {
  await withFake(async (fake) => {
    const res = await fetch(`${fake.url}/v1/complete`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.deepEqual((await res.json() as { error: unknown }).error, { type: 'not_found_error', message: 'Not found' });
  });
});
