// C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the note text of a signed tree head.
//   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root hash>\n[<extension line>\n]*
import { fromBase64, fromUtf8, toBase64 } from './encoding.js';
import { VerificationError } from './errors.js';
import { HASH_SIZE } from './merkle.js';
import { verifyNote, type VerifierKey } from './note.js';

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  /** Opaque extension lines (without newlines). */
  extensions: string[];
  /** The exact note text the checkpoint was parsed from. */
  text: string;
}

export interface VerifiedCheckpoint extends Checkpoint {
  /** The trusted keys whose signatures verified. */
  verifiedBy: VerifierKey[];
  /** The whole signed note, as received. */
  note: string;
}

/** Parses checkpoint note text (not a whole signed note: verify that with verifyCheckpoint). */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string' || !text.endsWith('\n')) throw new VerificationError('MALFORMED_CHECKPOINT', 'checkpoint text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new VerificationError('MALFORMED_CHECKPOINT', 'checkpoint needs origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) throw new VerificationError('MALFORMED_CHECKPOINT', 'empty origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) throw new VerificationError('MALFORMED_CHECKPOINT', 'tree size is not a canonical decimal number');
  const size = Number(sizeLine);
  if (!Number.isSafeInteger(size)) throw new VerificationError('MALFORMED_CHECKPOINT', 'tree size is too large');
  const rootHash = fromBase64(rootLine, 'MALFORMED_CHECKPOINT');
  if (rootHash.length !== HASH_SIZE) throw new VerificationError('MALFORMED_CHECKPOINT', `root hash is ${rootHash.length} bytes, not ${HASH_SIZE}`);
  if (extensions.some((l) => l.length === 0)) throw new VerificationError('MALFORMED_CHECKPOINT', 'empty extension line');
  return { origin, size, rootHash, extensions, text };
}

/** The note text for a checkpoint (the part that is signed). */
export function formatCheckpoint(c: { origin: string; size: number; rootHash: Uint8Array; extensions?: readonly string[] }): string {
  const ext = (c.extensions ?? []).map((l) => l + '\n').join('');
  const text = `${c.origin}\n${c.size}\n${toBase64(c.rootHash)}\n${ext}`;
  parseCheckpoint(text); // refuse to produce what we would not accept
  return text;
}

/**
 * Verifies a signed checkpoint note with a trusted verifier key (or several, e.g. the current and the
 * rotated-out keys of one log) and parses it. With `origin`, the checkpoint must also name that log.
 */
export function verifyCheckpoint(
  noteText: string | Uint8Array,
  verifierKey: string | VerifierKey | readonly (string | VerifierKey)[],
  opts: { origin?: string } = {},
): VerifiedCheckpoint {
  const note = verifyNote(noteText, verifierKey);
  const cp = parseCheckpoint(note.text);
  if (opts?.origin !== undefined && cp.origin !== opts.origin) {
    throw new VerificationError('ORIGIN_MISMATCH', 'checkpoint origin is not the expected log');
  }
  return { ...cp, verifiedBy: note.verifiedBy, note: typeof noteText === 'string' ? noteText : fromUtf8(noteText, 'MALFORMED_NOTE') };
}
