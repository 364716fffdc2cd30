import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedlineError } from '../errors.js';
import { FAKE_GEMINI_SIGNATURE, startFakeGemini } from '../testing/fake-gemini.js';
import type { FakeUpstream } from '../testing/fake-upstream.js';
import type { ChatRequest, Message, StreamEvent } from '../wire/index.js';
import { createGeminiProvider } from './gemini.js';
import type { CallOptions, Provider, Timeouts } from './types.js';

const timeouts: Timeouts = { connectMs: 2000, firstByteMs: 3000, totalMs: 8000 };
let fake: FakeUpstream;
let provider: Provider;

before(async () => {
  fake = await startFakeGemini();
  provider = createGeminiProvider({ name: 'gem', kind: 'gemini', baseUrl: fake.url, apiKey: 'test-key', headers: { 'x-extra': '1' }, timeouts });
});
after(async () => {
  await provider.close?.();
  await fake.close();
});

function chat(messages: Message[], extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'alias', messages, stream: false, ...extra };
}
const hello = chat([{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }]);
const weatherTool = { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } };

function opts(over: Partial<CallOptions> = {}): CallOptions {
  return { model: 'gemini-2.5-flash', signal: new AbortController().signal, timeouts, ...over };
}

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

function code(c: string, check: (e: RedlineError) => boolean = () => true) {
  return (e: unknown) => e instanceof RedlineError && e.code === c && check(e);
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition never became true');
}

test('a reply: path, key header, request body and the answer', async () => {
  const before = fake.requests.length;
  const r = await provider.complete(chat(hello.messages, { system: 'sys', maxTokens: 10 }), opts());
  const rec = fake.requests[before]!;
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, '/v1beta/models/gemini-2.5-flash:generateContent');
  assert.equal(rec.headers['x-goog-api-key'], 'test-key');
  assert.equal(rec.headers['x-extra'], '1');
  assert.deepEqual(rec.body, {
    contents: [{ role: 'user', parts: [{ text: 'hello there' }] }],
    systemInstruction: { parts: [{ text: 'sys' }] },
    generationConfig: { maxOutputTokens: 10 },
  });
  assert.deepEqual(r.content, [{ type: 'text', text: 'echo: hello there' }]);
  assert.equal(r.stopReason, 'end');
  assert.equal(r.model, 'gemini-2.5-flash');
  assert.deepEqual(r.usage, { inputTokens: 3, outputTokens: 3 });
});

test('a tool call, then its result: the thought signature goes back upstream', async () => {
  fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo' } });
  const first = await provider.complete(chat(hello.messages, { tools: [weatherTool], toolChoice: { type: 'auto' } }), opts());
  assert.equal(first.stopReason, 'tool_use');
  const call = first.content[0];
  assert.ok(call?.type === 'tool_call');
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo' });
  assert.deepEqual(fake.requests.at(-1)!.body.tools, [{ functionDeclarations: [
    { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  ] }]);

  await provider.complete(chat([
    ...hello.messages,
    { role: 'assistant', content: first.content },
    { role: 'user', content: [{ type: 'tool_result', toolCallId: call.id, content: [{ type: 'text', text: '{"temp":5}' }] }] },
  ], { tools: [weatherTool] }), opts());
  const sent = fake.requests.at(-1)!.body.contents;
  assert.deepEqual(sent.slice(1), [
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: FAKE_GEMINI_SIGNATURE }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 5 } } }] },
  ]);
});

test('streaming text arrives in several deltas of one block', async () => {
  const before = fake.requests.length;
  const events = await collect(provider.stream({ ...hello, stream: true }, opts()));
  assert.equal(fake.requests[before]!.path, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  const start = events[0];
  assert.ok(start?.type === 'start');
  assert.match(start.id, /^fake-gemini-\d+$/);
  assert.deepEqual(start, { type: 'start', id: start.id, model: 'gemini-2.5-flash', inputTokens: 2 });
  const deltas = events.filter((e) => e.type === 'text_delta');
  assert.ok(deltas.length > 1, 'expected several deltas');
  assert.equal(deltas.map((e) => (e.type === 'text_delta' ? e.text : '')).join(''), 'echo: hello there');
  assert.deepEqual(events.map((e) => e.type), ['start', 'text_start', ...deltas.map(() => 'text_delta'), 'block_stop', 'finish']);
  assert.deepEqual(events.at(-1), { type: 'finish', stopReason: 'end', usage: { inputTokens: 2, outputTokens: 3 } });
});

test('a streamed function call is one tool-call block, and its signature is kept', async () => {
  fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Rome' }, text: 'Let me check.' });
  const events = await collect(provider.stream({ ...hello, stream: true, tools: [weatherTool] }, opts()));
  const start = events.find((e) => e.type === 'tool_call_start');
  assert.ok(start?.type === 'tool_call_start');
  assert.equal(start.name, 'get_weather');
  const args = events.filter((e) => e.type === 'tool_call_delta' && e.index === start.index);
  assert.deepEqual(args.map((e) => (e.type === 'tool_call_delta' ? JSON.parse(e.argumentsDelta) : null)), [{ city: 'Rome' }]);
  assert.deepEqual(events.at(-1), { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 2, outputTokens: 8 } });
  const text = events.filter((e) => e.type === 'text_delta').map((e) => (e.type === 'text_delta' ? e.text : '')).join('');
  assert.equal(text, 'Let me check.');

  await provider.complete(chat([
    ...hello.messages,
    { role: 'assistant', content: [{ type: 'text', text }, { type: 'tool_call', id: start.id, name: start.name, arguments: '{"city":"Rome"}' }] },
    { role: 'user', content: [{ type: 'tool_result', toolCallId: start.id, content: [{ type: 'text', text: 'warm' }] }] },
  ]), opts());
  const model = fake.requests.at(-1)!.body.contents[1];
  assert.equal(model.parts[1].thoughtSignature, FAKE_GEMINI_SIGNATURE);
});

