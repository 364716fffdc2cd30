// The log's Ed25519 checkpoint key. It lives in a PEM file outside the database (mode 0600), so a copy
// of the database handed to an auditor never carries it. Rotation replaces the private key and keeps
// every public key ever used in the `verifiers` file, one vkey per line, so checkpoints signed before
// a rotation stay verifiable.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RedlineError } from '../errors.js';
import { ed25519KeyId, formatVerifierKey, fromBase64, isValidKeyName } from '../verify/index.js';

export const KEY_FILE = 'signing-key.pem';
export const VERIFIERS_FILE = 'verifiers';

export interface SigningKey {
  /** Key name, also the checkpoint origin. */
  name: string;
  privateKey: KeyObject;
  publicKey: Uint8Array;
  keyId: Uint8Array;
  /** The C2SP verifier key string to hand to verifiers. */
  vkey: string;
}

/** Builds a SigningKey from a private key (KeyObject or PKCS#8 PEM). */
export function signingKeyFrom(name: string, privateKey: KeyObject | string): SigningKey {
  if (!isValidKeyName(name)) throw new RedlineError('CONFIG_INVALID', 'ledger key name must be non-empty, without spaces or "+"');
  let key: KeyObject;
  try {
    key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  } catch (e) {
    throw new RedlineError('CONFIG_INVALID', 'ledger signing key is not a readable private key', { cause: e });
  }
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ed25519') throw new RedlineError('CONFIG_INVALID', 'ledger signing key must be an Ed25519 private key');
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  const publicKey = fromBase64(base64UrlToStd(jwk.x ?? ''), 'MALFORMED_KEY');
  return { name, privateKey: key, publicKey, keyId: ed25519KeyId(name, publicKey), vkey: formatVerifierKey(name, publicKey) };
}

function base64UrlToStd(s: string): string {
  const b = s.replace(/-/g, '+').replace(/_/g, '/');
  return b + '='.repeat((4 - (b.length % 4)) % 4);
}

/** Writes `data` to `path` atomically (temp file, fsync, rename) with the given mode. */
function writeFileAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode); // the umask may have narrowed or widened what openSync asked for
  renameSync(tmp, path);
}

function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  return privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** Every vkey in `<dir>/verifiers`, in file order (oldest first); empty when the file is missing. */
export function readVerifierKeys(dir: string): string[] {
  const p = join(dir, VERIFIERS_FILE);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
}

function recordVerifier(dir: string, vkey: string): void {
  const keys = readVerifierKeys(dir);
  if (keys.includes(vkey)) return;
  writeFileAtomic(join(dir, VERIFIERS_FILE), [...keys, vkey].join('\n') + '\n', 0o644);
}

/**
 * Loads `<dir>/signing-key.pem`, creating it (mode 0600) on first start, and makes sure its vkey is in
 * `<dir>/verifiers`. Refuses a key file that group or others can read, as ssh does.
 */
export function loadOrCreateSigningKey(dir: string, name: string): SigningKey {
  if (!isValidKeyName(name)) throw new RedlineError('CONFIG_INVALID', 'ledger key name must be non-empty, without spaces or "+"');
  ensureDir(dir);
  const path = join(dir, KEY_FILE);
  if (!existsSync(path)) writeFileAtomic(path, newKeyPem(), 0o600);
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) {
    throw new RedlineError('CONFIG_INVALID', `${path} is readable by other users; run chmod 600 on it`);
  }
  const key = signingKeyFrom(name, readFileSync(path, 'utf8'));
  recordVerifier(dir, key.vkey);
  return key;
}

/**
 * Replaces the signing key with a new one. The old private key is overwritten; its public key stays in
 * the verifiers file. Returns the new key and the vkey it replaced.
 */
export function rotateSigningKey(dir: string, name: string): { key: SigningKey; previous: string | undefined } {
  ensureDir(dir);
  const path = join(dir, KEY_FILE);
  let previous: string | undefined;
  if (existsSync(path)) {
    previous = signingKeyFrom(name, readFileSync(path, 'utf8')).vkey;
    recordVerifier(dir, previous);
  }
  const pem = newKeyPem();
  const key = signingKeyFrom(name, pem);
  // The new public key is recorded before the private key changes, so no checkpoint is ever signed by
  // a key the verifiers file does not list.
  recordVerifier(dir, key.vkey);
  writeFileAtomic(path, pem, 0o600);
  return { key, previous };
}
