import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import {
  VerificationError,
  formatVerifierKey,
  fromBase64,
  hashToolArguments,
  receiptKeyId,
  receiptSigningBytes,
  toBase64,
  verifyReceipt,
  type Receipt,
  type ReceiptPayload,
  type VerificationErrorCode,
} from './index.js';

// A fixed Ed25519 key: PKCS#8 DER of the seed 00 01 02 … 1f (RFC 8410 §7 prefix + 32-byte seed).
const SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const PRIVATE = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), SEED]), format: 'der', type: 'pkcs8' });
const PUBLIC = createPublicKey(PRIVATE);
const rawPublic = (k: KeyObject) => fromBase64(Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url').toString('base64'));
const NAME = 'redline.test/receipts';
const VKEY = formatVerifierKey(NAME, rawPublic(PUBLIC));
const KEY_ID = receiptKeyId(NAME, rawPublic(PUBLIC));

const ARGS = '{"target":"grid 38S MB 12345 67890","munition":"none","confirm":true,"count":2}';
const ISSUED = '2025-03-01T12:00:00.000Z';
const EXPIRES = '2025-03-01T13:00:00.000Z';
const DURING = new Date('2025-03-01T12:30:00.000Z');

function payload(over: Partial<ReceiptPayload> = {}): ReceiptPayload {
  const h = hashToolArguments(ARGS);
  return {
    v: 1,
    approval_id: 'apr_0123456789abcdef01234567',
    request_id: 'req_abcdefghij0123456789',
    tool: 'fire_mission',
    tool_call_id: 'call_1',
    args_sha256: h.sha256,
    args_encoding: h.encoding,
    effect: 'lethal',
    requester: { id: 'prn_op', name: 'operator' },
    approvers: [{ id: 'prn_a', name: 'alice', at: '2025-03-01T11:59:00.000Z' }, { id: 'prn_b', name: 'bob', at: '2025-03-01T11:59:30.000Z' }],
    issued_at: ISSUED,
    expires_at: EXPIRES,
    ledger_index: 41,
    key_id: KEY_ID,
    ...over,
  };
}

function issue(p: ReceiptPayload, key: KeyObject = PRIVATE): Receipt {
  return { payload: p, signature: toBase64(sign(null, receiptSigningBytes(p), key)) };
}

function throwsCode(fn: () => unknown, code: VerificationErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected VerificationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

const base = { publicKey: VKEY, tool: 'fire_mission', arguments: ARGS, now: DURING };

test('a fixed vector: the canonical payload and its deterministic Ed25519 signature', () => {
  const r = issue(payload());
  // Ed25519 is deterministic (RFC 8032), so the signature below pins the signing bytes, key and key id.
  assert.equal(Buffer.from(rawPublic(PUBLIC)).toString('hex'), '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8');
  assert.equal(KEY_ID, 'redline.test/receipts+e7b3c89a');
  assert.equal(KEY_ID, 'redline.test/receipts+' + createHash('sha256').update(Buffer.concat([Buffer.from(NAME), Buffer.from([0x0a, 0x01]), Buffer.from(rawPublic(PUBLIC))])).digest('hex').slice(0, 8));
  assert.equal(r.signature, 'S3SySNM1Ta2d68To6/cbLI4PI5RYcXb9eBA74vqvQyI/ffz+KJi0377HmEOArP3dXSraB2hQBEsBacoHdwRZAA==');
  assert.equal(
    Buffer.from(receiptSigningBytes(r.payload)).toString(),
    '{"approval_id":"apr_0123456789abcdef01234567","approvers":[{"at":"2025-03-01T11:59:00.000Z","id":"prn_a","name":"alice"},{"at":"2025-03-01T11:59:30.000Z","id":"prn_b","name":"bob"}],' +
      `"args_encoding":"rfc8785","args_sha256":"${hashToolArguments(ARGS).sha256}","effect":"lethal","expires_at":"2025-03-01T13:00:00.000Z","issued_at":"2025-03-01T12:00:00.000Z",` +
      `"key_id":"${KEY_ID}","ledger_index":41,"request_id":"req_abcdefghij0123456789","requester":{"id":"prn_op","name":"operator"},"tool":"fire_mission","tool_call_id":"call_1","v":1}`,
  );
  assert.equal(hashToolArguments(ARGS).sha256, 'f023213407077673b62c964ecb23fa530116f5025305c4395294b3f1a817f4a3');
  assert.equal(
    hashToolArguments(ARGS).sha256,
    createHash('sha256').update('{"confirm":true,"count":2,"munition":"none","target":"grid 38S MB 12345 67890"}').digest('hex'),
  );
  const v = verifyReceipt(r, base);
  assert.equal(v.payload.approval_id, 'apr_0123456789abcdef01234567');
  assert.equal(v.keyId, KEY_ID);
  assert.equal(v.expiresAt.toISOString(), EXPIRES);
});

test('verifies from an object, JSON text or bytes, with the key as vkey, PEM (public or private), KeyObject or a list', () => {
  const r = issue(payload());
  const text = JSON.stringify(r);
  for (const input of [r, text, new TextEncoder().encode(text)]) verifyReceipt(input, base);
  const pemPublic = PUBLIC.export({ format: 'pem', type: 'spki' }).toString();
  const pemPrivate = PRIVATE.export({ format: 'pem', type: 'pkcs8' }).toString();
  const other = generateKeyPairSync('ed25519').publicKey;
  for (const publicKey of [VKEY, pemPublic, pemPrivate, PUBLIC, PRIVATE, [other, VKEY]]) {
    assert.equal(verifyReceipt(r, { ...base, publicKey }).keyId, KEY_ID);
  }
});

test('key order and whitespace in the arguments do not matter; values do', () => {
  const r = issue(payload());
  verifyReceipt(r, { ...base, arguments: '{ "count": 2, "confirm": true,\n "munition": "none", "target": "grid 38S MB 12345 67890" }' });
  verifyReceipt(r, { ...base, arguments: { munition: 'none', count: 2, target: 'grid 38S MB 12345 67890', confirm: true } });
  verifyReceipt(r, { ...base, arguments: { count: 2.0, munition: 'none', target: 'grid 38S MB 12345 67890', confirm: true } });
  throwsCode(() => verifyReceipt(r, { ...base, arguments: ARGS.replace('67890', '67891') }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: ARGS.replace('"count":2', '"count":3') }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: ARGS.replace('"count":2', '"count":"2"') }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: ARGS.slice(0, -1) }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: { extra: 1 } }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: undefined }), 'ARGS_MISMATCH');
});

