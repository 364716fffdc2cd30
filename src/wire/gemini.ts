// Google Gemini `generateContent` codec: the neutral ChatRequest rendered as a Gemini request, and
// Gemini responses (whole or streamed) read back into ChatResponse / StreamEvent.
// Wire format learned from Google's public API reference (ai.google.dev/api/generate-content,
// ai.google.dev/api/caching#Schema, ai.google.dev/gemini-api/docs/thought-signatures).
import { randomBytes } from 'node:crypto';
import { RedlineError } from '../errors.js';
import type {
  ChatRequest, ChatResponse, ImagePart, Part, StopReason, StreamEvent, TextPart, ToolCallPart, ToolDef, ToolResultPart, Usage,
} from './types.js';

/**
 * Gemini 3 rejects a replayed function call whose thought signature is missing. Google documents this
 * value for history the model did not produce itself (another vendor's turn, or a signature redline no
 * longer holds); it skips the check at some cost in answer quality.
 */
export const GEMINI_SKIP_SIGNATURE = 'skip_thought_signature_validator';

export interface GeminiRequestOptions {
  /** The thought signature Gemini attached to this tool call, if the caller still holds it. */
  thoughtSignature?: (toolCallId: string) => string | undefined;
}

export interface GeminiResponseOptions {
  /** Model name to report when the upstream omits `modelVersion`. */
  model?: string;
  /** Receives each tool call's thought signature, to be handed back on the next turn. */
  onThoughtSignature?: (toolCallId: string, signature: string) => void;
}

type GPart = Record<string, unknown>;
interface GContent { role: 'user' | 'model'; parts: GPart[] }

// ---------------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------------

export function toGeminiRequest(req: ChatRequest, opts: GeminiRequestOptions = {}): Record<string, unknown> {
  // Gemini pairs a functionResponse with its call by function *name* (ids in requests are refused,
  // see below), so each tool result needs the name of the call it answers.
  const callNames = new Map<string, string>();
  const contents: GContent[] = [];
  req.messages.forEach((m, mi) => {
    const parts = m.role === 'assistant' ? modelParts(m.content, mi, callNames, opts) : userParts(m.content, mi, callNames);
    if (parts.length === 0) return; // Gemini refuses a content with no parts
    const role = m.role === 'assistant' ? 'model' : 'user';
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  });

  const body: Record<string, unknown> = { contents };
  if (req.system) body.systemInstruction = { parts: [{ text: req.system }] };
  if (req.tools && req.tools.length > 0) {
    body.tools = [{ functionDeclarations: req.tools.map(toFunctionDeclaration) }];
    if (req.toolChoice) body.toolConfig = { functionCallingConfig: toCallingConfig(req.toolChoice) };
  }
  const gen: Record<string, unknown> = {};
  if (req.maxTokens !== undefined) gen.maxOutputTokens = req.maxTokens;
  if (req.temperature !== undefined) gen.temperature = req.temperature;
  if (req.topP !== undefined) gen.topP = req.topP;
  if (req.stop && req.stop.length > 0) gen.stopSequences = req.stop;
  if (req.topK !== undefined) gen.topK = req.topK;
  if (req.seed !== undefined) gen.seed = req.seed;
  if (req.presencePenalty !== undefined) gen.presencePenalty = req.presencePenalty;
  if (req.frequencyPenalty !== undefined) gen.frequencyPenalty = req.frequencyPenalty;
  if (req.responseFormat) {
    gen.responseMimeType = 'application/json';
    // The same OpenAPI subset as function parameters (toGeminiSchema); json_object has no schema.
    if (req.responseFormat.type === 'json_schema') {
      const schema = toGeminiSchema(req.responseFormat.schema);
      if (schema) gen.responseSchema = schema;
    }
  }
  if (Object.keys(gen).length > 0) body.generationConfig = gen;
  return body;
}

