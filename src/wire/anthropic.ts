// The Anthropic Messages wire format, both directions:
//  - client side: a client's POST /v1/messages body → ChatRequest, and ChatResponse / StreamEvents →
//    the `message` object and the SSE event sequence the client expects back;
//  - provider side: ChatRequest → the body redline sends upstream, and the upstream's message / SSE
//    events → ChatResponse / StreamEvents.
// Shapes follow Anthropic's public API reference (Messages, Streaming Messages, Errors).
import { z } from 'zod';
import { RedlineError } from '../errors.js';
import { sseFrame } from './sse.js';
import { checkJsonDepth, checkToolChoice } from './checks.js';
import { compiledParse } from './validate.js';
import type {
  CacheControl, ChatRequest, ChatResponse, ImagePart, Message, Part, StopReason, StreamEvent, TextPart, ToolCallPart, ToolChoice, ToolDef, ToolResultPart, Usage,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Client side: request parsing
// ---------------------------------------------------------------------------------------------

const IMAGE_MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;

// Prompt-cache breakpoints are carried through the neutral shape (CacheControl) to Anthropic targets.
const cacheControl = z.object({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() });
const textBlock = z.object({ type: z.literal('text'), text: z.string(), cache_control: cacheControl.nullish() });
const imageSource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('base64'), media_type: z.enum(IMAGE_MEDIA_TYPES), data: z.string().min(1) }),
  z.object({ type: z.literal('url'), url: z.string().min(1) }),
]);
const imageBlock = z.object({ type: z.literal('image'), source: imageSource, cache_control: cacheControl.nullish() });
const jsonObject = z.record(z.string(), z.unknown());
const toolUseBlock = z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: jsonObject, cache_control: cacheControl.nullish() });
const toolResultBlock = z.object({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: cacheControl.nullish(),
});
const contentBlock = z.discriminatedUnion('type', [textBlock, imageBlock, toolUseBlock, toolResultBlock]);

const messagesRequest = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  system: z.union([z.string(), z.array(textBlock)]).optional(),
  messages: z.array(z.object({
    role: z.enum(['user', 'assistant']),
    content: z.union([z.string(), z.array(contentBlock)]),
  })).min(1),
  tools: z.array(z.object({
    type: z.literal('custom').optional(),
    name: z.string().min(1),
    description: z.string().optional(),
    input_schema: jsonObject,
    cache_control: cacheControl.nullish(),
  })).optional(),
  tool_choice: z.discriminatedUnion('type', [
    z.object({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal('none') }),
  ]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.object({ user_id: z.string().nullish() }).optional(),
});

type AnthropicRequestBody = z.infer<typeof messagesRequest>;
const parseRequestBody = compiledParse('anthropic.request', messagesRequest);

/** Parses a client's Messages request body. Unknown fields are ignored, as the real API tolerates new ones. */
export function parseAnthropicMessagesRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RedlineError('INVALID_REQUEST', 'request body must be a JSON object');
  }
  const r = parseRequestBody(body);
  if (!r.success) {
    const first = r.error.issues[0];
    const { path, message } = first ? explainIssue(first, []) : { path: [], message: 'invalid request' };
    const param = path.join('.');
    throw new RedlineError('INVALID_REQUEST', param ? `${param}: ${message}` : message, param ? { param } : {});
  }
  return toChatRequest(r.data);
}

