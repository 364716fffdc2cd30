import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT,
  TreeBuilder,
  VerificationError,
  consistencyRanges,
  fromHex,
  inclusionRanges,
  leafHash,
  nodeHash,
  rootFromLeaves,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type VerificationErrorCode,
} from './index.js';

// Vectors: the RFC 6962 reference tree of transparency-dev/merkle, testonly/constants.go (LeafInputs,
// NodeHashes, RootHashes) and cmd/proofgen/main.go (inclusionProofs, consistencyProofs; its leaf indices
// are 1-based, converted to 0-based here).
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => fromHex(h));
const LEAF_HASHES = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
  '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
  '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
  'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
  '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
  'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
  '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
];
const LEVEL1 = [
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
  '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
  'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
];
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  { index: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { index: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { index: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { index: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
];
const CONSISTENCY: { size1: number; size2: number; proof: string[] }[] = [
  { size1: 1, size2: 1, proof: [] },
  { size1: 1, size2: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { size1: 6, size2: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { size1: 2, size2: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { size1: 6, size2: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];

function throwsCode(fn: () => unknown, code: VerificationErrorCode, msg?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected VerificationError, got ${String(e)}`);
    assert.equal(e.code, code, msg);
    return true;
  });
}

// ---- naive reference: RFC 9162 §2.1 definitions, recursive, straight from the leaves ----------------------
const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const k = (n: number): number => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(new Uint8Array([0]), d[0]!);
  const s = k(d.length);
  return sha(new Uint8Array([1]), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))] : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

const DATA = Array.from({ length: 64 }, (_, i) => new TextEncoder().encode(`entry ${i}`));
const HASHES = DATA.map(leafHash);

test('leaf, node and root hashes match the RFC 6962 reference tree', () => {
  LEAF_INPUTS.forEach((d, i) => assert.equal(toHex(leafHash(d)), LEAF_HASHES[i]));
  for (let i = 0; i < 4; i++) assert.equal(toHex(nodeHash(fromHex(LEAF_HASHES[2 * i]!), fromHex(LEAF_HASHES[2 * i + 1]!))), LEVEL1[i]);
  for (let n = 0; n <= 8; n++) assert.equal(toHex(rootFromLeaves(LEAF_INPUTS.slice(0, n).map(leafHash))), ROOTS[n], `root of size ${n}`);
  assert.equal(toHex(EMPTY_ROOT), ROOTS[0]);
});

test('published inclusion and consistency proofs verify, and our proof shapes produce them', () => {
  const lh = LEAF_INPUTS.map(leafHash);
  for (const v of INCLUSION) {
    verifyInclusion(lh[v.index]!, v.index, v.size, v.proof.map((h) => fromHex(h)), fromHex(ROOTS[v.size]!));
    assert.equal(inclusionRanges(v.index, v.size).length, v.proof.length);
  }
  for (const v of CONSISTENCY) {
    verifyConsistency(v.size1, v.size2, v.proof.map((h) => fromHex(h)), fromHex(ROOTS[v.size1]!), fromHex(ROOTS[v.size2]!));
  }
  // The same proofs computed by the naive reference over the vector leaves.
  for (const v of INCLUSION) assert.deepEqual(path(v.index, LEAF_INPUTS.slice(0, v.size)).map(toHex), v.proof);
  for (const v of CONSISTENCY) {
    if (v.size1 < v.size2) assert.deepEqual(subproof(v.size1, LEAF_INPUTS.slice(0, v.size2), true).map(toHex), v.proof);
  }
});

test('TreeBuilder roots equal the naive MTH for every size up to 64', () => {
  const b = new TreeBuilder();
  assert.deepEqual(b.root(), mth([]));
  for (let n = 1; n <= 64; n++) {
    b.push(HASHES[n - 1]!);
    assert.deepEqual(b.root(), mth(DATA.slice(0, n)), `size ${n}`);
  }
});

test('inclusion proofs for every (index, size ≤ 64) verify; every tampering is rejected with its code', () => {
  for (let size = 1; size <= 64; size++) {
    const d = DATA.slice(0, size);
    const root = mth(d);
    for (let index = 0; index < size; index++) {
      const proof = path(index, d);
      assert.equal(inclusionRanges(index, size).length, proof.length);
      verifyInclusion(HASHES[index]!, index, size, proof, root);
      if (proof.length > 0) {
        throwsCode(() => verifyInclusion(HASHES[index]!, index, size, proof.slice(0, -1), root), 'BAD_PROOF_LENGTH');
        throwsCode(() => verifyInclusion(HASHES[index]!, index, size, [...proof, proof[0]!], root), 'BAD_PROOF_LENGTH');
        const flipped = proof.map((p) => p.slice());
        flipped[flipped.length - 1]![0]! ^= 1;
        throwsCode(() => verifyInclusion(HASHES[index]!, index, size, flipped, root), 'ROOT_MISMATCH');
        if (proof.length > 1) {
          const swapped = [proof[1]!, proof[0]!, ...proof.slice(2)];
          if (toHex(proof[0]!) !== toHex(proof[1]!)) throwsCode(() => verifyInclusion(HASHES[index]!, index, size, swapped, root), 'ROOT_MISMATCH');
        }
        const truncatedHash = proof.map((p, i) => (i === 0 ? p.slice(0, 31) : p));
        throwsCode(() => verifyInclusion(HASHES[index]!, index, size, truncatedHash, root), 'BAD_HASH_LENGTH');
      }
      const other = HASHES[(index + 1) % 64]!;
      throwsCode(() => verifyInclusion(other, index, size, proof, root), 'ROOT_MISMATCH');
      if (index + 1 < size) {
        // Another index of the same tree: either the shape differs or the hashes land elsewhere.
        assert.throws(() => verifyInclusion(HASHES[index]!, index + 1, size, proof, root), VerificationError);
      }
      throwsCode(() => verifyInclusion(HASHES[index]!, size, size, proof, root), 'INDEX_OUT_OF_RANGE');
    }
    if (size < 64) throwsCode(() => verifyInclusion(HASHES[0]!, 0, size, path(0, d), mth(DATA.slice(0, size + 1))), 'ROOT_MISMATCH');
  }
});

test('consistency proofs for every (size1 ≤ size2 ≤ 64) verify; tampering is rejected with its code', () => {
  const roots = [mth([]), ...DATA.map((_, i) => mth(DATA.slice(0, i + 1)))];
  for (let size2 = 1; size2 <= 64; size2++) {
    for (let size1 = 1; size1 <= size2; size1++) {
      const proof = size1 === size2 ? [] : subproof(size1, DATA.slice(0, size2), true);
      if (size1 < size2) assert.equal(consistencyRanges(size1, size2).length, proof.length);
      verifyConsistency(size1, size2, proof, roots[size1]!, roots[size2]!);
      if (size1 === size2) {
        if (size1 > 1) throwsCode(() => verifyConsistency(size1, size2, [], roots[size1]!, roots[size1 - 1]!), 'INCONSISTENT');
        throwsCode(() => verifyConsistency(size1, size2, [roots[1]!], roots[size1]!, roots[size2]!), 'BAD_PROOF_LENGTH');
        continue;
      }
      throwsCode(() => verifyConsistency(size2, size1, proof, roots[size2]!, roots[size1]!), 'SIZE_DECREASED');
      throwsCode(() => verifyConsistency(size1, size2, proof.slice(1), roots[size1]!, roots[size2]!), 'BAD_PROOF_LENGTH');
      throwsCode(() => verifyConsistency(size1, size2, [...proof, roots[0]!], roots[size1]!, roots[size2]!), 'BAD_PROOF_LENGTH');
      throwsCode(() => verifyConsistency(size1, size2, proof, roots[size1 - 1]!, roots[size2]!), 'INCONSISTENT');
      throwsCode(() => verifyConsistency(size1, size2, proof, roots[size1]!, roots[size2 - 1]!), 'INCONSISTENT');
      throwsCode(() => verifyConsistency(size1, size2, proof, roots[size2]!, roots[size1]!), 'INCONSISTENT');
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p) => p.slice());
        bad[i]![31]! ^= 0x80;
        throwsCode(() => verifyConsistency(size1, size2, bad, roots[size1]!, roots[size2]!), 'INCONSISTENT');
      }
      if (proof.length > 1 && toHex(proof[0]!) !== toHex(proof[1]!)) {
        throwsCode(() => verifyConsistency(size1, size2, [proof[1]!, proof[0]!, ...proof.slice(2)], roots[size1]!, roots[size2]!), 'INCONSISTENT');
      }
    }
  }
});

test('malformed arguments become VerificationErrors, never other exceptions', () => {
  const root = mth(DATA.slice(0, 5));
  const proof = path(2, DATA.slice(0, 5));
  throwsCode(() => verifyInclusion(HASHES[2]!, -1, 5, proof, root), 'INVALID_ARGUMENT');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2.5, 5, proof, root), 'INVALID_ARGUMENT');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2, Number.NaN, proof, root), 'INVALID_ARGUMENT');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2, 2 ** 60, proof, root), 'INVALID_ARGUMENT');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2, 5, 'nope' as unknown as Uint8Array[], root), 'MALFORMED_PROOF');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2, 5, [proof[0]!, 'x' as unknown as Uint8Array, proof[2]!], root), 'MALFORMED_PROOF');
  throwsCode(() => verifyInclusion(HASHES[2]!.slice(1), 2, 5, proof, root), 'BAD_HASH_LENGTH');
  throwsCode(() => verifyInclusion(HASHES[2]!, 2, 5, proof, root.slice(0, 16)), 'BAD_HASH_LENGTH');
  throwsCode(() => verifyInclusion(HASHES[2]!, 0, 0, [], root), 'INDEX_OUT_OF_RANGE');
  throwsCode(() => verifyConsistency(0, 5, [], EMPTY_ROOT, root), 'EMPTY_TREE');
  throwsCode(() => verifyConsistency(3, 5, null as unknown as Uint8Array[], mth(DATA.slice(0, 3)), root), 'MALFORMED_PROOF');
  throwsCode(() => verifyConsistency(3, 5, [], mth(DATA.slice(0, 3)), root), 'BAD_PROOF_LENGTH');
});
