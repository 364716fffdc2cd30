// The OpenAI Chat Completions wire format, both directions.
//  - Client side: parseOpenAIChatRequest / renderOpenAIChatResponse / OpenAIStreamEncoder turn what an
//    OpenAI-compatible client sends into a ChatRequest and our answers back into OpenAI's shapes.
//  - Provider side: toOpenAIChatBody / fromOpenAIChatResponse / OpenAIStreamDecoder speak to OpenAI,
//    xAI and OpenAI-compatible servers (vLLM, Ollama, LM Studio).
// Shapes follow the public API reference for POST /v1/chat/completions (request body, the
// `chat.completion` object and `chat.completion.chunk` stream events).
import { z } from 'zod';
import { RedlineError } from '../errors.js';
import { sseFrame } from './sse.js';
import { checkJsonDepth, checkToolChoice } from './checks.js';
import { compiledParse } from './validate.js';
import type {
  ChatRequest, ChatResponse, ImagePart, Message, Part, StopReason, StreamEvent, TextPart, ToolCallPart,
  ToolChoice, ToolDef, ToolResultPart, Usage,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Client side: request parsing
// ---------------------------------------------------------------------------------------------

// Many clients (LangChain, LiteLLM, hand-rolled ones) send `null` for parameters they leave unset,
// and OpenAI accepts that, so every optional field is nullish and null means "absent".
const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imageUrlPart = z.object({
  type: z.literal('image_url'),
  // Some clients send the URL as a bare string (accepted by OpenAI-compatible servers too).
  image_url: z.union([z.string(), z.object({ url: z.string(), detail: z.string().nullish() })]),
});
const refusalPart = z.object({ type: z.literal('refusal'), refusal: z.string() });

const userContent = z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imageUrlPart]))]);
const textOnlyContent = z.union([z.string(), z.array(textPart)]);
const assistantContent = z.union([z.string(), z.array(z.discriminatedUnion('type', [textPart, refusalPart]))]);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const messageSchema = z.discriminatedUnion('role', [
  z.object({ role: z.literal('system'), content: textOnlyContent }),
  z.object({ role: z.literal('developer'), content: textOnlyContent }),
  z.object({ role: z.literal('user'), content: userContent }),
  z.object({
    role: z.literal('assistant'),
    content: assistantContent.nullish(),
    tool_calls: z.array(toolCall).nullish(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: textOnlyContent }),
]);

const toolSchema = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().min(1),
    description: z.string().nullish(),
    parameters: z.record(z.string(), z.unknown()).nullish(),
    strict: z.boolean().nullish(),
  }),
});

const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1).max(64),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown()).nullish(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const requestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  tools: z.array(toolSchema).nullish(),
  tool_choice: z.union([
    z.enum(['auto', 'none', 'required']),
    z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
  ]).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  user: z.string().nullish(),
  n: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  response_format: responseFormatSchema.nullish(),
});

type ParsedMessage = z.infer<typeof messageSchema>;
const parseRequestBody = compiledParse('openai.request', requestSchema);

