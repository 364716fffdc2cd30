// The built-in offline model: deterministic, no network, so a new install answers a round trip at once.
// It replies with text derived from the prompt; when tools are offered (and tool_choice allows) and the
// last turn is not a tool result, it calls a tool with arguments built from the tool's JSON schema.
import { createHash } from 'node:crypto';
import type { ChatRequest, ChatResponse, StreamEvent, TextPart, ToolCallPart, ToolDef } from '../wire/index.js';
import type { CallOptions, Provider } from './types.js';

export function createDemoProvider(name = 'demo'): Provider {
  return {
    name,
    kind: 'demo',
    async complete(req, opts) {
      opts.signal.throwIfAborted();
      return answer(req, opts.model);
    },
    stream(req, opts) {
      return streamOf(answer(req, opts.model), opts);
    },
  };
}

/** Rough token count (≈4 characters per token), good enough for a demo's usage figures. */
export function approxTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function answer(req: ChatRequest, model: string): ChatResponse {
  const last = req.messages[req.messages.length - 1];
  const inputText = (req.system ?? '') + req.messages.map((m) => m.content.map(partText).join(' ')).join(' ');
  const id = 'demo-' + createHash('sha256').update(inputText).digest('hex').slice(0, 24);
  const inputTokens = approxTokens(inputText);
  const lastIsToolResult = last?.content.some((p) => p.type === 'tool_result') ?? false;
  const tool = !lastIsToolResult ? pickTool(req, last ? last.content.map(partText).join(' ') : '') : undefined;
  if (tool) {
    const call: ToolCallPart = {
      type: 'tool_call',
      id: 'call_' + createHash('sha256').update(id + tool.name).digest('hex').slice(0, 24),
      name: tool.name,
      arguments: JSON.stringify(sampleFromSchema(tool.parameters, 0)),
    };
    const lead: TextPart = { type: 'text', text: `I will call ${tool.name}.` };
    return { id, model, content: [lead, call], stopReason: 'tool_use', usage: { inputTokens, outputTokens: approxTokens(lead.text + call.arguments) } };
  }
  let text = lastIsToolResult
    ? `The tool returned: ${last!.content.map(partText).join(' ').slice(0, 200)}`
    : `Hello from redline's offline demo model. You said: "${lastUserText(req).slice(0, 200)}"`;
  let stopReason: ChatResponse['stopReason'] = 'end';
  let stopSequence: string | undefined;
  for (const s of req.stop ?? []) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0) { text = text.slice(0, at); stopReason = 'stop_sequence'; stopSequence = s; }
  }
  if (req.maxTokens !== undefined && approxTokens(text) > req.maxTokens) {
    text = text.slice(0, req.maxTokens * 4);
    stopReason = 'max_tokens';
  }
  return {
    id, model, content: [{ type: 'text', text }], stopReason,
    ...(stopSequence !== undefined && { stopSequence }),
    usage: { inputTokens, outputTokens: approxTokens(text) },
  };
}

function pickTool(req: ChatRequest, lastText: string): ToolDef | undefined {
  const tools = req.tools ?? [];
  const choice = req.toolChoice ?? { type: 'auto' };
  if (tools.length === 0 || choice.type === 'none') return undefined;
  if (choice.type === 'tool') return tools.find((t) => t.name === choice.name);
  const lower = lastText.toLowerCase();
  return tools.find((t) => lower.includes(t.name.toLowerCase())) ?? tools[0];
}

function partText(p: ChatRequest['messages'][number]['content'][number]): string {
  switch (p.type) {
    case 'text': return p.text;
    case 'tool_result': return p.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');
    case 'tool_call': return p.arguments;
    default: return '';
  }
}

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'user') return m.content.map(partText).join(' ').trim();
  }
  return '';
}

/** A value that satisfies simple JSON schemas: enums, types, required properties, nested objects. */
export function sampleFromSchema(schema: unknown, depth: number): unknown {
  const s = (schema ?? {}) as Record<string, any>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ('const' in s) return s.const;
  if ('default' in s) return s.default;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string': return 'demo';
    case 'integer':
    case 'number': return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean': return true;
    case 'array': return depth > 4 ? [] : [sampleFromSchema(s.items, depth + 1)];
    case 'null': return null;
    default: {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const [k, v] of Object.entries(props)) out[k] = sampleFromSchema(v, depth + 1);
      return out;
    }
  }
}

async function* streamOf(res: ChatResponse, opts: CallOptions): AsyncGenerator<StreamEvent> {
  opts.signal.throwIfAborted();
  yield { type: 'start', id: res.id, model: res.model, inputTokens: res.usage.inputTokens };
  let index = 0;
  for (const part of res.content) {
    if (part.type === 'text') {
      yield { type: 'text_start', index };
      for (const piece of part.text.match(/\S+\s*|\s+/g) ?? []) {
        opts.signal.throwIfAborted();
        yield { type: 'text_delta', index, text: piece };
      }
    } else {
      yield { type: 'tool_call_start', index, id: part.id, name: part.name };
      const cut = Math.ceil(part.arguments.length / 2);
      for (const frag of [part.arguments.slice(0, cut), part.arguments.slice(cut)]) {
        if (frag) yield { type: 'tool_call_delta', index, argumentsDelta: frag };
      }
    }
    yield { type: 'block_stop', index };
    index++;
  }
  yield { type: 'finish', stopReason: res.stopReason, ...(res.stopSequence !== undefined && { stopSequence: res.stopSequence }), usage: res.usage };
}