function toChatRequest(b: AnthropicRequestBody): ChatRequest {
  const messages: Message[] = b.messages.map((m, i) => {
    if (typeof m.content === 'string') return { content: [{ text: m.content, type: 'text' }], role: m.role };
    const content = m.content.map((block, j): Part => {
      const at = `messages.${i}.content.${j}`;
      switch (block.type) {
        case 'text':
          return cached({ text: block.text, type: 'text' }, block.cache_control);
        case 'image':
          return cached(imagePart(block.source), block.cache_control);
        case 'tool_use':
          if (m.role !== 'assistant') invalid(`${at}.type`, 'tool_use blocks are only allowed in assistant messages');
          checkJsonDepth(block.input, `${at}.input`);
          return cached({ arguments: JSON.stringify(block.input), id: block.id, name: block.name, type: 'tool_call' }, block.cache_control);
        case 'tool_result': {
          if (m.role !== 'user') invalid(`${at}.type`, 'tool_result blocks are only allowed in user messages');
          const content: ToolResultPart['content'] = block.content === undefined ? []
            : typeof block.content === 'string' ? [{ text: block.content, type: 'text' }]
              : block.content.map((c) => (c.type === 'text' ? cached({ text: c.text, type: 'text' }, c.cache_control) : cached(imagePart(c.source), c.cache_control)));
          return cached(block.is_error !== undefined
            ? { content, isError: block.is_error, toolCallId: block.tool_use_id, type: 'tool_result' }
            : { content, toolCallId: block.tool_use_id, type: 'tool_result' }, block.cache_control);
        }
      }
    });
    return { content, role: m.role };
  });

  const req: ChatRequest = { model: b.model, messages, maxTokens: b.max_tokens, stream: b.stream ?? false };
  if (b.system !== undefined) {
    req.system = typeof b.system === 'string' ? b.system : b.system.map((s) => s.text).join('\n\n');
    // The neutral system prompt is one text, so a breakpoint on any of its blocks moves to its end
    // (the cached prefix grows by the blocks after it, which is still a valid prefix).
    const cc = typeof b.system === 'string' ? undefined : b.system.findLast((s) => s.cache_control)?.cache_control;
    if (cc) req.systemCacheControl = cacheOf(cc);
  }
  if (b.tools !== undefined) {
    req.tools = b.tools.map((t, i): ToolDef => {
      checkJsonDepth(t.input_schema, `tools.${i}.input_schema`);
      const def: ToolDef = { name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.input_schema };
      if (t.cache_control) def.cacheControl = cacheOf(t.cache_control);
      return def;
    });
  }
  if (b.tool_choice !== undefined) {
    const tc = b.tool_choice;
    req.toolChoice = tc.type === 'any' ? { type: 'required' } : tc.type === 'tool' ? { type: 'tool', name: tc.name } : { type: tc.type };
    if (tc.type !== 'none' && tc.disable_parallel_tool_use !== undefined) req.parallelToolCalls = !tc.disable_parallel_tool_use;
    checkToolChoice(req.toolChoice, req.tools, 'tool_choice');
  }
  if (b.stop_sequences !== undefined) req.stop = b.stop_sequences;
  if (b.temperature !== undefined) req.temperature = b.temperature;
  if (b.top_p !== undefined) req.topP = b.top_p;
  if (b.top_k !== undefined) req.topK = b.top_k;
  if (typeof b.metadata?.user_id === 'string') req.user = b.metadata.user_id;
  return req;
}

function imagePart(source: z.infer<typeof imageSource>): ImagePart {
  return source.type === 'base64'
    ? { type: 'image', url: `data:${source.media_type};base64,${source.data}` }
    : { type: 'image', url: source.url };
}

type WireCache = z.infer<typeof cacheControl> | null | undefined;

function cacheOf(cc: NonNullable<WireCache>): CacheControl {
  return cc.ttl ? { ttl: cc.ttl, type: 'ephemeral' } : { type: 'ephemeral' };
}

/**
 * `part` with the block's cache breakpoint, if it has one. `cacheControl` goes first: parts keep their
 * keys in canonical (sorted) order, which lets the ledger canonicalise content with one JSON.stringify.
 */
function cached<T extends Part>(part: T, cc: WireCache): T {
  return cc ? { cacheControl: cacheOf(cc), ...part } : part;
}

/** The wire form of a neutral breakpoint. */
function cacheBody(cc: CacheControl): Record<string, unknown> {
  return cc.ttl ? { type: 'ephemeral', ttl: cc.ttl } : { type: 'ephemeral' };
}

function invalid(param: string, message: string): never {
  throw new RedlineError('INVALID_REQUEST', `${param}: ${message}`, { param });
}

type Issue = z.core.$ZodIssue;

/**
 * zod reports a failed `string | array` union as one "Invalid input" at the union's path with every
 * branch's issues nested inside. Clients need the deepest concrete fault (e.g.
 * `messages.1.content.0.type`), so follow the branch that got furthest into the value.
 */
