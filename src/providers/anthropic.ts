// The Anthropic Messages upstream. Wire translation lives in wire/anthropic.ts and HTTP (timeouts,
// error mapping) in http.ts; this file only joins them.
import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';
import { AnthropicStreamDecoder, fromAnthropicMessage, toAnthropicMessagesBody } from '../wire/index.js';
import { createDispatcher, parseEventJson, type UpstreamCall } from './http.js';
import { postForJson, postForStream, readSse } from './exchange.js';
import type { CallOptions, Provider, ProviderConfig } from './types.js';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** The API version header the request and response shapes in wire/anthropic.ts were written against. */
const ANTHROPIC_VERSION = '2023-06-01';

export function createAnthropicProvider(cfg: ProviderConfig): Provider {
  const dispatcher = createDispatcher(cfg.timeouts);
  const url = `${(cfg.baseUrl || ANTHROPIC_DEFAULT_BASE_URL).replace(/\/+$/, '')}/v1/messages`;
  const headers: Record<string, string> = {
    'anthropic-version': ANTHROPIC_VERSION,
    ...(cfg.apiKey !== undefined && { 'x-api-key': cfg.apiKey }),
    ...cfg.headers,
  };

  const call = (req: ChatRequest, opts: CallOptions, stream: boolean): UpstreamCall => {
    // A store on the fresh body, not `{ ...body, stream }` (a slow store after a spread on this V8).
    const body = toAnthropicMessagesBody(req, opts.model);
    body.stream = stream;
    return { provider: cfg.name, url, headers, body, dispatcher, signal: opts.signal, timeouts: opts.timeouts };
  };

  return {
    name: cfg.name,
    kind: cfg.kind,

    complete(req: ChatRequest, opts: CallOptions): Promise<ChatResponse> {
      return postForJson(() => call(req, opts, false), (json) => fromAnthropicMessage(json, cfg.name));
    },

    // A generator, so nothing is sent until the first next(); failures before the first event
    // therefore reject that first next(), which is when routing can still fall back.
    async *stream(req: ChatRequest, opts: CallOptions): AsyncGenerator<StreamEvent> {
      const body = await postForStream(call(req, opts, true));
      const decoder = new AnthropicStreamDecoder(cfg.name);
      // Leaving this loop early (consumer break/return) runs readSse's finally, which lets the upstream
      // body go; an aborted opts.signal tears the request down inside undici.
      for await (const ev of readSse(cfg.name, body, opts.signal)) {
        yield* decoder.push(ev.event, parseEventJson(cfg.name, ev.data));
      }
      yield* decoder.end();
    },

    async close(): Promise<void> {
      await dispatcher.close();
    },
  };
}
