import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedlineError } from '../errors.js';
import {
  fromGeminiResponse, GEMINI_SKIP_SIGNATURE, GeminiStreamDecoder, mapFinishReason, toGeminiRequest, toGeminiSchema,
} from './gemini.js';
import type { ChatRequest, Message, StreamEvent } from './types.js';

function req(messages: Message[], extra: Partial<ChatRequest> = {}): ChatRequest {
  return { model: 'gemini-2.5-flash', messages, stream: false, ...extra };
}

function isUpstreamFailed(err: unknown): boolean {
  return err instanceof RedlineError && err.code === 'UPSTREAM_FAILED' && err.details?.retryable === true && err.details?.provider === 'g';
}

test('renders system, sampling settings, roles and images', () => {
  const body = toGeminiRequest(req([
    { role: 'user', content: [
      { type: 'text', text: 'what is in these?' },
      { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=' },
      { type: 'image', url: 'https://example.com/cat.JPG?size=2', detail: 'high' },
      { type: 'image', url: 'https://example.com/blob' },
      { type: 'image', url: 'data:text/plain,h%C3%A9llo' },
    ] },
    { role: 'assistant', content: [{ type: 'text', text: 'cats' }] },
    { role: 'user', content: [{ type: 'text', text: 'thanks' }] },
  ], { system: 'be brief', maxTokens: 64, temperature: 0.2, topP: 0.9, stop: ['END'], user: 'u1', parallelToolCalls: false }));
  assert.deepEqual(body, {
    contents: [
      { role: 'user', parts: [
        { text: 'what is in these?' },
        { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
        { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.JPG?size=2' } },
        { fileData: { fileUri: 'https://example.com/blob' } },
        { inlineData: { mimeType: 'text/plain', data: Buffer.from('héllo').toString('base64') } },
      ] },
      { role: 'model', parts: [{ text: 'cats' }] },
      { role: 'user', parts: [{ text: 'thanks' }] },
    ],
    systemInstruction: { parts: [{ text: 'be brief' }] },
    generationConfig: { maxOutputTokens: 64, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
  });
});

test('merges consecutive turns of one role and drops empty ones', () => {
  const body = toGeminiRequest(req([
    { role: 'user', content: [{ type: 'text', text: 'a' }] },
    { role: 'user', content: [{ type: 'text', text: '' }] },
    { role: 'user', content: [{ type: 'text', text: 'b' }] },
  ]));
  assert.deepEqual(body.contents, [{ role: 'user', parts: [{ text: 'a' }, { text: 'b' }] }]);
});

test('rejects image URLs Gemini cannot fetch', () => {
  assert.throws(
    () => toGeminiRequest(req([{ role: 'user', content: [{ type: 'image', url: 'ftp://example.com/x.png' }] }])),
    (e: unknown) => e instanceof RedlineError && e.code === 'INVALID_REQUEST',
  );
});

test('a multi-turn tool conversation becomes functionCall / functionResponse parts paired by name', () => {
  const messages: Message[] = [
    { role: 'user', content: [{ type: 'text', text: 'weather in Oslo and Rome?' }] },
    { role: 'assistant', content: [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_call', id: 'call_a', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'tool_call', id: 'call_b', name: 'get_weather', arguments: '{"city":"Rome"}' },
      { type: 'tool_call', id: 'call_c', name: 'get_time', arguments: '' },
    ] },
    { role: 'user', content: [
      { type: 'tool_result', toolCallId: 'call_a', content: [{ type: 'text', text: '{"temp_c": -3}' }] },
      { type: 'tool_result', toolCallId: 'call_b', content: [{ type: 'text', text: 'sunny,' }, { type: 'text', text: '24C' }] },
      { type: 'tool_result', toolCallId: 'call_c', content: [{ type: 'text', text: 'clock offline' }, { type: 'image', url: 'data:image/gif;base64,R0lG' }], isError: true },
      { type: 'text', text: 'and summarise' },
    ] },
    { role: 'assistant', content: [{ type: 'text', text: 'Oslo -3C, Rome 24C.' }] },
    { role: 'user', content: [{ type: 'text', text: 'now Paris' }] },
    { role: 'assistant', content: [{ type: 'tool_call', id: 'call_d', name: 'get_weather', arguments: 'not json' }] },
    { role: 'user', content: [{ type: 'tool_result', toolCallId: 'call_d', content: [{ type: 'text', text: '[1,2]' }] }] },
  ];
  const held: Record<string, string> = { call_b: 'c2lnLWI=', call_d: 'c2lnLWQ=' };
  const body = toGeminiRequest(req(messages, {
    tools: [{ name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'get_time', parameters: { type: 'object', properties: {} } }],
    toolChoice: { type: 'auto' },
  }), { thoughtSignature: (id) => held[id] });

  assert.deepEqual(body.contents, [
    { role: 'user', parts: [{ text: 'weather in Oslo and Rome?' }] },
    { role: 'model', parts: [
      { text: 'Checking.' },
      // call_a's signature is unknown, and it opens the step: Google's skip value.
      { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: GEMINI_SKIP_SIGNATURE },
      { functionCall: { name: 'get_weather', args: { city: 'Rome' } }, thoughtSignature: 'c2lnLWI=' },
      { functionCall: { name: 'get_time', args: {} } },
    ] },
    { role: 'user', parts: [
      { functionResponse: { name: 'get_weather', response: { temp_c: -3 } } },
      { functionResponse: { name: 'get_weather', response: { content: 'sunny,\n24C' } } },
      { functionResponse: { name: 'get_time', response: { error: 'clock offline' } } },
      { inlineData: { mimeType: 'image/gif', data: 'R0lG' } },
      { text: 'and summarise' },
    ] },
    { role: 'model', parts: [{ text: 'Oslo -3C, Rome 24C.' }] },
    { role: 'user', parts: [{ text: 'now Paris' }] },
    { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { _unparsed_arguments: 'not json' } }, thoughtSignature: 'c2lnLWQ=' }] },
    { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: '[1,2]' } } }] },
  ]);
  assert.deepEqual(body.tools, [{ functionDeclarations: [
    { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
    { name: 'get_time' },
  ] }]);
  assert.deepEqual(body.toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
});