function modelParts(content: Part[], mi: number, callNames: Map<string, string>, opts: GeminiRequestOptions): GPart[] {
  const out: GPart[] = [];
  let firstCall = true;
  for (const p of content) {
    switch (p.type) {
      case 'text':
        if (p.text !== '') out.push({ text: p.text });
        break;
      case 'image':
        out.push(imagePart(p, mi));
        break;
      case 'tool_call': {
        callNames.set(p.id, p.name);
        // No `id` here or on functionResponse: the public endpoint answers 400 "Unknown name id"
        // for it in requests even though responses may carry one.
        const part: GPart = { functionCall: { name: p.name, args: parseArguments(p.arguments) } };
        // Only the first call of a step carries a signature (parallel calls share it).
        const sig = opts.thoughtSignature?.(p.id) ?? (firstCall ? GEMINI_SKIP_SIGNATURE : undefined);
        if (sig !== undefined) part.thoughtSignature = sig;
        firstCall = false;
        out.push(part);
        break;
      }
      case 'tool_result':
        throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: a tool result cannot come from the assistant`, { param: 'messages' });
    }
  }
  return out;
}

function userParts(content: Part[], mi: number, callNames: Map<string, string>): GPart[] {
  const responses: GPart[] = [];
  const rest: GPart[] = [];
  for (const p of content) {
    switch (p.type) {
      case 'text':
        if (p.text !== '') rest.push({ text: p.text });
        break;
      case 'image':
        rest.push(imagePart(p, mi));
        break;
      case 'tool_result': {
        const name = callNames.get(p.toolCallId);
        if (name === undefined) {
          throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: a tool result answers no earlier tool call (Gemini needs the function name)`, { param: 'messages' });
        }
        responses.push({ functionResponse: { name, response: toolResponse(p) } });
        // Images returned by a tool travel as ordinary parts of the same turn.
        for (const c of p.content) if (c.type === 'image') rest.push(imagePart(c, mi));
        break;
      }
      case 'tool_call':
        throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: a tool call cannot come from the user`, { param: 'messages' });
    }
  }
  // Function responses answer the previous model turn, so they lead the turn.
  return [...responses, ...rest];
}

/** A tool result as Gemini's `response` object: a JSON object result is passed as itself. */
function toolResponse(p: ToolResultPart): Record<string, unknown> {
  const text = p.content.filter((c): c is TextPart => c.type === 'text').map((c) => c.text).join('\n');
  const obj = parseObject(text);
  // Google documents `error` as the key for a failed call's details; anything else is output.
  if (p.isError) return { error: obj ?? text };
  return obj ?? { content: text };
}

function parseArguments(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  const obj = parseObject(args);
  if (obj) return obj;
  // Gemini's `args` must be an object; a model may have produced broken JSON that the client now
  // replays. Keep the text rather than fail the whole turn.
  return { _unparsed_arguments: args };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  const t = text.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function imagePart(p: ImagePart, mi: number): GPart {
  const url = p.url;
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    if (comma < 0) throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: malformed data: URL`, { param: 'messages' });
    const meta = url.slice(5, comma).split(';');
    const mimeType = meta[0] || 'application/octet-stream';
    const payload = url.slice(comma + 1);
    let data: string;
    if (meta.slice(1).some((m) => m.toLowerCase() === 'base64')) data = payload.replace(/\s+/g, '');
    else {
      try {
        data = Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
      } catch {
        throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: malformed data: URL`, { param: 'messages' });
      }
    }
    return { inlineData: { mimeType, data } };
  }
  if (/^https?:\/\//i.test(url)) {
    // mimeType is optional for fileData on the Gemini API; send it only when the path names one.
    const mimeType = mimeFromPath(url);
    return { fileData: mimeType ? { mimeType, fileUri: url } : { fileUri: url } };
  }
  throw new RedlineError('INVALID_REQUEST', `messages[${mi}]: image URLs must be data: or http(s)`, { param: 'messages' });
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', heic: 'image/heic', heif: 'image/heif',
};

function mimeFromPath(url: string): string | undefined {
  let path: string;
  try { path = new URL(url).pathname; } catch { return undefined; }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext ? IMAGE_TYPES[ext] : undefined;
}

function toCallingConfig(choice: NonNullable<ChatRequest['toolChoice']>): Record<string, unknown> {
  switch (choice.type) {
    case 'auto': return { mode: 'AUTO' };
    case 'none': return { mode: 'NONE' };
    case 'required': return { mode: 'ANY' };
    case 'tool': return { mode: 'ANY', allowedFunctionNames: [choice.name] };
  }
}

function toFunctionDeclaration(t: ToolDef): Record<string, unknown> {
  const decl: Record<string, unknown> = { name: t.name };
  if (t.description) decl.description = t.description;
  const params = toGeminiSchema(t.parameters);
  // A function without parameters must omit them: Gemini refuses an OBJECT with no properties.
  if (params && isRecord(params.properties) && Object.keys(params.properties).length > 0) decl.parameters = params;
  return decl;
}

/**
 * Gemini's `parameters` is its own OpenAPI-3.0 subset (ai.google.dev/api/caching#Schema), and any key
 * outside it is a 400 "Unknown name …". So this is an allow-list, not a deny-list: it keeps
 * type, format, title, description, nullable, enum, properties, required, items, anyOf, minItems,
 * maxItems, minProperties, maxProperties, minLength, maxLength, pattern, minimum, maximum, default,
 * example, propertyOrdering. Dropped, among others: $schema, $id, $comment, additionalProperties,
 * patternProperties, propertyNames, unevaluatedProperties, dependentRequired, if/then/else, not,
 * exclusiveMinimum/Maximum, multipleOf, uniqueItems, contains, prefixItems, examples, readOnly,
 * writeOnly, deprecated. Rewritten rather than dropped: local $ref (inlined from $defs/definitions),
 * oneOf (as anyOf), single-member allOf (inlined), const (as a one-value enum), `type: [t, "null"]`
 * (as t + nullable), and string formats other than enum/date-time (which Gemini refuses).
 */
export function toGeminiSchema(schema: Record<string, unknown>): Record<string, unknown> | undefined {
  const defs = { ...asRecord(schema.definitions), ...asRecord(schema.$defs) };
  return convertSchema(schema, defs, new Set());
}

const KEEP_AS_IS = ['title', 'description', 'minItems', 'maxItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'default', 'example'] as const;
const FORMATS: Record<string, string[]> = { string: ['enum', 'date-time'], integer: ['int32', 'int64'], number: ['float', 'double'] };

function convertSchema(s: Record<string, unknown>, defs: Record<string, unknown>, seen: Set<string>): Record<string, unknown> | undefined {
  if (typeof s.$ref === 'string') {
    const m = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const name = m?.[1];
    const target = name === undefined ? undefined : defs[name];
    // A recursive or unresolvable $ref cannot be expressed; an untyped schema accepts anything.
    if (name === undefined || !isRecord(target) || seen.has(name)) return {};
    const inner = convertSchema(target, defs, new Set([...seen, name]));
    if (inner && typeof s.description === 'string') inner.description = s.description;
    return inner;
  }
  const allOf = s.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isRecord(allOf[0])) {
    const { allOf: _drop, ...restOfS } = s;
    return convertSchema({ ...allOf[0], ...restOfS }, defs, seen);
  }

  const out: Record<string, unknown> = {};
  let type = s.type;
  if (Array.isArray(type)) {
    const nonNull = type.filter((t) => t !== 'null');
    if (nonNull.length < type.length) out.nullable = true;
    type = nonNull.length === 1 ? nonNull[0] : undefined;
    if (nonNull.length > 1) out.anyOf = nonNull.map((t) => ({ type: t }));
  }
  if (typeof type === 'string' && type !== 'null') out.type = type;
  if (type === 'null') out.nullable = true;
  if (s.nullable === true) out.nullable = true;

  for (const k of KEEP_AS_IS) if (s[k] !== undefined) out[k] = s[k];
  if (typeof s.format === 'string' && typeof type === 'string' && FORMATS[type]?.includes(s.format)) out.format = s.format;

  // Gemini enums are lists of strings.
  const en = s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  if (Array.isArray(en) && en.length > 0 && en.every((v) => typeof v === 'string')) {
    out.enum = en;
    out.type ??= 'string';
  }

  if (isRecord(s.properties)) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s.properties)) {
      if (!isRecord(v)) continue;
      const c = convertSchema(v, defs, seen);
      if (c) props[k] = c;
    }
    if (Object.keys(props).length > 0) {
      out.properties = props;
      // Gemini refuses a required name that has no property.
      if (Array.isArray(s.required)) {
        const req = s.required.filter((r): r is string => typeof r === 'string' && r in props);
        if (req.length > 0) out.required = req;
      }
      if (Array.isArray(s.propertyOrdering)) out.propertyOrdering = s.propertyOrdering.filter((r) => typeof r === 'string' && r in props);
    }
  }
  if (isRecord(s.items)) {
    const c = convertSchema(s.items, defs, seen);
    if (c) out.items = c;
  }
  const alternatives = Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined;
  if (alternatives) {
    const alts = alternatives.filter(isRecord).map((a) => convertSchema(a, defs, seen)).filter((a): a is Record<string, unknown> => a !== undefined);
    // `anyOf: [X, {type:null}]` is how JSON Schema spells an optional X.
    const nonNull = alts.filter((a) => !(a.nullable === true && a.type === undefined && Object.keys(a).length === 1));
    if (nonNull.length < alts.length) out.nullable = true;
    if (nonNull.length === 1 && out.type === undefined) Object.assign(out, { ...nonNull[0], ...out }); // the outer description wins
    else if (nonNull.length > 0) out.anyOf = nonNull;
  }
  // JSON Schema lets the type be implied by its keywords; Gemini wants it spelled out.
  if (out.type === undefined && out.properties !== undefined) out.type = 'object';
  if (out.type === undefined && out.items !== undefined) out.type = 'array';
  return out;
}

// ---------------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------------

const FILTERED = new Set([
  'SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII',
  'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);

/** Maps a Gemini finishReason; Gemini says STOP both for a natural end and for a matched stop sequence. */
export function mapFinishReason(reason: string, hasToolCalls: boolean): StopReason {
  if (reason === 'MAX_TOKENS') return 'max_tokens';
  if (FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_use' : 'end';
}

export function fromGeminiResponse(json: unknown, provider: string, opts: GeminiResponseOptions = {}): ChatResponse {
  if (!isRecord(json)) throw malformed(provider, 'is not an object');
  upstreamErrorIn(json, provider);
  const id = responseId(json);
  const model = typeof json.modelVersion === 'string' ? json.modelVersion : opts.model ?? '';
  const usage = readUsage(json.usageMetadata);
  const candidates = json.candidates;
  if (candidates === undefined || (Array.isArray(candidates) && candidates.length === 0)) {
    if (blockReason(json) !== undefined) return { id, model, content: [], stopReason: 'content_filter', usage };
    throw malformed(provider, 'has no candidates');
  }
  if (!Array.isArray(candidates) || !isRecord(candidates[0])) throw malformed(provider, 'has malformed candidates');
  const cand = candidates[0];
  const ids = new ToolCallIds(id);
  const content: Array<TextPart | ToolCallPart> = [];
  for (const part of candidateParts(cand, provider)) {
    const r = readPart(part, provider);
    if (r === undefined) continue;
    if (r.kind === 'text') {
      const last = content[content.length - 1];
      if (last?.type === 'text') last.text += r.text;
      else content.push({ type: 'text', text: r.text });
    } else {
      const callId = ids.next(r.id);
      if (r.signature !== undefined) opts.onThoughtSignature?.(callId, r.signature);
      content.push({ type: 'tool_call', id: callId, name: r.name, arguments: JSON.stringify(r.args) });
    }
  }
  const reason = typeof cand.finishReason === 'string' ? cand.finishReason : 'STOP';
  return { id, model, content, stopReason: mapFinishReason(reason, content.some((c) => c.type === 'tool_call')), usage };
}

/**
 * Turns the partial GenerateContentResponse objects of `:streamGenerateContent?alt=sse` into
 * StreamEvents. Gemini sends text in pieces and each functionCall whole, in one chunk.
 */
export class GeminiStreamDecoder {
  private readonly provider: string;
  private readonly opts: GeminiResponseOptions;
  private started = false;
  private nextIndex = 0;
  private openText: number | undefined;
  private ids: ToolCallIds | undefined;
  private sawToolCall = false;
  private finishReason: string | undefined;
  private blocked = false;
  private usage: Usage = { inputTokens: 0, outputTokens: 0 };
  private done = false;

  constructor(provider: string, opts: GeminiResponseOptions = {}) {
    this.provider = provider;
    this.opts = opts;
  }

  push(chunk: unknown): StreamEvent[] {
    if (this.done) throw malformed(this.provider, 'stream continued after its end');
    if (!isRecord(chunk)) throw malformed(this.provider, 'stream event is not an object');
    upstreamErrorIn(chunk, this.provider);
    const events: StreamEvent[] = [];
    if (!this.started) {
      this.started = true;
      const id = responseId(chunk);
      this.ids = new ToolCallIds(id);
      const model = typeof chunk.modelVersion === 'string' ? chunk.modelVersion : this.opts.model ?? '';
      const input = isRecord(chunk.usageMetadata) ? readUsage(chunk.usageMetadata).inputTokens : undefined;
      events.push(input ? { type: 'start', id, model, inputTokens: input } : { type: 'start', id, model });
    }
    if (chunk.usageMetadata !== undefined) this.usage = readUsage(chunk.usageMetadata);
    if (blockReason(chunk) !== undefined) this.blocked = true;
    const candidates = chunk.candidates;
    if (candidates !== undefined) {
      if (!Array.isArray(candidates)) throw malformed(this.provider, 'has malformed candidates');
      const cand = candidates[0];
      if (cand !== undefined) {
        if (!isRecord(cand)) throw malformed(this.provider, 'has malformed candidates');
        for (const part of candidateParts(cand, this.provider)) this.onPart(part, events);
        if (typeof cand.finishReason === 'string') this.finishReason = cand.finishReason;
      }
    }
    return events;
  }

  end(): StreamEvent[] {
    if (this.done) return [];
    if (this.finishReason === undefined && !this.blocked) {
      throw new RedlineError('UPSTREAM_FAILED', `provider ${this.provider} ended the stream before finishing`, { details: { provider: this.provider, retryable: true } });
    }
    this.done = true;
    const events: StreamEvent[] = [];
    this.closeText(events);
    const stopReason = this.finishReason === undefined ? 'content_filter' : mapFinishReason(this.finishReason, this.sawToolCall);
    events.push({ type: 'finish', stopReason, usage: this.usage });
    return events;
  }

  private onPart(part: unknown, events: StreamEvent[]): void {
    const r = readPart(part, this.provider);
    if (r === undefined) return;
    if (r.kind === 'text') {
      if (this.openText === undefined) {
        this.openText = this.nextIndex++;
        events.push({ type: 'text_start', index: this.openText });
      }
      events.push({ type: 'text_delta', index: this.openText, text: r.text });
      return;
    }
    this.closeText(events);
    const index = this.nextIndex++;
    const id = (this.ids as ToolCallIds).next(r.id);
    if (r.signature !== undefined) this.opts.onThoughtSignature?.(id, r.signature);
    this.sawToolCall = true;
    events.push(
      { type: 'tool_call_start', index, id, name: r.name },
      { type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(r.args) },
      { type: 'block_stop', index },
    );
  }

  private closeText(events: StreamEvent[]): void {
    if (this.openText === undefined) return;
    events.push({ type: 'block_stop', index: this.openText });
    this.openText = undefined;
  }
}

type ReadPart =
  | { kind: 'text'; text: string }
  | { kind: 'call'; id: string | undefined; name: string; args: Record<string, unknown>; signature: string | undefined };

/** One response part; undefined for parts redline does not carry (thoughts, code execution, media). */
function readPart(part: unknown, provider: string): ReadPart | undefined {
  if (!isRecord(part)) throw malformed(provider, 'has a malformed part');
  if (isRecord(part.functionCall)) {
    const fc = part.functionCall;
    if (typeof fc.name !== 'string' || fc.name === '') throw malformed(provider, 'has a function call without a name');
    if (fc.args !== undefined && fc.args !== null && !isRecord(fc.args)) throw malformed(provider, 'has function call arguments that are not an object');
    return {
      kind: 'call',
      id: typeof fc.id === 'string' && fc.id !== '' ? fc.id : undefined,
      name: fc.name,
      args: isRecord(fc.args) ? fc.args : {},
      signature: typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '' ? part.thoughtSignature : undefined,
    };
  }
  // `thought: true` parts are reasoning summaries, not the answer.
  if (typeof part.text === 'string' && part.thought !== true && part.text !== '') return { kind: 'text', text: part.text };
  return undefined;
}

function candidateParts(cand: Record<string, unknown>, provider: string): unknown[] {
  // A filtered candidate may come without content, or with content but no parts.
  if (cand.content === undefined) return [];
  if (!isRecord(cand.content)) throw malformed(provider, 'has malformed content');
  const parts = cand.content.parts;
  if (parts === undefined) return [];
  if (!Array.isArray(parts)) throw malformed(provider, 'has malformed parts');
  return parts;
}

/**
 * Tool call ids. Gemini's own id when it sends one; otherwise `call_<response>_<n>`, stable within one
 * response and distinct across responses, since ids key approvals and thought signatures.
 */
class ToolCallIds {
  private n = 0;
  private readonly stem: string;
  constructor(responseId: string) {
    this.stem = responseId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40) || randomBytes(9).toString('base64url');
  }
  next(given: string | undefined): string {
    const n = this.n++;
    return given ?? `call_${this.stem}_${n}`;
  }
}

function responseId(json: Record<string, unknown>): string {
  return typeof json.responseId === 'string' && json.responseId !== '' ? json.responseId : `gemini-${randomBytes(9).toString('base64url')}`;
}

function blockReason(json: Record<string, unknown>): string | undefined {
  const fb = json.promptFeedback;
  return isRecord(fb) && typeof fb.blockReason === 'string' && fb.blockReason !== 'BLOCK_REASON_UNSPECIFIED' ? fb.blockReason : undefined;
}

function readUsage(u: unknown): Usage {
  if (!isRecord(u)) return { inputTokens: 0, outputTokens: 0 };
  // Thinking tokens are billed as output, as OpenAI's completion_tokens count reasoning tokens; the
  // prompt of a server-side tool is billed as input.
  return {
    inputTokens: num(u.promptTokenCount) + num(u.toolUsePromptTokenCount),
    outputTokens: num(u.candidatesTokenCount) + num(u.thoughtsTokenCount),
  };
}

/** Gemini reports a failure inside an otherwise good stream as an `error` object. */
function upstreamErrorIn(json: Record<string, unknown>, provider: string): void {
  if (!isRecord(json.error)) return;
  const code = typeof json.error.code === 'number' ? json.error.code : undefined;
  throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} reported an error${code ? ` (${code})` : ''}`, {
    details: { provider, retryable: true, ...(code !== undefined && { upstreamStatus: code }) },
  });
}

function malformed(provider: string, what: string): RedlineError {
  return new RedlineError('UPSTREAM_FAILED', `provider ${provider} returned a response that ${what}`, { details: { provider, retryable: true } });
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asRecord(v: unknown): Record<string, unknown> {
  return isRecord(v) ? v : {};
}