function explainIssue(issue: Issue, base: PropertyKey[]): { path: PropertyKey[]; message: string } {
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return { path, message: `required (${issue.expected})` };
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { path, message: issue.message };
  let best: Issue | undefined;
  let bestDepth = -1;
  for (const branch of issue.errors) {
    for (const i of branch) {
      if (i.path.length > bestDepth) { best = i; bestDepth = i.path.length; }
    }
  }
  if (best && bestDepth > 0) return explainIssue(best, path);
  const expected = issue.errors.flat()
    .map((i) => (i.code === 'invalid_type' ? i.expected : undefined))
    .filter((e): e is NonNullable<typeof e> => e !== undefined);
  return { path, message: expected.length > 0 ? `expected ${[...new Set(expected)].join(' or ')}` : issue.message };
}

// ---------------------------------------------------------------------------------------------
// Client side: response rendering
// ---------------------------------------------------------------------------------------------

type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'refusal';

function toAnthropicStopReason(r: StopReason): AnthropicStopReason {
  switch (r) {
    case 'end': return 'end_turn';
    case 'max_tokens': return 'max_tokens';
    case 'tool_use': return 'tool_use';
    case 'stop_sequence': return 'stop_sequence';
    case 'content_filter':
    case 'refusal': return 'refusal';
  }
}

/**
 * Tool arguments are JSON text as the model produced it, but Anthropic's `input` is an object.
 * Arguments that are not a JSON object (a model emitting broken JSON through an OpenAI-style
 * upstream, or empty text) become `{}` rather than failing the whole reply: the client still learns
 * which tool was called, and redline's ledger keeps the original text.
 */
