import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedlineError } from '../errors.js';
import type { ChatRequest, StreamEvent } from '../wire/index.js';
import { startFakeOpenAI } from '../testing/fake-openai.js';
import { createOpenAIProvider } from './openai.js';
import { watchedOn } from './watch.js';
import type { Provider, ProviderConfig, Timeouts } from './types.js';

const timeouts: Timeouts = { connectMs: 2000, firstByteMs: 3000, totalMs: 8000 };
const fake = await startFakeOpenAI();
const providers: Provider[] = [];
after(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await fake.close();
});

function provider(over: Partial<ProviderConfig> = {}): Provider {
  const p = createOpenAIProvider({ name: 'oa', kind: 'openai', baseUrl: `${fake.url}/v1`, apiKey: 'sk-test', timeouts, ...over });
  providers.push(p);
  return p;
}

const req = (text: string, over: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'alias',
  system: 'be terse',
  messages: [{ role: 'user', content: [{ type: 'text', text }] }],
  stream: false,
  ...over,
});

const opts = (over: { signal?: AbortSignal; timeouts?: Timeouts } = {}) => ({ model: 'gpt-4.1-mini', signal: over.signal ?? new AbortController().signal, timeouts: over.timeouts ?? timeouts });

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<RedlineError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RedlineError, `expected RedlineError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** Waits (bounded) for a condition the server observes asynchronously; not a timing assertion. */
async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition never became true');
}

const textOf = (events: StreamEvent[]) => events.filter((e) => e.type === 'text_delta').map((e) => (e as { text: string }).text).join('');

test('complete: plain reply, request shape and headers', async () => {
  const p = provider({ headers: { 'openai-organization': 'org-1' } });
  const n = fake.requests.length;
  const res = await p.complete(req('hello there', { maxTokens: 20 }), opts());
  assert.deepEqual(res.content, [{ type: 'text', text: 'echo: hello there' }]);
  assert.equal(res.stopReason, 'end');
  assert.equal(res.model, 'gpt-4.1-mini');
  assert.ok(res.usage.inputTokens > 0 && res.usage.outputTokens === 3, JSON.stringify(res.usage));
  const r = fake.requests[n]!;
  assert.equal(r.path, '/v1/chat/completions');
  assert.equal(r.headers.authorization, 'Bearer sk-test');
  assert.equal(r.headers['openai-organization'], 'org-1');
  assert.deepEqual(r.body, {
    model: 'gpt-4.1-mini',
    messages: [{ role: 'system', content: 'be terse' }, { role: 'user', content: 'hello there' }],
    max_completion_tokens: 20,
    stream: false,
  });
});

test('complete: tool call', async () => {
  fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo', days: 3 } });
  const res = await provider().complete(req('weather?', { tools: [{ name: 'get_weather', parameters: { type: 'object' } }] }), opts());
  assert.equal(res.stopReason, 'tool_use');
  const call = res.content.find((c) => c.type === 'tool_call');
  assert.ok(call && call.type === 'tool_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo', days: 3 });
});

test('openai_compatible: base URL without /v1, no key, max_tokens', async () => {
  const p = provider({ kind: 'openai_compatible', baseUrl: `${fake.url}/`, apiKey: undefined });
  const n = fake.requests.length;
  await p.complete(req('x', { maxTokens: 9 }), opts());
  const r = fake.requests[n]!;
  assert.equal(r.path, '/chat/completions');
  assert.equal(r.headers.authorization, undefined);
  assert.equal(r.body.max_tokens, 9);
  assert.equal(r.body.max_completion_tokens, undefined);
});

test('configuration: default bases, required baseUrl, wrong kind', async () => {
  const x = createOpenAIProvider({ name: 'grok', kind: 'xai', baseUrl: '', timeouts });
  assert.equal(x.kind, 'xai');
  await x.close?.();
  assert.throws(() => createOpenAIProvider({ name: 'local', kind: 'openai_compatible', baseUrl: '', timeouts }), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
  assert.throws(() => createOpenAIProvider({ name: 'a', kind: 'anthropic', baseUrl: 'http://127.0.0.1:1', timeouts }), (e: unknown) => e instanceof RedlineError && e.code === 'CONFIG_INVALID');
});

test('stream: text arrives as deltas, with start, block_stop and finish carrying usage', async () => {
  const n = fake.requests.length;
  const events = await collect(provider().stream(req('stream me please', { stream: true }), opts()));
  assert.equal(fake.requests[n]!.body.stream, true);
  assert.deepEqual(fake.requests[n]!.body.stream_options, { include_usage: true });
  assert.equal(events[0]!.type, 'start');
  assert.deepEqual(events[1], { type: 'text_start', index: 0 });
  assert.equal(textOf(events), 'echo: stream me please');
  assert.ok(events.filter((e) => e.type === 'text_delta').length > 1, 'text was streamed in several deltas');
  assert.deepEqual(events.at(-2), { type: 'block_stop', index: 0 });
  const fin = events.at(-1)!;
  assert.ok(fin.type === 'finish');
  assert.equal(fin.stopReason, 'end');
  assert.ok(fin.usage.inputTokens > 0 && fin.usage.outputTokens === 4, JSON.stringify(fin.usage));
});

test('stream: tool call argument fragments reassemble', async () => {
  fake.enqueue({ kind: 'tool_call', name: 'lookup', arguments: { query: 'grid reference 7', limit: 10 }, text: 'Let me look.' });
  const events = await collect(provider().stream(req('find it', { stream: true }), opts()));
  assert.equal(textOf(events), 'Let me look.');
  const start = events.find((e) => e.type === 'tool_call_start');
  assert.ok(start && start.type === 'tool_call_start');
  assert.equal(start.name, 'lookup');
  assert.equal(start.index, 1);
  const deltas = events.filter((e) => e.type === 'tool_call_delta');
  assert.ok(deltas.length > 1, 'arguments came in several fragments');
  assert.deepEqual(JSON.parse(deltas.map((e) => (e as { argumentsDelta: string }).argumentsDelta).join('')), { query: 'grid reference 7', limit: 10 });
  const fin = events.at(-1)!;
  assert.ok(fin.type === 'finish' && fin.stopReason === 'tool_use');
});

test('429 with Retry-After → RATE_LIMITED carrying retryAfter (complete and stream)', async () => {
  fake.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '7' }, message: 'Rate limit reached' });
  const e = await rejectsWith(provider().complete(req('x'), opts()), 'RATE_LIMITED');
  assert.equal(e.retryAfter, 7);
  assert.equal(e.details?.retryable, true);
  assert.match(e.message, /Rate limit reached/);
  fake.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '2' } });
  const it = provider().stream(req('x', { stream: true }), opts())[Symbol.asyncIterator]();
  const e2 = await rejectsWith(it.next(), 'RATE_LIMITED');
  assert.equal(e2.retryAfter, 2);
});

test('500 → retryable UPSTREAM_FAILED; 400 → UPSTREAM_REJECTED', async () => {
  fake.enqueue({ kind: 'status', status: 500 });
  const e = await rejectsWith(provider().complete(req('x'), opts()), 'UPSTREAM_FAILED');
  assert.equal(e.details?.retryable, true);
  fake.enqueue({ kind: 'status', status: 400, message: "Invalid value for 'temperature'" });
  const e2 = await rejectsWith(provider().complete(req('x'), opts()), 'UPSTREAM_REJECTED');
  assert.equal(e2.details?.retryable, false);
});

test('hang with a short firstByte timeout → UPSTREAM_TIMEOUT (complete and stream)', async () => {
  const short = { ...timeouts, firstByteMs: 150 };
  fake.enqueue({ kind: 'hang' });
  await rejectsWith(provider().complete(req('x'), opts({ timeouts: short })), 'UPSTREAM_TIMEOUT');
  fake.enqueue({ kind: 'hang' });
  await rejectsWith(collect(provider().stream(req('x', { stream: true }), opts({ timeouts: short }))), 'UPSTREAM_TIMEOUT');
  fake.enqueue({ kind: 'stall_after_headers' });
  await rejectsWith(collect(provider().stream(req('x', { stream: true }), opts({ timeouts: short }))), 'UPSTREAM_TIMEOUT');
});

test('reset before any byte → UPSTREAM_FAILED', async () => {
  fake.enqueue({ kind: 'reset' });
  const e = await rejectsWith(provider().complete(req('x'), opts()), 'UPSTREAM_FAILED');
  assert.equal(e.details?.retryable, true);
  fake.enqueue({ kind: 'reset' });
  const it = provider().stream(req('x', { stream: true }), opts())[Symbol.asyncIterator]();
  await rejectsWith(it.next(), 'UPSTREAM_FAILED');
});

test('garbage bodies → UPSTREAM_FAILED (complete and stream)', async () => {
  fake.enqueue({ kind: 'garbage' });
  await rejectsWith(provider().complete(req('x'), opts()), 'UPSTREAM_FAILED');
  fake.enqueue({ kind: 'garbage' });
  await rejectsWith(collect(provider().stream(req('x', { stream: true }), opts())), 'UPSTREAM_FAILED');
});

test('reset mid-stream: events so far, then UPSTREAM_FAILED; a half JSON body fails too', async () => {
  fake.enqueue({ kind: 'reset_mid_stream' });
  const seen: StreamEvent[] = [];
  const e = await rejectsWith((async () => { for await (const ev of provider().stream(req('a long enough reply to cut', { stream: true }), opts())) seen.push(ev); })(), 'UPSTREAM_FAILED');
  assert.equal(seen[0]?.type, 'start');
  assert.equal(seen.some((x) => x.type === 'finish'), false);
  assert.equal(e.details?.clientAborted, undefined);
  fake.enqueue({ kind: 'reset_mid_stream' });
  await rejectsWith(provider().complete(req('x'), opts()), 'UPSTREAM_FAILED');
});

test('client abort cancels the upstream request (complete, and stream while waiting for events)', async () => {
  // A fake of its own, so the abort count is not disturbed by other tests' timeouts and resets.
  const own = await startFakeOpenAI();
  try {
    own.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const pending = provider({ baseUrl: `${own.url}/v1` }).complete(req('x'), opts({ signal: ac.signal }));
    await eventually(() => own.requests.length === 1);
    assert.equal(own.aborted(), 0);
    ac.abort();
    const e = await rejectsWith(pending, 'UPSTREAM_FAILED');
    assert.equal(e.details?.clientAborted, true);
    await eventually(() => own.aborted() === 1);

    own.enqueue({ kind: 'stall_after_headers' });
    const ac2 = new AbortController();
    const it = provider({ baseUrl: `${own.url}/v1` }).stream(req('y', { stream: true }), opts({ signal: ac2.signal }))[Symbol.asyncIterator]();
    const first = it.next();
    await eventually(() => own.requests.length === 2);
    ac2.abort();
    await rejectsWith(first, 'UPSTREAM_FAILED');
    await eventually(() => own.aborted() === 2);
  } finally {
    await own.close();
  }
});

test('a consumer that stops reading mid-stream releases the upstream request', async () => {
  const own = await startFakeOpenAI();
  try {
    own.enqueue({ kind: 'reply', text: Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ') });
    for await (const ev of provider({ baseUrl: `${own.url}/v1` }).stream(req('x', { stream: true }), opts())) {
      if (ev.type === 'text_delta') break;
    }
    await eventually(() => own.aborted() === 1);
  } finally {
    await own.close();
  }
});

// Raw SSE servers for what the shared fake cannot script: error events, truncation, early stop.
const frame = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const textChunk = (t: string, finish: string | null = null) => frame({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: t }, finish_reason: finish }] });

test('an {"error":...} event mid-stream → UPSTREAM_FAILED', async () => {
  const s = await sseServer((res) => res.end(textChunk('partial') + frame({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })));
  try {
    const seen: StreamEvent[] = [];
    const p = provider({ baseUrl: s.base });
    const e = await rejectsWith((async () => { for await (const ev of p.stream(req('x', { stream: true }), opts())) seen.push(ev); })(), 'UPSTREAM_FAILED');
    assert.match(e.message, /mid-stream/);
    assert.equal(textOf(seen), 'partial');
  } finally {
    await s.close();
  }
});

test('a stream that ends cleanly without finish_reason or [DONE] is truncated, not finished', async () => {
  const s = await sseServer((res) => res.end(textChunk('half an ans')));
  try {
    await rejectsWith(collect(provider({ baseUrl: s.base }).stream(req('x', { stream: true }), opts())), 'UPSTREAM_FAILED');
  } finally {
    await s.close();
  }
});

test('finish_reason without [DONE] (some compatible servers) still finishes; [DONE] alone finishes', async () => {
  const s1 = await sseServer((res) => res.end(textChunk('done', 'stop')));
  const s2 = await sseServer((res) => res.end(textChunk('ok') + 'data: [DONE]\n\n'));
  try {
    const e1 = await collect(provider({ baseUrl: s1.base }).stream(req('x', { stream: true }), opts()));
    assert.deepEqual(e1.at(-1), { type: 'finish', stopReason: 'end', usage: { inputTokens: 0, outputTokens: 0 } });
    assert.equal(textOf(e1), 'done');
    const e2 = await collect(provider({ baseUrl: s2.base }).stream(req('x', { stream: true }), opts()));
    assert.equal(e2.at(-1)?.type, 'finish');
  } finally {
    await s1.close();
    await s2.close();
  }
});

// complete() reads the body through its own dispatch handler (exchange.ts postForJson): the faults below
// reach it after the headers, where the request()-based path had a Readable to do the work.

/** A server that answers each request with `write`, counting the connections it accepts and the answers cut off. */
async function rawServer(write: (res: ServerResponse) => void): Promise<{ base: string; connections: () => number; aborted: () => number; close: () => Promise<void> }> {
  let connections = 0;
  let aborted = 0;
  const server = createServer(async (req, res) => {
    for await (const _ of req) { /* drain */ }
    res.on('close', () => { if (!res.writableFinished) aborted++; });
    write(res);
  });
  server.on('connection', () => { connections++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    connections: () => connections,
    aborted: () => aborted,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** rawServer answering with an event stream. */
function sseServer(write: (res: ServerResponse) => void): ReturnType<typeof rawServer> {
  return rawServer((res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    write(res);
  });
}

const completion = (text: string) => JSON.stringify({
  id: 'c', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

/**
 * Nothing an exchange left behind on the client's signal: no exchange still watched, and at most the
 * one 'abort' listener a signal gets for all the exchanges that use it (watch.ts).
 */
function assertSignalReleased(s: AbortSignal): void {
  assert.equal(watchedOn(s), 0);
  assert.ok(getEventListeners(s, 'abort').length <= 1);
}

test('complete: a 2xx JSON answer that is not a chat completion rejects, and the provider serves the next call', async () => {
  let n = 0;
  const s = await rawServer((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(n++ === 0 ? JSON.stringify({ choices: 'none' }) : completion('next'));
  });
  try {
    const p = provider({ baseUrl: s.base });
    const e = await rejectsWith(p.complete(req('x'), opts()), 'UPSTREAM_FAILED');
    assert.match(e.message, /malformed chat completion \(choices/);
    assert.equal(e.details?.retryable, true);
    const res = await p.complete(req('x'), opts());
    assert.deepEqual(res.content, [{ type: 'text', text: 'next' }]);
    assert.equal(s.aborted(), 0, 'the malformed answer was read to its end, not cut off');
  } finally {
    await s.close();
  }
});

test('complete: a body in several chunks, a character split between them and a BOM, reads whole', async () => {
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(completion('blåbær 🫐'))]);
  const cut = body.indexOf(Buffer.from('🫐')) + 2;
  const s = await rawServer((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write(body.subarray(0, cut));
    setTimeout(() => res.end(body.subarray(cut)), 20);
  });
  try {
    const res = await provider({ baseUrl: s.base }).complete(req('x'), opts());
    assert.deepEqual(res.content, [{ type: 'text', text: 'blåbær 🫐' }]);
  } finally {
    await s.close();
  }
});

test('complete: answers and error statuses keep the connection alive; the abort listener is released', async () => {
  let n = 0;
  const s = await rawServer((res) => {
    if (n++ % 2) {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '3' });
      res.end(JSON.stringify({ error: { message: 'slow down' } }));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completion('ok'));
    }
  });
  try {
    const p = provider({ baseUrl: s.base });
    const ac = new AbortController();
    // undici's pool opens a second connection for the second call of a fresh pool (with request()
    // as well); from then on every call reuses one.
    let warm = 0;
    for (let i = 0; i < 3; i++) {
      assert.equal((await p.complete(req('x'), opts({ signal: ac.signal }))).stopReason, 'end');
      const e = await rejectsWith(p.complete(req('x'), opts({ signal: ac.signal })), 'RATE_LIMITED');
      assert.equal(e.retryAfter, 3);
      assert.match(e.message, /slow down/);
      if (i === 0) warm = s.connections();
    }
    assert.equal(s.connections(), warm);
    assertSignalReleased(ac.signal);
  } finally {
    await s.close();
  }
});

test('complete: a body that stalls after the headers → UPSTREAM_TIMEOUT (body timeout, then total timeout)', async () => {
  const s = await rawServer((res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"c",');
  });
  try {
    const ac = new AbortController();
    await rejectsWith(provider({ baseUrl: s.base }).complete(req('x'), opts({ signal: ac.signal, timeouts: { ...timeouts, firstByteMs: 150 } })), 'UPSTREAM_TIMEOUT');
    const e = await rejectsWith(provider({ baseUrl: s.base }).complete(req('x'), opts({ signal: ac.signal, timeouts: { ...timeouts, totalMs: 150 } })), 'UPSTREAM_TIMEOUT');
    assert.equal(e.details?.retryable, true);
    await eventually(() => s.aborted() === 2);
    assertSignalReleased(ac.signal);
  } finally {
    await s.close();
  }
});

test('complete: client abort mid-body cancels the upstream request; an abort before sending sends nothing', async () => {
  let started = 0;
  const s = await rawServer((res) => {
    started++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"id":"c",');
  });
  try {
    const ac = new AbortController();
    const pending = provider({ baseUrl: s.base }).complete(req('x'), opts({ signal: ac.signal }));
    await eventually(() => started === 1);
    ac.abort();
    const e = await rejectsWith(pending, 'UPSTREAM_FAILED');
    assert.equal(e.details?.clientAborted, true);
    await eventually(() => s.aborted() === 1);

    const e2 = await rejectsWith(provider({ baseUrl: s.base }).complete(req('x'), opts({ signal: ac.signal })), 'UPSTREAM_FAILED');
    assert.equal(e2.details?.clientAborted, true);

    // Aborted while the new pool is still connecting: the request is dropped before it is written.
    const ac3 = new AbortController();
    const queued = provider({ baseUrl: s.base }).complete(req('x'), opts({ signal: ac3.signal }));
    ac3.abort();
    assert.equal((await rejectsWith(queued, 'UPSTREAM_FAILED')).details?.clientAborted, true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(started, 1);
  } finally {
    await s.close();
  }
});

test('complete: an error status whose body is cut still reports the status', async () => {
  const s = await rawServer((res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': '100' });
    res.write('{"error":');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    const e = await rejectsWith(provider({ baseUrl: s.base }).complete(req('x'), opts()), 'UPSTREAM_UNAVAILABLE');
    assert.equal(e.details?.upstreamStatus, 503);
  } finally {
    await s.close();
  }
});

// Streams read the body through their own dispatch handler as well (exchange.ts postForStream).

test('stream: a body far past the buffer bound, read by a slow consumer, arrives whole', async () => {
  const words = Array.from({ length: 3000 }, (_, i) => `word${i} `);
  const s = await sseServer((res) => res.end(words.map((w) => textChunk(w)).join('') + textChunk('', 'stop') + 'data: [DONE]\n\n'));
  try {
    const seen: StreamEvent[] = [];
    for await (const ev of provider({ baseUrl: s.base }).stream(req('x', { stream: true }), opts())) {
      seen.push(ev);
      if (seen.length % 500 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(textOf(seen), words.join(''));
    assert.equal(seen.at(-1)?.type, 'finish');
  } finally {
    await s.close();
  }
});

test('stream: the total timeout ends a stream that keeps trickling; listeners are released', async () => {
  let timer: ReturnType<typeof setInterval> | undefined;
  const s = await sseServer((res) => { timer = setInterval(() => res.write(textChunk('.')), 20); });
  try {
    const ac = new AbortController();
    const seen: StreamEvent[] = [];
    const e = await rejectsWith((async () => {
      for await (const ev of provider({ baseUrl: s.base }).stream(req('x', { stream: true }), opts({ signal: ac.signal, timeouts: { ...timeouts, firstByteMs: 100, totalMs: 300 } }))) seen.push(ev);
    })(), 'UPSTREAM_TIMEOUT');
    assert.equal(e.details?.retryable, true);
    assert.ok(textOf(seen).length > 3);
    assertSignalReleased(ac.signal);
  } finally {
    clearInterval(timer);
    await s.close();
  }
});

test('stream: clean streams keep the connection alive and release the abort listener', async () => {
  const s = await sseServer((res) => res.end(textChunk('ok', 'stop') + 'data: [DONE]\n\n'));
  try {
    const p = provider({ baseUrl: s.base });
    const ac = new AbortController();
    await collect(p.stream(req('x', { stream: true }), opts({ signal: ac.signal })));
    await collect(p.stream(req('x', { stream: true }), opts({ signal: ac.signal })));
    const warm = s.connections();
    for (let i = 0; i < 3; i++) assert.equal(textOf(await collect(p.stream(req('x', { stream: true }), opts({ signal: ac.signal })))), 'ok');
    assert.equal(s.connections(), warm);
    assertSignalReleased(ac.signal);
  } finally {
    await s.close();
  }
});

test('a base URL that does not parse fails the call as UPSTREAM_FAILED, not a crash', async () => {
  const p = provider({ kind: 'openai_compatible', baseUrl: 'localhost:8000/v1' });
  await rejectsWith(p.complete(req('x'), opts()), 'UPSTREAM_FAILED');
  await rejectsWith(collect(p.stream(req('x', { stream: true }), opts())), 'UPSTREAM_FAILED');
});