test('raw_text receipts bind the exact text of arguments that were not JSON', () => {
  const raw = '{target: grid 38S, confirm}';
  const h = hashToolArguments(raw);
  assert.equal(h.encoding, 'raw_text');
  assert.equal(h.sha256, createHash('sha256').update(raw).digest('hex'));
  const r = issue(payload({ args_sha256: h.sha256, args_encoding: 'raw_text' }));
  verifyReceipt(r, { ...base, arguments: raw });
  throwsCode(() => verifyReceipt(r, { ...base, arguments: raw + ' ' }), 'ARGS_MISMATCH');
  throwsCode(() => verifyReceipt(r, { ...base, arguments: { target: 'grid 38S' } }), 'ARGS_MISMATCH');
  // JSON text that cannot be canonicalised (an unpaired surrogate) is bound as raw text too.
  assert.equal(hashToolArguments('{"a":"\\ud800"}').encoding, 'raw_text');
  assert.equal(hashToolArguments('{"a":1e999}').encoding, 'raw_text');
});

test('another tool is TOOL_MISMATCH', () => {
  throwsCode(() => verifyReceipt(issue(payload()), { ...base, tool: 'fire_mission_v2' }), 'TOOL_MISMATCH');
  throwsCode(() => verifyReceipt(issue(payload()), { ...base, tool: 'Fire_mission' }), 'TOOL_MISMATCH');
});

test('validity window: EXPIRED at and after expires_at, NOT_YET_VALID before issued_at beyond the skew', () => {
  const r = issue(payload());
  throwsCode(() => verifyReceipt(r, { ...base, now: new Date(EXPIRES) }), 'EXPIRED');
  throwsCode(() => verifyReceipt(r, { ...base, now: new Date('2025-03-02T00:00:00Z') }), 'EXPIRED');
  verifyReceipt(r, { ...base, now: new Date(Date.parse(EXPIRES) - 1) });
  verifyReceipt(r, { ...base, now: new Date(Date.parse(ISSUED) - 30_000) });
  throwsCode(() => verifyReceipt(r, { ...base, now: new Date(Date.parse(ISSUED) - 30_001) }), 'NOT_YET_VALID');
  throwsCode(() => verifyReceipt(r, { ...base, now: new Date(Date.parse(ISSUED) - 1), clockSkewSeconds: 0 }), 'NOT_YET_VALID');
});

