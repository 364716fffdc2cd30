// API keys: 32 random bytes, shown once, stored as SHA-256. A fast hash is right here (unlike
// passwords): the key has 256 bits of entropy, so there is nothing to brute-force.
import { createHash, randomBytes } from 'node:crypto';

export const KEY_PREFIX = 'rl-';

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function keyDisplayPrefix(key: string): string {
  return key.slice(0, 10);
}
