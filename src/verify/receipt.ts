// Approval receipts. When humans approve a held tool call, redline signs a receipt naming the tool, a
// hash of the exact arguments, who approved and when, and the ledger entry that recorded it. The
// system that executes the tool checks the receipt here before acting: this file is what gets handed
// to that system, so it depends on node:crypto and its sibling files only.
//
//   receipt   = { payload, signature }
//   signature = base64(Ed25519(private key, RFC 8785 canonical JSON of payload))
//   key_id    = <key name> "+" hex(C2SP key id), the first two fields of the key's vkey (see note.ts)
//
// A receipt proves approval, not freshness of use: it is valid for every call made with it until
// expires_at. An executor that must run each approved call at most once keeps the approval_ids it has
// already acted on (verifying is stateless by design).
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { fromBase64, toBase64, toHex, utf8 } from './encoding.js';
import { VerificationError, isVerificationError } from './errors.js';
import { canonicalBytes, canonicalize } from './jcs.js';
import { sha256 } from './merkle.js';
import { ed25519KeyId, isValidKeyName, parseVerifierKey } from './note.js';

export const RECEIPT_VERSION = 1;

/**
 * How args_sha256 was computed: over the RFC 8785 form of the parsed arguments, or, when the model
 * produced text that is not JSON (or not canonicalisable), over that text's UTF-8 bytes as they were.
 */
export type ArgsEncoding = 'rfc8785' | 'raw_text';

export interface ReceiptPrincipal { id: string; name: string }
export interface ReceiptApprover extends ReceiptPrincipal { /** RFC 3339 time of the approval. */ at: string }

export interface ReceiptPayload {
  v: 1;
  approval_id: string;
  request_id: string;
  tool: string;
  tool_call_id: string;
  /** Lower-case hex SHA-256, see ArgsEncoding. */
  args_sha256: string;
  args_encoding: ArgsEncoding;
  effect: string;
  requester: ReceiptPrincipal;
  approvers: ReceiptApprover[];
  issued_at: string;
  expires_at: string;
  ledger_index: number;
  key_id: string;
}

export interface Receipt {
  payload: ReceiptPayload;
  /** Standard padded base64 of the 64-byte Ed25519 signature over receiptSigningBytes(payload). */
  signature: string;
}

/** A trusted receipt key: a C2SP vkey string, an Ed25519 PEM (public, or private to derive it), or a KeyObject. */
export type ReceiptKey = string | KeyObject;

export interface VerifyReceiptOptions {
  /** The key (or keys, e.g. across a rotation) trusted to sign receipts. */
  publicKey: ReceiptKey | readonly ReceiptKey[];
  /** The tool about to be executed. */
  tool: string;
  /**
   * The arguments about to be used: a value, or JSON text (parsed, then canonicalised, so key order
   * and whitespace do not matter). For a raw_text receipt only the identical string matches.
   */
  arguments: unknown;
  /** The verifier's clock; defaults to now. */
  now?: Date;
  /** How far issued_at may lie in the verifier's future, for clocks that disagree (default 30 s). Expiry is strict. */
  clockSkewSeconds?: number;
}

export interface VerifiedReceipt {
  payload: ReceiptPayload;
  /** The key_id of the key whose signature verified. */
  keyId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** The bytes a receipt signature covers. */
export function receiptSigningBytes(payload: ReceiptPayload): Uint8Array {
  return canonicalBytes(payload);
}

/** The key_id a receipt names for an Ed25519 public key (32 raw bytes) under `name`. */
export function receiptKeyId(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) throw new VerificationError('MALFORMED_KEY', 'invalid key name');
  return `${name}+${toHex(ed25519KeyId(name, publicKey))}`;
}

/**
 * The digest a receipt binds tool arguments with. Strings are parsed as JSON first; text that is not
 * JSON, or that JSON cannot canonicalise (an unpaired surrogate, a number beyond double range), is
 * hashed as it stands and marked raw_text. Like every RFC 8785 user, two JSON texts whose numbers
 * differ only beyond double precision hash alike.
 */
export function hashToolArguments(args: unknown): { sha256: string; encoding: ArgsEncoding } {
  if (typeof args === 'string') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      return { sha256: toHex(sha256(utf8(args))), encoding: 'raw_text' };
    }
    try {
      return { sha256: toHex(sha256(canonicalBytes(parsed))), encoding: 'rfc8785' };
    } catch (e) {
      if (!isVerificationError(e)) throw e;
      return { sha256: toHex(sha256(utf8(args))), encoding: 'raw_text' };
    }
  }
  return { sha256: toHex(sha256(canonicalBytes(args))), encoding: 'rfc8785' };
}

function malformed(msg: string): never {
  throw new VerificationError('MALFORMED_RECEIPT', msg);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const PAYLOAD_FIELDS = [
  'v', 'approval_id', 'request_id', 'tool', 'tool_call_id', 'args_sha256', 'args_encoding', 'effect',
  'requester', 'approvers', 'issued_at', 'expires_at', 'ledger_index', 'key_id',
] as const;

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Uint8Array);