test('forged or altered signatures are BAD_SIGNATURE', () => {
  const r = issue(payload());
  throwsCode(() => verifyReceipt({ ...r, signature: toBase64(randomBytes(64)) }, base), 'BAD_SIGNATURE');
  throwsCode(() => verifyReceipt({ ...r, signature: toBase64(randomBytes(63)) }, base), 'BAD_SIGNATURE');
  const sig = fromBase64(r.signature);
  sig[10] = sig[10]! ^ 1;
  throwsCode(() => verifyReceipt({ ...r, signature: toBase64(sig) }, base), 'BAD_SIGNATURE');
  // Altering any signed field keeps the old signature, which no longer covers it.
  const other = hashToolArguments('{"target":"elsewhere"}').sha256;
  throwsCode(() => verifyReceipt({ ...r, payload: { ...r.payload, args_sha256: other } }, { ...base, arguments: '{"target":"elsewhere"}' }), 'BAD_SIGNATURE');
  throwsCode(() => verifyReceipt({ ...r, payload: { ...r.payload, expires_at: '2030-01-01T00:00:00.000Z' } }, base), 'BAD_SIGNATURE');
  throwsCode(() => verifyReceipt({ ...r, payload: { ...r.payload, approvers: [r.payload.approvers[0]!] } }, base), 'BAD_SIGNATURE');
  // A receipt signed by another key that claims our key id.
  throwsCode(() => verifyReceipt(issue(payload(), generateKeyPairSync('ed25519').privateKey), base), 'BAD_SIGNATURE');
});

test('a receipt from a key the verifier does not trust is UNKNOWN_KEY', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const otherId = receiptKeyId(NAME, rawPublic(publicKey));
  const r = issue(payload({ key_id: otherId }), privateKey);
  verifyReceipt(r, { ...base, publicKey });
  throwsCode(() => verifyReceipt(r, base), 'UNKNOWN_KEY');
  throwsCode(() => verifyReceipt(r, { ...base, publicKey: PUBLIC }), 'UNKNOWN_KEY');
  // Same key bytes under another name is another key id.
  throwsCode(() => verifyReceipt(issue(payload({ key_id: receiptKeyId('other-name', rawPublic(PUBLIC)) })), base), 'UNKNOWN_KEY');
});

test('truncated or malformed receipts are MALFORMED_RECEIPT', () => {
  const r = issue(payload());
  const text = JSON.stringify(r);
  const cases: unknown[] = [
    text.slice(0, text.length - 1),
    text.slice(0, 40),
    '',
    'null',
    '[]',
    42,
    null,
    new Uint8Array([0xff, 0xfe]),
    { payload: r.payload },
    { signature: r.signature },
    { ...r, extra: true },
    { ...r, signature: r.signature.slice(0, -2) },
    { ...r, signature: 'not base64!' },
    { ...r, payload: { ...r.payload, v: 2 } },
    { ...r, payload: { ...r.payload, unknown_field: 'x' } },
    { ...r, payload: { ...r.payload, args_sha256: 'ABC' } },
    { ...r, payload: { ...r.payload, args_encoding: 'base64' } },
    { ...r, payload: { ...r.payload, tool: '' } },
    { ...r, payload: { ...r.payload, approvers: [] } },
    { ...r, payload: { ...r.payload, approvers: [{ id: 'x', name: 'y' }] } },
    { ...r, payload: { ...r.payload, requester: { id: 'x' } } },
    { ...r, payload: { ...r.payload, issued_at: 'yesterday' } },
    { ...r, payload: { ...r.payload, expires_at: ISSUED } },
    { ...r, payload: { ...r.payload, ledger_index: -1 } },
    { ...r, payload: { ...r.payload, ledger_index: 1.5 } },
    { ...r, payload: { ...r.payload, key_id: 'no-id' } },
    { ...r, payload: { ...r.payload, tool: 'a\ud800' } },
  ];
  for (const c of cases) throwsCode(() => verifyReceipt(c, base), 'MALFORMED_RECEIPT');
  const missing = { ...r.payload } as Partial<ReceiptPayload>;
  delete missing.tool_call_id;
  throwsCode(() => verifyReceipt({ ...r, payload: missing }, base), 'MALFORMED_RECEIPT');
});

test('unusable trust material is MALFORMED_KEY; bad options are INVALID_ARGUMENT', () => {
  const r = issue(payload());
  throwsCode(() => verifyReceipt(r, { ...base, publicKey: 'not a key' }), 'MALFORMED_KEY');
  throwsCode(() => verifyReceipt(r, { ...base, publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }), 'MALFORMED_KEY');
  throwsCode(() => verifyReceipt(r, { ...base, publicKey: generateKeyPairSync('x25519').publicKey }), 'MALFORMED_KEY');
  throwsCode(() => verifyReceipt(r, { ...base, publicKey: [] }), 'INVALID_ARGUMENT');
  throwsCode(() => verifyReceipt(r, { ...base, tool: '' }), 'INVALID_ARGUMENT');
  throwsCode(() => verifyReceipt(r, { ...base, now: new Date(NaN) }), 'INVALID_ARGUMENT');
});