test('a tool result for an unknown call is refused before going upstream', () => {
  assert.throws(
    () => toGeminiRequest(req([{ role: 'user', content: [{ type: 'tool_result', toolCallId: 'nope', content: [] }] }])),
    (e: unknown) => e instanceof RedlineError && e.code === 'INVALID_REQUEST',
  );
});

test('tool choice maps to functionCallingConfig', () => {
  const tools = [{ name: 'f', parameters: { type: 'object', properties: { x: { type: 'string' } } } }];
  const cfg = (toolChoice: ChatRequest['toolChoice']) => toGeminiRequest(req([], { tools, toolChoice })).toolConfig;
  assert.deepEqual(cfg({ type: 'none' }), { functionCallingConfig: { mode: 'NONE' } });
  assert.deepEqual(cfg({ type: 'required' }), { functionCallingConfig: { mode: 'ANY' } });
  assert.deepEqual(cfg({ type: 'tool', name: 'f' }), { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['f'] } });
  assert.equal(cfg(undefined), undefined);
});

test('tool schemas lose the keys Gemini refuses and keep their meaning where it can be expressed', () => {
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    additionalProperties: false,
    $defs: { Point: { type: 'object', properties: { x: { type: 'number', format: 'double' }, y: { type: 'number', exclusiveMinimum: 0 } }, required: ['x', 'y'] } },
    properties: {
      url: { type: 'string', format: 'uri', description: 'where' },
      when: { type: 'string', format: 'date-time' },
      note: { type: ['string', 'null'], maxLength: 10 },
      kind: { const: 'fixed' },
      level: { enum: [1, 2, 3], type: 'integer' },
      origin: { $ref: '#/$defs/Point', description: 'start' },
      maybe: { anyOf: [{ type: 'string' }, { type: 'null' }], description: 'optional text' },
      either: { oneOf: [{ type: 'string' }, { type: 'integer' }] },
      tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' }, uniqueItems: true },
      meta: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^x' } },
      self: { $ref: '#/$defs/Missing' },
      implied: { properties: { n: { items: { type: 'integer' } } } },
    },
    required: ['url', 'ghost'],
  };
  assert.deepEqual(toGeminiSchema(schema), {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'where' },
      when: { type: 'string', format: 'date-time' },
      note: { type: 'string', nullable: true, maxLength: 10 },
      kind: { type: 'string', enum: ['fixed'] },
      level: { type: 'integer' },
      origin: { type: 'object', description: 'start', properties: { x: { type: 'number', format: 'double' }, y: { type: 'number' } }, required: ['x', 'y'] },
      maybe: { type: 'string', nullable: true, description: 'optional text' },
      either: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } },
      meta: { type: 'object' },
      self: {},
      implied: { type: 'object', properties: { n: { type: 'array', items: { type: 'integer' } } } },
    },
    required: ['url'],
  });
});