/** Exactly these keys, no others: a v1 verifier must not silently ignore a field it does not know. */
function exactKeys(o: Record<string, unknown>, keys: readonly string[], what: string): void {
  const have = Object.keys(o);
  if (have.length !== keys.length || !keys.every((k) => Object.prototype.hasOwnProperty.call(o, k))) {
    malformed(`${what} must have exactly the fields ${keys.join(', ')}`);
  }
}

function str(o: Record<string, unknown>, k: string): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0) malformed(`${k} must be a non-empty string`);
  return v;
}

function time(o: Record<string, unknown>, k: string): Date {
  const s = str(o, k);
  const ms = RFC3339.test(s) ? Date.parse(s) : NaN;
  if (!Number.isFinite(ms)) malformed(`${k} must be an RFC 3339 timestamp`);
  return new Date(ms);
}

function principal(x: unknown, what: string, withTime: boolean): void {
  if (!isPlainObject(x)) malformed(`${what} must be an object`);
  exactKeys(x, withTime ? ['id', 'name', 'at'] : ['id', 'name'], what);
  str(x, 'id');
  str(x, 'name');
  if (withTime) time(x, 'at');
}

/** Parses and shape-checks a receipt (object, JSON text or UTF-8 bytes) without checking its signature. */
export function parseReceipt(input: unknown): { receipt: Receipt; issuedAt: Date; expiresAt: Date; signature: Uint8Array } {
  let r: unknown = input;
  if (r instanceof Uint8Array) {
    try {
      r = new TextDecoder('utf-8', { fatal: true }).decode(r);
    } catch {
      malformed('receipt is not UTF-8');
    }
  }
  if (typeof r === 'string') {
    try {
      r = JSON.parse(r);
    } catch {
      malformed('receipt is not valid JSON');
    }
  }
  if (!isPlainObject(r)) malformed('receipt must be a JSON object');
  exactKeys(r, ['payload', 'signature'], 'receipt');
  const p = r.payload;
  if (!isPlainObject(p)) malformed('payload must be an object');
  exactKeys(p, PAYLOAD_FIELDS, 'payload');
  if (p.v !== RECEIPT_VERSION) malformed(`unsupported receipt version (expected ${RECEIPT_VERSION})`);
  for (const k of ['approval_id', 'request_id', 'tool', 'tool_call_id', 'effect', 'key_id'] as const) str(p, k);
  if (!/^[0-9a-f]{64}$/.test(str(p, 'args_sha256'))) malformed('args_sha256 must be 64 lower-case hex digits');
  if (p.args_encoding !== 'rfc8785' && p.args_encoding !== 'raw_text') malformed('args_encoding must be rfc8785 or raw_text');
  principal(p.requester, 'requester', false);
  if (!Array.isArray(p.approvers) || p.approvers.length === 0) malformed('approvers must be a non-empty array');
  p.approvers.forEach((a, i) => principal(a, `approvers[${i}]`, true));
  const issuedAt = time(p, 'issued_at');
  const expiresAt = time(p, 'expires_at');
  if (expiresAt.getTime() <= issuedAt.getTime()) malformed('expires_at must be after issued_at');
  if (typeof p.ledger_index !== 'number' || !Number.isSafeInteger(p.ledger_index) || p.ledger_index < 0) {
    malformed('ledger_index must be a non-negative integer');
  }
  splitKeyId(p.key_id as string);
  const signature = fromBase64(str(r, 'signature'), 'MALFORMED_RECEIPT');
  try {
    canonicalize(p);
  } catch (e) {
    if (isVerificationError(e)) malformed('payload cannot be canonicalised');
    throw e;
  }
  return { receipt: r as unknown as Receipt, issuedAt, expiresAt, signature };
}

function splitKeyId(keyId: string): { name: string; idHex: string } {
  const m = /^([^+]+)\+([0-9a-f]{8})$/.exec(keyId);
  if (!m || !isValidKeyName(m[1]!)) malformed('key_id must be <name>+<8 hex digits>');
  return { name: m[1]!, idHex: m[2]! };
}

function ed25519Public(k: KeyObject): KeyObject {
  const pub = k.type === 'private' ? createPublicKey(k) : k;
  if (pub.type !== 'public' || pub.asymmetricKeyType !== 'ed25519') throw new VerificationError('MALFORMED_KEY', 'receipt keys are Ed25519');
  return pub;
}

function rawPublic(k: KeyObject): Uint8Array {
  const x = k.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new VerificationError('MALFORMED_KEY', 'not an Ed25519 public key');
  return fromBase64(base64UrlToStd(x), 'MALFORMED_KEY');
}

function base64UrlToStd(s: string): string {
  const b = s.replace(/-/g, '+').replace(/_/g, '/');
  return b + '='.repeat((4 - (b.length % 4)) % 4);
}

