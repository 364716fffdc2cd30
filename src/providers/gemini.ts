// Google Gemini upstream (the public Gemini API, generateContent / streamGenerateContent).
import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';
import { fromGeminiResponse, GeminiStreamDecoder, toGeminiRequest } from '../wire/index.js';
import { createDispatcher, httpError, parseEventJson } from './http.js';
import { postForJson, postForStream, readSse } from './exchange.js';
import type { CallOptions, Provider, ProviderConfig } from './types.js';

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

/**
 * How many tool calls' thought signatures are held for the next turn. Neither client format has a
 * place for them, so they live here; past this many (or after a restart, or on another replica) the
 * request falls back to Google's documented skip value, which works but may answer a little worse.
 */
const SIGNATURES_HELD = 4096;

export function createGeminiProvider(cfg: ProviderConfig): Provider {
  const dispatcher = createDispatcher(cfg.timeouts);
  const root = apiRoot(cfg.baseUrl || GEMINI_DEFAULT_BASE_URL);
  const signatures = new SignatureCache(SIGNATURES_HELD);
  const remember = (id: string, sig: string) => signatures.set(id, sig);

  const headers = (): Record<string, string> => ({
    ...cfg.headers,
    ...(cfg.apiKey !== undefined && { 'x-goog-api-key': cfg.apiKey }),
  });
  const body = (req: ChatRequest) => toGeminiRequest(req, { thoughtSignature: (id) => signatures.get(id) });

  return {
    name: cfg.name,
    kind: cfg.kind,

    complete(req: ChatRequest, opts: CallOptions): Promise<ChatResponse> {
      return postForJson(() => ({
        provider: cfg.name,
        url: `${root}/models/${modelPath(opts.model)}:generateContent`,
        headers: headers(),
        body: body(req),
        dispatcher,
        signal: opts.signal,
        timeouts: opts.timeouts,
      }), (json) => {
        throwIfError(cfg.name, json, '');
        return fromGeminiResponse(json, cfg.name, { model: opts.model, onThoughtSignature: remember });
      });
    },

    async *stream(req: ChatRequest, opts: CallOptions): AsyncGenerator<StreamEvent> {
      const res = await postForStream({
        provider: cfg.name,
        url: `${root}/models/${modelPath(opts.model)}:streamGenerateContent?alt=sse`,
        headers: headers(),
        body: body(req),
        dispatcher,
        signal: opts.signal,
        timeouts: opts.timeouts,
      });
      const decoder = new GeminiStreamDecoder(cfg.name, { model: opts.model, onThoughtSignature: remember });
      for await (const ev of readSse(cfg.name, res, opts.signal)) {
        const chunk: unknown = parseEventJson(cfg.name, ev.data);
        throwIfError(cfg.name, chunk, ev.data);
        for (const out of decoder.push(chunk)) yield out;
      }
      for (const out of decoder.end()) yield out;
    },

    async close(): Promise<void> {
      await dispatcher.close();
    },
  };
}

/**
 * Gemini can fail after a 200 by sending its error body as a stream event. Classify it by its code as
 * if it had been the HTTP status (an overload mid-stream is still UPSTREAM_UNAVAILABLE).
 */
function throwIfError(provider: string, json: unknown, raw: string): void {
  if (typeof json !== 'object' || json === null || !('error' in json)) return;
  const err = (json as { error: unknown }).error;
  if (typeof err !== 'object' || err === null) return;
  const code = (err as { code?: unknown }).code;
  throw httpError(provider, typeof code === 'number' && code >= 400 ? code : 500, {}, raw || JSON.stringify(json));
}

/** Accepts the bare host (the documented default) or a base that already names the API version. */
function apiRoot(baseUrl: string): string {
  const b = baseUrl.replace(/\/+$/, '');
  return /\/v1(beta\d*|alpha\d*)?$/.test(b) ? b : `${b}/v1beta`;
}

/** Config may spell the model as Google's resource name (`models/gemini-…`); the path wants the id. */
function modelPath(model: string): string {
  return encodeURIComponent(model.replace(/^models\//, ''));
}

/** Bounded, least-recently-set-first eviction; a Map keeps insertion order, which is all this needs. */
class SignatureCache {
  private readonly map = new Map<string, string>();
  constructor(private readonly max: number) {}
  get(id: string): string | undefined {
    return this.map.get(id);
  }
  set(id: string, sig: string): void {
    this.map.delete(id);
    this.map.set(id, sig);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
  }
}
