// Property tests: whatever an attacker sends, the verifier either accepts it or throws a
// VerificationError, never another kind of exception.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import {
  VerificationError,
  ed25519KeyId,
  formatCheckpoint,
  formatVerifierKey,
  fromBase64,
  leafHash,
  parseCheckpoint,
  parseEntryBundle,
  parseTilePath,
  parseVerifierKey,
  rootFromLeaves,
  signatureLine,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  verifyNote,
} from './index.js';

function onlyVerificationErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof VerificationError)) throw new Error(`non-VerificationError thrown: ${String(e)}`);
  }
}

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const PUB = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
const NAME = 'fuzz.example/log';
const VKEY = formatVerifierKey(NAME, PUB);
const TEXT = formatCheckpoint({ origin: NAME, size: 12345, rootHash: new Uint8Array(32).fill(3) });
const NOTE = `${TEXT}\n${signatureLine(NAME, ed25519KeyId(NAME, PUB), new Uint8Array(sign(null, Buffer.from(TEXT), privateKey)))}`;

const anything = fc.oneof(fc.string(), fc.uint8Array(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.object(), fc.array(fc.uint8Array()));

test('parsers throw only VerificationErrors on arbitrary input', () => {
  fc.assert(fc.property(anything, (x) => {
    onlyVerificationErrors(() => verifyNote(x as string, VKEY));
    onlyVerificationErrors(() => verifyCheckpoint(x as string, VKEY));
    onlyVerificationErrors(() => verifyNote(NOTE, x as string));
    onlyVerificationErrors(() => parseCheckpoint(x as string));
    onlyVerificationErrors(() => parseTilePath(x as string));
    onlyVerificationErrors(() => parseEntryBundle(x as Uint8Array));
    onlyVerificationErrors(() => parseVerifierKey(x as string));
    onlyVerificationErrors(() => fromBase64(x as string));
  }), { numRuns: 500 });
});

test('every one-character edit of a signed checkpoint is rejected with a VerificationError', () => {
  assert.equal(verifyCheckpoint(NOTE, VKEY).size, 12345);
  fc.assert(fc.property(fc.nat(NOTE.length - 1), fc.string({ minLength: 0, maxLength: 2 }), fc.boolean(), (at, ins, del) => {
    const edited = NOTE.slice(0, at) + ins + NOTE.slice(at + (del ? 1 : 0));
    if (edited === NOTE) return;
    assert.throws(() => verifyCheckpoint(edited, VKEY), VerificationError);
  }), { numRuns: 1000 });
});

test('proof verification throws only VerificationErrors on arbitrary proofs and sizes', () => {
  const leaves = Array.from({ length: 20 }, (_, i) => leafHash(new Uint8Array([i])));
  const root = rootFromLeaves(leaves);
  const hash = fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...leaves));
  const size = fc.oneof(fc.nat(40), fc.integer(), fc.double(), fc.constant(2 ** 53));
  fc.assert(fc.property(hash, size, size, fc.array(hash, { maxLength: 8 }), (h, a, b, proof) => {
    onlyVerificationErrors(() => verifyInclusion(h, a, b, proof, root));
    onlyVerificationErrors(() => verifyConsistency(a, b, proof, h, root));
  }), { numRuns: 2000 });
});
