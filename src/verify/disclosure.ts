// Content commitments: a ledger entry carries commitment = hex(SHA-256(salt || content)) instead of the
// content, so the public log reveals nothing; whoever holds the salt and content can later disclose
// them and anyone can check them against the logged entry.
import { bytesEqual, fromHex, isBytes, scratchBytes, utf8 } from './encoding.js';
import { VerificationError } from './errors.js';
import { sha256Hex } from './merkle.js';

function saltBytes(salt: string | Uint8Array): Uint8Array {
  const b = typeof salt === 'string' ? fromHex(salt, 'COMMITMENT_MISMATCH') : salt;
  if (!isBytes(b) || b.length < 16) throw new VerificationError('COMMITMENT_MISMATCH', 'salt must be at least 16 bytes');
  return b;
}

function contentBytes(content: string | Uint8Array): Uint8Array {
  if (typeof content === 'string') return utf8(content);
  if (isBytes(content)) return content;
  throw new VerificationError('INVALID_ARGUMENT', 'content must be a string or bytes');
}

/** hex(SHA-256(salt || content)); strings are hashed as UTF-8. */
export function commitmentOf(salt: string | Uint8Array, content: string | Uint8Array): string {
  const s = saltBytes(salt);
  const c = contentBytes(content);
  const buf = scratchBytes(s.length + c.length);
  buf.set(s);
  buf.set(c, s.length);
  return sha256Hex(buf);
}

/**
 * Checks that (salt, content) opens the commitment of a ledger entry (parsed JSON object or its
 * canonical bytes). Throws MALFORMED_ENTRY or COMMITMENT_MISMATCH.
 */
export function verifyDisclosure(entry: unknown, salt: string | Uint8Array, content: string | Uint8Array): void {
  let e: unknown = entry;
  if (isBytes(entry)) {
    try {
      e = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(entry));
    } catch (err) {
      throw new VerificationError('MALFORMED_ENTRY', 'entry is not JSON', { cause: err });
    }
  }
  const commitment = e !== null && typeof e === 'object' ? (e as { commitment?: unknown }).commitment : undefined;
  if (typeof commitment !== 'string' || !/^[0-9a-f]{64}$/.test(commitment)) {
    throw new VerificationError('MALFORMED_ENTRY', 'entry has no commitment');
  }
  const got = fromHex(commitmentOf(salt, content));
  if (!bytesEqual(got, fromHex(commitment))) throw new VerificationError('COMMITMENT_MISMATCH', 'salt and content do not match the commitment');
}
