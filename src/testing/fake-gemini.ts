// The Gemini dialect of the fake upstream: `POST /v1beta/models/{model}:generateContent` answers one
// GenerateContentResponse, `:streamGenerateContent?alt=sse` answers a series of partial ones as SSE
// (CRLF-framed, as Google's server sends them), errors use Google's {error:{code,message,status}}.
// Shapes follow the public reference at ai.google.dev/api/generate-content.
import type { ServerResponse } from 'node:http';
import { echoText, startFakeUpstream, type FakeBehaviour, type FakeDialect, type FakeUpstream, type RecordedRequest } from './fake-upstream.js';

/** The thought signature the fake attaches to function calls, so tests can see it come back. */
export const FAKE_GEMINI_SIGNATURE = 'ZmFrZS10aG91Z2h0LXNpZ25hdHVyZQ==';

export function startFakeGemini(): Promise<FakeUpstream> {
  let served = 0;
  const dialect: FakeDialect = {
    answer(req, behaviour, res) {
      const n = ++served;
      return answer(req, behaviour, res, n);
    },
    errorBody(status, message) {
      return { error: { code: status, message, status: STATUS_NAMES[status] ?? 'UNKNOWN' } };
    },
  };
  return startFakeUpstream(dialect);
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED',
};

interface Call { model: string; stream: boolean }

function parsePath(path: string): Call {
  const m = /\/models\/([^/:?]+):(generateContent|streamGenerateContent)/.exec(path);
  return { model: m?.[1] ? decodeURIComponent(m[1]) : 'unknown', stream: m?.[2] === 'streamGenerateContent' };
}

function lastUserText(body: any): string | undefined {
  const contents: any[] = Array.isArray(body?.contents) ? body.contents : [];
  for (let i = contents.length - 1; i >= 0; i--) {
    const c = contents[i];
    if (c?.role !== 'user' || !Array.isArray(c.parts)) continue;
    const texts = c.parts.filter((p: any) => typeof p?.text === 'string').map((p: any) => p.text as string);
    if (texts.length > 0) return texts.join('\n');
  }
  return undefined;
}

/** A deterministic token count: words in every text of the request. */
function promptTokens(body: any): number {
  let n = 0;
  const count = (t: unknown) => { if (typeof t === 'string') n += t.split(/\s+/).filter(Boolean).length; };
  for (const c of Array.isArray(body?.contents) ? body.contents : []) for (const p of c?.parts ?? []) count(p?.text);
  for (const p of body?.systemInstruction?.parts ?? []) count(p?.text);
  return n;
}

function words(t: string): number {
  return t.split(/\s+/).filter(Boolean).length;
}

/** Splits text into about three pieces so a stream has several text chunks. */
function pieces(text: string): string[] {
  if (text.length < 3) return [text];
  const a = Math.ceil(text.length / 3);
  return [text.slice(0, a), text.slice(a, 2 * a), text.slice(2 * a)].filter((p) => p !== '');
}

function frame(obj: unknown): string {
  return `data: ${JSON.stringify(obj)}\r\n\r\n`;
}

async function answer(req: RecordedRequest, b: FakeBehaviour, res: ServerResponse, n: number): Promise<void> {
  const call = parsePath(req.path);
  const responseId = `fake-gemini-${n}`;
  const input = promptTokens(req.body);
  const common = { modelVersion: call.model, responseId };

  if (b.kind === 'garbage') {
    if (call.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"candidates": [ this is not json\r\n\r\n');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('<html>upstream proxy error</html>');
    }
    return;
  }

  const text = b.kind === 'tool_call' ? b.text : b.kind === 'reply' ? b.text ?? echoText(lastUserText(req.body)) : echoText(lastUserText(req.body));
  const callPart = b.kind === 'tool_call'
    ? { functionCall: { name: b.name, args: b.arguments }, thoughtSignature: FAKE_GEMINI_SIGNATURE }
    : undefined;
  const output = (text ? words(text) : 0) + (callPart ? 5 : 0);
  const usage = { promptTokenCount: input, candidatesTokenCount: output, totalTokenCount: input + output };

  if (!call.stream) {
    const parts: unknown[] = [];
    if (text) parts.push({ text });
    if (callPart) parts.push(callPart);
    const body = JSON.stringify({
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: usage,
      ...common,
    });
    if (b.kind === 'reset_mid_stream') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      await tick();
      res.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const textChunks = text ? pieces(text) : [];
  const running = { promptTokenCount: input, totalTokenCount: input };
  if (b.kind === 'reset_mid_stream') {
    res.write(frame({ candidates: [{ content: { role: 'model', parts: [{ text: textChunks[0] ?? 'partial' }] }, index: 0 }], usageMetadata: running, ...common }));
    await tick();
    res.destroy();
    return;
  }
  const chunks: unknown[] = textChunks.map((t) => ({ candidates: [{ content: { role: 'model', parts: [{ text: t }] }, index: 0 }], usageMetadata: running, ...common }));
  if (callPart) chunks.push({ candidates: [{ content: { role: 'model', parts: [callPart] }, index: 0 }], usageMetadata: running, ...common });
  // Google closes with a chunk carrying finishReason and the final usage (here with an empty text
  // part, as the live API often sends).
  chunks.push({ candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'STOP', index: 0 }], usageMetadata: usage, ...common });
  for (const c of chunks) {
    if (res.destroyed) return;
    res.write(frame(c));
    await tick();
  }
  res.end();
}

/** Lets each write leave as its own TCP segment, so the client really sees several chunks. */
function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