function toBase64Url(b: Uint8Array): string {
  return toBase64(b).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * A trusted key as (key_id, KeyObject). A vkey carries its own name; a PEM or KeyObject does not, so
 * it is named with the name the receipt claims, and still only matches if the id derived from that
 * name and this key's bytes equals the receipt's key_id.
 */
function resolveKey(k: ReceiptKey, claimedName: string): { keyId: string; key: KeyObject } {
  if (typeof k === 'string') {
    const s = k.trim();
    if (s.startsWith('-----BEGIN')) {
      let obj: KeyObject;
      try {
        obj = createPublicKey(s);
      } catch (e) {
        throw new VerificationError('MALFORMED_KEY', 'not a readable PEM key', { cause: e });
      }
      const pub = ed25519Public(obj);
      return { keyId: receiptKeyId(claimedName, rawPublic(pub)), key: pub };
    }
    const v = parseVerifierKey(s);
    let key: KeyObject;
    try {
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(v.publicKey) }, format: 'jwk' });
    } catch (e) {
      throw new VerificationError('MALFORMED_KEY', 'not an Ed25519 public key', { cause: e });
    }
    return { keyId: `${v.name}+${toHex(v.keyId)}`, key };
  }
  if (k && typeof k === 'object' && typeof (k as KeyObject).export === 'function') {
    const pub = ed25519Public(k);
    return { keyId: receiptKeyId(claimedName, rawPublic(pub)), key: pub };
  }
  throw new VerificationError('MALFORMED_KEY', 'a receipt key is a vkey, a PEM string or a KeyObject');
}

/**
 * Verifies a receipt for the call about to be made. Checks, in order: shape (MALFORMED_RECEIPT), that
 * a trusted key made it (UNKNOWN_KEY), its signature (BAD_SIGNATURE), its validity window
 * (NOT_YET_VALID, EXPIRED), the tool (TOOL_MISMATCH) and the arguments (ARGS_MISMATCH). Returns the
 * payload only when every check passed.
 */
export function verifyReceipt(input: unknown, o: VerifyReceiptOptions): VerifiedReceipt {
  if (!o || typeof o !== 'object') throw new VerificationError('INVALID_ARGUMENT', 'options are required');
  if (typeof o.tool !== 'string' || o.tool.length === 0) throw new VerificationError('INVALID_ARGUMENT', 'tool must be a non-empty string');
  const now = o.now ?? new Date();
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new VerificationError('INVALID_ARGUMENT', 'now must be a valid Date');
  const skew = o.clockSkewSeconds ?? 30;
  if (typeof skew !== 'number' || !Number.isFinite(skew) || skew < 0) throw new VerificationError('INVALID_ARGUMENT', 'clockSkewSeconds must be a non-negative number');

  const { receipt, issuedAt, expiresAt, signature } = parseReceipt(input);
  const p = receipt.payload;

  const keys = (Array.isArray(o.publicKey) ? o.publicKey : [o.publicKey]) as ReceiptKey[];
  if (keys.length === 0) throw new VerificationError('INVALID_ARGUMENT', 'at least one public key is required');
  const { name } = splitKeyId(p.key_id);
  const trusted = keys.map((k) => resolveKey(k, name)).find((k) => k.keyId === p.key_id);
  if (!trusted) throw new VerificationError('UNKNOWN_KEY', `receipt was signed by ${p.key_id}, which is not a trusted key`);

  let ok = false;
  if (signature.length === 64) {
    try {
      ok = cryptoVerify(null, receiptSigningBytes(p), trusted.key, signature);
    } catch {
      ok = false;
    }
  }
  if (!ok) throw new VerificationError('BAD_SIGNATURE', 'receipt signature does not verify');

  if (issuedAt.getTime() > now.getTime() + skew * 1000) throw new VerificationError('NOT_YET_VALID', `receipt is issued at ${p.issued_at}, after the verifier's clock`);
  if (now.getTime() >= expiresAt.getTime()) throw new VerificationError('EXPIRED', `receipt expired at ${p.expires_at}`);
  if (p.tool !== o.tool) throw new VerificationError('TOOL_MISMATCH', 'receipt is for a different tool');
  if (!argumentsMatch(p, o.arguments)) throw new VerificationError('ARGS_MISMATCH', 'arguments differ from the approved ones');
  return { payload: p, keyId: trusted.keyId, issuedAt, expiresAt };
}

function argumentsMatch(p: ReceiptPayload, args: unknown): boolean {
  if (p.args_encoding === 'raw_text') {
    return typeof args === 'string' && toHex(sha256(utf8(args))) === p.args_sha256;
  }
  let value: unknown = args;
  if (typeof args === 'string') {
    try {
      value = JSON.parse(args);
    } catch {
      return false;
    }
  }
  try {
    return toHex(sha256(canonicalBytes(value))) === p.args_sha256;
  } catch (e) {
    if (isVerificationError(e)) return false;
    throw e;
  }
}
