import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { VerificationError, canonicalBytes, canonicalize, commitmentOf, toHex, verifyDisclosure } from './index.js';

test('RFC 8785 sample (cyberphone/json-canonicalization README: input, output and its UTF-8 bytes)', () => {
  const input = JSON.parse('{\n  "numbers": [1E30,4.50,6,2e-3,0.000000000000000000000000001],\n  "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "other":  [null, true, false]\n}') as unknown;
  const expected = '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","numbers":[1e+30,4.5,6,0.002,1e-27],"other":[null,true,false]}';
  assert.equal(canonicalize(input), expected);
  const hex = `7b 22 65 73 63 61 70 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c
    5c 5c 5c 22 2f 22 2c 22 6e 75 6d 62 65 72 73 22 3a 5b 31 65 2b 33 30 2c 34 2e 35 2c 36 2c 30 2e
    30 30 32 2c 31 65 2d 32 37 5d 2c 22 6f 74 68 65 72 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61
    6c 73 65 5d 7d`.replace(/\s+/g, '');
  assert.equal(toHex(canonicalBytes(input)), hex);
});

test('keys sort by UTF-16 code units, recursively; arrays keep their order', () => {
  // RFC 8785 §3.2.3: the emoji (surrogate pair 0xD83D…) sorts before U+FB33 although its code point is larger.
  const keys = ['\u20ac', '\r', '\ufb33', '1', '\ud83d\ude00', '\u0080', '\u00f6'];
  const obj = Object.fromEntries(keys.map((k, i) => [k, i]));
  assert.equal(canonicalize(obj), '{"\\r":1,"1":3,"\u0080":5,"\u00f6":6,"\u20ac":0,"\ud83d\ude00":4,"\ufb33":2}');
  assert.equal(canonicalize({ b: [3, 1, { d: 1, c: 2 }], a: -0, e: undefined }), '{"a":0,"b":[3,1,{"c":2,"d":1}]}');
});

test('values outside I-JSON are refused', () => {
  for (const bad of [Number.NaN, Infinity, { x: 1n }, [undefined], { s: '\ud800' }, { s: 'a\udc00' }, new Date(0), () => 1]) {
    assert.throws(() => canonicalize(bad), (e: unknown) => e instanceof VerificationError && e.code === 'NOT_CANONICALISABLE');
  }
});

test('commitments open only with the right salt and content', () => {
  const salt = '00'.repeat(31) + '01';
  const c = commitmentOf(salt, 'the prompt');
  const expected = createHash('sha256').update(Buffer.from(salt, 'hex')).update('the prompt').digest('hex');
  assert.equal(c, expected);
  const entry = { v: 1, commitment: c };
  verifyDisclosure(entry, salt, 'the prompt');
  verifyDisclosure(new TextEncoder().encode(JSON.stringify(entry)), salt, new TextEncoder().encode('the prompt'));
  const code = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e instanceof VerificationError ? e.code : 'OTHER';
    }
    return 'NONE';
  };
  assert.equal(code(() => verifyDisclosure(entry, salt, 'the prompt!')), 'COMMITMENT_MISMATCH');
  assert.equal(code(() => verifyDisclosure(entry, '00'.repeat(32), 'the prompt')), 'COMMITMENT_MISMATCH');
  assert.equal(code(() => verifyDisclosure(entry, 'zz', 'the prompt')), 'COMMITMENT_MISMATCH');
  assert.equal(code(() => verifyDisclosure({ v: 1 }, salt, 'the prompt')), 'MALFORMED_ENTRY');
  assert.equal(code(() => verifyDisclosure(new Uint8Array([1, 2]), salt, 'the prompt')), 'MALFORMED_ENTRY');
});

// An independent reference for the property below: sort keys, skip undefined, let JSON.stringify write
// every scalar (RFC 8785 defines its number and string forms as ECMAScript's).
function reference(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(reference).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(',')}}`;
}

function sortedCopy(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(sortedCopy);
  const o = v as Record<string, unknown>;
  // fromEntries defines own properties: `out[k] = x` with k "__proto__" would set the prototype instead
  // (fast-check generates that key, and JSON.parse makes it an own property).
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortedCopy(o[k])]));
}

test('canonicalize matches a reference, whether keys arrive sorted (engine fast path) or not', () => {
  fc.assert(fc.property(fc.jsonValue({ maxDepth: 5, stringUnit: 'grapheme' }), (v) => {
    const want = reference(v);
    assert.equal(canonicalize(v), want);
    assert.equal(canonicalize(sortedCopy(v)), want);
  }), { numRuns: 2_000 });
  // An own "__proto__" key is data like any other, on both paths.
  const proto = JSON.parse('{"b":1,"__proto__":{"z":null,"a":2}}') as unknown;
  assert.equal(canonicalize(proto), '{"__proto__":{"a":2,"z":null},"b":1}');
  assert.equal(canonicalize(JSON.parse('{"__proto__":null,"a":1}')), '{"__proto__":null,"a":1}');
  // Integer-like keys: the engine orders them numerically, which is not code-unit order.
  assert.equal(canonicalize({ 10: 'a', 9: 'b', x: 1 }), '{"10":"a","9":"b","x":1}');
  assert.equal(canonicalize({ 1: 'a', 2: 'b', x: 1 }), '{"1":"a","2":"b","x":1}');
  // A sorted object holding something the fast path must not pass: still refused or skipped.
  assert.throws(() => canonicalize({ a: 1, b: '\ud800' }), VerificationError);
  assert.equal(canonicalize({ a: 1, b: undefined, c: [1] }), '{"a":1,"c":[1]}');
  assert.throws(() => canonicalize({ a: { toJSON: () => 1 } }), VerificationError);
  assert.throws(() => canonicalize({ a: [1, , 2] }), VerificationError);
});
