// The OpenAI dialect of the fake upstream: answers POST /v1/chat/completions (and /chat/completions)
// in the shapes of the public API reference — the `chat.completion` object, the
// `chat.completion.chunk` stream (role chunk, content deltas, tool-call argument fragments, finish
// chunk, a usage chunk with `choices: []` when stream_options.include_usage, then `data: [DONE]`),
// and `{error: {message, type, param, code}}` bodies. Providers use `${url}/v1` as their base URL.
import type { ServerResponse } from 'node:http';
import { echoText, startFakeUpstream, type FakeBehaviour, type FakeDialect, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';

export async function startFakeOpenAI(): Promise<FakeUpstream> {
  return startFakeUpstream(openaiDialect());
}

/** Error `type`/`code` per status, as the API reports them. */
function errorShape(status: number): { type: string; code: string | null } {
  switch (status) {
    case 400: return { type: 'invalid_request_error', code: null };
    case 401: return { type: 'invalid_request_error', code: 'invalid_api_key' };
    case 403: return { type: 'invalid_request_error', code: 'unsupported_country_region_territory' };
    case 404: return { type: 'invalid_request_error', code: 'model_not_found' };
    case 429: return { type: 'requests', code: 'rate_limit_exceeded' };
    default: return status >= 500 ? { type: 'server_error', code: null } : { type: 'invalid_request_error', code: null };
  }
}

export function openaiDialect(): FakeDialect {
  let seq = 0;
  return {
    errorBody(status, message) {
      return { error: { message, ...errorShape(status), param: null } };
    },
    async answer(req, behaviour, res) {
      const path = req.path.split('?')[0];
      if (req.method !== 'POST' || (path !== '/v1/chat/completions' && path !== '/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } }));
        return;
      }
      seq++;
      const ids = { id: `chatcmpl-fake${seq}`, callId: `call_fake${seq}`, created: Math.floor(Date.now() / 1000), model: typeof req.body?.model === 'string' ? req.body.model : 'gpt-fake' };
      const stream = req.body?.stream === true;
      if (behaviour.kind === 'garbage') {
        res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
        res.end(stream ? 'data: {"id":"chatcmpl-garbage","object":\n\n' : '<html>502 Bad Gateway</html>');
        return;
      }
      if (stream) await streamAnswer(req, behaviour, res, ids);
      else jsonAnswer(req, behaviour, res, ids);
    },
  };
}

interface Ids { id: string; callId: string; created: number; model: string }

function reply(req: RecordedRequest, b: FakeBehaviour): { text: string | null; call?: { name: string; arguments: string } } {
  if (b.kind === 'tool_call') return { text: b.text ?? null, call: { name: b.name, arguments: JSON.stringify(b.arguments) } };
  return { text: b.kind === 'reply' && b.text !== undefined ? b.text : echoText(lastUserText(req.body)) };
}

function jsonAnswer(req: RecordedRequest, b: FakeBehaviour, res: ServerResponse, ids: Ids): void {
  const r = reply(req, b);
  const message: Record<string, unknown> = { role: 'assistant', content: r.text, refusal: null, annotations: [] };
  if (r.call) message.tool_calls = [{ id: ids.callId, type: 'function', function: r.call }];
  const body = JSON.stringify({
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: r.call ? 'tool_calls' : 'stop' }],
    usage: usage(req, r),
    service_tier: 'default',
    system_fingerprint: 'fp_fake',
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  if (b.kind === 'reset_mid_stream') {
    res.write(body.slice(0, Math.floor(body.length / 2)), () => res.destroy());
    return;
  }
  res.end(body);
}

async function streamAnswer(req: RecordedRequest, b: FakeBehaviour, res: ServerResponse, ids: Ids): Promise<void> {
  const r = reply(req, b);
  const includeUsage = req.body?.stream_options?.include_usage === true;
  const chunk = (delta: Record<string, unknown> | null, finish: string | null = null) => {
    const c: Record<string, unknown> = {
      id: ids.id, object: 'chat.completion.chunk', created: ids.created, model: ids.model,
      service_tier: 'default', system_fingerprint: 'fp_fake',
      choices: delta === null ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (includeUsage) c.usage = delta === null ? usage(req, r) : null;
    // Recent API streams pad chunks with a random `obfuscation` field; clients must ignore it.
    c.obfuscation = 'x'.repeat(1 + (seqOf(ids) % 7));
    return `data: ${JSON.stringify(c)}\n\n`;
  };
  const frames: string[] = [chunk({ role: 'assistant', content: '', refusal: null })];
  if (r.text) for (const piece of r.text.split(/(?<=\s)/)) frames.push(chunk({ content: piece }));
  if (r.call) {
    frames.push(chunk({ tool_calls: [{ index: 0, id: ids.callId, type: 'function', function: { name: r.call.name, arguments: '' } }] }));
    for (const piece of fragments(r.call.arguments)) frames.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
  }
  frames.push(chunk({}, r.call ? 'tool_calls' : 'stop'));
  if (includeUsage) frames.push(chunk(null));
  frames.push('data: [DONE]\n\n');

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  if (b.kind === 'stall_after_start') {
    res.write(frames[0]);
    return;
  }
  if (b.kind === 'error_after_start') {
    res.end(frames[0] + `data: ${JSON.stringify({ error: { message: 'The server is overloaded', type: b.errorType ?? 'server_error' } })}\n\n`);
    return;
  }
  if (b.kind === 'reset_mid_stream') {
    const cut = Math.max(2, Math.floor(frames.length / 2));
    res.write(frames.slice(0, cut).join(''), () => res.destroy());
    return;
  }
  for (const f of frames) {
    if (res.destroyed) return;
    res.write(f);
    // One frame per turn of the event loop, so frames usually arrive in separate reads.
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

/** Argument JSON cut into several fragments, as the API streams them. */
function fragments(s: string): string[] {
  const size = Math.max(1, Math.ceil(s.length / 4));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function seqOf(ids: Ids): number {
  return Number(ids.id.replace(/\D/g, '')) || 0;
}

/** Deterministic token counts: whitespace-separated words in, words (or argument quarters) out. */
function usage(req: RecordedRequest, r: { text: string | null; call?: { arguments: string } }): Record<string, unknown> {
  const prompt = words(JSON.stringify(req.body?.messages ?? '').replace(/[{}[\]",:]/g, ' '));
  const completion = words(r.text ?? '') + (r.call ? Math.ceil(r.call.arguments.length / 4) : 0);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function words(s: string): number {
  return s.split(/\s+/).filter(Boolean).length;
}

function lastUserText(body: unknown): string | undefined {
  const messages = (body as { messages?: unknown })?.messages;
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown };
    if (m?.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content.filter((p: { type?: unknown }) => p?.type === 'text').map((p: { text?: unknown }) => String(p.text ?? '')).join(' ');
    }
  }
  return undefined;
}