function argumentsToInput(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** A complete Anthropic `message` object for a non-streamed reply. */
export function renderAnthropicMessage(res: ChatResponse, o: { id: string; model: string }): Record<string, unknown> {
  const stopReason = toAnthropicStopReason(res.stopReason);
  return {
    id: o.id,
    type: 'message',
    role: 'assistant',
    model: o.model,
    content: res.content.map((p) => (p.type === 'text'
      ? { type: 'text', text: p.text }
      : { type: 'tool_use', id: p.id, name: p.name, input: argumentsToInput(p.arguments) })),
    stop_reason: stopReason,
    stop_sequence: stopReason === 'stop_sequence' ? (res.stopSequence ?? null) : null,
    usage: { input_tokens: res.usage.inputTokens, output_tokens: res.usage.outputTokens },
  };
}

/** A keep-alive frame; clients (including the official SDKs) skip it. */
export function anthropicPing(): string {
  return sseFrame(JSON.stringify({ type: 'ping' }), 'ping');
}

/**
 * `args` (tool_use blocks): whether the arguments begin as a JSON object, which is all `input` may
 * be. Until the first non-blank character it is unknown; arguments that begin otherwise are dropped,
 * so the client keeps the `input: {}` the block opened with (as a non-streamed answer would give).
 */
interface OpenBlock { index: number; kind: 'text' | 'tool_use'; args?: 'unknown' | 'object' | 'dropped' }

/**
 * Canonical stream events → Anthropic SSE text. Anthropic clients index their content array by the
 * event's `index` (the official SDK does `content.at(index)`), so block indices are reassigned here
 * 0, 1, 2… in order of appearance, whatever numbering the upstream used.
 */
export class AnthropicStreamEncoder {
  readonly #id: string;
  readonly #model: string;
  #started = false;
  #finished = false;
  #inputTokensSent = false;
  #nextIndex = 0;
  /** Open blocks by canonical index. */
  readonly #open = new Map<number, OpenBlock>();

  constructor(o: { id: string; model: string }) {
    this.#id = o.id;
    this.#model = o.model;
  }

  encode(ev: StreamEvent): string {
    if (this.#finished) return '';
    let out = ev.type === 'start' ? '' : this.#ensureStarted(undefined);
    switch (ev.type) {
      case 'start':
        out += this.#ensureStarted(ev.inputTokens);
        break;
      case 'text_start':
        out += this.#closeIfOpen(ev.index) + this.#openText(ev.index);
        break;
      case 'tool_call_start':
        out += this.#closeIfOpen(ev.index) + this.#openToolUse(ev.index, ev.id, ev.name);
        break;
      case 'text_delta': {
        let b = this.#open.get(ev.index);
        if (b?.kind !== 'text') { out += this.#closeIfOpen(ev.index) + this.#openText(ev.index); b = this.#open.get(ev.index)!; }
        if (ev.text !== '') out += frame('content_block_delta', { type: 'content_block_delta', index: b.index, delta: { type: 'text_delta', text: ev.text } });
        break;
      }
      case 'tool_call_delta': {
        let b = this.#open.get(ev.index);
        if (b?.kind !== 'tool_use') {
          // A delta with no start carries no id or name; invent an id so the block is still well formed.
          out += this.#closeIfOpen(ev.index) + this.#openToolUse(ev.index, `toolu_${this.#id}_${this.#nextIndex}`, '');
          b = this.#open.get(ev.index)!;
        }
        let partial = ev.argumentsDelta;
        if (b.args === 'unknown') {
          partial = partial.trimStart();
          if (partial !== '') b.args = partial.startsWith('{') ? 'object' : 'dropped';
        }
        if (b.args === 'object' && partial !== '') {
          out += frame('content_block_delta', { type: 'content_block_delta', index: b.index, delta: { type: 'input_json_delta', partial_json: partial } });
        }
        break;
      }
      case 'block_stop':
        out += this.#closeIfOpen(ev.index);
        break;
      case 'finish': {
        for (const idx of [...this.#open.keys()]) out += this.#closeIfOpen(idx);
        const stopReason = toAnthropicStopReason(ev.stopReason);
        const usage: Record<string, number> = { output_tokens: ev.usage.outputTokens };
        // message_start carried 0 when the input count was not known yet; clients overwrite with this.
        if (!this.#inputTokensSent) usage.input_tokens = ev.usage.inputTokens;
        out += frame('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: stopReason, stop_sequence: stopReason === 'stop_sequence' ? (ev.stopSequence ?? null) : null },
          usage,
        });
        out += frame('message_stop', { type: 'message_stop' });
        this.#finished = true;
        break;
      }
    }
    return out;
  }

  /** Anthropic streams end with message_stop; there is no terminal sentinel like OpenAI's [DONE]. */
  end(): string {
    return '';
  }

  #ensureStarted(inputTokens: number | undefined): string {
    if (this.#started) return '';
    this.#started = true;
    this.#inputTokensSent = inputTokens !== undefined;
    return frame('message_start', {
      type: 'message_start',
      message: {
        id: this.#id,
        type: 'message',
        role: 'assistant',
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens ?? 0, output_tokens: 0 },
      },
    });
  }

  #openText(canonical: number): string {
    const index = this.#nextIndex++;
    this.#open.set(canonical, { index, kind: 'text' });
    return frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
  }

  #openToolUse(canonical: number, id: string, name: string): string {
    const index = this.#nextIndex++;
    this.#open.set(canonical, { index, kind: 'tool_use', args: 'unknown' });
    return frame('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name, input: {} } });
  }

  #closeIfOpen(canonical: number): string {
    const b = this.#open.get(canonical);
    if (!b) return '';
    this.#open.delete(canonical);
    return frame('content_block_stop', { type: 'content_block_stop', index: b.index });
  }
}

function frame(event: string, data: Record<string, unknown>): string {
  return sseFrame(JSON.stringify(data), event);
}

// ---------------------------------------------------------------------------------------------
// Provider side: request body
// ---------------------------------------------------------------------------------------------

/** Anthropic requires max_tokens; OpenAI-style clients often omit it. */
const DEFAULT_MAX_TOKENS = 4096;

/** The body redline POSTs to an Anthropic upstream's /v1/messages. */
export function toAnthropicMessagesBody(req: ChatRequest, model: string): Record<string, unknown> {
  const messages: Array<{ role: 'user' | 'assistant'; content: Array<Record<string, unknown>> }> = [];
  req.messages.forEach((m, i) => {
    const content = m.content.flatMap((p, j) => partToBlocks(p, `messages.${i}.content.${j}`));
    // The API rejects messages with no content and empty text blocks; OpenAI-style history often
    // carries `content: ""` beside tool calls, so those are dropped rather than forwarded.
    if (content.length > 0) messages.push({ role: m.role, content });
  });
  // ...and it rejects a final assistant (prefill) turn that ends in whitespace.
  const last = messages.at(-1);
  const lastBlock = last?.content.at(-1);
  if (last?.role === 'assistant' && lastBlock?.type === 'text' && typeof lastBlock.text === 'string') {
    const trimmed = lastBlock.text.trimEnd();
    if (trimmed === '') last.content.pop(); else lastBlock.text = trimmed;
    if (last.content.length === 0) messages.pop();
  }

  const body: Record<string, unknown> = { model, max_tokens: req.maxTokens ?? DEFAULT_MAX_TOKENS, messages };
  if (req.system !== undefined && req.system !== '') {
    body.system = req.systemCacheControl ? [{ type: 'text', text: req.system, cache_control: cacheBody(req.systemCacheControl) }] : req.system;
  }
  if (req.tools !== undefined && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      name: t.name,
      ...(t.description !== undefined && { description: t.description }),
      // OpenAI tools may omit parameters (or send `{}`); Anthropic insists on an object schema.
      input_schema: { type: 'object', ...t.parameters },
      ...(t.cacheControl && { cache_control: cacheBody(t.cacheControl) }),
    }));
    const choice = toolChoiceBody(req.toolChoice, req.parallelToolCalls);
    if (choice) body.tool_choice = choice;
  } else if (req.toolChoice?.type === 'none') {
    body.tool_choice = { type: 'none' };
  }
  if (req.stop !== undefined && req.stop.length > 0) body.stop_sequences = req.stop;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.topK !== undefined) body.top_k = req.topK;
  if (req.user !== undefined) body.metadata = { user_id: req.user };
  body.stream = req.stream;
  return body;
}

