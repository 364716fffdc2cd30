import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import {
  VerificationError,
  formatCheckpoint,
  formatVerifierKey,
  fromBase64,
  parseCheckpoint,
  parseVerifierKey,
  signatureLine,
  toBase64,
  toHex,
  verifyCheckpoint,
  verifyNote,
  ed25519KeyId,
  type VerificationErrorCode,
} from './index.js';

function throwsCode(fn: () => unknown, code: VerificationErrorCode, msg?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected VerificationError, got ${String(e)}`);
    assert.equal(e.code, code, msg);
    return true;
  });
}

// Vector 1: golang.org/x/mod/sumdb/note, note_test.go (the PeterNeumann key pair and signed note).
const PN_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PN_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PN_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PN_SIG = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const PN_NOTE = `${PN_TEXT}\n\u2014 PeterNeumann ${PN_SIG}\n`;

// Vector 2: C2SP signed-note specification, "Verifier keys / Example".
const EX_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const EX_NOTE = 'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

/** Ed25519 private key from a 32-byte seed (PKCS#8 DER: fixed 16-byte prefix + seed, RFC 8410). */
function keyFromSeed(seed: Uint8Array) {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

function newSigner(name: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  const keyId = ed25519KeyId(name, pub);
  return {
    vkey: formatVerifierKey(name, pub),
    sign: (text: string) => `${text}\n${signatureLine(name, keyId, new Uint8Array(sign(null, Buffer.from(text), privateKey)))}`,
    line: (text: string) => signatureLine(name, keyId, new Uint8Array(sign(null, Buffer.from(text), privateKey))),
  };
}

test('the Go sumdb note vector verifies, and signing with its private key reproduces it byte for byte', () => {
  const v = verifyNote(PN_NOTE, PN_VKEY);
  assert.equal(v.text, PN_TEXT);
  assert.equal(v.verifiedBy[0]!.name, 'PeterNeumann');
  assert.equal(toHex(v.verifiedBy[0]!.keyId), 'c74f20a3');

  const raw = fromBase64(PN_SKEY.split('+').slice(4).join('+'));
  assert.equal(raw[0], 1);
  const priv = keyFromSeed(raw.slice(1));
  const vk = parseVerifierKey(PN_VKEY);
  const note = `${PN_TEXT}\n${signatureLine('PeterNeumann', vk.keyId, new Uint8Array(sign(null, Buffer.from(PN_TEXT), priv)))}`;
  assert.equal(note, PN_NOTE);
  // The vkey we would publish for that key is the published one.
  assert.equal(formatVerifierKey('PeterNeumann', vk.publicKey), PN_VKEY);

  throwsCode(() => verifyNote(PN_NOTE.replace('cryptography', 'cryptographY'), PN_VKEY), 'BAD_SIGNATURE');
});

test('the C2SP signed-note example verifies', () => {
  const v = verifyNote(EX_NOTE, EX_VKEY);
  assert.equal(v.text, 'This is an example message.\n');
  throwsCode(() => verifyNote(EX_NOTE, PN_VKEY), 'UNKNOWN_KEY');
});

test('verifier keys: every truncation and every single-byte change of a vkey is rejected', () => {
  const b = Buffer.from(PN_VKEY);
  for (let i = 0; i <= b.length; i++) {
    for (let j = i + 1; j <= b.length; j++) {
      if (i === 0 && j === b.length) continue;
      throwsCode(() => parseVerifierKey(b.subarray(i, j).toString('latin1')), 'MALFORMED_KEY', `substring ${i}..${j}`);
    }
  }
  for (let i = 0; i < b.length; i++) {
    const c = Buffer.from(b);
    c[i]! += 1;
    throwsCode(() => parseVerifierKey(c.toString('latin1')), 'MALFORMED_KEY', `byte ${i}`);
  }
  throwsCode(() => parseVerifierKey(42 as unknown as string), 'MALFORMED_KEY');
});

test('signature rules: unknown keys ignored, known keys must verify, one known key required', () => {
  const a = newSigner('log.example/a');
  const other = newSigner('witness.example/w');
  const text = 'hello\n';
  const both = `${text}\n${a.line(text)}${other.line(text)}`;
  assert.equal(verifyNote(both, a.vkey).verifiedBy.length, 1);
  assert.equal(verifyNote(both, [a.vkey, other.vkey]).verifiedBy.length, 2);
  throwsCode(() => verifyNote(`${text}\n${other.line(text)}`, a.vkey), 'UNKNOWN_KEY');

  // Same name, different key id: not "the" key, so ignored.
  const impostor = newSigner('log.example/a');
  throwsCode(() => verifyNote(impostor.sign(text), a.vkey), 'UNKNOWN_KEY');

  // A known key whose signature fails rejects the note, even next to a good signature.
  const good = a.line(text);
  const blob = fromBase64(good.slice(2 + 'log.example/a '.length, -1));
  blob[10]! ^= 1;
  const forged = `\u2014 log.example/a ${toBase64(blob)}\n`;
  throwsCode(() => verifyNote(`${text}\n${forged}`, a.vkey), 'BAD_SIGNATURE');
  throwsCode(() => verifyNote(`${text}\n${forged}${other.line(text)}`, [a.vkey, other.vkey]), 'BAD_SIGNATURE');
  throwsCode(() => verifyNote(`${text}\n${good}${good}`, a.vkey), 'MALFORMED_NOTE');
  // A short signature from a known key id is a bad signature, not a crash.
  const short = `\u2014 log.example/a ${toBase64(blob.slice(0, 20))}\n`;
  throwsCode(() => verifyNote(`${text}\n${short}`, a.vkey), 'BAD_SIGNATURE');
});

test('malformed notes are rejected with MALFORMED_NOTE', () => {
  const a = newSigner('log.example/a');
  const good = a.sign('line one\nline two\n');
  assert.ok(verifyNote(good, a.vkey));
  const cases: [string, string][] = [
    ['no final newline', good.slice(0, -1)],
    ['no blank line', good.replace('\n\n', '\n')],
    ['hyphen instead of em dash', good.replace('\u2014', '-')],
    ['no space after dash', good.replace('\u2014 ', '\u2014')],
    ['trailing space', good.slice(0, -1) + ' \n'],
    ['extra line after the signatures', good + 'extra\n'],
    ['empty signature block', 'line one\n\n'],
    ['carriage return', good.replace('line one\n', 'line one\r\n')],
    ['tab', good.replace('line one', 'line\tone')],
    ['bad base64', good.replace(/ (\S+)\n$/, ' $1!\n')],
    ['unpadded base64', good.replace(/=\n$/, '\n')],
    ['too-short signature blob', `x\n\n\u2014 log.example/a ${toBase64(new Uint8Array(4))}\n`],
    ['name with plus', 'x\n\n\u2014 a+b AAAAAAA=\n'],
  ];
  for (const [what, note] of cases) throwsCode(() => verifyNote(note, a.vkey), 'MALFORMED_NOTE', what);
  throwsCode(() => verifyNote(new Uint8Array([0x78, 0x0a, 0x0a, 0xff, 0x0a]), a.vkey), 'MALFORMED_NOTE');
  throwsCode(() => verifyNote('x\n\n' + '\u2014 n AAAAAAA=\n'.repeat(101), a.vkey), 'MALFORMED_NOTE');
  // Text with its own blank lines is fine: the last blank line separates the signatures.
  assert.equal(verifyNote(a.sign('a\n\nb\n'), a.vkey).text, 'a\n\nb\n');
});

const ROOT = new Uint8Array(32).fill(7);

test('checkpoints parse strictly', () => {
  const text = formatCheckpoint({ origin: 'example.com/log', size: 20852163, rootHash: ROOT });
  assert.equal(text, `example.com/log\n20852163\n${toBase64(ROOT)}\n`);
  const cp = parseCheckpoint(text);
  assert.deepEqual([cp.origin, cp.size, toHex(cp.rootHash), cp.extensions], ['example.com/log', 20852163, toHex(ROOT), []]);
  assert.deepEqual(parseCheckpoint(`${text}ext one\next two\n`).extensions, ['ext one', 'ext two']);
  assert.equal(parseCheckpoint(`o\n0\n${toBase64(ROOT)}\n`).size, 0);
  const r = toBase64(ROOT);
  const bad: [string, string][] = [
    ['no final newline', `o\n1\n${r}`],
    ['two lines', `o\n1\n`],
    ['empty origin', `\n1\n${r}\n`],
    ['leading zero', `o\n01\n${r}\n`],
    ['negative', `o\n-1\n${r}\n`],
    ['decimal point', `o\n1.0\n${r}\n`],
    ['plus sign', `o\n+1\n${r}\n`],
    ['beyond 2^53', `o\n9007199254740993\n${r}\n`],
    ['short root', `o\n1\n${toBase64(ROOT.slice(1))}\n`],
    ['bad base64 root', `o\n1\n${r.replace(/.$/, '*')}\n`],
    ['empty extension line', `o\n1\n${r}\n\n`],
    ['whitespace in size', `o\n 1\n${r}\n`],
  ];
  for (const [what, t] of bad) throwsCode(() => parseCheckpoint(t), 'MALFORMED_CHECKPOINT', what);
});

test('signed checkpoints: round trip, tampering, wrong origin, wrong key', () => {
  const a = newSigner('example.com/log');
  const note = a.sign(formatCheckpoint({ origin: 'example.com/log', size: 5, rootHash: ROOT }));
  const cp = verifyCheckpoint(note, a.vkey, { origin: 'example.com/log' });
  assert.equal(cp.size, 5);
  assert.equal(cp.note, note);
  throwsCode(() => verifyCheckpoint(note.replace('\n5\n', '\n6\n'), a.vkey), 'BAD_SIGNATURE');
  throwsCode(() => verifyCheckpoint(note, a.vkey, { origin: 'example.com/other' }), 'ORIGIN_MISMATCH');
  throwsCode(() => verifyCheckpoint(note, newSigner('example.com/log').vkey), 'UNKNOWN_KEY');
  throwsCode(() => verifyCheckpoint(note, 'not a key'), 'MALFORMED_KEY');
  // A valid signature over text that is not a checkpoint.
  throwsCode(() => verifyCheckpoint(a.sign('just a note\n'), a.vkey), 'MALFORMED_CHECKPOINT');
  // Old and new keys of a rotated log: either one verifies.
  const b = newSigner('example.com/log');
  assert.equal(verifyCheckpoint(note, [b.vkey, a.vkey]).verifiedBy[0]!.vkey, a.vkey);
});
