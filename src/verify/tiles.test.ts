import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TILE_WIDTH,
  TileHashReader,
  TreeBuilder,
  VerificationError,
  encodeEntryBundle,
  entriesPath,
  leafHash,
  parseEntryBundle,
  parseTilePath,
  rootFromLeaves,
  tilePath,
  tileWidthAt,
  verifyAllEntries,
  verifyCheckpointConsistency,
  verifyEntryInclusion,
  verifyInclusion,
  type VerificationErrorCode,
} from './index.js';

async function rejectsCode(p: Promise<unknown>, code: VerificationErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected VerificationError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

test('tile paths use the tlog-tiles index encoding (spec examples)', () => {
  assert.equal(tilePath(0, 1234067), 'tile/0/x001/x234/067');
  assert.equal(tilePath(1, 0), 'tile/1/000');
  assert.equal(tilePath(2, 1000, 17), 'tile/2/x001/000.p/17');
  assert.equal(entriesPath(5, 255), 'tile/entries/005.p/255');
  assert.equal(entriesPath(999), 'tile/entries/999');
  for (const bad of [() => tilePath(64, 0), () => tilePath(0, -1), () => tilePath(0, 1, 0), () => tilePath(0, 1, 256), () => entriesPath(1.5)]) {
    assert.throws(bad, (e: unknown) => e instanceof VerificationError && e.code === 'INVALID_ARGUMENT');
  }
});

test('tile paths parse back, and only canonical spellings are accepted', () => {
  assert.deepEqual(parseTilePath('tile/0/x001/x234/067'), { level: 0, index: 1234067 });
  assert.deepEqual(parseTilePath('tile/2/x001/000.p/17'), { level: 2, index: 1000, width: 17 });
  assert.deepEqual(parseTilePath('tile/entries/005.p/255'), { level: 'entries', index: 5, width: 255 });
  assert.deepEqual(parseTilePath('1/000'), { level: 1, index: 0 });
  for (const bad of ['tile/0/1', 'tile/0/001/002', 'tile/0/x000/001', 'tile/01/000', 'tile/64/000', 'tile/0/000.p/0', 'tile/0/000.p/256',
    'tile/0/000.p/01', 'tile/0/000.p/', 'tile/0/x001', 'tile/0/../000', 'tile/entries/000.p/300', 'tile/x/000', 'tile/0/0000']) {
    assert.throws(() => parseTilePath(bad), (e: unknown) => e instanceof VerificationError && e.code === 'MALFORMED_TILE', bad);
  }
});

test('tile widths follow the spec example of a tree of 70,000 entries', () => {
  // 273 full level-0 tiles, one partial of width 112; one full level-1 tile, a partial of width 17; a level-2 partial of width 1.
  assert.equal(tileWidthAt(0, 272, 70000), undefined);
  assert.equal(tileWidthAt(0, 273, 70000), 112);
  assert.equal(tileWidthAt(0, 274, 70000), 0);
  assert.equal(tileWidthAt(1, 0, 70000), undefined);
  assert.equal(tileWidthAt(1, 1, 70000), 17);
  assert.equal(tileWidthAt(2, 0, 70000), 1);
  assert.equal(tileWidthAt(1, 0, 256), 1);
});

test('entry bundles: big-endian uint16 lengths; truncation and count mismatches rejected', () => {
  const entries = [new Uint8Array([0x61]), new Uint8Array(0), new Uint8Array(300).fill(9)];
  const b = encodeEntryBundle(entries);
  assert.deepEqual([...b.subarray(0, 5)], [0, 1, 0x61, 0, 0]);
  assert.deepEqual([...b.subarray(5, 7)], [1, 44]);
  assert.deepEqual(parseEntryBundle(b).map((e) => e.length), [1, 0, 300]);
  assert.throws(() => parseEntryBundle(b.subarray(0, b.length - 1)), (e: unknown) => e instanceof VerificationError && e.code === 'MALFORMED_BUNDLE');
  assert.throws(() => parseEntryBundle(b.subarray(0, 6)), (e: unknown) => e instanceof VerificationError && e.code === 'MALFORMED_BUNDLE');
  assert.throws(() => parseEntryBundle(b, 4), (e: unknown) => e instanceof VerificationError && e.code === 'MALFORMED_BUNDLE');
  assert.throws(() => encodeEntryBundle([new Uint8Array(65536)]), VerificationError);
});

/** An in-memory tiled log built the obvious way: leaf hashes, then each level pairs up the one below. */
function memoryLog(n: number, rootSizes: number[] = [n]) {
  const data = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`e${i}`));
  const levels: Uint8Array[][] = [data.map(leafHash)];
  const b = new TreeBuilder((level, index, hash) => {
    (levels[level] ??= [])[index] = hash;
  });
  const roots = new Map<number, Uint8Array>([[0, rootFromLeaves([])]]);
  const want = new Set(rootSizes);
  for (const h of levels[0]!.slice()) {
    b.push(h);
    if (want.has(b.size)) roots.set(b.size, b.root());
  }
  const tile = async (L: number, N: number, w: number | undefined): Promise<Uint8Array> => {
    const hs = (levels[8 * L] ?? []).slice(N * TILE_WIDTH, N * TILE_WIDTH + (w ?? TILE_WIDTH));
    if (hs.length !== (w ?? TILE_WIDTH)) throw new Error('404');
    const out = new Uint8Array(hs.length * 32);
    hs.forEach((h, i) => out.set(h, i * 32));
    return out;
  };
  const entryBundle = async (N: number, w: number | undefined): Promise<Uint8Array> => encodeEntryBundle(data.slice(N * TILE_WIDTH, N * TILE_WIDTH + (w ?? TILE_WIDTH)));
  const root = (s: number): Uint8Array => {
    const r = roots.get(s);
    if (!r) throw new Error(`test log has no root for size ${s}`);
    return r;
  };
  return { data, leaves: levels[0]!, tile, entryBundle, root };
}

