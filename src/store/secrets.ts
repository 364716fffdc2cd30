// The server secret keys the HMACs that pseudonymise principals and hash identifiers for bulk counting.
// It lives in a file beside the database, not in it, created once with owner-only permissions: a copy of
// the database alone cannot reverse a hash by guessing identifiers.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function loadOrCreateSecret(dataDir: string, name = 'server.secret'): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, name);
  if (existsSync(file)) {
    const buf = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (buf.length < 32) throw new Error(`${file} holds a secret shorter than 32 bytes`);
    return new Uint8Array(buf);
  }
  const secret = randomBytes(32);
  writeFileSync(file, secret.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return new Uint8Array(secret);
}