function toolChoiceBody(tc: ToolChoice | undefined, parallel: boolean | undefined): Record<string, unknown> | undefined {
  if (tc?.type === 'none') return { type: 'none' };
  const base: Record<string, unknown> | undefined = tc === undefined ? undefined
    : tc.type === 'required' ? { type: 'any' } : tc.type === 'tool' ? { type: 'tool', name: tc.name } : { type: 'auto' };
  if (parallel === false) return { ...(base ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return base;
}

function partToBlocks(p: Part, param: string): Array<Record<string, unknown>> {
  switch (p.type) {
    case 'text':
      return p.text === '' ? [] : [withCache({ type: 'text', text: p.text }, p.cacheControl)];
    case 'image':
      return [withCache(imageBlockBody(p, param), p.cacheControl)];
    case 'tool_call':
      return [withCache({ type: 'tool_use', id: p.id, name: p.name, input: argumentsToInput(p.arguments) }, p.cacheControl)];
    case 'tool_result': {
      const content = p.content.flatMap((c, k) => partToBlocks(c, `${param}.content.${k}`));
      return [withCache({
        type: 'tool_result',
        tool_use_id: p.toolCallId,
        ...(content.length > 0 && { content }),
        ...(p.isError !== undefined && { is_error: p.isError }),
      }, p.cacheControl)];
    }
  }
}

function withCache(block: Record<string, unknown>, cc: CacheControl | undefined): Record<string, unknown> {
  if (cc) block.cache_control = cacheBody(cc);
  return block;
}

const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*?);base64,(.*)$/s;

function imageBlockBody(p: ImagePart, param: string): Record<string, unknown> {
  const m = DATA_URL.exec(p.url);
  if (m) return { type: 'image', source: { type: 'base64', media_type: m[1]!.toLowerCase(), data: m[3]! } };
  if (/^https?:\/\//i.test(p.url)) return { type: 'image', source: { type: 'url', url: p.url } };
  throw new RedlineError('INVALID_REQUEST', `${param}: images must be base64 data: URLs or http(s) URLs for this provider`, { param });
}

// ---------------------------------------------------------------------------------------------
// Provider side: responses
// ---------------------------------------------------------------------------------------------

/**
 * Upstream stop reasons → canonical. `pause_turn` (a server tool paused a long turn) has no canonical
 * equivalent and is reported as an ordinary end; a context-window stop is a length stop.
 */
function fromAnthropicStopReason(r: unknown): StopReason {
  switch (r) {
    case 'max_tokens':
    case 'model_context_window_exceeded': return 'max_tokens';
    case 'tool_use': return 'tool_use';
    case 'stop_sequence': return 'stop_sequence';
    case 'refusal': return 'refusal';
    default: return 'end';
  }
}

const upstreamMessage = z.object({
  id: z.string(),
  type: z.literal('message').optional(),
  model: z.string(),
  content: z.array(z.looseObject({ type: z.string() })),
  stop_reason: z.string().nullish(),
  stop_sequence: z.string().nullish(),
  usage: z.looseObject({ input_tokens: z.number().nonnegative(), output_tokens: z.number().nonnegative() }),
});

const upstreamText = z.object({ type: z.literal('text'), text: z.string() });
const upstreamToolUse = z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() });
const parseUpstreamMessage = compiledParse('anthropic.message', upstreamMessage);
const parseUpstreamText = compiledParse('anthropic.text', upstreamText);
const parseUpstreamToolUse = compiledParse('anthropic.tool_use', upstreamToolUse);