test('a recursive $ref stops instead of looping', () => {
  const s = toGeminiSchema({ type: 'object', $defs: { Node: { type: 'object', properties: { next: { $ref: '#/$defs/Node' }, v: { type: 'string' } } } }, properties: { head: { $ref: '#/$defs/Node' } } });
  assert.deepEqual(s, { type: 'object', properties: { head: { type: 'object', properties: { next: {}, v: { type: 'string' } } } } });
});

test('a text reply reads back with usage (thinking tokens count as output)', () => {
  const r = fromGeminiResponse({
    candidates: [{ content: { role: 'model', parts: [{ text: 'thinking...', thought: true }, { text: 'Hello' }, { text: ', world' }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, thoughtsTokenCount: 10, totalTokenCount: 20 },
    modelVersion: 'gemini-2.5-flash-001',
    responseId: 'resp1',
  }, 'g');
  assert.deepEqual(r, {
    id: 'resp1', model: 'gemini-2.5-flash-001', content: [{ type: 'text', text: 'Hello, world' }], stopReason: 'end', usage: { inputTokens: 7, outputTokens: 13 },
  });
});

test('function calls read back as tool calls with stable ids, and hand over their signatures', () => {
  const sigs: Array<[string, string]> = [];
  const json = {
    candidates: [{ content: { role: 'model', parts: [
      { text: 'Let me look.' },
      { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: 'c2ln' },
      { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
      { functionCall: { id: 'g-77', name: 'get_time' } },
    ] }, finishReason: 'STOP' }],
    usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2 },
    responseId: 'r/9',
  };
  const r = fromGeminiResponse(json, 'g', { model: 'fallback-model', onThoughtSignature: (id, s) => sigs.push([id, s]) });
  assert.equal(r.model, 'fallback-model');
  assert.equal(r.stopReason, 'tool_use');
  assert.deepEqual(r.content, [
    { type: 'text', text: 'Let me look.' },
    { type: 'tool_call', id: 'call_r9_0', name: 'get_weather', arguments: '{"city":"Oslo"}' },
    { type: 'tool_call', id: 'call_r9_1', name: 'get_weather', arguments: '{"city":"Rome"}' },
    { type: 'tool_call', id: 'g-77', name: 'get_time', arguments: '{}' },
  ]);
  assert.deepEqual(sigs, [['call_r9_0', 'c2ln']]);
  // The same response read twice names its calls the same way.
  assert.deepEqual(fromGeminiResponse(json, 'g').content, r.content);

  // Round trip: the client sends the calls back with results; Gemini sees its own calls and signature.
  const held = new Map(sigs);
  const next = toGeminiRequest(req([
    { role: 'user', content: [{ type: 'text', text: 'q' }] },
    { role: 'assistant', content: r.content },
    { role: 'user', content: r.content.filter((c) => c.type === 'tool_call').map((c) => ({ type: 'tool_result' as const, toolCallId: c.id, content: [{ type: 'text' as const, text: 'ok' }] })) },
  ]), { thoughtSignature: (id) => held.get(id) });
  const model = (next.contents as Array<{ parts: unknown[] }>)[1]!;
  assert.deepEqual(model.parts, [
    { text: 'Let me look.' },
    { functionCall: { name: 'get_weather', args: { city: 'Oslo' } }, thoughtSignature: 'c2ln' },
    { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
    { functionCall: { name: 'get_time', args: {} } },
  ]);
  const user = (next.contents as Array<{ parts: unknown[] }>)[2]!;
  assert.deepEqual(user.parts, [
    { functionResponse: { name: 'get_weather', response: { content: 'ok' } } },
    { functionResponse: { name: 'get_weather', response: { content: 'ok' } } },
    { functionResponse: { name: 'get_time', response: { content: 'ok' } } },
  ]);
});

test('ids differ between responses that carry no responseId', () => {
  const json = { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: {} } }] }, finishReason: 'STOP' }] };
  const a = fromGeminiResponse(json, 'g').content[0];
  const b = fromGeminiResponse(json, 'g').content[0];
  assert.ok(a?.type === 'tool_call' && b?.type === 'tool_call');
  assert.notEqual(a.id, b.id);
  assert.match(a.id, /^call_[A-Za-z0-9_-]+_0$/);
});