/** Parses an OpenAI Chat Completions request body. Throws INVALID_REQUEST naming the offending path. */
export function parseOpenAIChatRequest(body: unknown): ChatRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RedlineError('INVALID_REQUEST', 'request body must be a JSON object');
  }
  const r = parseRequestBody(body);
  if (!r.success) {
    const { path, message } = describeIssue(r.error.issues[0]);
    throw new RedlineError('INVALID_REQUEST', path ? `${path}: ${message}` : message, path ? { param: path } : {});
  }
  const b = r.data;
  if (b.n != null && b.n > 1) {
    throw new RedlineError('INVALID_REQUEST', 'n: more than one choice per request is not supported; send separate requests', { param: 'n' });
  }

  const systemTexts: string[] = [];
  const messages: Message[] = [];
  b.messages.forEach((m, i) => convertMessage(m, i, systemTexts, messages));

  const req: ChatRequest = { model: b.model, messages, stream: b.stream ?? false };
  const system = systemTexts.join('\n\n');
  if (system !== '') req.system = system;
  if (b.tools && b.tools.length > 0) req.tools = b.tools.map((t, i) => toToolDef(t, i));
  if (b.tool_choice != null) req.toolChoice = toToolChoice(b.tool_choice);
  checkToolChoice(req.toolChoice, req.tools, 'tool_choice');
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens != null) req.maxTokens = maxTokens;
  if (b.temperature != null) req.temperature = b.temperature;
  if (b.top_p != null) req.topP = b.top_p;
  if (b.stop != null) {
    const stop = typeof b.stop === 'string' ? [b.stop] : b.stop;
    if (stop.length > 0) req.stop = stop;
  }
  if (b.stream_options?.include_usage != null) req.includeUsage = b.stream_options.include_usage;
  if (b.parallel_tool_calls != null) req.parallelToolCalls = b.parallel_tool_calls;
  if (b.user != null) req.user = b.user;
  if (b.seed != null) req.seed = b.seed;
  if (b.presence_penalty != null) req.presencePenalty = b.presence_penalty;
  if (b.frequency_penalty != null) req.frequencyPenalty = b.frequency_penalty;
  const rf = b.response_format;
  if (rf?.type === 'json_object') req.responseFormat = { type: 'json_object' };
  else if (rf?.type === 'json_schema') {
    const js = rf.json_schema;
    const schema = js.schema ?? {};
    checkJsonDepth(schema, 'response_format.json_schema.schema');
    req.responseFormat = {
      type: 'json_schema', name: js.name, schema,
      ...(js.description != null && { description: js.description }), ...(js.strict != null && { strict: js.strict }),
    };
  }
  return req;
}

function convertMessage(m: ParsedMessage, i: number, systemTexts: string[], out: Message[]): void {
  switch (m.role) {
    case 'system':
    case 'developer':
      systemTexts.push(typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('\n'));
      return;
    case 'user': {
      const content: Part[] = typeof m.content === 'string'
        ? [{ text: m.content, type: 'text' }]
        : m.content.map((p): TextPart | ImagePart => p.type === 'text' ? { text: p.text, type: 'text' } : toImagePart(p.image_url));
      out.push({ content, role: 'user' });
      return;
    }
    case 'assistant': {
      const content: Part[] = [];
      if (typeof m.content === 'string') {
        if (m.content !== '' || !m.tool_calls?.length) content.push({ text: m.content, type: 'text' });
      } else if (m.content) {
        for (const p of m.content) content.push({ text: p.type === 'text' ? p.text : p.refusal, type: 'text' });
      }
      for (const tc of m.tool_calls ?? []) {
        content.push({ arguments: tc.function.arguments, id: tc.id, name: tc.function.name, type: 'tool_call' });
      }
      if (content.length === 0) {
        const param = `messages[${i}].content`;
        throw new RedlineError('INVALID_REQUEST', `${param}: an assistant message needs content or tool_calls`, { param });
      }
      out.push({ content, role: 'assistant' });
      return;
    }
    case 'tool': {
      const result: ToolResultPart = {
        content: typeof m.content === 'string' ? [{ text: m.content, type: 'text' }] : m.content.map((p) => ({ text: p.text, type: 'text' })),
        toolCallId: m.tool_call_id,
        type: 'tool_result',
      };
      // Canonical messages carry tool results inside a user message; a run of `tool` messages is one turn.
      const prev = out[out.length - 1];
      if (prev && prev.role === 'user' && prev.content.length > 0 && prev.content.every((p) => p.type === 'tool_result')) {
        prev.content.push(result);
      } else {
        out.push({ content: [result], role: 'user' });
      }
      return;
    }
  }
}

function toImagePart(u: string | { url: string; detail?: string | null | undefined }): ImagePart {
  if (typeof u === 'string') return { type: 'image', url: u };
  return u.detail != null ? { detail: u.detail, type: 'image', url: u.url } : { type: 'image', url: u.url };
}

