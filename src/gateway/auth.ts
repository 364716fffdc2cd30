// Every request is attributed to a principal by its API key: `Authorization: Bearer <key>` (OpenAI
// SDKs) or `x-api-key: <key>` (Anthropic SDKs). Lookups are cached briefly so the request path does not
// hit the store each time; the short TTL bounds how long a revoked key keeps working on another process.
import type { IncomingHttpHeaders } from 'node:http';
import { RedlineError } from '../errors.js';
import { hashApiKey, type ApiKeyInfo, type KeyStore, type Principal } from '../store/index.js';

export interface Caller { principal: Principal; key: ApiKeyInfo }

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): Promise<Caller>;
  /** The caller if its key was looked up within the TTL, without waiting; else undefined (use authenticate). */
  cached(headers: IncomingHttpHeaders): Caller | undefined;
  /** Forget cached lookups (after a revocation in this process). */
  invalidate(): void;
}

export function createAuthenticator(keys: KeyStore, o: { ttlMs?: number; maxEntries?: number } = {}): Authenticator {
  const ttl = o.ttlMs ?? 2_000;
  const max = o.maxEntries ?? 10_000;
  const cache = new Map<string, { caller: Caller; at: number }>();
  return {
    cached(headers) {
      const key = presentedKey(headers);
      const hit = key ? cache.get(key) : undefined;
      return hit && Date.now() - hit.at < ttl ? hit.caller : undefined;
    },
    async authenticate(headers) {
      const key = presentedKey(headers);
      if (!key) throw new RedlineError('AUTH_FAILED', 'Missing API key: send "Authorization: Bearer <key>" or "x-api-key: <key>".');
      // The cache is keyed by the presented key itself, so a hit costs no hashing; it lives only in
      // this process's memory, like the keys the clients hold.
      const now = Date.now();
      const hit = cache.get(key);
      if (hit && now - hit.at < ttl) return hit.caller;
      const found = await keys.findKey(hashApiKey(key));
      if (!found) {
        cache.delete(key);
        throw new RedlineError('AUTH_FAILED', 'Invalid or revoked API key.');
      }
      if (cache.size >= max) cache.clear();
      cache.set(key, { caller: found, at: now });
      return found;
    },
    invalidate: () => cache.clear(),
  };
}

function presentedKey(h: IncomingHttpHeaders): string | undefined {
  const auth = h.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const x = h['x-api-key'];
  return typeof x === 'string' && x.length > 0 ? x.trim() : undefined;
}