test('proofs built only from tiles verify against independently computed roots', async () => {
  const log = memoryLog(70000, [1, 255, 256, 257, 999, 1000, 65536, 65537, 69999, 70000]);
  for (const size of [1, 255, 256, 257, 65536, 65537, 70000]) {
    const reader = new TileHashReader(size, log.tile);
    assert.deepEqual(await reader.root(), log.root(size), `root at ${size}`);
    for (const index of [0, size - 1, Math.floor(size / 3)]) {
      verifyInclusion(log.leaves[index]!, index, size, await reader.inclusionProof(index), log.root(size));
    }
  }
  const cp = { size: 70000, rootHash: log.root(70000) };
  for (const old of [0, 1, 256, 1000, 65536, 69999, 70000]) {
    await verifyCheckpointConsistency({ size: old, rootHash: log.root(old) }, cp, log.tile);
  }
  await rejectsCode(verifyCheckpointConsistency({ size: 1000, rootHash: log.root(999) }, cp, log.tile), 'INCONSISTENT');
  await rejectsCode(verifyCheckpointConsistency({ size: 70001, rootHash: log.root(1) }, cp, log.tile), 'SIZE_DECREASED');
  const r = await verifyEntryInclusion(cp, 4242, log);
  assert.equal(new TextDecoder().decode(r.data), 'e4242');
  const all = await verifyAllEntries(cp, log.entryBundle, { rootsAt: [0, 1000, 70000] });
  assert.deepEqual(all.roots.get(1000), log.root(1000));
});

test('lying tiles and bundles are caught', async () => {
  const log = memoryLog(3000, [3000]);
  const cp = { size: 3000, rootHash: log.root(3000) };
  const flipTile = async (L: number, N: number, w: number | undefined) => {
    const t = (await log.tile(L, N, w)).slice();
    t[5]! ^= 1;
    return t;
  };
  await rejectsCode(verifyEntryInclusion(cp, 7, { tile: flipTile, entryBundle: log.entryBundle }), 'ROOT_MISMATCH');
  const shortTile = async (L: number, N: number, w: number | undefined) => (await log.tile(L, N, w)).subarray(32);
  await rejectsCode(verifyEntryInclusion(cp, 7, { tile: shortTile, entryBundle: log.entryBundle }), 'MALFORMED_TILE');
  const failing = async (): Promise<Uint8Array> => {
    throw new Error('connection refused');
  };
  await rejectsCode(verifyEntryInclusion(cp, 7, { tile: failing, entryBundle: log.entryBundle }), 'FETCH_FAILED');
  const notBytes = async () => 'hello' as unknown as Uint8Array;
  await rejectsCode(verifyAllEntries(cp, notBytes), 'FETCH_FAILED');

  const swapped = async (N: number, w: number | undefined) => {
    const es = parseEntryBundle(await log.entryBundle(N, w));
    if (N === 3) [es[0], es[1]] = [es[1]!, es[0]!];
    return encodeEntryBundle(es);
  };
  await rejectsCode(verifyAllEntries(cp, swapped), 'ROOT_MISMATCH');
  const dropped = async (N: number, w: number | undefined) => encodeEntryBundle(parseEntryBundle(await log.entryBundle(N, w)).slice(1));
  await rejectsCode(verifyAllEntries(cp, dropped), 'MALFORMED_BUNDLE');
  await rejectsCode(verifyAllEntries({ size: 2999, rootHash: cp.rootHash }, log.entryBundle), 'ROOT_MISMATCH');
  await rejectsCode(verifyEntryInclusion(cp, 3000, log), 'INDEX_OUT_OF_RANGE');
});
