// Optional second stage: ask an external guard model (e.g. Llama Guard served by vLLM) behind an
// OpenAI-compatible /chat/completions endpoint whether the request is unsafe.
//
// The guard's reply text is "safe", or "unsafe" followed by a line of comma-separated category codes
// ("unsafe\nS1,S9"), which is Llama Guard's output format. Anything else, a timeout, a network error
// or a non-2xx status is a failure: check() throws RedlineError('CLASSIFIER_FAILED') and the caller
// fails closed. Error messages and details never carry prompt or reply text.
import { request, type Dispatcher } from 'undici';
import { RedlineError } from '../errors.js';
import type { ClassifyInput } from './classifier.js';

export interface GuardStageOptions {
  /** Base URL of the OpenAI-compatible API (".../v1") or the full ".../chat/completions" URL. */
  url: string;
  model: string;
  apiKey?: string;
  /** Whole-call budget: connect, send, first byte and body. */
  timeoutMs: number;
  /** undici dispatcher to use (default: the global one). */
  dispatcher?: Dispatcher;
}

export interface GuardVerdict {
  unsafe: boolean;
  /** Category codes as the guard reported them (e.g. ["S1", "S9"]); empty when safe. */
  categories: string[];
}

export interface GuardStage {
  check(input: ClassifyInput, signal?: AbortSignal): Promise<GuardVerdict>;
}

/** Largest request text sent to the guard; the guard model's own context is the real limit. */
const GUARD_MAX_CHARS = 32 * 1024;
const CATEGORY = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;

function endpoint(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

/**
 * The conversation as one user message. Llama Guard's chat template wants strictly alternating
 * user/assistant turns and has no system role, so the system prompt and the user turns are sent
 * together as the text to judge.
 */
function guardText(input: ClassifyInput): string {
  const parts: string[] = [];
  if (input.system) parts.push(input.system);
  parts.push(...input.user);
  if (input.toolResults) parts.push(...input.toolResults);
  const text = parts.join('\n\n');
  return text.length > GUARD_MAX_CHARS ? text.slice(0, GUARD_MAX_CHARS) : text;
}

/** Parses "safe" / "unsafe\nS1,S9"; returns undefined for anything else. */
export function parseGuardReply(reply: string): GuardVerdict | undefined {
  const lines = reply.trim().split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  const head = lines[0]?.toLowerCase();
  if (head === 'safe' && lines.length === 1) return { unsafe: false, categories: [] };
  if (head !== 'unsafe' || lines.length > 2) return undefined;
  const categories = lines[1] === undefined ? [] : lines[1].split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (!categories.every((c) => CATEGORY.test(c))) return undefined;
  return { unsafe: true, categories };
}

function failed(reason: string, cause?: unknown, extra: Record<string, unknown> = {}): RedlineError {
  return new RedlineError('CLASSIFIER_FAILED', `guard model check failed: ${reason}`, { details: { stage: 'guard', reason, ...extra }, cause });
}

export function createGuardStage(o: GuardStageOptions): GuardStage {
  const url = endpoint(o.url);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (o.apiKey) headers.authorization = `Bearer ${o.apiKey}`;

  return {
    async check(input: ClassifyInput, signal?: AbortSignal): Promise<GuardVerdict> {
      // One controller carries both the caller's abort and our deadline, and the timer is cleared
      // as soon as the call settles.
      const ac = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        ac.abort(new DOMException('guard timeout', 'TimeoutError'));
      }, o.timeoutMs);
      const onAbort = (): void => ac.abort(signal?.reason);
      if (signal?.aborted) ac.abort(signal.reason);
      else signal?.addEventListener('abort', onAbort, { once: true });
      const fail = (reason: string, cause?: unknown, extra?: Record<string, unknown>): RedlineError =>
        timedOut ? failed('timeout', cause) : signal?.aborted ? failed('aborted', cause) : failed(reason, cause, extra);
      try {
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              model: o.model,
              messages: [{ role: 'user', content: guardText(input) }],
              temperature: 0,
              max_tokens: 32,
            }),
            signal: ac.signal,
            ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
          });
        } catch (e) {
          throw fail('network', e);
        }
        let raw: string;
        try {
          raw = await res.body.text();
        } catch (e) {
          throw fail('network', e);
        }
        if (res.statusCode < 200 || res.statusCode >= 300) throw fail('status', undefined, { status: res.statusCode });
        let content: unknown;
        try {
          const body = JSON.parse(raw) as { choices?: Array<{ message?: { content?: unknown } }> };
          content = body.choices?.[0]?.message?.content;
        } catch (e) {
          throw fail('unparseable', e);
        }
        if (typeof content !== 'string') throw fail('unparseable');
        const verdict = parseGuardReply(content);
        if (!verdict) throw fail('unparseable');
        return verdict;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