test('finish reasons map to stop reasons', () => {
  const cases: Array<[string, boolean, string]> = [
    ['STOP', false, 'end'], ['STOP', true, 'tool_use'], ['MAX_TOKENS', false, 'max_tokens'], ['MAX_TOKENS', true, 'max_tokens'],
    ['SAFETY', false, 'content_filter'], ['RECITATION', false, 'content_filter'], ['PROHIBITED_CONTENT', false, 'content_filter'],
    ['BLOCKLIST', false, 'content_filter'], ['SPII', true, 'content_filter'], ['IMAGE_SAFETY', false, 'content_filter'],
    ['OTHER', false, 'end'], ['MALFORMED_FUNCTION_CALL', false, 'end'], ['SOMETHING_NEW', false, 'end'],
  ];
  for (const [reason, calls, want] of cases) assert.equal(mapFinishReason(reason, calls), want, reason);
  const r = fromGeminiResponse({ candidates: [{ content: { parts: [{ text: 'cut' }] }, finishReason: 'MAX_TOKENS' }] }, 'g');
  assert.equal(r.stopReason, 'max_tokens');
  const filtered = fromGeminiResponse({ candidates: [{ finishReason: 'SAFETY', safetyRatings: [] }] }, 'g');
  assert.deepEqual([filtered.stopReason, filtered.content], ['content_filter', []]);
});

test('a blocked prompt is a content_filter stop with no content', () => {
  const r = fromGeminiResponse({ promptFeedback: { blockReason: 'SAFETY', safetyRatings: [] }, usageMetadata: { promptTokenCount: 9 }, modelVersion: 'm' }, 'g');
  assert.equal(r.stopReason, 'content_filter');
  assert.deepEqual(r.content, []);
  assert.deepEqual(r.usage, { inputTokens: 9, outputTokens: 0 });
});

test('malformed responses are retryable upstream failures', () => {
  const bad: unknown[] = [
    null, 'text', [], {}, { candidates: 'x' }, { candidates: [7] }, { candidates: [] },
    { candidates: [{ content: { parts: 'x' } }] },
    { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] },
    { candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: [1] } }] } }] },
    { error: { code: 500, message: 'internal', status: 'INTERNAL' } },
  ];
  for (const b of bad) assert.throws(() => fromGeminiResponse(b, 'g'), isUpstreamFailed, JSON.stringify(b));
});

function decodeAll(chunks: unknown[], opts?: ConstructorParameters<typeof GeminiStreamDecoder>[1]): StreamEvent[] {
  const d = new GeminiStreamDecoder('g', opts);
  return [...chunks.flatMap((c) => d.push(c)), ...d.end()];
}

test('a streamed reply decodes to start, one text block, and a finish with the last usage', () => {
  const base = { modelVersion: 'gemini-2.5-flash', responseId: 'rs' };
  const events = decodeAll([
    { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] } }], usageMetadata: { promptTokenCount: 4 }, ...base },
    { candidates: [{ content: { role: 'model', parts: [{ text: 'lo', thought: false }, { text: '!' }] } }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1 }, ...base },
    { candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 2 }, ...base },
  ]);
  assert.deepEqual(events, [
    { type: 'start', id: 'rs', model: 'gemini-2.5-flash', inputTokens: 4 },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Hel' },
    { type: 'text_delta', index: 0, text: 'lo' },
    { type: 'text_delta', index: 0, text: '!' },
    { type: 'block_stop', index: 0 },
    { type: 'finish', stopReason: 'end', usage: { inputTokens: 4, outputTokens: 2 } },
  ]);
});

