import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';

export type ProviderKind = 'anthropic' | 'openai' | 'gemini' | 'xai' | 'openai_compatible' | 'demo';

export interface Timeouts {
  /** TCP/TLS connect. */
  connectMs: number;
  /** From sending the request to the first response byte (headers for JSON, first event for SSE). */
  firstByteMs: number;
  /** Whole exchange, including reading a stream to its end. */
  totalMs: number;
}

export interface ProviderConfig {
  name: string;
  kind: ProviderKind;
  /** Base URL of the upstream API, e.g. https://api.openai.com/v1 (openai kinds) or https://api.anthropic.com. */
  baseUrl: string;
  /** The upstream key, already read from the environment variable the config names. */
  apiKey?: string;
  /** Extra headers to send upstream (never secrets: those come from apiKeyEnv). */
  headers?: Record<string, string>;
  timeouts: Timeouts;
}

export interface CallOptions {
  /** The upstream model name for this target. */
  model: string;
  /** Aborted when the client disconnects or the total timeout passes. */
  signal: AbortSignal;
  timeouts: Timeouts;
}

/**
 * One upstream. `complete` and `stream` reject with RedlineError:
 *  - UPSTREAM_REJECTED (status = upstream 4xx other than 401/403/408/429) — not retried;
 *  - RATE_LIMITED (429), UPSTREAM_UNAVAILABLE (503/529), UPSTREAM_FAILED (other 5xx, resets,
 *    unparseable bodies, upstream auth failures), UPSTREAM_TIMEOUT — with details.retryable set,
 *    and retryAfter (seconds) when the upstream sent Retry-After.
 * A stream's failure before its first event rejects the first `next()`; routing may then fall back.
 */
export interface Provider {
  readonly name: string;
  readonly kind: ProviderKind;
  complete(req: ChatRequest, opts: CallOptions): Promise<ChatResponse>;
  stream(req: ChatRequest, opts: CallOptions): AsyncIterable<StreamEvent>;
  close?(): Promise<void>;
}
