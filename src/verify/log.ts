// Whole-log checks over fetcher functions (tessera client shape): the caller decides where tiles and
// bundles come from (HTTP, a database, files); these functions decide whether to believe them. Each one
// ends in a check against a signed checkpoint the caller has already verified.
import { VerificationError, assertIndex } from './errors.js';
import { EMPTY_ROOT, TreeBuilder, leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import { bytesEqual } from './encoding.js';
import type { Checkpoint } from './checkpoint.js';
import { verifyDisclosure } from './disclosure.js';
import {
  TILE_WIDTH,
  TileHashReader,
  fetchBundleChecked,
  fetchEntry,
  parseEntryBundle,
  tileWidthAt,
  type EntryBundleFetcher,
  type TileFetcher,
} from './tiles.js';

type TreeHead = Pick<Checkpoint, 'size' | 'rootHash'>;

export interface RebuildResult {
  size: number;
  rootHash: Uint8Array;
  /** Roots recomputed at the sizes asked for in `rootsAt` (those not above the checkpoint's size). */
  roots: Map<number, Uint8Array>;
}

/**
 * Fetches every entry bundle up to the checkpoint's size, rebuilds the tree from the entries and
 * checks its root against the checkpoint (ROOT_MISMATCH otherwise). Bundles are fetched `concurrency`
 * at a time but hashed in order; `onEntry` sees each entry's bytes.
 */
export async function verifyAllEntries(
  cp: TreeHead,
  fetchBundle: EntryBundleFetcher,
  opts: { concurrency?: number; rootsAt?: readonly number[]; onEntry?: (index: number, data: Uint8Array) => void } = {},
): Promise<RebuildResult> {
  const { size } = cp;
  assertIndex(size, 'checkpoint size');
  const want = new Set((opts.rootsAt ?? []).filter((s) => s <= size));
  const roots = new Map<number, Uint8Array>();
  const builder = new TreeBuilder();
  if (want.has(0)) roots.set(0, EMPTY_ROOT);
  const bundles = Math.ceil(size / TILE_WIDTH);
  const window = Math.max(1, opts.concurrency ?? 8);
  const inflight: Promise<Uint8Array>[] = [];
  let next = 0;
  const launch = (): void => {
    while (next < bundles && inflight.length < window) {
      const width = tileWidthAt(0, next, size);
      const p = fetchBundleChecked(fetchBundle, next, width);
      p.catch(() => undefined); // handled when awaited in order; avoids unhandled-rejection noise
      inflight.push(p);
      next++;
    }
  };
  launch();
  for (let n = 0; n < bundles; n++) {
    const bundle = await inflight.shift()!;
    launch();
    const width = tileWidthAt(0, n, size) ?? TILE_WIDTH;
    const entries = parseEntryBundle(bundle, width);
    for (const data of entries) {
      opts.onEntry?.(builder.size, data);
      builder.push(leafHash(data));
      if (want.has(builder.size)) roots.set(builder.size, builder.root());
    }
  }
  const rootHash = builder.root();
  if (!bytesEqual(rootHash, cp.rootHash)) {
    throw new VerificationError('ROOT_MISMATCH', `entries rebuild a different root than the checkpoint for size ${size}`);
  }
  return { size, rootHash, roots };
}

/**
 * Fetches entry `index`, builds its inclusion proof from tiles of the checkpoint's size, and verifies
 * it against the checkpoint's root.
 */
export async function verifyEntryInclusion(
  cp: TreeHead,
  index: number,
  fetchers: { tile: TileFetcher; entryBundle: EntryBundleFetcher },
): Promise<{ data: Uint8Array; leafHash: Uint8Array; proof: Uint8Array[] }> {
  assertIndex(index, 'index');
  if (index >= cp.size) throw new VerificationError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${cp.size}`);
  const data = await fetchEntry(index, cp.size, fetchers.entryBundle);
  const lh = leafHash(data);
  const proof = await new TileHashReader(cp.size, fetchers.tile).inclusionProof(index);
  verifyInclusion(lh, index, cp.size, proof, cp.rootHash);
  return { data, leafHash: lh, proof };
}

/**
 * Checks that `older` is a prefix of `newer`, building the consistency proof from tiles of the newer
 * size. An empty older tree is consistent with anything as long as its root is the empty root.
 */
export async function verifyCheckpointConsistency(older: TreeHead, newer: TreeHead, fetchTile: TileFetcher): Promise<Uint8Array[]> {
  if (newer.size < older.size) throw new VerificationError('SIZE_DECREASED', `tree shrank from ${older.size} to ${newer.size}`);
  if (older.size === 0) {
    if (!bytesEqual(older.rootHash, EMPTY_ROOT)) throw new VerificationError('INCONSISTENT', 'an empty tree must have the empty root');
    return [];
  }
  const proof = await new TileHashReader(newer.size, fetchTile).consistencyProof(older.size);
  verifyConsistency(older.size, newer.size, proof, older.rootHash, newer.rootHash);
  return proof;
}

/**
 * Verifies a disclosure: entry `index` is in the tree of the checkpoint and (salt, content) opens its
 * commitment.
 */
export async function verifyDisclosedEntry(
  cp: TreeHead,
  d: { index: number; salt: string | Uint8Array; content: string | Uint8Array },
  fetchers: { tile: TileFetcher; entryBundle: EntryBundleFetcher },
): Promise<{ data: Uint8Array }> {
  const { data } = await verifyEntryInclusion(cp, d.index, fetchers);
  verifyDisclosure(data, d.salt, d.content);
  return { data };
}
