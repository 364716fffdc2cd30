// OpenAI-family upstreams: OpenAI itself, xAI, and OpenAI-compatible servers (vLLM, Ollama, LM Studio).
// All speak Chat Completions at `${baseUrl}/chat/completions`; they differ only in base URL, whether
// a key is needed, and which max-tokens field they understand.
import { RedlineError } from '../errors.js';
import type { ChatRequest, ChatResponse, StreamEvent } from '../wire/index.js';
import { OpenAIStreamDecoder, errorMessageOf, fromOpenAIChatResponse, parseSse, toOpenAIChatBody, type SseEvent } from '../wire/index.js';
import { createDispatcher, networkError, parseEventJson, type UpstreamCall } from './http.js';
import { postForJson, postForStream } from './exchange.js';
import type { CallOptions, Provider, ProviderConfig } from './types.js';

export const OPENAI_DEFAULT_BASE_URLS: Readonly<Record<'openai' | 'xai', string>> = {
  openai: 'https://api.openai.com/v1',
  xai: 'https://api.x.ai/v1',
};

export function createOpenAIProvider(cfg: ProviderConfig): Provider {
  if (cfg.kind !== 'openai' && cfg.kind !== 'xai' && cfg.kind !== 'openai_compatible') {
    throw new RedlineError('CONFIG_INVALID', `provider ${cfg.name}: kind ${cfg.kind} is not an OpenAI-family provider`);
  }
  const kind = cfg.kind;
  const base = cfg.baseUrl || (kind === 'openai_compatible' ? '' : OPENAI_DEFAULT_BASE_URLS[kind]);
  if (!base) throw new RedlineError('CONFIG_INVALID', `provider ${cfg.name}: an openai_compatible provider needs a baseUrl`);
  const url = `${base.replace(/\/+$/, '')}/chat/completions`;
  const headers: Record<string, string> = { ...cfg.headers };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  // vLLM, Ollama and LM Studio have long understood max_tokens; OpenAI and xAI document
  // max_completion_tokens (OpenAI's reasoning models refuse max_tokens).
  const maxTokensField = kind === 'openai_compatible' ? 'max_tokens' : 'max_completion_tokens';
  const dispatcher = createDispatcher(cfg.timeouts);
  const provider = cfg.name;

  const call = (req: ChatRequest, opts: CallOptions, stream: boolean): UpstreamCall => ({
    provider,
    url,
    headers,
    body: toOpenAIChatBody({ ...req, stream }, opts.model, { maxTokensField }),
    dispatcher,
    signal: opts.signal,
    timeouts: opts.timeouts,
  });

  function complete(req: ChatRequest, opts: CallOptions): Promise<ChatResponse> {
    return postForJson(() => call(req, opts, false), (json) => fromOpenAIChatResponse(json, provider));
  }

  async function* stream(req: ChatRequest, opts: CallOptions): AsyncGenerator<StreamEvent> {
    const body = await postForStream(call(req, opts, true));
    const decoder = new OpenAIStreamDecoder(provider);
    let done = false;
    let yielded = false;
    // After [DONE] the body is read to its end rather than abandoned: closing it early would abort the
    // request, which costs the keep-alive connection on every stream.
    // The SSE parser is iterated directly rather than through readSse: one less async-generator layer
    // per event showed in stream profiles. Only the parser's (read) errors are mapped, as readSse does.
    const events = parseSse(body)[Symbol.asyncIterator]();
    try {
      for (;;) {
        let n: IteratorResult<SseEvent>;
        try {
          n = await events.next();
        } catch (err) {
          throw networkError(provider, err, opts.signal);
        }
        if (n.done) break;
        const ev = n.value;
        if (done) continue;
        if (ev.data === '[DONE]') {
          done = true;
          continue;
        }
        const chunk = parseEventJson(provider, ev.data);
        const upstreamError = errorMessageOf(chunk);
        if (upstreamError !== undefined) {
          throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} reported an error mid-stream: ${upstreamError}`, { details: { provider, retryable: !yielded } });
        }
        for (const e of decoder.push(chunk)) {
          // The opening (role) chunk carries no content: an error right after it is still retryable.
          if (e.type !== 'start') yielded = true;
          yield e;
        }
      }
    } catch (err) {
      if (!done) throw err; // a fault after [DONE] cannot change an answer that already completed
    } finally {
      await events.return?.(undefined);
      body.close();
    }
    // A body that just stops (no finish_reason, no [DONE]) is a cut connection, not an answer.
    if (!done && !decoder.sawFinishReason) {
      throw new RedlineError('UPSTREAM_FAILED', `provider ${provider} ended the stream before it finished`, { details: { provider, retryable: !yielded } });
    }
    yield* decoder.end();
  }

  return {
    name: provider,
    kind,
    complete,
    stream,
    close: () => dispatcher.close(),
  };
}