function toToolDef(t: z.infer<typeof toolSchema>, i: number): ToolDef {
  if (t.function.parameters != null) checkJsonDepth(t.function.parameters, `tools[${i}].function.parameters`);
  // The API reference: omitting `parameters` defines a function with an empty parameter list.
  const def: ToolDef = { name: t.function.name, parameters: t.function.parameters ?? { type: 'object', properties: {} } };
  if (t.function.description != null) def.description = t.function.description;
  if (t.function.strict != null) def.strict = t.function.strict;
  return def;
}

function toToolChoice(c: 'auto' | 'none' | 'required' | { function: { name: string } }): ToolChoice {
  return typeof c === 'string' ? { type: c } : { type: 'tool', name: c.function.name };
}

type ZodIssue = z.core.$ZodIssue;

/**
 * Turns the first zod issue into `path` + a message. A union failure is explained by the branch that
 * got furthest (the one whose failure is not a plain type mismatch at the union's own level), so a
 * bad text part reports `messages[0].content[1].text` rather than "invalid input". Hand-written
 * because zod's prettifyError folds the path into prose, and OpenAI's `param` needs the path alone.
 */
function describeIssue(issue: ZodIssue | undefined, base: PropertyKey[] = []): { path: string; message: string } {
  if (!issue) return { path: '', message: 'invalid request' };
  const path = [...base, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const deeper = issue.errors.find((branch) => branch.some((e) => e.path.length > 0 || e.code !== 'invalid_type'));
    if (deeper) return describeIssue(deeper[0], path);
    const expected = issue.errors.flatMap((branch) => branch.map((e) => (e.code === 'invalid_type' ? e.expected : undefined)))
      .filter((e): e is NonNullable<typeof e> => e !== undefined);
    return { path: formatPath(path), message: `expected ${[...new Set(expected)].join(' or ')}` };
  }
  if (issue.code === 'invalid_union' && 'discriminator' in issue) {
    const raw = (issue as { options?: unknown }).options;
    const options = Array.isArray(raw) ? raw.map((o: unknown) => `'${String(o)}'`).join(', ') : '';
    return { path: formatPath(path), message: `missing or unsupported value; expected one of ${options}` };
  }
  if (issue.code === 'invalid_value') {
    return { path: formatPath(path), message: `unsupported value; expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  // zod's own messages name types and bounds, never the received value, so they are safe to return.
  return { path: formatPath(path), message: issue.message.replace(/^Invalid input: /, '') };
}

function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Client side: responses
// ---------------------------------------------------------------------------------------------

const FINISH_REASON: Record<StopReason, 'stop' | 'length' | 'tool_calls' | 'content_filter'> = {
  end: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  stop_sequence: 'stop',
  content_filter: 'content_filter',
  refusal: 'content_filter',
};

export interface OpenAIRenderIds { id: string; model: string; created: number }

/** Renders a ChatResponse as an OpenAI `chat.completion` object. */
export function renderOpenAIChatResponse(res: ChatResponse, o: OpenAIRenderIds): Record<string, unknown> {
  const texts = res.content.filter((p): p is TextPart => p.type === 'text');
  const calls = res.content.filter((p): p is ToolCallPart => p.type === 'tool_call');
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: texts.length > 0 ? texts.map((p) => p.text).join('') : null,
    refusal: null,
  };
  if (calls.length > 0) message.tool_calls = calls.map(renderToolCall);
  return {
    id: o.id,
    object: 'chat.completion',
    created: o.created,
    model: o.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH_REASON[res.stopReason] }],
    usage: renderUsage(res.usage),
  };
}

function renderToolCall(c: ToolCallPart): Record<string, unknown> {
  return { id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } };
}

function renderUsage(u: Usage): Record<string, number> {
  return { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens };
}

/** Encodes canonical stream events as OpenAI `chat.completion.chunk` SSE frames. */
export class OpenAIStreamEncoder {
  private readonly o: { id: string; model: string; created: number; includeUsage: boolean };
  private roleSent = false;
  private finished = false;
  /** Content-block index → OpenAI's tool_calls[].index, which counts tool calls only. */
  private readonly toolOrdinal = new Map<number, number>();
  /** Tool calls (by block index) still without argument text: they get "{}" when they end. */
  private readonly noArgs = new Set<number>();

  constructor(o: { id: string; model: string; created: number; includeUsage: boolean }) {
    this.o = o;
  }

  encode(ev: StreamEvent): string {
    if (this.finished) return '';
    switch (ev.type) {
      case 'start':
        return this.roleSent ? '' : this.chunk({ content: '' }, null);
      case 'text_start':
        return '';
      case 'block_stop':
        return this.closeArgs(ev.index);
      case 'text_delta':
        return ev.text === '' ? '' : this.chunk({ content: ev.text }, null);
      case 'tool_call_start': {
        const ordinal = this.toolOrdinal.size;
        this.toolOrdinal.set(ev.index, ordinal);
        this.noArgs.add(ev.index);
        return this.chunk({ tool_calls: [{ index: ordinal, id: ev.id, type: 'function', function: { name: ev.name, arguments: '' } }] }, null);
      }
      case 'tool_call_delta': {
        const ordinal = this.toolOrdinal.get(ev.index);
        if (ordinal === undefined || ev.argumentsDelta === '') return '';
        this.noArgs.delete(ev.index);
        return this.chunk({ tool_calls: [{ index: ordinal, function: { arguments: ev.argumentsDelta } }] }, null);
      }
      case 'finish': {
        let out = '';
        for (const index of [...this.noArgs]) out += this.closeArgs(index);
        this.finished = true;
        out += this.chunk({}, FINISH_REASON[ev.stopReason]);
        if (this.o.includeUsage) {
          const body = this.envelope([]);
          body.usage = renderUsage(ev.usage);
          out += sseFrame(JSON.stringify(body));
        }
        return out;
      }
    }
  }

  end(): string {
    return sseFrame('[DONE]');
  }

  /**
   * A tool call that ends without argument text (Anthropic streams a no-input tool as an empty
   * partial_json) gets "{}", as OpenAI sends it: clients JSON.parse the arguments they accumulate.
   */
  private closeArgs(index: number): string {
    if (!this.noArgs.delete(index)) return '';
    return this.chunk({ tool_calls: [{ index: this.toolOrdinal.get(index)!, function: { arguments: '{}' } }] }, null);
  }

  /**
   * A chunk's fields as one literal: `{ ...envelope, choices }` cost about 1 µs per stream event on this
   * V8 (each property added after a spread is a slow store), a plain literal next to nothing.
   */
  private envelope(choices: unknown[]): Record<string, unknown> {
    return { id: this.o.id, object: 'chat.completion.chunk', created: this.o.created, model: this.o.model, choices };
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null): string {
    // The first chunk names the role, as OpenAI's does; SDK accumulators require it.
    const d = this.roleSent ? delta : { role: 'assistant', ...delta };
    this.roleSent = true;
    const body = this.envelope([{ index: 0, delta: d, logprobs: null, finish_reason: finishReason }]);
    if (this.o.includeUsage) body.usage = null;
    return sseFrame(JSON.stringify(body));
  }
}

// ---------------------------------------------------------------------------------------------
// Provider side: request body
// ---------------------------------------------------------------------------------------------

export interface OpenAIBodyOptions {
  /**
   * OpenAI deprecated `max_tokens` (its reasoning models reject it) in favour of
   * `max_completion_tokens`; several OpenAI-compatible servers only know `max_tokens`.
   */
  maxTokensField?: 'max_completion_tokens' | 'max_tokens';
}

/** Renders a ChatRequest as an OpenAI Chat Completions request body for `model`. */
export function toOpenAIChatBody(req: ChatRequest, model: string, opts: OpenAIBodyOptions = {}): Record<string, unknown> {
  const messages: Array<Record<string, unknown>> = [];
  if (req.system !== undefined && req.system !== '') messages.push({ role: 'system', content: req.system });
  for (const m of req.messages) {
    if (m.role === 'assistant') messages.push(assistantMessage(m.content));
    else messages.push(...userMessages(m.content));
  }
  const body: Record<string, unknown> = { model, messages };
  if (req.tools && req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({
      type: 'function',
      function: {
        name: t.name, ...(t.description !== undefined && { description: t.description }), parameters: t.parameters,
        ...(t.strict !== undefined && { strict: t.strict }),
      },
    }));
  }
  if (req.toolChoice) {
    body.tool_choice = req.toolChoice.type === 'tool' ? { type: 'function', function: { name: req.toolChoice.name } } : req.toolChoice.type;
  }
  if (req.maxTokens !== undefined) body[opts.maxTokensField ?? 'max_completion_tokens'] = req.maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  if (req.topP !== undefined) body.top_p = req.topP;
  if (req.stop && req.stop.length > 0) body.stop = req.stop;
  body.stream = req.stream;
  // Always ask for usage on streams: metering and the ledger need it whatever the client asked for.
  if (req.stream) body.stream_options = { include_usage: true };
  if (req.parallelToolCalls !== undefined && req.tools && req.tools.length > 0) body.parallel_tool_calls = req.parallelToolCalls;
  if (req.user !== undefined) body.user = req.user;
  if (req.seed !== undefined) body.seed = req.seed;
  if (req.presencePenalty !== undefined) body.presence_penalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) body.frequency_penalty = req.frequencyPenalty;
  const rf = req.responseFormat;
  if (rf?.type === 'json_object') body.response_format = { type: 'json_object' };
  else if (rf?.type === 'json_schema') {
    body.response_format = {
      type: 'json_schema',
      json_schema: {
        name: rf.name, ...(rf.description !== undefined && { description: rf.description }), schema: rf.schema,
        ...(rf.strict !== undefined && { strict: rf.strict }),
      },
    };
  }
  return body;
}

function assistantMessage(parts: Part[]): Record<string, unknown> {
  const text = parts.filter((p): p is TextPart => p.type === 'text').map((p) => p.text).join('');
  const calls = parts.filter((p): p is ToolCallPart => p.type === 'tool_call');
  const msg: Record<string, unknown> = { role: 'assistant', content: calls.length > 0 && text === '' ? null : text };
  if (calls.length > 0) msg.tool_calls = calls.map(renderToolCall);
  return msg;
}

/**
 * A canonical user message becomes: one `tool` message per tool result (they must directly follow
 * the assistant's tool_calls, so they go first), then a `user` message with the rest, if any.
 * OpenAI tool messages hold text only, so images inside a tool result ride in that user message.
 */
function userMessages(parts: Part[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  const rest: Array<TextPart | ImagePart> = [];
  for (const p of parts) {
    if (p.type === 'tool_result') {
      out.push({ role: 'tool', tool_call_id: p.toolCallId, content: p.content.filter((c): c is TextPart => c.type === 'text').map((c) => c.text).join('') });
      for (const c of p.content) if (c.type === 'image') rest.push(c);
    } else if (p.type === 'text' || p.type === 'image') {
      rest.push(p);
    }
  }
  if (rest.length === 0) return out;
  const onlyText = rest.every((p) => p.type === 'text');
  const content = onlyText && rest.length === 1
    ? (rest[0] as TextPart).text
    : rest.map((p) => p.type === 'text'
      ? { type: 'text', text: p.text }
      : { type: 'image_url', image_url: p.detail !== undefined ? { url: p.url, detail: p.detail } : { url: p.url } });
  out.push({ role: 'user', content });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Provider side: responses
// ---------------------------------------------------------------------------------------------

// Lenient on what OpenAI-compatible servers vary in (missing id/type/usage, arguments sent as an
// object), strict on what we cannot do without (a choice with a message).
const upstreamToolCall = z.object({
  id: z.string().nullish(),
  type: z.string().nullish(),
  function: z.object({ name: z.string(), arguments: z.union([z.string(), z.record(z.string(), z.unknown())]).nullish() }),
});
const upstreamCompletion = z.object({
  id: z.string().nullish(),
  model: z.string().nullish(),
  choices: z.array(z.object({
    message: z.object({
      content: z.string().nullish(),
      refusal: z.string().nullish(),
      tool_calls: z.array(upstreamToolCall).nullish(),
    }),
    finish_reason: z.string().nullish(),
  })).min(1),
  usage: z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish(),
});
const parseUpstreamCompletion = compiledParse('openai.completion', upstreamCompletion);

/** Reads an upstream `chat.completion` object. Malformed bodies are retryable upstream failures. */
export function fromOpenAIChatResponse(json: unknown, provider: string): ChatResponse {
  const upstreamError = errorMessageOf(json);
  if (upstreamError !== undefined) {
    throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} returned an error: ${upstreamError}`, { details: { provider, retryable: true } });
  }
  const r = parseUpstreamCompletion(json);
  if (!r.success) {
    const { path, message } = describeIssue(r.error.issues[0]);
    throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} returned a malformed chat completion (${path || 'body'}: ${message})`, { details: { provider, retryable: true } });
  }
  const choice = r.data.choices[0]!;
  const msg = choice.message;
  const content: Array<TextPart | ToolCallPart> = [];
  if (msg.content != null && msg.content !== '') content.push({ type: 'text', text: msg.content });
  const refused = msg.refusal != null && msg.refusal !== '';
  if (refused) content.push({ type: 'text', text: msg.refusal! });
  (msg.tool_calls ?? []).forEach((tc, i) => {
    const args = tc.function.arguments;
    content.push({
      type: 'tool_call',
      id: tc.id ?? `call_${i}`,
      name: tc.function.name,
      arguments: typeof args === 'string' ? args : args == null ? '{}' : JSON.stringify(args),
    });
  });
  const hasCalls = content.some((p) => p.type === 'tool_call');
  return {
    id: r.data.id ?? '',
    model: r.data.model ?? '',
    content,
    stopReason: refused ? 'refusal' : stopReasonOf(choice.finish_reason, hasCalls),
    usage: { inputTokens: r.data.usage?.prompt_tokens ?? 0, outputTokens: r.data.usage?.completion_tokens ?? 0 },
  };
}

function stopReasonOf(finish: string | null | undefined, hasToolCalls: boolean): StopReason {
  switch (finish) {
    case 'length': return 'max_tokens';
    case 'tool_calls':
    case 'function_call': return 'tool_use';
    case 'content_filter': return 'content_filter';
    // Some OpenAI-compatible servers answer tool calls with finish_reason "stop".
    default: return hasToolCalls ? 'tool_use' : 'end';
  }
}

/** The message of an `{"error": ...}` body (OpenAI's shape, or a bare string as some servers send). */
export function errorMessageOf(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null || !('error' in json)) return undefined;
  const e = (json as { error: unknown }).error;
  if (e == null) return undefined;
  if (typeof e === 'string') return e.slice(0, 500);
  const m = typeof e === 'object' ? (e as { message?: unknown }).message : undefined;
  return typeof m === 'string' ? m.slice(0, 500) : 'unspecified error';
}

interface ToolBlock { block: number; open: boolean }

/**
 * Turns parsed `chat.completion.chunk` objects into canonical stream events. Chunks are read by hand
 * rather than through a zod schema: this runs once per token and must shrug off the fields that
 * OpenAI-compatible servers omit or add.
 */
export class OpenAIStreamDecoder {
  private readonly provider: string;
  private started = false;
  private ended = false;
  private nextBlock = 0;
  private textBlock: number | undefined;
  private readonly tools = new Map<number, ToolBlock>();
  private lastToolKey: number | undefined;
  private syntheticKey = 0;
  private finishReason: string | undefined;
  private refused = false;
  private usage: Usage = { inputTokens: 0, outputTokens: 0 };

  constructor(provider: string) {
    this.provider = provider;
  }

  /** True once a choice carried a finish_reason: the stream is complete even if [DONE] never comes. */
  get sawFinishReason(): boolean {
    return this.finishReason !== undefined;
  }

  push(chunk: unknown): StreamEvent[] {
    if (this.ended || !isObject(chunk)) return [];
    const out: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: str(chunk.id) ?? '', model: str(chunk.model) ?? '' });
    }
    if (isObject(chunk.usage)) {
      this.usage = { inputTokens: num(chunk.usage.prompt_tokens) ?? 0, outputTokens: num(chunk.usage.completion_tokens) ?? 0 };
    }
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    // We never ask for n > 1, so only the first choice is ours.
    const choice = choices.find((c) => isObject(c) && (c.index === 0 || c.index === undefined));
    if (!isObject(choice)) return out;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const text = str(delta.content);
    if (text) this.text(text, out);
    const refusal = str(delta.refusal);
    if (refusal) {
      this.refused = true;
      this.text(refusal, out);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const tc of delta.tool_calls) if (isObject(tc)) this.toolFragment(tc, out);
    }
    // Blocks stay open until end(): some servers still send content after the finish_reason chunk.
    const finish = str(choice.finish_reason);
    if (finish) this.finishReason = finish;
    return out;
  }

  end(): StreamEvent[] {
    if (this.ended) return [];
    this.ended = true;
    const out: StreamEvent[] = [];
    if (!this.started) out.push({ type: 'start', id: '', model: '' });
    this.closeAll(out);
    const stopReason = this.refused ? 'refusal' : stopReasonOf(this.finishReason, this.tools.size > 0);
    out.push({ type: 'finish', stopReason, usage: this.usage });
    return out;
  }

  private text(text: string, out: StreamEvent[]): void {
    if (this.textBlock === undefined) {
      // Text after tool calls (some models do this) opens a new block; earlier blocks are finished.
      this.closeTools(out);
      this.textBlock = this.nextBlock++;
      out.push({ type: 'text_start', index: this.textBlock });
    }
    out.push({ type: 'text_delta', index: this.textBlock, text });
  }

  private toolFragment(tc: Record<string, unknown>, out: StreamEvent[]): void {
    const id = str(tc.id);
    // OpenAI keys fragments by `index`; servers that omit it send one call per fragment group.
    // Synthetic keys are negative so they never collide with real indices.
    let key = num(tc.index);
    if (key === undefined) key = id !== undefined || this.lastToolKey === undefined ? --this.syntheticKey : this.lastToolKey;
    const fn = isObject(tc.function) ? tc.function : {};
    let block = this.tools.get(key);
    if (!block) {
      this.closeText(out);
      this.closeTools(out);
      block = { block: this.nextBlock++, open: true };
      this.tools.set(key, block);
      out.push({ type: 'tool_call_start', index: block.block, id: id ?? `call_${key}`, name: str(fn.name) ?? '' });
    } else if (!block.open) {
      throw new RedlineError('UPSTREAM_FAILED', `provider ${this.provider} interleaved tool call fragments`, { details: { provider: this.provider, retryable: false } });
    }
    this.lastToolKey = key;
    const args = typeof fn.arguments === 'string' ? fn.arguments : isObject(fn.arguments) ? JSON.stringify(fn.arguments) : undefined;
    if (args) out.push({ type: 'tool_call_delta', index: block.block, argumentsDelta: args });
  }

  private closeText(out: StreamEvent[]): void {
    if (this.textBlock === undefined) return;
    out.push({ type: 'block_stop', index: this.textBlock });
    this.textBlock = undefined;
  }

  private closeTools(out: StreamEvent[]): void {
    for (const t of this.tools.values()) {
      if (!t.open) continue;
      t.open = false;
      out.push({ type: 'block_stop', index: t.block });
    }
  }

  private closeAll(out: StreamEvent[]): void {
    this.closeText(out);
    this.closeTools(out);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