test('429 with Retry-After is RATE_LIMITED with the wait', async () => {
  fake.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '7' }, message: 'Resource has been exhausted' });
  await assert.rejects(provider.complete(hello, opts()), code('RATE_LIMITED', (e) => e.retryAfter === 7 && e.details?.retryable === true && e.details?.upstreamStatus === 429));
});

test('500 is a retryable UPSTREAM_FAILED, 503 is UPSTREAM_UNAVAILABLE, 400 is UPSTREAM_REJECTED', async () => {
  fake.enqueue({ kind: 'status', status: 500 });
  await assert.rejects(provider.complete(hello, opts()), code('UPSTREAM_FAILED', (e) => e.details?.retryable === true && e.details?.upstreamStatus === 500));
  fake.enqueue({ kind: 'status', status: 503, message: 'The model is overloaded.' });
  await assert.rejects(collect(provider.stream({ ...hello, stream: true }, opts())), code('UPSTREAM_UNAVAILABLE', (e) => e.details?.retryable === true));
  fake.enqueue({ kind: 'status', status: 400, message: 'Invalid JSON payload received.' });
  await assert.rejects(provider.complete(hello, opts()), code('UPSTREAM_REJECTED', (e) => e.status === 400 && e.details?.retryable === false));
});

test('a hang past the first-byte timeout is UPSTREAM_TIMEOUT', async () => {
  const short = { ...timeouts, firstByteMs: 150 };
  fake.enqueue({ kind: 'hang' });
  await assert.rejects(provider.complete(hello, opts({ timeouts: short })), code('UPSTREAM_TIMEOUT', (e) => e.details?.retryable === true));
  fake.enqueue({ kind: 'stall_after_headers' });
  await assert.rejects(collect(provider.stream({ ...hello, stream: true }, opts({ timeouts: short }))), code('UPSTREAM_TIMEOUT'));
});

test('a reset connection is a retryable UPSTREAM_FAILED', async () => {
  fake.enqueue({ kind: 'reset' });
  await assert.rejects(provider.complete(hello, opts()), code('UPSTREAM_FAILED', (e) => e.details?.retryable === true));
  fake.enqueue({ kind: 'reset' });
  await assert.rejects(collect(provider.stream({ ...hello, stream: true }, opts())), code('UPSTREAM_FAILED', (e) => e.details?.retryable === true));
});

test('garbage bodies and events are UPSTREAM_FAILED', async () => {
  fake.enqueue({ kind: 'garbage' });
  await assert.rejects(provider.complete(hello, opts()), code('UPSTREAM_FAILED', (e) => e.details?.retryable === true));
  fake.enqueue({ kind: 'garbage' });
  await assert.rejects(collect(provider.stream({ ...hello, stream: true }, opts())), code('UPSTREAM_FAILED'));
});

test('a reset mid-stream fails the stream after the events already delivered', async () => {
  fake.enqueue({ kind: 'reset_mid_stream' });
  const got: StreamEvent[] = [];
  await assert.rejects(async () => { for await (const e of provider.stream({ ...hello, stream: true }, opts())) got.push(e); }, code('UPSTREAM_FAILED'));
  assert.deepEqual(got.map((e) => e.type), ['start', 'text_start', 'text_delta']);
  assert.ok(!got.some((e) => e.type === 'finish'));
  fake.enqueue({ kind: 'reset_mid_stream' });
  await assert.rejects(provider.complete(hello, opts()), code('UPSTREAM_FAILED', (e) => e.details?.retryable === true));
});

test('a client abort cancels the upstream request', async () => {
  const ac = new AbortController();
  const before = fake.requests.length;
  const abortedBefore = fake.aborted();
  fake.enqueue({ kind: 'hang' });
  const pending = provider.complete(hello, opts({ signal: ac.signal }));
  await until(() => fake.requests.length > before);
  ac.abort();
  await assert.rejects(pending, code('UPSTREAM_FAILED', (e) => e.details?.clientAborted === true && e.details?.retryable === false));
  await until(() => fake.aborted() > abortedBefore);

  // The same mid-stream: the consumer's abort ends the upstream body too.
  const ac2 = new AbortController();
  fake.enqueue({ kind: 'stall_after_headers' });
  const abortedMid = fake.aborted();
  const it = provider.stream({ ...hello, stream: true }, opts({ signal: ac2.signal }))[Symbol.asyncIterator]();
  const next = it.next();
  await until(() => fake.requests.length > before + 1);
  ac2.abort();
  await assert.rejects(next, code('UPSTREAM_FAILED', (e) => e.details?.clientAborted === true));
  await until(() => fake.aborted() > abortedMid);
});

test('an error event inside a 200 stream is classified by its code', async () => {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Hi"}]}}],"responseId":"e1"}\r\n\r\n');
    res.end('data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  // A base URL that already names the version, and a model spelled as a resource name.
  const p = createGeminiProvider({ name: 'gem2', kind: 'gemini', baseUrl: `http://127.0.0.1:${port}/v1beta/`, timeouts });
  try {
    const got: StreamEvent[] = [];
    await assert.rejects(async () => {
      for await (const e of p.stream({ ...hello, stream: true }, opts({ model: 'models/gemini-2.5-pro' }))) got.push(e);
    }, code('UPSTREAM_UNAVAILABLE', (e) => e.details?.upstreamStatus === 503));
    assert.deepEqual(got.map((e) => e.type), ['start', 'text_start', 'text_delta']);
    assert.deepEqual(paths, ['/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse']);
  } finally {
    await p.close?.();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
