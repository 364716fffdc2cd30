import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import fc from 'fast-check';
import { RedlineError } from '../errors.js';
import { parseSse } from './sse.js';
import type { ChatRequest, ChatResponse, StreamEvent } from './types.js';
import {
  AnthropicStreamDecoder, AnthropicStreamEncoder, anthropicPing, fromAnthropicMessage, parseAnthropicMessagesRequest,
  renderAnthropicMessage, toAnthropicMessagesBody,
} from './anthropic.js';

function invalid(body: unknown, param?: string): RedlineError {
  let caught: unknown;
  try { parseAnthropicMessagesRequest(body); } catch (e) { caught = e; }
  assert.ok(caught instanceof RedlineError, `expected a RedlineError, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_REQUEST');
  assert.equal(caught.status, 400);
  if (param !== undefined) assert.equal(caught.param, param);
  return caught;
}

async function sseEvents(text: string): Promise<Array<{ event: string | undefined; data: any }>> {
  const out: Array<{ event: string | undefined; data: any }> = [];
  for await (const e of parseSse((async function* () { yield text; })())) out.push({ event: e.event, data: JSON.parse(e.data) });
  return out;
}

const base = { model: 'claude-x', max_tokens: 100 };

// --- client side: parsing --------------------------------------------------------------------

test('parses a full request into the canonical shape', () => {
  const req = parseAnthropicMessagesRequest({
    ...base,
    system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }, { type: 'text', text: 'be kind' }],
    messages: [
      { role: 'user', content: 'what is the weather?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'let me look' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo', days: [1, 2] } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'sunny' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'x' }], is_error: true },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
        ],
      },
    ],
    tools: [{ name: 'weather', description: 'forecast', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    stop_sequences: ['END'],
    temperature: 0.2,
    top_p: 0.9,
    stream: true,
    metadata: { user_id: 'u-42' },
    some_future_field: { ignored: true },
  });
  assert.deepEqual(req, {
    model: 'claude-x',
    maxTokens: 100,
    stream: true,
    system: 'be brief\n\nbe kind',
    systemCacheControl: { type: 'ephemeral' },
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'what is the weather?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'let me look' },
          { type: 'tool_call', id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo","days":[1,2]}' },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', toolCallId: 'toolu_1', content: [{ type: 'text', text: 'sunny' }] },
          { type: 'tool_result', toolCallId: 'toolu_2', content: [{ type: 'text', text: 'x' }], isError: true },
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
          { type: 'image', url: 'https://example.com/a.jpg' },
        ],
      },
    ],
    tools: [{ name: 'weather', description: 'forecast', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
    toolChoice: { type: 'required' },
    parallelToolCalls: false,
    stop: ['END'],
    temperature: 0.2,
    topP: 0.9,
    user: 'u-42',
  } satisfies ChatRequest);
});

test('tool_choice variants map to canonical choices', () => {
  const msgs = [{ role: 'user', content: 'hi' }];
  assert.deepEqual(parseAnthropicMessagesRequest({ ...base, messages: msgs, tool_choice: { type: 'auto' } }).toolChoice, { type: 'auto' });
  assert.deepEqual(parseAnthropicMessagesRequest({ ...base, messages: msgs, tool_choice: { type: 'none' } }).toolChoice, { type: 'none' });
  const tools = [{ name: 'f', input_schema: { type: 'object' } }];
  assert.deepEqual(parseAnthropicMessagesRequest({ ...base, messages: msgs, tools, tool_choice: { type: 'tool', name: 'f' } }).toolChoice, { type: 'tool', name: 'f' });
  assert.deepEqual(parseAnthropicMessagesRequest({ ...base, messages: msgs, tools, tool_choice: { type: 'any' } }).toolChoice, { type: 'required' });
  for (const tc of [{ type: 'any' }, { type: 'tool', name: 'f' }]) {
    assert.throws(() => parseAnthropicMessagesRequest({ ...base, messages: msgs, tool_choice: tc }), (e: RedlineError) => e.code === 'INVALID_REQUEST' && /^tool_choice: /.test(e.message));
  }
  assert.throws(() => parseAnthropicMessagesRequest({ ...base, messages: msgs, tools, tool_choice: { type: 'tool', name: 'g' } }), /"g", which is not among/);
  const r = parseAnthropicMessagesRequest({ ...base, messages: msgs });
  assert.equal(r.stream, false);
  assert.equal(r.toolChoice, undefined);
  assert.equal(r.parallelToolCalls, undefined);
});

test('adversarial request bodies are rejected with the offending path', () => {
  const msgs = [{ role: 'user', content: 'hi' }];
  invalid(null);
  invalid([base]);
  invalid('{"model":"x"}');
  invalid({ model: 'x', messages: msgs }, 'max_tokens');
  invalid({ ...base, max_tokens: 0, messages: msgs }, 'max_tokens');
  invalid({ ...base, max_tokens: 1.5, messages: msgs }, 'max_tokens');
  invalid({ ...base, max_tokens: '100', messages: msgs }, 'max_tokens');
  invalid({ max_tokens: 5, messages: msgs }, 'model');
  invalid({ ...base, model: 42, messages: msgs }, 'model');
  invalid({ ...base, messages: [] }, 'messages');
  invalid({ ...base, messages: 'hi' }, 'messages');
  invalid({ ...base, messages: [{ role: 'system', content: 'hi' }] }, 'messages.0.role');
  invalid({ ...base, messages: [{ role: 'tool', content: 'hi' }] }, 'messages.0.role');
  invalid({ ...base, messages: [{ role: 'user', content: 7 }] }, 'messages.0.content');
  invalid({ ...base, messages: [{ role: 'user' }] }, 'messages.0.content');
  invalid({ ...base, messages: [msgs[0], { role: 'user', content: [{ type: 'document', source: {} }] }] }, 'messages.1.content.0.type');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages.0.content.0.text');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', content: 'x' }] }] }, 'messages.0.content.0.tool_use_id');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: '' }] }] }, 'messages.0.content.0.tool_use_id');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'tool_use' }] }] }] }, 'messages.0.content.0.content.0.type');
  invalid({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: [1] }] }] }, 'messages.0.content.0.input');
  invalid({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: 'x' }] }] }, 'messages.0.content.0.input');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'tool_use', id: 't', name: 'f', input: {} }] }] }, 'messages.0.content.0.type');
  invalid({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_result', tool_use_id: 't' }] }] }, 'messages.0.content.0.type');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/svg+xml', data: 'x' } }] }] }, 'messages.0.content.0.source.media_type');
  invalid({ ...base, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] }] }, 'messages.0.content.0.source.type');
  invalid({ ...base, messages: msgs, system: 5 }, 'system');
  invalid({ ...base, messages: msgs, system: [{ type: 'image' }] }, 'system.0.type');
  invalid({ ...base, messages: msgs, tools: [{ name: 'f' }] }, 'tools.0.input_schema');
  invalid({ ...base, messages: msgs, tool_choice: { type: 'tool' } }, 'tool_choice.name');
  invalid({ ...base, messages: msgs, tool_choice: { type: 'sometimes' } }, 'tool_choice.type');
  invalid({ ...base, messages: msgs, temperature: 3 }, 'temperature');
  invalid({ ...base, messages: msgs, stop_sequences: 'END' }, 'stop_sequences');
  invalid({ ...base, messages: msgs, stream: 'yes' }, 'stream');
  invalid({ ...base, messages: msgs, metadata: { user_id: 5 } }, 'metadata.user_id');
});

test('error messages name the path and never echo the prompt', () => {
  const secret = 'the launch codes are 0000';
  const e = invalid({ ...base, messages: [{ role: 'user', content: secret }, { role: 'bogus', content: secret }] }, 'messages.1.role');
  assert.ok(e.message.startsWith('messages.1.role'));
  assert.ok(!e.message.includes(secret));
  const e2 = invalid({ ...base, messages: [{ role: 'user', content: [{ type: secret }] }] }, 'messages.0.content.0.type');
  assert.ok(!e2.message.includes(secret));
});

test('huge nesting in tool inputs and schemas is refused, not a stack overflow', () => {
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 100_000; i++) deep = { a: deep };
  invalid({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: deep }] }] }, 'messages.0.content.0.input');
  invalid({ ...base, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'f', input_schema: deep }] }, 'tools.0.input_schema');
  let deepArr: unknown = [];
  for (let i = 0; i < 100_000; i++) deepArr = [deepArr];
  invalid({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: { x: deepArr } }] }] }, 'messages.0.content.0.input');
  // Moderate nesting, as real schemas have, is fine.
  let ok: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < 20; i++) ok = { type: 'object', properties: { p: ok } };
  assert.deepEqual(parseAnthropicMessagesRequest({ ...base, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'f', input_schema: ok }] }).tools?.[0]?.parameters, ok);
});

// --- client side: rendering ------------------------------------------------------------------

const toolResponse: ChatResponse = {
  id: 'up-1',
  model: 'upstream-model',
  content: [
    { type: 'text', text: 'Checking.' },
    { type: 'tool_call', id: 'toolu_9', name: 'weather', arguments: '{"city":"Oslo"}' },
  ],
  stopReason: 'tool_use',
  usage: { inputTokens: 12, outputTokens: 7 },
};

test('renders a real message object', () => {
  assert.deepEqual(renderAnthropicMessage(toolResponse, { id: 'msg_1', model: 'claude-x' }), {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-x',
    content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_9', name: 'weather', input: { city: 'Oslo' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 7 },
  });
});

test('render maps stop reasons and keeps going on broken tool arguments', () => {
  const r = (stopReason: ChatResponse['stopReason'], stopSequence?: string) =>
    renderAnthropicMessage({ ...toolResponse, stopReason, ...(stopSequence && { stopSequence }) }, { id: 'm', model: 'x' });
  assert.equal(r('end').stop_reason, 'end_turn');
  assert.equal(r('max_tokens').stop_reason, 'max_tokens');
  assert.equal(r('content_filter').stop_reason, 'refusal');
  assert.equal(r('refusal').stop_reason, 'refusal');
  assert.equal(r('stop_sequence', 'END').stop_reason, 'stop_sequence');
  assert.equal(r('stop_sequence', 'END').stop_sequence, 'END');
  assert.equal(r('end').stop_sequence, null);
  for (const args of ['{"city": "Os', '', '[1,2]', 'null']) {
    const msg = renderAnthropicMessage({ ...toolResponse, content: [{ type: 'tool_call', id: 't', name: 'f', arguments: args }] }, { id: 'm', model: 'x' });
    assert.deepEqual(msg.content, [{ type: 'tool_use', id: 't', name: 'f', input: {} }]);
  }
});

test('client-side round trip: parse → canonical → render keeps tool_use input', () => {
  const input = { query: 'ünïcode ✓', n: 3, nested: { list: [true, null, 1.5] } };
  const req = parseAnthropicMessagesRequest({ ...base, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'search', input }] }] });
  const call = req.messages[0]!.content[0]!;
  assert.equal(call.type, 'tool_call');
  const msg = renderAnthropicMessage({ ...toolResponse, content: [call as Extract<typeof call, { type: 'tool_call' }>] }, { id: 'm', model: 'x' });
  assert.deepEqual(msg.content, [{ type: 'tool_use', id: 'toolu_a', name: 'search', input }]);
});

test('provider-side round trip: client body → canonical → upstream body is the same request', () => {
  const client = {
    model: 'alias',
    max_tokens: 321,
    system: 'sys',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: [{ type: 'text', text: 'ok' }], is_error: false }, { type: 'image', source: { type: 'url', url: 'https://x.test/i.png' } }] },
    ],
    tools: [{ name: 'f', description: 'd', input_schema: { type: 'object', properties: { a: { type: 'number' } } } }],
    tool_choice: { type: 'tool', name: 'f', disable_parallel_tool_use: true },
    stop_sequences: ['STOP'],
    temperature: 0.5,
    top_p: 0.7,
    metadata: { user_id: 'u' },
    stream: false,
  };
  const upstream = toAnthropicMessagesBody(parseAnthropicMessagesRequest(client), 'claude-real');
  assert.deepEqual(upstream, { ...client, model: 'claude-real' });
});

// --- provider side ---------------------------------------------------------------------------

test('toAnthropicMessagesBody fills the gaps an OpenAI-shaped request leaves', () => {
  const req: ChatRequest = {
    model: 'alias',
    stream: true,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', url: 'data:image/webp;base64,UklGRg==' }] },
      { role: 'assistant', content: [{ type: 'text', text: '' }, { type: 'tool_call', id: 'c1', name: 'f', arguments: '' }] },
      { role: 'user', content: [{ type: 'tool_result', toolCallId: 'c1', content: [] }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure, ' }] },
    ],
    tools: [{ name: 'f', parameters: {} }],
    toolChoice: { type: 'required' },
    parallelToolCalls: false,
    stop: [],
  };
  assert.deepEqual(toAnthropicMessagesBody(req, 'claude-real'), {
    model: 'claude-real',
    max_tokens: 4096,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: { type: 'base64', media_type: 'image/webp', data: 'UklGRg==' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'c1', name: 'f', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'c1' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Sure,' }] },
    ],
    tools: [{ name: 'f', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any', disable_parallel_tool_use: true },
    stream: true,
  });
  const auto = toAnthropicMessagesBody({ ...req, toolChoice: undefined }, 'm');
  assert.deepEqual(auto.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
  const plain = toAnthropicMessagesBody({ ...req, toolChoice: { type: 'auto' }, parallelToolCalls: undefined }, 'm');
  assert.deepEqual(plain.tool_choice, { type: 'auto' });
  const none = toAnthropicMessagesBody({ ...req, toolChoice: { type: 'none' } }, 'm');
  assert.deepEqual(none.tool_choice, { type: 'none' });
});

test('toAnthropicMessagesBody refuses image URLs Anthropic cannot fetch', () => {
  const req: ChatRequest = { model: 'a', stream: false, messages: [{ role: 'user', content: [{ type: 'image', url: 'file:///etc/passwd' }] }] };
  assert.throws(() => toAnthropicMessagesBody(req, 'm'), (e: unknown) => e instanceof RedlineError && e.code === 'INVALID_REQUEST' && e.param === 'messages.0.content.0');
});

test('fromAnthropicMessage reads a real message and skips unmodelled blocks', () => {
  const res = fromAnthropicMessage({
    id: 'msg_01', type: 'message', role: 'assistant', model: 'claude-real',
    content: [
      { type: 'thinking', thinking: '...', signature: 'sig' },
      { type: 'text', text: 'Hello', citations: null },
      { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: [1, 2] } },
    ],
    stop_reason: 'tool_use', stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 4, cache_read_input_tokens: 0, service_tier: 'standard' },
  }, 'anth');
  assert.deepEqual(res, {
    id: 'msg_01',
    model: 'claude-real',
    content: [{ type: 'text', text: 'Hello' }, { type: 'tool_call', id: 'toolu_1', name: 'f', arguments: '{"a":[1,2]}' }],
    stopReason: 'tool_use',
    usage: { inputTokens: 10, outputTokens: 4 },
  });
  const stop = fromAnthropicMessage({ id: 'm', model: 'x', content: [], stop_reason: 'stop_sequence', stop_sequence: '###', usage: { input_tokens: 1, output_tokens: 0 } }, 'anth');
  assert.equal(stop.stopReason, 'stop_sequence');
  assert.equal(stop.stopSequence, '###');
  assert.equal(fromAnthropicMessage({ id: 'm', model: 'x', content: [], stop_reason: 'refusal', usage: { input_tokens: 1, output_tokens: 0 } }, 'a').stopReason, 'refusal');
  assert.equal(fromAnthropicMessage({ id: 'm', model: 'x', content: [], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 0 } }, 'a').stopReason, 'end');
});

test('fromAnthropicMessage turns malformed bodies into retryable UPSTREAM_FAILED', () => {
  const good = { id: 'm', model: 'x', content: [], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 0 } };
  for (const bad of [
    null, 'text', [], {},
    { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    { ...good, content: 'hi' },
    { ...good, usage: undefined },
    { ...good, usage: { input_tokens: '1', output_tokens: 0 } },
    { ...good, content: [{ type: 'text' }] },
    { ...good, content: [{ type: 'tool_use', name: 'f', input: {} }] },
  ]) {
    assert.throws(() => fromAnthropicMessage(bad, 'anth'), (e: unknown) =>
      e instanceof RedlineError && e.code === 'UPSTREAM_FAILED' && e.details?.provider === 'anth' && e.details?.retryable === true);
  }
});

// --- streams ---------------------------------------------------------------------------------

/** A realistic upstream stream (event order and shapes as in Anthropic's streaming reference). */
const upstreamStream: Array<[string, unknown]> = [
  ['message_start', { type: 'message_start', message: { id: 'msg_u', type: 'message', role: 'assistant', content: [], model: 'claude-real', stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 1 } } }],
  ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 0 }],
  ['content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }],
  ['ping', { type: 'ping' }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Let me ' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'check.' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 1 }],
  ['content_block_start', { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_x', name: 'weather', input: {} } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"city": "San' } }],
  ['content_block_delta', { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: ' Francisco"}' } }],
  ['content_block_stop', { type: 'content_block_stop', index: 2 }],
  ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } }],
  ['some_future_event', { type: 'some_future_event' }],
  ['message_stop', { type: 'message_stop' }],
];

function decodeAll(events: Array<[string | undefined, unknown]>): StreamEvent[] {
  const d = new AnthropicStreamDecoder('anth');
  return [...events.flatMap(([e, data]) => d.push(e, data)), ...d.end()];
}

test('stream decoder turns a realistic sequence into canonical events', () => {
  assert.deepEqual(decodeAll(upstreamStream), [
    { type: 'start', id: 'msg_u', model: 'claude-real', inputTokens: 25 },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Let me ' },
    { type: 'text_delta', index: 0, text: 'check.' },
    { type: 'block_stop', index: 0 },
    { type: 'tool_call_start', index: 1, id: 'toolu_x', name: 'weather' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: '{"city": "San' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: ' Francisco"}' },
    { type: 'block_stop', index: 1 },
    { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 25, outputTokens: 89 } },
  ]);
});

test('stream decoder: initial block text, stop sequence, missing message_stop, truncation, error events', () => {
  const start = upstreamStream[0]!;
  const evs = decodeAll([
    start,
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: 'Hi' } }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: '##' }, usage: { output_tokens: 3 } }],
  ]);
  assert.deepEqual(evs.slice(1), [
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Hi' },
    { type: 'finish', stopReason: 'stop_sequence', stopSequence: '##', usage: { inputTokens: 25, outputTokens: 3 } },
  ]);
  // The event name is only a fallback; the data's `type` decides.
  assert.deepEqual(decodeAll([[undefined, start[1]], [undefined, { type: 'message_stop' }]]).map((e) => e.type), ['start', 'finish']);

  const truncated = new AnthropicStreamDecoder('anth');
  truncated.push('message_start', start[1]);
  assert.throws(() => truncated.end(), (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_FAILED');
  assert.throws(() => new AnthropicStreamDecoder('anth').end(), (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_FAILED');

  const errored = new AnthropicStreamDecoder('anth');
  errored.push('message_start', start[1]);
  assert.throws(() => errored.push('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_UNAVAILABLE' && e.details?.upstreamType === 'overloaded_error' && e.details?.retryable === true);
  assert.throws(() => new AnthropicStreamDecoder('anth').push('message_start', 'nope'), (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_FAILED');
  assert.throws(() => new AnthropicStreamDecoder('anth').push('content_block_start', { type: 'content_block_start', content_block: { type: 'text', text: '' } }),
    (e: unknown) => e instanceof RedlineError && e.code === 'UPSTREAM_FAILED');
});

test('stream encoder emits the real event sequence', async () => {
  const enc = new AnthropicStreamEncoder({ id: 'msg_gw', model: 'claude-x' });
  const canonical = decodeAll(upstreamStream);
  const text = canonical.map((e) => enc.encode(e)).join('') + enc.end();
  assert.equal(enc.end(), '');
  const evs = await sseEvents(text);
  for (const e of evs) assert.equal(e.event, e.data.type, 'event name matches data.type');
  assert.deepEqual(evs.map((e) => e.data), [
    { type: 'message_start', message: { id: 'msg_gw', type: 'message', role: 'assistant', model: 'claude-x', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 25, output_tokens: 0 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me ' } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'check.' } },
    { type: 'content_block_stop', index: 0 },
    { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_x', name: 'weather', input: {} } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city": "San' } },
    { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: ' Francisco"}' } },
    { type: 'content_block_stop', index: 1 },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 89 } },
    { type: 'message_stop' },
  ]);
  // Re-decoding the encoder's output gives the same canonical events back.
  assert.deepEqual(decodeAll(evs.map((e) => [e.event, e.data])).slice(1), canonical.slice(1));
  assert.deepEqual(await sseEvents(anthropicPing()), [{ event: 'ping', data: { type: 'ping' } }]);
});

test('stream encoder repairs sloppy producers: missing start, unopened blocks, open blocks at finish', async () => {
  const enc = new AnthropicStreamEncoder({ id: 'msg_gw', model: 'claude-x' });
  const text = [
    enc.encode({ type: 'text_delta', index: 3, text: 'a' }),
    enc.encode({ type: 'tool_call_start', index: 7, id: 'c1', name: 'f' }),
    enc.encode({ type: 'tool_call_delta', index: 7, argumentsDelta: '{}' }),
    enc.encode({ type: 'tool_call_delta', index: 9, argumentsDelta: '{"x":1}' }),
    enc.encode({ type: 'finish', stopReason: 'stop_sequence', stopSequence: 'Z', usage: { inputTokens: 5, outputTokens: 6 } }),
    enc.encode({ type: 'text_delta', index: 3, text: 'late' }),
  ].join('');
  const evs = (await sseEvents(text)).map((e) => e.data);
  assert.deepEqual(evs.map((e) => `${e.type}${e.index ?? ''}`), [
    'message_start',
    'content_block_start0', 'content_block_delta0',
    'content_block_start1', 'content_block_delta1',
    'content_block_start2', 'content_block_delta2',
    'content_block_stop0', 'content_block_stop1', 'content_block_stop2',
    'message_delta', 'message_stop',
  ]);
  assert.equal(evs[5].content_block.type, 'tool_use');
  assert.equal(typeof evs[5].content_block.id, 'string');
  assert.deepEqual(evs[10], { type: 'message_delta', delta: { stop_reason: 'stop_sequence', stop_sequence: 'Z' }, usage: { output_tokens: 6, input_tokens: 5 } });
});

test('property: decode(encode(events)) returns any well-formed canonical stream', async () => {
  const nonEmpty = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' });
  const block = fc.oneof(
    fc.record({ kind: fc.constant('text' as const), parts: fc.array(nonEmpty, { maxLength: 4 }) }),
    fc.record({ kind: fc.constant('tool' as const), id: nonEmpty, name: nonEmpty, parts: fc.array(nonEmpty, { maxLength: 4 }) }),
  );
  const finish = fc.record({
    stopReason: fc.constantFrom('end', 'max_tokens', 'tool_use', 'stop_sequence', 'refusal'),
    stopSequence: nonEmpty,
    inputTokens: fc.nat(),
    outputTokens: fc.nat(),
  });
  await fc.assert(fc.asyncProperty(fc.array(block, { maxLength: 5 }), finish, async (blocks, f) => {
    const events: StreamEvent[] = [{ type: 'start', id: 'up', model: 'm', inputTokens: f.inputTokens }];
    blocks.forEach((b, index) => {
      if (b.kind === 'text') {
        events.push({ type: 'text_start', index }, ...b.parts.map((text) => ({ type: 'text_delta' as const, index, text })));
      } else {
        // Tool input is a JSON object, so its text begins with "{" (the encoder drops anything else).
        const parts = b.parts.map((p, i) => (i === 0 ? `{${p}` : p));
        events.push({ type: 'tool_call_start', index, id: b.id, name: b.name }, ...parts.map((argumentsDelta) => ({ type: 'tool_call_delta' as const, index, argumentsDelta })));
      }
      events.push({ type: 'block_stop', index });
    });
    events.push({
      type: 'finish',
      stopReason: f.stopReason,
      ...(f.stopReason === 'stop_sequence' && { stopSequence: f.stopSequence }),
      usage: { inputTokens: f.inputTokens, outputTokens: f.outputTokens },
    });
    const enc = new AnthropicStreamEncoder({ id: 'msg_gw', model: 'claude-x' });
    const wire = await sseEvents(events.map((e) => enc.encode(e)).join('') + enc.end());
    const back = decodeAll(wire.map((e) => [e.event, e.data]));
    assert.deepEqual(back, [{ type: 'start', id: 'msg_gw', model: 'claude-x', inputTokens: f.inputTokens }, ...events.slice(1)]);
  }), { numRuns: 200 });
});

// --- the official SDK reads what we produce --------------------------------------------------

async function serve(handler: (body: any, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    handler(JSON.parse(Buffer.concat(chunks).toString('utf8')), res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('@anthropic-ai/sdk accepts rendered messages and encoded streams', async () => {
  const canonical = decodeAll(upstreamStream);
  const { server, url } = await serve((body, res) => {
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const enc = new AnthropicStreamEncoder({ id: 'msg_s', model: body.model });
      res.write(enc.encode(canonical[0]!));
      res.write(anthropicPing());
      for (const e of canonical.slice(1)) res.write(enc.encode(e));
      res.end(enc.end());
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(renderAnthropicMessage(toolResponse, { id: 'msg_j', model: body.model })));
    }
  });
  try {
    const client = new Anthropic({ baseURL: url, apiKey: 'x', maxRetries: 0 });
    const params = { model: 'claude-x', max_tokens: 50, messages: [{ role: 'user' as const, content: 'weather?' }] };

    const msg = await client.messages.create(params);
    assert.equal(msg.id, 'msg_j');
    assert.equal(msg.stop_reason, 'tool_use');
    assert.equal(msg.content[0]?.type === 'text' && msg.content[0].text, 'Checking.');
    const tu = msg.content[1];
    assert.ok(tu?.type === 'tool_use');
    assert.deepEqual(tu.input, { city: 'Oslo' });
    assert.equal(msg.usage.input_tokens, 12);

    const stream = client.messages.stream(params);
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    assert.equal(texts.join(''), 'Let me check.');
    assert.equal(final.id, 'msg_s');
    assert.equal(final.stop_reason, 'tool_use');
    assert.equal(final.content.length, 2);
    assert.equal(final.content[0]?.type === 'text' && final.content[0].text, 'Let me check.');
    const stu = final.content[1];
    assert.ok(stu?.type === 'tool_use');
    assert.equal(stu.id, 'toolu_x');
    assert.deepEqual(stu.input, { city: 'San Francisco' });
    assert.deepEqual([final.usage.input_tokens, final.usage.output_tokens], [25, 89]);

    const raw = await client.messages.create({ ...params, stream: true });
    const types: string[] = [];
    for await (const ev of raw) types.push(ev.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('stream encoder: tool arguments that do not begin as a JSON object are dropped, leaving input {}', async () => {
  const run = async (parts: string[]) => {
    const enc = new AnthropicStreamEncoder({ id: 'msg_t', model: 'm' });
    const events: StreamEvent[] = [
      { type: 'start', id: 'u', model: 'm' }, { type: 'tool_call_start', index: 0, id: 't1', name: 'f' },
      ...parts.map((argumentsDelta) => ({ type: 'tool_call_delta' as const, index: 0, argumentsDelta })),
      { type: 'block_stop', index: 0 }, { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 1, outputTokens: 1 } },
    ];
    const wire = await sseEvents(events.map((e) => enc.encode(e)).join(''));
    return wire.filter((e) => e.event === 'content_block_delta').map((e) => (e.data as any).delta.partial_json).join('');
  };
  assert.equal(await run(['[1,', '2]']), '', 'an array is not a tool input');
  assert.equal(await run(['  ', '"text"']), '');
  assert.equal(await run([' ', '{"a":', '1}']), '{"a":1}', 'an object streams through, leading blanks dropped');
});

test('prompt-cache writes and reads count as input tokens, in answers and in streams', () => {
  const usage = { input_tokens: 5, cache_creation_input_tokens: 200, cache_read_input_tokens: 1000, output_tokens: 7 };
  assert.deepEqual(fromAnthropicMessage({ id: 'm', model: 'x', content: [], stop_reason: 'end_turn', usage }, 'a').usage, { inputTokens: 1205, outputTokens: 7 });
  const events = decodeAll([
    ['message_start', { type: 'message_start', message: { id: 'm', model: 'x', usage: { ...usage, output_tokens: 1 } } }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 9 } }],
    ['message_stop', { type: 'message_stop' }],
  ]);
  assert.equal((events[0] as { inputTokens?: number }).inputTokens, 1205);
  assert.deepEqual((events.at(-1) as { usage: unknown }).usage, { inputTokens: 1205, outputTokens: 9 });
});

test('top_k goes from an Anthropic client to Anthropic (and to Gemini as topK)', () => {
  const req = parseAnthropicMessagesRequest({ model: 'c', max_tokens: 10, top_k: 5, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(req.topK, 5);
  assert.equal(toAnthropicMessagesBody(req, 'claude-x').top_k, 5);
});

test('prompt-cache breakpoints go from an Anthropic client to Anthropic where the client put them', () => {
  const cc = { type: 'ephemeral' as const };
  const long = { type: 'ephemeral' as const, ttl: '1h' as const };
  const req = parseAnthropicMessagesRequest({
    model: 'c', max_tokens: 10,
    system: [{ type: 'text', text: 'rules' }, { type: 'text', text: 'reference', cache_control: long }],
    tools: [{ name: 'f', input_schema: { type: 'object' }, cache_control: cc }],
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'big document', cache_control: cc }, { type: 'text', text: 'question' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {}, cache_control: cc }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok', cache_control: cc }] },
    ],
  });
  assert.deepEqual(req.systemCacheControl, { ttl: '1h', type: 'ephemeral' });
  const body = toAnthropicMessagesBody(req, 'claude-x') as any;
  assert.deepEqual(body.system, [{ type: 'text', text: 'rules\n\nreference', cache_control: long }]);
  assert.deepEqual(body.tools[0].cache_control, cc);
  assert.deepEqual(body.messages[0].content.map((b: any) => b.cache_control), [cc, undefined]);
  assert.deepEqual(body.messages[1].content[0].cache_control, cc);
  assert.deepEqual(body.messages[2].content[0].cache_control, cc);
  // Parts keep canonical key order, so the ledger's commitment stays one JSON.stringify.
  assert.deepEqual(Object.keys(req.messages[0]!.content[0]!), ['cacheControl', 'text', 'type']);
  // Without breakpoints nothing changes: the system prompt stays a string.
  assert.equal(toAnthropicMessagesBody(parseAnthropicMessagesRequest({ model: 'c', max_tokens: 5, system: 'plain', messages: [{ role: 'user', content: 'hi' }] }), 'm').system, 'plain');
});
