// C2SP signed-note (https://c2sp.org/signed-note), Ed25519 signatures only:
//   note      = text (ending in "\n") + "\n" + one or more lines "— <name> <base64(keyID || signature)>\n"
//   key ID    = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]
//   vkey      = <name>+<hex(key ID)>+<base64(0x01 || public key)>
// Verification follows the spec's rules: signatures from unknown (name, id) pairs are ignored, a known
// key whose signature fails rejects the whole note, and at least one known key must have signed.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, isBytes, toBase64, toHex, utf8 } from './encoding.js';
import { VerificationError } from './errors.js';
import { sha256 } from './merkle.js';

export const ALG_ED25519 = 0x01;
const EM_DASH = '\u2014';
/** Above the spec's minimum of 16; the Go reference implementation uses the same cap. */
const MAX_SIGNATURES = 100;

export interface VerifierKey {
  name: string;
  keyId: Uint8Array;
  publicKey: Uint8Array;
  /** The vkey string it was parsed from (or would be written as). */
  vkey: string;
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  signature: Uint8Array;
}

export interface VerifiedNote {
  /** The signed text, including its final newline. */
  text: string;
  /** Every signature line, known or not. */
  signatures: NoteSignature[];
  /** The trusted keys whose signatures verified. */
  verifiedBy: VerifierKey[];
}

/** Key names are non-empty and hold no Unicode space and no '+'. */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && !/[\s+]/u.test(name) && !/[\u0000-\u001f]/.test(name);
}

export function ed25519KeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(name), new Uint8Array([0x0a, ALG_ED25519]), publicKey)).slice(0, 4);
}

/** Formats a vkey for an Ed25519 public key (32 raw bytes). */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new VerificationError('MALFORMED_KEY', 'invalid key name');
  if (!isBytes(publicKey) || publicKey.length !== 32) throw new VerificationError('MALFORMED_KEY', 'Ed25519 public keys are 32 bytes');
  return `${name}+${toHex(ed25519KeyId(name, publicKey))}+${toBase64(concatBytes(new Uint8Array([ALG_ED25519]), publicKey))}`;
}

export function parseVerifierKey(vkey: string): VerifierKey {
  if (typeof vkey !== 'string') throw new VerificationError('MALFORMED_KEY', 'verifier key must be a string');
  const s = vkey.trim();
  const parts = s.split('+');
  // The base64 part may itself contain '+', so only the first two separators count.
  if (parts.length < 3) throw new VerificationError('MALFORMED_KEY', 'verifier key must be name+id+key');
  const name = parts[0]!;
  const idHex = parts[1]!;
  const material = parts.slice(2).join('+');
  if (!isValidKeyName(name)) throw new VerificationError('MALFORMED_KEY', 'invalid key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw new VerificationError('MALFORMED_KEY', 'key id must be 8 lower-case hex digits');
  const raw = fromBase64(material, 'MALFORMED_KEY');
  if (raw.length !== 33 || raw[0] !== ALG_ED25519) throw new VerificationError('MALFORMED_KEY', 'only Ed25519 (type 0x01, 32-byte) verifier keys are supported');
  const publicKey = raw.slice(1);
  const keyId = fromHex(idHex, 'MALFORMED_KEY');
  if (!bytesEqual(keyId, ed25519KeyId(name, publicKey))) throw new VerificationError('MALFORMED_KEY', 'key id does not match name and public key');
  return { name, keyId, publicKey, vkey: s };
}

/** Splits a note into text and signature lines without checking any signature. */
export function parseNote(note: string | Uint8Array): { text: string; signatures: NoteSignature[] } {
  if (typeof note !== 'string' && !isBytes(note)) throw new VerificationError('MALFORMED_NOTE', 'note must be a string or bytes');
  const s = typeof note === 'string' ? note : fromUtf8(note, 'MALFORMED_NOTE');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) throw new VerificationError('MALFORMED_NOTE', 'note holds control characters');
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s)) {
    throw new VerificationError('MALFORMED_NOTE', 'note is not valid Unicode');
  }
  if (!s.endsWith('\n')) throw new VerificationError('MALFORMED_NOTE', 'note does not end in a newline');
  const sep = s.lastIndexOf('\n\n');
  if (sep < 0) throw new VerificationError('MALFORMED_NOTE', 'note has no blank line before its signatures');
  const text = s.slice(0, sep + 1);
  const block = s.slice(sep + 2);
  const lines = block.slice(0, -1).split('\n');
  if (block.length === 0 || lines.length === 0) throw new VerificationError('MALFORMED_NOTE', 'note has no signatures');
  if (lines.length > MAX_SIGNATURES) throw new VerificationError('MALFORMED_NOTE', 'note has too many signatures');
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(EM_DASH + ' ')) throw new VerificationError('MALFORMED_NOTE', 'signature line does not start with an em dash and space');
    const rest = line.slice(2);
    const space = rest.indexOf(' ');
    if (space <= 0 || rest.indexOf(' ', space + 1) >= 0) throw new VerificationError('MALFORMED_NOTE', 'signature line is not "— name signature"');
    const name = rest.slice(0, space);
    if (!isValidKeyName(name)) throw new VerificationError('MALFORMED_NOTE', 'invalid key name in signature line');
    const blob = fromBase64(rest.slice(space + 1), 'MALFORMED_NOTE');
    if (blob.length < 5) throw new VerificationError('MALFORMED_NOTE', 'signature too short');
    return { name, keyId: blob.slice(0, 4), signature: blob.slice(4) };
  });
  return { text, signatures };
}

