// Approval webhooks: a signed JSON POST when a tool call is held or leaves pending, so a chat-ops bot
// or pager can fetch a human. Delivery is best effort (one retry, short timeout) and never blocks or
// fails the hold: the approval lives in the database and the API whether or not anyone was told.
//
// Signature header, in the shape Stripe made familiar so receivers can reuse their code:
//   x-redline-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
import { createHmac, timingSafeEqual } from 'node:crypto';
import { RedlineError } from '../errors.js';

export const SIGNATURE_HEADER = 'x-redline-signature';

export function webhookSignature(secret: string, body: string, t: number): string {
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

/**
 * Checks a signature header against the raw body. `toleranceSeconds` (default 300) bounds the age of
 * `t`, so a captured delivery cannot be replayed later. Accepts any of several v1 values (secret rotation).
 */
export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secret: string,
  o: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  if (typeof header !== 'string') return false;
  let t: number | undefined;
  const macs: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return false;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k === 't') t = /^\d{1,12}$/.test(v) ? Number(v) : undefined;
    else if (k === 'v1' && /^[0-9a-f]{64}$/.test(v)) macs.push(v);
  }
  if (t === undefined || macs.length === 0) return false;
  const nowSec = Math.floor((o.now ?? Date.now()) / 1000);
  if (Math.abs(nowSec - t) > (o.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  return macs.some((m) => timingSafeEqual(Buffer.from(m), want));
}

export interface WebhookSender {
  /** Starts a delivery; the promise settles when it is done and never rejects. */
  send(event: Record<string, unknown>): Promise<void>;
  /** Resolves when every delivery started so far has finished. */
  idle(): Promise<void>;
}

export function createWebhookSender(o: { url: string; secret: string; timeoutMs?: number; retryDelayMs?: number; now?: () => number }): WebhookSender {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new RedlineError('CONFIG_INVALID', 'approval webhook url is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RedlineError('CONFIG_INVALID', 'approval webhook url must be http(s)');
  if (typeof o.secret !== 'string' || o.secret.length < 16) throw new RedlineError('CONFIG_INVALID', 'approval webhook secret must be at least 16 characters');
  const timeoutMs = o.timeoutMs ?? 3000;
  const retryDelayMs = o.retryDelayMs ?? 500;
  const now = o.now ?? Date.now;
  const inFlight = new Set<Promise<void>>();

  const attempt = async (body: string, type: string): Promise<boolean> => {
    const t = Math.floor(now() / 1000);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'redline-webhook/1', 'x-redline-event': type, [SIGNATURE_HEADER]: webhookSignature(o.secret, body, t) },
        body,
        // A redirect would resend the signed body to a place nobody configured.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  };

  return {
    send(event) {
      const body = JSON.stringify(event);
      const type = typeof event.type === 'string' ? event.type : 'event';
      const p = (async () => {
        if (await attempt(body, type)) return;
        await new Promise((r) => setTimeout(r, retryDelayMs).unref());
        await attempt(body, type);
      })();
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      return p;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