function upstreamFault(provider: string, message: string, retryable = true, extra: Record<string, unknown> = {}): RedlineError {
  return new RedlineError('UPSTREAM_FAILED', `provider ${provider} ${message}`, { details: { provider, retryable, ...extra } });
}

/**
 * Input tokens as other providers count them. Anthropic reports prompt-cache writes and reads apart
 * from `input_tokens`, while OpenAI's `prompt_tokens` (and Gemini's prompt count) include cached
 * tokens; the three are summed so that metrics, the request log and OpenAI clients see every input
 * token the call used.
 */
function inputTokensOf(usage: Record<string, unknown> | undefined): number | undefined {
  if (typeof usage?.input_tokens !== 'number') return undefined;
  const extra = (k: string) => (typeof usage[k] === 'number' ? (usage[k] as number) : 0);
  return usage.input_tokens + extra('cache_creation_input_tokens') + extra('cache_read_input_tokens');
}

/** An upstream `message` object → ChatResponse. Block types redline does not model (thinking, server tools) are skipped. */
export function fromAnthropicMessage(json: unknown, provider: string): ChatResponse {
  const r = parseUpstreamMessage(json);
  if (!r.success) {
    const upstreamType = (json as { error?: { type?: unknown } } | null)?.error?.type;
    throw upstreamFault(provider, 'returned a malformed message', true, typeof upstreamType === 'string' ? { upstreamType } : {});
  }
  const m = r.data;
  const content: Array<TextPart | ToolCallPart> = [];
  for (const block of m.content) {
    if (block.type === 'text') {
      const t = parseUpstreamText(block);
      if (!t.success) throw upstreamFault(provider, 'returned a malformed text block');
      content.push({ type: 'text', text: t.data.text });
    } else if (block.type === 'tool_use') {
      const t = parseUpstreamToolUse(block);
      if (!t.success) throw upstreamFault(provider, 'returned a malformed tool_use block');
      content.push({ type: 'tool_call', id: t.data.id, name: t.data.name, arguments: JSON.stringify(t.data.input ?? {}) });
    }
  }
  const stopReason = fromAnthropicStopReason(m.stop_reason);
  return {
    id: m.id,
    model: m.model,
    content,
    stopReason,
    ...(typeof m.stop_sequence === 'string' && { stopSequence: m.stop_sequence }),
    usage: { inputTokens: inputTokensOf(m.usage) ?? 0, outputTokens: m.usage.output_tokens },
  };
}

/**
 * Upstream SSE events → canonical stream events. Block indices are renumbered over the blocks
 * redline keeps (text, tool_use), so skipping a thinking block leaves no hole in the numbering.
 */
export class AnthropicStreamDecoder {
  readonly #provider: string;
  #started = false;
  #finished = false;
  #sawDelta = false;
  #stopReason: StopReason = 'end';
  #stopSequence: string | undefined;
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  #nextIndex = 0;
  /** Upstream block index → canonical index, for the blocks kept. */
  readonly #blocks = new Map<number, number>();

  constructor(provider: string) {
    this.#provider = provider;
  }