const keyObjects = new Map<string, KeyObject>();

function publicKeyObject(k: VerifierKey): KeyObject {
  let o = keyObjects.get(k.vkey);
  if (!o) {
    try {
      o = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(k.publicKey) }, format: 'jwk' });
    } catch (e) {
      throw new VerificationError('MALFORMED_KEY', 'not an Ed25519 public key', { cause: e });
    }
    if (keyObjects.size > 256) keyObjects.clear();
    keyObjects.set(k.vkey, o);
  }
  return o;
}

function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Verifies a signed note against one or more trusted verifier keys (vkey strings or parsed keys).
 * Returns the text and the keys that signed it; throws MALFORMED_NOTE, BAD_SIGNATURE or UNKNOWN_KEY.
 */
export function verifyNote(note: string | Uint8Array, verifiers: string | VerifierKey | readonly (string | VerifierKey)[]): VerifiedNote {
  const list = (Array.isArray(verifiers) ? verifiers : [verifiers]) as unknown[];
  if (list.length === 0) throw new VerificationError('MALFORMED_KEY', 'no verifier keys given');
  // Parsed keys are re-derived from their vkey string, so a hand-built object cannot smuggle in a key id
  // that does not belong to its public key.
  const keys = list.map((v) => parseVerifierKey(typeof v === 'string' ? v : ((v as { vkey?: unknown } | null)?.vkey as string)));
  const { text, signatures } = parseNote(note);
  const msg = utf8(text);
  const verifiedBy: VerifierKey[] = [];
  const seen = new Set<string>();
  for (const sig of signatures) {
    const key = keys.find((k) => k.name === sig.name && bytesEqual(k.keyId, sig.keyId));
    if (!key) continue; // the spec requires ignoring unknown keys (witness cosignatures, rotated keys)
    if (seen.has(key.vkey)) throw new VerificationError('MALFORMED_NOTE', 'the same key signed the note twice');
    seen.add(key.vkey);
    let ok = false;
    if (sig.signature.length === 64) {
      try {
        ok = cryptoVerify(null, msg, publicKeyObject(key), sig.signature);
      } catch (e) {
        if (e instanceof VerificationError) throw e;
        ok = false;
      }
    }
    if (!ok) throw new VerificationError('BAD_SIGNATURE', `signature by ${key.name}+${toHex(key.keyId)} does not verify`);
    verifiedBy.push(key);
  }
  if (verifiedBy.length === 0) throw new VerificationError('UNKNOWN_KEY', 'no signature on the note is from a trusted key');
  return { text, signatures, verifiedBy };
}

/** The signature line for `text` given a raw Ed25519 signature (signing itself needs a private key and lives in the ledger). */
export function signatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  return `${EM_DASH} ${name} ${toBase64(concatBytes(keyId, signature))}\n`;
}
