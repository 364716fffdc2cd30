import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import OpenAI from 'openai';
import { RedlineError } from '../errors.js';
import {
  OpenAIStreamDecoder, OpenAIStreamEncoder, fromOpenAIChatResponse, parseOpenAIChatRequest,
  renderOpenAIChatResponse, toOpenAIChatBody,
} from './openai.js';
import { parseSse } from './sse.js';
import type { ChatRequest, ChatResponse, Message, StreamEvent } from './types.js';

function invalid(body: unknown): RedlineError {
  try {
    parseOpenAIChatRequest(body);
  } catch (e) {
    assert.ok(e instanceof RedlineError, `expected RedlineError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected INVALID_REQUEST');
}

// ---------------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------------

test('parses a full conversation: system/developer, images, tool calls, merged tool results', () => {
  const req = parseOpenAIChatRequest({
    model: 'gpt-4.1',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }, { type: 'text', text: 'No emoji.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      { role: 'user', content: 'thanks' },
    ],
    tools: [
      { type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'get_time' } },
    ],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 50,
    max_completion_tokens: 100,
    temperature: 0.2,
    top_p: 0.9,
    stop: 'END',
    stream: true,
    stream_options: { include_usage: true },
    parallel_tool_calls: false,
    user: 'analyst-7',
    logit_bias: { 50256: -100 },
    some_future_field: { nested: true },
  });
  const expected: ChatRequest = {
    model: 'gpt-4.1',
    system: 'Be brief.\n\nUse metric.\nNo emoji.',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'Weather here?' }, { type: 'image', url: 'data:image/png;base64,AAAA', detail: 'low' }] },
      { role: 'assistant', content: [
        { type: 'tool_call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'tool_call', id: 'call_2', name: 'get_time', arguments: '{}' },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', toolCallId: 'call_1', content: [{ type: 'text', text: '18C' }] },
        { type: 'tool_result', toolCallId: 'call_2', content: [{ type: 'text', text: '12:00' }] },
      ] },
      { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
    ],
    tools: [
      { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'get_time', parameters: { type: 'object', properties: {} } },
    ],
    toolChoice: { type: 'tool', name: 'get_weather' },
    maxTokens: 100,
    temperature: 0.2,
    topP: 0.9,
    stop: ['END'],
    stream: true,
    includeUsage: true,
    parallelToolCalls: false,
    user: 'analyst-7',
  };
  assert.deepEqual(req, expected);
});

test('null for unset optional fields is accepted, as OpenAI accepts it', () => {
  const req = parseOpenAIChatRequest({
    model: 'm', messages: [{ role: 'user', content: 'hi' }],
    temperature: null, top_p: null, stop: null, tools: null, tool_choice: null, stream: null, n: null, user: null, max_tokens: null,
  });
  assert.deepEqual(req, { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], stream: false });
});

test('tool_choice strings and max_tokens alone', () => {
  const tools = [{ type: 'function', function: { name: 'f' } }];
  for (const c of ['auto', 'none', 'required'] as const) {
    const req = parseOpenAIChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], tools, tool_choice: c, max_tokens: 7 });
    assert.deepEqual(req.toolChoice, { type: c });
    assert.equal(req.maxTokens, 7);
  }
});

test('a tool choice must name an offered tool, and "required" needs tools: 400 naming tool_choice', () => {
  const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
  const tools = [{ type: 'function', function: { name: 'f' } }];
  const refused = (body: Record<string, unknown>, why: RegExp) => assert.throws(() => parseOpenAIChatRequest({ ...base, ...body }),
    (e: RedlineError) => e.code === 'INVALID_REQUEST' && e.param === 'tool_choice' && why.test(e.message));
  refused({ tool_choice: 'required' }, /no tools were offered/);
  refused({ tools, tool_choice: { type: 'function', function: { name: 'g' } } }, /"g", which is not among/);
  assert.deepEqual(parseOpenAIChatRequest({ ...base, tools, tool_choice: { type: 'function', function: { name: 'f' } } }).toolChoice, { type: 'tool', name: 'f' });
  assert.deepEqual(parseOpenAIChatRequest({ ...base, tool_choice: 'none' }).toolChoice, { type: 'none' });
});

test('a tool message after a user text message starts a new user message', () => {
  const req = parseOpenAIChatRequest({
    model: 'm',
    messages: [
      { role: 'assistant', content: 'calling', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'user', content: 'interject' },
      { role: 'tool', tool_call_id: 'a', content: 'r' },
    ],
  });
  assert.equal(req.messages.length, 3);
  assert.deepEqual(req.messages[0]!.content[0], { type: 'text', text: 'calling' });
  assert.deepEqual(req.messages[2]!.content, [{ type: 'tool_result', toolCallId: 'a', content: [{ type: 'text', text: 'r' }] }]);
});

test('invalid requests name the offending path and never echo prompt text', () => {
  const secret = 'TOP-SECRET-PROMPT';
  const cases: Array<[unknown, string | undefined]> = [
    [null, undefined],
    [[{ model: 'm' }], undefined],
    ['text', undefined],
    [{ messages: [{ role: 'user', content: secret }] }, 'model'],
    [{ model: 5, messages: [{ role: 'user', content: secret }] }, 'model'],
    [{ model: 'm' }, 'messages'],
    [{ model: 'm', messages: [] }, 'messages'],
    [{ model: 'm', messages: {} }, 'messages'],
    [{ model: 'm', messages: [{ role: 'user', content: secret }, { role: 'wizard', content: secret }] }, 'messages[1].role'],
    [{ model: 'm', messages: [{ content: secret }] }, 'messages[0].role'],
    [{ model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content'],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: secret }, { type: 'text', text: 7 }] }] }, 'messages[0].content[1].text'],
    [{ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: secret } }] }] }, 'messages[0].content[0].type'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }, { role: 'user', content: 'y' }, { role: 'assistant', content: null }] }, 'messages[2].content'],
    [{ model: 'm', messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { arguments: '{}' } }] }] }, 'messages[0].tool_calls[0].function.name'],
    [{ model: 'm', messages: [{ role: 'tool', content: secret }] }, 'messages[0].tool_call_id'],
    [{ model: 'm', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 }, 'n'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], top_p: -1 }, 'top_p'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1.5 }, 'max_tokens'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], stop: [secret, 3] }, 'stop[1]'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'custom', custom: { name: 'f' } }] }, 'tools[0].type'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], tool_choice: 'sometimes' }, 'tool_choice'],
    [{ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, 'stream'],
  ];
  for (const [body, param] of cases) {
    const e = invalid(body);
    assert.equal(e.code, 'INVALID_REQUEST', JSON.stringify(body));
    assert.equal(e.param, param, `param for ${JSON.stringify(body)}: ${e.message}`);
    if (param) assert.ok(e.message.startsWith(`${param}: `), e.message);
    assert.ok(!e.message.includes(secret), e.message);
    assert.ok(!e.message.includes('Invalid input'), e.message);
  }
  assert.match(invalid({ model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 }).message, /not supported/);
});

test('any JSON value either parses or fails with INVALID_REQUEST', () => {
  const msg = fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'x'), content: fc.jsonValue(), tool_call_id: fc.option(fc.string()), tool_calls: fc.option(fc.jsonValue()) }, { requiredKeys: ['role'] });
  const body = fc.oneof(
    fc.jsonValue(),
    fc.record({ model: fc.oneof(fc.string(), fc.jsonValue()), messages: fc.oneof(fc.array(msg, { maxLength: 4 }), fc.jsonValue()), tools: fc.jsonValue(), stop: fc.jsonValue() }, { requiredKeys: [] }),
  );
  fc.assert(fc.property(body, (b) => {
    try {
      const r = parseOpenAIChatRequest(b);
      assert.equal(typeof r.model, 'string');
      assert.ok(Array.isArray(r.messages));
    } catch (e) {
      assert.ok(e instanceof RedlineError && e.code === 'INVALID_REQUEST', String(e));
    }
  }), { numRuns: 500 });
});

// ---------------------------------------------------------------------------------------------
// Provider-side body, and the round trip back through the client-side parser
// ---------------------------------------------------------------------------------------------

test('toOpenAIChatBody puts the system first, tool results as tool messages before the rest of the turn', () => {
  const body = toOpenAIChatBody({
    model: 'alias',
    system: 'sys',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'q' }] },
      { role: 'assistant', content: [{ type: 'tool_call', id: 'c1', name: 'f', arguments: '{"a":1}' }] },
      { role: 'user', content: [
        { type: 'text', text: 'also this' },
        { type: 'tool_result', toolCallId: 'c1', content: [{ type: 'text', text: 'r1' }, { type: 'image', url: 'https://x/i.png' }] },
      ] },
    ],
    tools: [{ name: 'f', parameters: { type: 'object' } }],
    toolChoice: { type: 'required' },
    maxTokens: 10,
    stream: true,
    includeUsage: false,
    parallelToolCalls: true,
    stop: ['a', 'b'],
  }, 'gpt-4.1-mini');
  assert.deepEqual(body, {
    model: 'gpt-4.1-mini',
    messages: [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'r1' },
      { role: 'user', content: [{ type: 'text', text: 'also this' }, { type: 'image_url', image_url: { url: 'https://x/i.png' } }] },
    ],
    tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    tool_choice: 'required',
    max_completion_tokens: 10,
    stop: ['a', 'b'],
    stream: true,
    stream_options: { include_usage: true },
    parallel_tool_calls: true,
  });
  const compat = toOpenAIChatBody({ model: 'x', messages: [], maxTokens: 5, stream: false }, 'llama', { maxTokensField: 'max_tokens' });
  assert.equal(compat.max_tokens, 5);
  assert.equal(compat.max_completion_tokens, undefined);
  assert.equal(compat.stream_options, undefined);
});

// Canonical requests in the normal form the OpenAI format can express exactly. (A top-level
// `__proto__` key in a tool's parameters is dropped by zod on parsing, deliberately not generated.)
const word = fc.string({ minLength: 1, maxLength: 12 });
const textPart = word.map((text) => ({ type: 'text' as const, text }));
const imagePart = fc.record({ type: fc.constant('image' as const), url: fc.webUrl(), detail: fc.constantFrom('low', 'high', 'auto') }, { requiredKeys: ['type', 'url'] });
const userMsg: fc.Arbitrary<Message> = fc.oneof(
  fc.array(fc.oneof(textPart, imagePart), { minLength: 1, maxLength: 3 }).map((content) => ({ role: 'user' as const, content })),
  fc.array(fc.record({ type: fc.constant('tool_result' as const), toolCallId: word, content: textPart.map((t) => [t]) }), { minLength: 1, maxLength: 3 })
    .map((content) => ({ role: 'user' as const, content })),
);
const assistantMsg: fc.Arbitrary<Message> = fc.record({
  text: fc.option(word, { nil: undefined }),
  calls: fc.array(fc.record({ type: fc.constant('tool_call' as const), id: word, name: word, arguments: fc.json() }), { maxLength: 2 }),
}).filter((a) => a.text !== undefined || a.calls.length > 0)
  .map((a) => ({ role: 'assistant' as const, content: [...(a.text !== undefined ? [{ type: 'text' as const, text: a.text }] : []), ...a.calls] }));
const canonicalRequest: fc.Arbitrary<ChatRequest> = fc.record({
  model: word,
  system: word,
  // No two tool-result turns in a row: the format cannot tell them apart from one turn.
  messages: fc.array(fc.oneof(userMsg, assistantMsg), { minLength: 1, maxLength: 6 }).filter((ms) => ms.every((m, i) => {
    const prev = ms[i - 1];
    const isTools = (x: Message | undefined) => x?.role === 'user' && x.content[0]?.type === 'tool_result';
    return !(isTools(m) && isTools(prev));
  })),
  tools: fc.array(fc.record({ name: word, description: word, parameters: fc.dictionary(word.filter((k) => k !== '__proto__'), fc.jsonValue()) }, { requiredKeys: ['name', 'parameters'] }), { minLength: 1, maxLength: 2 }),
  toolChoice: fc.oneof(fc.constantFrom({ type: 'auto' as const }, { type: 'none' as const }, { type: 'required' as const }), word.map((name) => ({ type: 'tool' as const, name }))),
  maxTokens: fc.integer({ min: 1, max: 100_000 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  topP: fc.double({ min: 0, max: 1, noNaN: true }),
  stop: fc.array(word, { minLength: 1, maxLength: 4 }),
  stream: fc.boolean(),
  parallelToolCalls: fc.boolean(),
  user: word,
}, { requiredKeys: ['model', 'messages', 'stream'] }).map((r) => {
  const out: ChatRequest = { ...r };
  if (r.stream) out.includeUsage = true;
  if (!r.tools) delete out.parallelToolCalls;
  // A well-formed request names an offered tool, and asks for one only when some are offered.
  if (r.toolChoice?.type === 'tool' && r.tools) out.toolChoice = { type: 'tool', name: r.tools[0]!.name };
  else if ((r.toolChoice?.type === 'tool' || r.toolChoice?.type === 'required') && !r.tools) delete out.toolChoice;
  return out;
});

test('canonical → toOpenAIChatBody → parseOpenAIChatRequest is the identity (property)', () => {
  fc.assert(fc.property(canonicalRequest, (req) => {
    const back = parseOpenAIChatRequest(JSON.parse(JSON.stringify(toOpenAIChatBody(req, req.model))));
    // The JSON trip gives plain prototypes to the null-prototype dictionaries fast-check generates.
    assert.deepEqual(back, JSON.parse(JSON.stringify(req)));
  }), { numRuns: 300 });
});

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

test('renderOpenAIChatResponse builds a chat.completion with mapped finish reasons', () => {
  const res: ChatResponse = {
    id: 'up-1', model: 'up-model',
    content: [{ type: 'text', text: 'Let me ' }, { type: 'text', text: 'check.' }, { type: 'tool_call', id: 'c', name: 'f', arguments: '{"x":1}' }],
    stopReason: 'tool_use',
    usage: { inputTokens: 11, outputTokens: 4 },
  };
  assert.deepEqual(renderOpenAIChatResponse(res, { id: 'chatcmpl-rl1', model: 'alias', created: 1700000000 }), {
    id: 'chatcmpl-rl1', object: 'chat.completion', created: 1700000000, model: 'alias',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: 'Let me check.', refusal: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
      logprobs: null, finish_reason: 'tool_calls',
    }],
    usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
  });
  const map: Record<string, string> = { end: 'stop', max_tokens: 'length', tool_use: 'tool_calls', stop_sequence: 'stop', content_filter: 'content_filter', refusal: 'content_filter' };
  for (const [stopReason, finish] of Object.entries(map)) {
    const r = renderOpenAIChatResponse({ ...res, content: [], stopReason: stopReason as ChatResponse['stopReason'] }, { id: 'i', model: 'm', created: 1 }) as { choices: Array<{ finish_reason: string; message: { content: unknown; tool_calls?: unknown } }> };
    assert.equal(r.choices[0]!.finish_reason, finish);
    assert.equal(r.choices[0]!.message.content, null);
    assert.equal('tool_calls' in r.choices[0]!.message, false);
  }
});

test('render → fromOpenAIChatResponse round-trips the canonical response', () => {
  const cases: ChatResponse[] = [
    { id: 'a', model: 'm', content: [{ type: 'text', text: 'hello' }], stopReason: 'end', usage: { inputTokens: 3, outputTokens: 1 } },
    { id: 'b', model: 'm', content: [{ type: 'text', text: 'cut' }], stopReason: 'max_tokens', usage: { inputTokens: 3, outputTokens: 1 } },
    { id: 'c', model: 'm', content: [{ type: 'tool_call', id: 'x', name: 'f', arguments: '{}' }, { type: 'tool_call', id: 'y', name: 'g', arguments: '{"q":[1]}' }], stopReason: 'tool_use', usage: { inputTokens: 0, outputTokens: 9 } },
    { id: 'd', model: 'm', content: [], stopReason: 'content_filter', usage: { inputTokens: 1, outputTokens: 0 } },
  ];
  for (const c of cases) {
    assert.deepEqual(fromOpenAIChatResponse(renderOpenAIChatResponse(c, { id: c.id, model: c.model, created: 0 }), 'p'), c);
  }
});

test('fromOpenAIChatResponse tolerates compatible-server variations', () => {
  const r = fromOpenAIChatResponse({
    choices: [{ message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'f', arguments: { a: 1 } } }] }, finish_reason: 'stop' }],
  }, 'ollama');
  assert.deepEqual(r, { id: '', model: '', content: [{ type: 'tool_call', id: 'call_0', name: 'f', arguments: '{"a":1}' }], stopReason: 'tool_use', usage: { inputTokens: 0, outputTokens: 0 } });
  const refusal = fromOpenAIChatResponse({ id: 'x', model: 'm', choices: [{ message: { content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }] }, 'openai');
  assert.equal(refusal.stopReason, 'refusal');
  assert.deepEqual(refusal.content, [{ type: 'text', text: 'I cannot help with that.' }]);
});

test('malformed upstream completions are retryable UPSTREAM_FAILED', () => {
  for (const bad of [null, 'x', [], {}, { choices: [] }, { choices: [{}] }, { choices: [{ message: { content: 5 } }] }, { choices: [{ message: { tool_calls: [{ function: {} }] } }] }, { error: { message: 'overloaded', type: 'server_error' } }]) {
    assert.throws(() => fromOpenAIChatResponse(bad, 'p'), (e: unknown) => {
      assert.ok(e instanceof RedlineError);
      assert.equal(e.code, 'UPSTREAM_FAILED');
      assert.deepEqual(e.details, { provider: 'p', retryable: true });
      return true;
    }, JSON.stringify(bad));
  }
});

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

function chunk(delta: Record<string, unknown> | null, finish: string | null = null, extra: Record<string, unknown> = {}) {
  return { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', system_fingerprint: 'fp', choices: delta ? [{ index: 0, delta, logprobs: null, finish_reason: finish }] : [], ...extra };
}

// Argument fragments as in the OpenAI function-calling guide's streaming example (Python SDK dump,
// with explicit nulls for the fields a continuation fragment leaves out).
const weatherCall = [
  chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', function: { arguments: '', name: 'get_weather' }, type: 'function' }] }, null, { usage: null }),
  ...['{"', 'location', '":"', 'Paris', ',', ' France', '"}'].map((a) => chunk({ tool_calls: [{ index: 0, id: null, function: { arguments: a, name: null }, type: null }] }, null, { usage: null })),
  chunk({}, 'tool_calls', { usage: null }),
  chunk(null, null, { usage: { prompt_tokens: 70, completion_tokens: 15, total_tokens: 85 } }),
];

function decodeAll(chunks: unknown[]): StreamEvent[] {
  const d = new OpenAIStreamDecoder('openai');
  return [...chunks.flatMap((c) => d.push(c)), ...d.end()];
}

test('decoder: text then two parallel tool calls, usage after finish', () => {
  const events = decodeAll([
    chunk({ role: 'assistant', content: '' }),
    chunk({ content: 'Checking' }),
    chunk({ content: ' both.' }),
    chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
    chunk({ tool_calls: [{ index: 0, function: { arguments: '"Oslo"}' } }] }),
    chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } }] }),
    chunk({}, 'tool_calls'),
    chunk(null, null, { usage: { prompt_tokens: 20, completion_tokens: 9, total_tokens: 29 } }),
  ]);
  assert.deepEqual(events, [
    { type: 'start', id: 'chatcmpl-9', model: 'gpt-4o' },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Checking' },
    { type: 'text_delta', index: 0, text: ' both.' },
    { type: 'block_stop', index: 0 },
    { type: 'tool_call_start', index: 1, id: 'call_a', name: 'weather' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: '{"city":' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: '"Oslo"}' },
    { type: 'block_stop', index: 1 },
    { type: 'tool_call_start', index: 2, id: 'call_b', name: 'time' },
    { type: 'tool_call_delta', index: 2, argumentsDelta: '{}' },
    { type: 'block_stop', index: 2 },
    { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 20, outputTokens: 9 } },
  ]);
});

test('decoder: the recorded weather-call fragments reassemble exactly', () => {
  const events = decodeAll(weatherCall);
  const args = events.filter((e) => e.type === 'tool_call_delta').map((e) => (e as { argumentsDelta: string }).argumentsDelta).join('');
  assert.deepEqual(JSON.parse(args), { location: 'Paris, France' });
  assert.deepEqual(events[1], { type: 'tool_call_start', index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather' });
  assert.deepEqual(events.at(-1), { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 70, outputTokens: 15 } });
  assert.equal(events.filter((e) => e.type === 'finish').length, 1);
});

test('decoder: sparse and odd chunks, and end() without any finish_reason', () => {
  const d = new OpenAIStreamDecoder('vllm');
  const events = [
    ...d.push({ choices: [] }),
    ...d.push({ choices: [{ delta: { content: 'a' } }] }),
    ...d.push('not an object'),
    ...d.push({ choices: [{ index: 0 }] }),
    ...d.push({ choices: [{ index: 1, delta: { content: 'other choice' } }] }),
    ...d.push({ choices: [{ index: 0, delta: { content: 'b', reasoning_content: 'hidden' } }] }),
  ];
  assert.equal(d.sawFinishReason, false);
  events.push(...d.end());
  assert.deepEqual(events, [
    { type: 'start', id: '', model: '' },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'a' },
    { type: 'text_delta', index: 0, text: 'b' },
    { type: 'block_stop', index: 0 },
    { type: 'finish', stopReason: 'end', usage: { inputTokens: 0, outputTokens: 0 } },
  ]);
  assert.deepEqual(d.end(), []);
  assert.deepEqual(d.push(chunk({ content: 'late' })), []);
});

test('decoder: whole tool calls without index (compatible servers) and length finish', () => {
  const events = decodeAll([
    { id: 'x', model: 'llama', choices: [{ index: 0, delta: { role: 'assistant', tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{"a":1}' } }, { id: 'c2', function: { name: 'g', arguments: '{}' } }] } }] },
    { id: 'x', model: 'llama', choices: [{ index: 0, delta: {}, finish_reason: 'length' }], usage: { prompt_tokens: 5, completion_tokens: 6 } },
  ]);
  assert.deepEqual(events.filter((e) => e.type === 'tool_call_start'), [
    { type: 'tool_call_start', index: 0, id: 'c1', name: 'f' },
    { type: 'tool_call_start', index: 1, id: 'c2', name: 'g' },
  ]);
  assert.deepEqual(events.at(-1), { type: 'finish', stopReason: 'max_tokens', usage: { inputTokens: 5, outputTokens: 6 } });
});

test('decoder: a fragment for a finished tool call is an upstream failure, not silent corruption', () => {
  const d = new OpenAIStreamDecoder('p');
  d.push(chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '' } }] }));
  d.push(chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '' } }] }));
  assert.throws(() => d.push(chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] })), (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_FAILED');
});

const chunkArb = fc.oneof(
  fc.jsonValue(),
  fc.record({
    id: fc.option(fc.string()),
    usage: fc.option(fc.record({ prompt_tokens: fc.nat(), completion_tokens: fc.nat() })),
    choices: fc.array(fc.record({
      index: fc.option(fc.nat({ max: 1 }), { nil: undefined }),
      finish_reason: fc.option(fc.constantFrom('stop', 'length', 'tool_calls', 'content_filter')),
      delta: fc.record({
        content: fc.option(fc.string({ maxLength: 3 })),
        tool_calls: fc.array(fc.record({ index: fc.option(fc.nat({ max: 2 }), { nil: undefined }), id: fc.option(fc.string({ maxLength: 3 })), function: fc.record({ name: fc.option(fc.string({ maxLength: 3 })), arguments: fc.option(fc.string({ maxLength: 3 })) }, { requiredKeys: [] }) }, { requiredKeys: [] }), { maxLength: 2 }),
      }, { requiredKeys: [] }),
    }, { requiredKeys: [] }), { maxLength: 2 }),
  }, { requiredKeys: [] }),
);

/** Checks the StreamEvent contract: one start first, blocks started before deltas, stopped once, one finish last. */
function assertWellFormed(events: StreamEvent[]): void {
  assert.equal(events[0]?.type, 'start');
  assert.equal(events.filter((e) => e.type === 'start').length, 1);
  assert.equal(events.at(-1)?.type, 'finish');
  assert.equal(events.filter((e) => e.type === 'finish').length, 1);
  const state = new Map<number, 'text' | 'tool' | 'stopped'>();
  for (const e of events) {
    if (e.type === 'text_start' || e.type === 'tool_call_start') {
      assert.equal(state.has(e.index), false, `block ${e.index} started twice`);
      state.set(e.index, e.type === 'text_start' ? 'text' : 'tool');
    } else if (e.type === 'text_delta') assert.equal(state.get(e.index), 'text');
    else if (e.type === 'tool_call_delta') assert.equal(state.get(e.index), 'tool');
    else if (e.type === 'block_stop') {
      assert.ok(state.get(e.index) === 'text' || state.get(e.index) === 'tool', `block ${e.index} stopped while ${state.get(e.index)}`);
      state.set(e.index, 'stopped');
    }
  }
  for (const [i, s] of state) assert.equal(s, 'stopped', `block ${i} never stopped`);
  assert.deepEqual([...state.keys()], [...state.keys()].map((_, i) => i), 'block indices are 0..n-1 in order');
}

test('decoder: any chunk sequence yields a well-formed event stream or an UPSTREAM_FAILED (property)', () => {
  fc.assert(fc.property(fc.array(chunkArb, { maxLength: 8 }), (chunks) => {
    const d = new OpenAIStreamDecoder('p');
    const events: StreamEvent[] = [];
    try {
      for (const c of chunks) events.push(...d.push(c));
    } catch (e) {
      assert.ok(e instanceof RedlineError && e.code === 'UPSTREAM_FAILED', String(e));
      return;
    }
    events.push(...d.end());
    assertWellFormed(events);
  }), { numRuns: 500 });
});

async function sseChunks(text: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const ev of parseSse((async function* () { yield text; })())) out.push(ev.data === '[DONE]' ? '[DONE]' : JSON.parse(ev.data));
  return out;
}

test('encoder: chunk shapes, tool ordinals, usage chunk, [DONE]', async () => {
  const enc = new OpenAIStreamEncoder({ id: 'chatcmpl-rl', model: 'alias', created: 42, includeUsage: true });
  const events: StreamEvent[] = [
    { type: 'start', id: 'up', model: 'up-model' },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Hi' },
    { type: 'block_stop', index: 0 },
    { type: 'tool_call_start', index: 1, id: 'c', name: 'f' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: '{}' },
    { type: 'block_stop', index: 1 },
    { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 2, outputTokens: 3 } },
  ];
  const outs = events.map((e) => enc.encode(e));
  assert.equal(outs[1], '');
  assert.equal(outs[3], '');
  for (const o of outs) if (o !== '') assert.match(o, /^data: \{.*\}\n\n(data: \{.*\}\n\n)?$/);
  const chunks = await sseChunks(outs.join('') + enc.end());
  const env = { id: 'chatcmpl-rl', object: 'chat.completion.chunk', created: 42, model: 'alias' };
  const c = (delta: unknown, finish: string | null = null) => ({ ...env, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null });
  assert.deepEqual(chunks, [
    c({ role: 'assistant', content: '' }),
    c({ content: 'Hi' }),
    c({ tool_calls: [{ index: 0, id: 'c', type: 'function', function: { name: 'f', arguments: '' } }] }),
    c({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
    c({}, 'tool_calls'),
    { ...env, choices: [], usage: { prompt_tokens: 2, completion_tokens: 3, total_tokens: 5 } },
    '[DONE]',
  ]);
  assert.equal(enc.encode({ type: 'text_delta', index: 0, text: 'after finish' }), '');
});

test('encoder without includeUsage sends no usage field; role rides on the first chunk even without start', async () => {
  const enc = new OpenAIStreamEncoder({ id: 'i', model: 'm', created: 1, includeUsage: false });
  const chunks = await sseChunks(enc.encode({ type: 'text_delta', index: 0, text: 'x' }) + enc.encode({ type: 'finish', stopReason: 'max_tokens', usage: { inputTokens: 1, outputTokens: 1 } }) + enc.end());
  assert.deepEqual(chunks, [
    { id: 'i', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { role: 'assistant', content: 'x' }, logprobs: null, finish_reason: null }] },
    { id: 'i', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'length' }] },
    '[DONE]',
  ]);
});

test('decoder → encoder → decoder reproduces the canonical events (property)', async () => {
  await fc.assert(fc.asyncProperty(fc.array(chunkArb, { maxLength: 8 }), async (chunks) => {
    const d1 = new OpenAIStreamDecoder('p');
    let first: StreamEvent[];
    try {
      first = [...chunks.flatMap((c) => d1.push(c)), ...d1.end()];
    } catch {
      return;
    }
    const enc = new OpenAIStreamEncoder({ id: 'id', model: 'm', created: 1, includeUsage: true });
    const wire = first.map((e) => enc.encode(e)).join('') + enc.end();
    const again = (await sseChunks(wire)).filter((c) => c !== '[DONE]');
    const second = decodeAll(again);
    const norm = (es: StreamEvent[]) => es.map((e): StreamEvent => (e.type === 'start' ? { type: 'start', id: '', model: '' } : e))
      // Empty text deltas carry nothing and are not re-sent.
      .filter((e) => !(e.type === 'text_delta' && e.text === ''));
    // Blocks opened with no content at all (a text_start with no text) cannot be seen on the wire.
    const contentful = (es: StreamEvent[]) => norm(es).filter((e, _i, all) => {
      if (e.type !== 'text_start' && e.type !== 'block_stop') return true;
      return all.some((x) => x.type === 'text_delta' && x.index === e.index) || all.some((x) => x.type === 'tool_call_start' && x.index === e.index);
    });
    // A tool call that had no argument text is sent with "{}" (clients parse what they accumulate).
    const argless = new Set(first.filter((e) => e.type === 'tool_call_start').map((e) => e.index)
      .filter((i) => !first.some((e) => e.type === 'tool_call_delta' && e.index === i && e.argumentsDelta !== '')));
    const filled = second.filter((e) => e.type === 'tool_call_delta' && argless.has(e.index));
    assert.deepEqual(filled.map((e) => (e as { argumentsDelta: string }).argumentsDelta), [...argless].map(() => '{}'));
    assert.deepEqual(contentful(second.filter((e) => !filled.includes(e))), contentful(first));
  }), { numRuns: 300 });
});

// ---------------------------------------------------------------------------------------------
// The official `openai` SDK reads what we render
// ---------------------------------------------------------------------------------------------

async function serve(handler: (body: any) => { status?: number; contentType: string; payload: string }): Promise<{ server: Server; baseURL: string; bodies: any[] }> {
  const bodies: any[] = [];
  const server = createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = JSON.parse(raw);
    bodies.push(body);
    const r = handler(body);
    res.writeHead(r.status ?? 200, { 'content-type': r.contentType });
    res.end(r.payload);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, bodies };
}

const sdkEvents: StreamEvent[] = [
  { type: 'start', id: 'u', model: 'u' },
  { type: 'text_start', index: 0 },
  { type: 'text_delta', index: 0, text: 'Looking ' },
  { type: 'text_delta', index: 0, text: 'that up.' },
  { type: 'block_stop', index: 0 },
  { type: 'tool_call_start', index: 1, id: 'call_1', name: 'lookup' },
  { type: 'tool_call_delta', index: 1, argumentsDelta: '{"q":' },
  { type: 'tool_call_delta', index: 1, argumentsDelta: '"grid 7"}' },
  { type: 'block_stop', index: 1 },
  { type: 'tool_call_start', index: 2, id: 'call_2', name: 'map' },
  { type: 'tool_call_delta', index: 2, argumentsDelta: '{}' },
  { type: 'block_stop', index: 2 },
  { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 12, outputTokens: 8 } },
];

test('the openai SDK parses OpenAIStreamEncoder output (create stream and the stream() accumulator)', async () => {
  const { server, baseURL, bodies } = await serve((body) => {
    const enc = new OpenAIStreamEncoder({ id: 'chatcmpl-sdk', model: body.model, created: 1700000000, includeUsage: body.stream_options?.include_usage === true });
    return { contentType: 'text/event-stream', payload: sdkEvents.map((e) => enc.encode(e)).join('') + enc.end() };
  });
  try {
    const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } });
    let text = '';
    const args: string[] = [];
    let finish: string | null = null;
    let usage: unknown;
    for await (const c of stream) {
      assert.equal(c.object, 'chat.completion.chunk');
      if (c.usage) usage = c.usage;
      const ch = c.choices[0];
      if (!ch) continue;
      text += ch.delta.content ?? '';
      for (const tc of ch.delta.tool_calls ?? []) args[tc.index] = (args[tc.index] ?? '') + (tc.function?.arguments ?? '');
      finish = ch.finish_reason ?? finish;
    }
    assert.equal(text, 'Looking that up.');
    assert.deepEqual(args.map((a) => JSON.parse(a)), [{ q: 'grid 7' }, {}]);
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(usage, { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 });

    const final = await client.chat.completions.stream({ model: 'alias', messages: [{ role: 'user', content: 'go' }] }).finalChatCompletion();
    const msg = final.choices[0]!.message;
    assert.equal(msg.content, 'Looking that up.');
    assert.deepEqual(msg.tool_calls?.map((t) => t.type === 'function' && [t.id, t.function.name, JSON.parse(t.function.arguments)]), [['call_1', 'lookup', { q: 'grid 7' }], ['call_2', 'map', {}]]);
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(bodies.length, 2);
  } finally {
    server.close();
  }
});

test('the openai SDK parses renderOpenAIChatResponse output', async () => {
  const res: ChatResponse = {
    id: 'u', model: 'u',
    content: [{ type: 'text', text: 'Done.' }, { type: 'tool_call', id: 'call_9', name: 'notify', arguments: '{"to":"ops"}' }],
    stopReason: 'tool_use', usage: { inputTokens: 5, outputTokens: 6 },
  };
  const { server, baseURL } = await serve((body) => ({ contentType: 'application/json', payload: JSON.stringify(renderOpenAIChatResponse(res, { id: 'chatcmpl-x', model: body.model, created: 1700000000 })) }));
  try {
    const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
    const out = await client.chat.completions.create({ model: 'alias', messages: [{ role: 'user', content: 'go' }] });
    assert.equal(out.id, 'chatcmpl-x');
    assert.equal(out.model, 'alias');
    assert.equal(out.choices[0]!.message.content, 'Done.');
    const tc = out.choices[0]!.message.tool_calls?.[0];
    assert.ok(tc && tc.type === 'function');
    assert.deepEqual([tc.id, tc.function.name, JSON.parse(tc.function.arguments)], ['call_9', 'notify', { to: 'ops' }]);
    assert.equal(out.usage?.total_tokens, 11);
  } finally {
    server.close();
  }
});

test('requests the openai SDK sends parse cleanly', async () => {
  const { server, baseURL, bodies } = await serve(() => ({ contentType: 'application/json', payload: JSON.stringify(renderOpenAIChatResponse({ id: 'u', model: 'u', content: [{ type: 'text', text: 'ok' }], stopReason: 'end', usage: { inputTokens: 1, outputTokens: 1 } }, { id: 'i', model: 'm', created: 1 })) }));
  try {
    const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
    await client.chat.completions.create({
      model: 'alias',
      messages: [
        { role: 'developer', content: 'rules' },
        { role: 'user', content: [{ type: 'text', text: 'see' }, { type: 'image_url', image_url: { url: 'https://example.org/a.png', detail: 'high' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c', content: 'done' },
      ],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      tool_choice: 'auto',
      max_completion_tokens: 64,
    });
    const req = parseOpenAIChatRequest(bodies[0]);
    assert.equal(req.system, 'rules');
    assert.equal(req.messages.length, 3);
    assert.deepEqual(req.messages[2], { role: 'user', content: [{ type: 'tool_result', toolCallId: 'c', content: [{ type: 'text', text: 'done' }] }] });
    assert.equal(req.maxTokens, 64);
  } finally {
    server.close();
  }
});

test('stream encoder: a tool call that ends without argument text is sent with "{}"', async () => {
  const enc = new OpenAIStreamEncoder({ id: 'id', model: 'm', created: 1, includeUsage: false });
  const events: StreamEvent[] = [
    { type: 'start', id: 'u', model: 'm' },
    { type: 'tool_call_start', index: 0, id: 'c0', name: 'now' }, { type: 'block_stop', index: 0 },
    { type: 'tool_call_start', index: 1, id: 'c1', name: 'f' }, { type: 'tool_call_delta', index: 1, argumentsDelta: '{"x":1}' }, { type: 'block_stop', index: 1 },
    { type: 'tool_call_start', index: 2, id: 'c2', name: 'later' },
    { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 1, outputTokens: 1 } },
  ];
  const chunks = (await sseChunks(events.map((e) => enc.encode(e)).join('') + enc.end())).filter((c) => c !== '[DONE]') as any[];
  const args = new Map<number, string>();
  for (const c of chunks) for (const t of c.choices[0]?.delta?.tool_calls ?? []) args.set(t.index, (args.get(t.index) ?? '') + (t.function?.arguments ?? ''));
  assert.deepEqual(Object.fromEntries(args), { 0: '{}', 1: '{"x":1}', 2: '{}' });
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls', 'the filled arguments come before the finish');
});

test('sampling controls, JSON output and strict tools go from an OpenAI client to an OpenAI-family upstream unchanged', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
  const client = {
    model: 'gw', messages: [{ role: 'user', content: 'weather as JSON' }],
    seed: 42, presence_penalty: 0.5, frequency_penalty: -0.25,
    response_format: { type: 'json_schema', json_schema: { name: 'weather', description: 'a city', schema, strict: true } },
    tools: [{ type: 'function', function: { name: 'lookup', parameters: schema, strict: true } }],
  };
  const req = parseOpenAIChatRequest(client);
  assert.deepEqual([req.seed, req.presencePenalty, req.frequencyPenalty], [42, 0.5, -0.25]);
  assert.deepEqual(req.responseFormat, { type: 'json_schema', name: 'weather', description: 'a city', schema, strict: true });
  const body = toOpenAIChatBody(req, 'gpt-x');
  for (const k of ['seed', 'presence_penalty', 'frequency_penalty', 'response_format'] as const) assert.deepEqual(body[k], client[k], k);
  assert.equal((body.tools as any)[0].function.strict, true);
  assert.deepEqual(toOpenAIChatBody(parseOpenAIChatRequest({ ...client, response_format: { type: 'json_object' } }), 'm').response_format, { type: 'json_object' });
  assert.equal(toOpenAIChatBody(parseOpenAIChatRequest({ ...client, response_format: { type: 'text' } }), 'm').response_format, undefined, 'text is the default');
  assert.throws(() => parseOpenAIChatRequest({ ...client, presence_penalty: 3 }), (e: RedlineError) => e.code === 'INVALID_REQUEST' && /presence_penalty/.test(e.message));
});