  push(event: string | undefined, data: unknown): StreamEvent[] {
    if (this.#finished) return [];
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw upstreamFault(this.#provider, 'sent a stream event that is not an object', false);
    }
    const d = data as Record<string, unknown>;
    const type = typeof d.type === 'string' ? d.type : event;
    switch (type) {
      case 'ping':
        return [];
      case 'error': {
        const err = d.error as { type?: unknown } | undefined;
        const upstreamType = typeof err?.type === 'string' ? err.type : 'unknown';
        const fault = upstreamFault(this.#provider, `sent an error event (${upstreamType})`, upstreamType !== 'invalid_request_error', { upstreamType });
        // Overload and rate limits keep their meaning (503 overloaded_error, 429) for clients and retries.
        if (upstreamType === 'overloaded_error' || upstreamType === 'rate_limit_error') {
          throw new RedlineError(upstreamType === 'overloaded_error' ? 'UPSTREAM_UNAVAILABLE' : 'RATE_LIMITED', fault.message, { details: fault.details! });
        }
        throw fault;
      }
      case 'message_start': {
        const msg = d.message as Record<string, unknown> | undefined;
        if (typeof msg !== 'object' || msg === null) throw upstreamFault(this.#provider, 'sent a malformed message_start', false);
        const usage = msg.usage as Record<string, unknown> | undefined;
        const ev: StreamEvent = { type: 'start', id: str(msg.id), model: str(msg.model) };
        const input = inputTokensOf(usage);
        if (input !== undefined) { ev.inputTokens = input; this.#usage.inputTokens = input; }
        if (typeof usage?.output_tokens === 'number') this.#usage.outputTokens = usage.output_tokens;
        this.#started = true;
        return [ev];
      }
      case 'content_block_start': {
        const index = this.#index(d);
        const block = d.content_block as Record<string, unknown> | undefined;
        if (block?.type === 'text') {
          const i = this.#keep(index);
          const out: StreamEvent[] = [{ type: 'text_start', index: i }];
          if (typeof block.text === 'string' && block.text !== '') out.push({ type: 'text_delta', index: i, text: block.text });
          return out;
        }
        if (block?.type === 'tool_use') {
          if (typeof block.id !== 'string' || typeof block.name !== 'string') throw upstreamFault(this.#provider, 'sent a malformed tool_use block', false);
          const i = this.#keep(index);
          const out: StreamEvent[] = [{ type: 'tool_call_start', index: i, id: block.id, name: block.name }];
          const input = block.input;
          if (typeof input === 'object' && input !== null && Object.keys(input).length > 0) {
            out.push({ type: 'tool_call_delta', index: i, argumentsDelta: JSON.stringify(input) });
          }
          return out;
        }
        return [];
      }
      case 'content_block_delta': {
        const i = this.#blocks.get(this.#index(d));
        const delta = d.delta as Record<string, unknown> | undefined;
        if (i === undefined || !delta) return [];
        if (delta.type === 'text_delta' && typeof delta.text === 'string') return [{ type: 'text_delta', index: i, text: delta.text }];
        if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string') {
          return delta.partial_json === '' ? [] : [{ type: 'tool_call_delta', index: i, argumentsDelta: delta.partial_json }];
        }
        return [];
      }
      case 'content_block_stop': {
        const i = this.#blocks.get(this.#index(d));
        return i === undefined ? [] : [{ type: 'block_stop', index: i }];
      }
      case 'message_delta': {
        const delta = d.delta as Record<string, unknown> | undefined;
        const usage = d.usage as Record<string, unknown> | undefined;
        this.#sawDelta = true;
        this.#stopReason = fromAnthropicStopReason(delta?.stop_reason);
        this.#stopSequence = typeof delta?.stop_sequence === 'string' ? delta.stop_sequence : undefined;
        // Usage in message_delta is cumulative for the whole message, so it replaces, never adds.
        if (typeof usage?.output_tokens === 'number') this.#usage.outputTokens = usage.output_tokens;
        const input = inputTokensOf(usage);
        if (input !== undefined) this.#usage.inputTokens = input;
        return [];
      }
      case 'message_stop':
        return this.#finish();
      default:
        // The API reference says new event types may appear; they are skipped, not fatal.
        return [];
    }
  }

  /** Call when the upstream body ends. */
  end(): StreamEvent[] {
    if (this.#finished) return [];
    if (this.#sawDelta) return this.#finish();
    throw upstreamFault(this.#provider, this.#started ? 'ended the stream before the message finished' : 'ended the stream before it started');
  }

  #finish(): StreamEvent[] {
    this.#finished = true;
    const ev: StreamEvent = { type: 'finish', stopReason: this.#stopReason, usage: { ...this.#usage } };
    if (this.#stopSequence !== undefined) ev.stopSequence = this.#stopSequence;
    return [ev];
  }

  #index(d: Record<string, unknown>): number {
    if (typeof d.index !== 'number' || !Number.isInteger(d.index) || d.index < 0) {
      throw upstreamFault(this.#provider, 'sent a content block event without a valid index', false);
    }
    return d.index;
  }

  #keep(upstreamIndex: number): number {
    const i = this.#nextIndex++;
    this.#blocks.set(upstreamIndex, i);
    return i;
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}