test('streamed function calls become whole tool-call blocks between text blocks', () => {
  const sigs: string[] = [];
  const events = decodeAll([
    { candidates: [{ content: { parts: [{ text: 'Checking' }] } }], responseId: 'x' },
    { candidates: [{ content: { parts: [{ functionCall: { name: 'a', args: { q: 1 } }, thoughtSignature: 'sig' }, { functionCall: { name: 'b', args: {} } }] } }], responseId: 'x' },
    { candidates: [{ content: { parts: [{ text: 'done' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 5 }, responseId: 'x' },
  ], { model: 'asked-for', onThoughtSignature: (id, s) => sigs.push(`${id}=${s}`) });
  assert.deepEqual(events, [
    { type: 'start', id: 'x', model: 'asked-for' },
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Checking' },
    { type: 'block_stop', index: 0 },
    { type: 'tool_call_start', index: 1, id: 'call_x_0', name: 'a' },
    { type: 'tool_call_delta', index: 1, argumentsDelta: '{"q":1}' },
    { type: 'block_stop', index: 1 },
    { type: 'tool_call_start', index: 2, id: 'call_x_1', name: 'b' },
    { type: 'tool_call_delta', index: 2, argumentsDelta: '{}' },
    { type: 'block_stop', index: 2 },
    { type: 'text_start', index: 3 },
    { type: 'text_delta', index: 3, text: 'done' },
    { type: 'block_stop', index: 3 },
    { type: 'finish', stopReason: 'tool_use', usage: { inputTokens: 3, outputTokens: 5 } },
  ]);
  assert.deepEqual(sigs, ['call_x_0=sig']);
});

test('a stream that stops without a finishReason is a retryable failure', () => {
  const d = new GeminiStreamDecoder('g');
  const first = d.push({ candidates: [{ content: { parts: [{ text: 'par' }] } }] });
  assert.equal(first[0]?.type, 'start');
  assert.throws(() => d.end(), isUpstreamFailed);
  assert.throws(() => new GeminiStreamDecoder('g').end(), isUpstreamFailed);
});

test('a stream whose prompt is blocked finishes as content_filter', () => {
  const events = decodeAll([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 2 }, responseId: 'b' }]);
  assert.deepEqual(events, [
    { type: 'start', id: 'b', model: '', inputTokens: 2 },
    { type: 'finish', stopReason: 'content_filter', usage: { inputTokens: 2, outputTokens: 0 } },
  ]);
});

test('a safety stop mid-stream keeps what was sent and reports content_filter', () => {
  const events = decodeAll([
    { candidates: [{ content: { parts: [{ text: 'Once' }] } }] },
    { candidates: [{ finishReason: 'SAFETY' }] },
  ]);
  assert.deepEqual(events.slice(1), [
    { type: 'text_start', index: 0 },
    { type: 'text_delta', index: 0, text: 'Once' },
    { type: 'block_stop', index: 0 },
    { type: 'finish', stopReason: 'content_filter', usage: { inputTokens: 0, outputTokens: 0 } },
  ]);
});

test('an error object or a malformed chunk in the stream fails it', () => {
  const d = new GeminiStreamDecoder('g');
  d.push({ candidates: [{ content: { parts: [{ text: 'a' }] } }] });
  assert.throws(() => d.push({ error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } }), isUpstreamFailed);
  assert.throws(() => new GeminiStreamDecoder('g').push([1]), isUpstreamFailed);
  assert.throws(() => new GeminiStreamDecoder('g').push({ candidates: [{ content: { parts: [{ functionCall: {} }] } }] }), isUpstreamFailed);
});

test('JSON output and sampling controls reach Gemini\'s generationConfig', () => {
  const req: ChatRequest = {
    model: 'g', stream: false, messages: [{ role: 'user', content: [{ type: 'text', text: 'json please' }] }],
    seed: 7, topK: 40, presencePenalty: 0.1, frequencyPenalty: 0.2,
    responseFormat: { type: 'json_schema', name: 'w', schema: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false } },
  };
  const gen = toGeminiRequest(req).generationConfig as Record<string, unknown>;
  assert.equal(gen.responseMimeType, 'application/json');
  assert.deepEqual(gen.responseSchema, toGeminiSchema(req.responseFormat!.type === 'json_schema' ? req.responseFormat!.schema : {}));
  assert.equal((gen.responseSchema as any).additionalProperties, undefined, 'keys Gemini refuses are dropped');
  assert.deepEqual([gen.seed, gen.topK, gen.presencePenalty, gen.frequencyPenalty], [7, 40, 0.1, 0.2]);
  const plain = toGeminiRequest({ ...req, responseFormat: { type: 'json_object' } }).generationConfig as Record<string, unknown>;
  assert.equal(plain.responseMimeType, 'application/json');
  assert.equal(plain.responseSchema, undefined);
});
