// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): path arithmetic, entry bundles, and a proof builder
// that needs nothing but tiles, in the manner of tessera's client.ProofBuilder: the verifier fetches
// tiles through a function the caller supplies and never trusts a proof it did not assemble.
//   tile/<L>/<N>[.p/<W>]        256 hashes of tree level 8·L (level 0: leaf hashes)
//   tile/entries/<N>[.p/<W>]    the entries themselves, each as uint16 big-endian length + bytes
import { isBytes } from './encoding.js';
import { VerificationError, assertIndex } from './errors.js';
import { HASH_SIZE, EMPTY_ROOT, consistencyRanges, foldRange, inclusionRanges, perfectRoot, rangeNodes, type NodeId } from './merkle.js';

export const TILE_WIDTH = 256;
/** Tree levels per tile level: a tile is a subtree of height 8. */
export const TILE_HEIGHT = 8;
export const MAX_ENTRY_SIZE = 0xffff;

function encodeIndex(n: number): string {
  const digits = String(n);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < padded.length; i += 3) groups.push(padded.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? 'x' + g : g)).join('/');
}

function checkWidth(w: number | undefined): void {
  if (w === undefined) return;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 1 || w > 255) {
    throw new VerificationError('INVALID_ARGUMENT', 'partial tile width must be an integer from 1 to 255');
  }
}

/** `tile/<L>/<N>[.p/<W>]`; width is given only for partial tiles (1..255). */
export function tilePath(level: number, index: number, partialWidth?: number): string {
  assertIndex(level, 'level');
  if (level > 63) throw new VerificationError('INVALID_ARGUMENT', 'tile level must be at most 63');
  assertIndex(index, 'index');
  checkWidth(partialWidth);
  return `tile/${level}/${encodeIndex(index)}${partialWidth === undefined ? '' : `.p/${partialWidth}`}`;
}

/** `tile/entries/<N>[.p/<W>]`. */
export function entriesPath(index: number, partialWidth?: number): string {
  assertIndex(index, 'index');
  checkWidth(partialWidth);
  return `tile/entries/${encodeIndex(index)}${partialWidth === undefined ? '' : `.p/${partialWidth}`}`;
}

export interface ParsedTilePath {
  /** Tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  width?: number;
}

/**
 * Parses a tile or entry-bundle path (with or without the leading `tile/`), accepting only the
 * canonical spelling so that one resource has one name. Throws MALFORMED_TILE.
 */
export function parseTilePath(path: string): ParsedTilePath {
  const bad = (): never => {
    throw new VerificationError('MALFORMED_TILE', 'not a canonical tile path');
  };
  if (typeof path !== 'string' || path.length > 200) bad();
  const p = path.startsWith('tile/') ? path.slice(5) : path;
  const slash = p.indexOf('/');
  if (slash < 0) bad();
  const head = p.slice(0, slash);
  let rest = p.slice(slash + 1);
  let width: number | undefined;
  const m = /^(.*)\.p\/([1-9][0-9]{0,2})$/.exec(rest);
  if (m) {
    width = Number(m[2]);
    if (width > 255) bad();
    rest = m[1]!;
  }
  const groups = rest.split('/');
  let digits = '';
  groups.forEach((g, i) => {
    const re = i < groups.length - 1 ? /^x[0-9]{3}$/ : /^[0-9]{3}$/;
    if (!re.test(g)) bad();
    digits += i < groups.length - 1 ? g.slice(1) : g;
  });
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) bad();
  let level: number | 'entries';
  if (head === 'entries') level = 'entries';
  else if (/^(0|[1-9][0-9]?)$/.test(head) && Number(head) <= 63) level = Number(head);
  else return bad();
  const canonical = level === 'entries' ? entriesPath(index, width) : tilePath(level, index, width);
  if (canonical !== 'tile/' + p) bad();
  return width === undefined ? { level, index } : { level, index, width };
}

// ---- entry bundles --------------------------------------------------------------------------------------

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new VerificationError('INVALID_ARGUMENT', 'entry is larger than 65535 bytes');
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >>> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/** Splits an entry bundle; with `expected`, the bundle must hold exactly that many entries. */
export function parseEntryBundle(bundle: Uint8Array, expected?: number): Uint8Array[] {
  if (!isBytes(bundle)) throw new VerificationError('MALFORMED_BUNDLE', 'entry bundle is not bytes');
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bundle.length) {
    if (o + 2 > bundle.length) throw new VerificationError('MALFORMED_BUNDLE', 'entry bundle is truncated (length prefix)');
    const len = (bundle[o]! << 8) | bundle[o + 1]!;
    if (o + 2 + len > bundle.length) throw new VerificationError('MALFORMED_BUNDLE', 'entry bundle is truncated (entry)');
    out.push(bundle.subarray(o + 2, o + 2 + len));
    o += 2 + len;
    if (out.length > TILE_WIDTH) throw new VerificationError('MALFORMED_BUNDLE', 'entry bundle holds more than 256 entries');
  }
  if (expected !== undefined && out.length !== expected) {
    throw new VerificationError('MALFORMED_BUNDLE', `entry bundle holds ${out.length} entries, expected ${expected}`);
  }
  return out;
}

// ---- which tiles a tree of a given size has -------------------------------------------------------------

/**
 * The width to request for tile `index` at tile `level` of a tree of `size` leaves: undefined for a
 * full tile, 1..255 for the partial right-edge tile, 0 if the tile does not exist at this size.
 */
export function tileWidthAt(level: number, index: number, size: number): number | undefined {
  const span = TILE_WIDTH ** level; // leaves under one hash of this tile level
  const hashes = Math.floor(size / span); // complete hashes at this tile level
  const full = Math.floor(hashes / TILE_WIDTH);
  if (index < full) return undefined;
  if (index === full) return hashes % TILE_WIDTH;
  return 0;
}

/** Fetches the tile (level, index) as served for the given width (undefined: full). */
export type TileFetcher = (level: number, index: number, width: number | undefined) => Promise<Uint8Array>;
/** Fetches the entry bundle `index` (undefined width: full). */
export type EntryBundleFetcher = (index: number, width: number | undefined) => Promise<Uint8Array>;

/**
 * Reads node hashes of one tree size from its tiles. Tiles are fetched once per reader and their
 * lengths checked; their content is authenticated only when a proof built from them is verified
 * against a signed root, which is what every caller of this class does.
 */
export class TileHashReader {
  private readonly tiles = new Map<string, Promise<Uint8Array>>();

  constructor(
    readonly size: number,
    private readonly fetchTile: TileFetcher,
  ) {
    assertIndex(size, 'size');
  }

  private tile(level: number, index: number): Promise<Uint8Array> {
    const width = tileWidthAt(level, index, this.size);
    if (width === 0) throw new VerificationError('INDEX_OUT_OF_RANGE', `tile ${level}/${index} does not exist at size ${this.size}`);
    const key = `${level}/${index}`;
    let t = this.tiles.get(key);
    if (!t) {
      t = fetchChecked(() => this.fetchTile(level, index, width), (width ?? TILE_WIDTH) * HASH_SIZE, 'MALFORMED_TILE', tilePath(level, index, width));
      this.tiles.set(key, t);
    }
    return t;
  }

  /** Hash of a complete subtree that lies within the tree. */
  async nodeHash(node: NodeId): Promise<Uint8Array> {
    if ((node.index + 1) * 2 ** node.level > this.size) throw new VerificationError('INDEX_OUT_OF_RANGE', 'node is not complete at this tree size');
    const tileLevel = Math.floor(node.level / TILE_HEIGHT);
    const r = node.level - tileLevel * TILE_HEIGHT; // levels to rebuild inside the tile
    const first = node.index * 2 ** r; // first hash of this node at tile level's base
    const tile = await this.tile(tileLevel, Math.floor(first / TILE_WIDTH));
    const off = first % TILE_WIDTH;
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < 2 ** r; i++) hashes.push(tile.subarray((off + i) * HASH_SIZE, (off + i + 1) * HASH_SIZE));
    return perfectRoot(hashes);
  }

  async rangeHash(begin: number, end: number): Promise<Uint8Array> {
    const hs = await Promise.all(rangeNodes(begin, end).map((n) => this.nodeHash(n)));
    return foldRange(hs);
  }

  async root(): Promise<Uint8Array> {
    return this.size === 0 ? EMPTY_ROOT : this.rangeHash(0, this.size);
  }

  async inclusionProof(index: number): Promise<Uint8Array[]> {
    return Promise.all(inclusionRanges(index, this.size).map(([b, e]) => this.rangeHash(b, e)));
  }

  /** Consistency proof from an older size to this reader's size. */
  async consistencyProof(size1: number): Promise<Uint8Array[]> {
    if (size1 === this.size) return [];
    return Promise.all(consistencyRanges(size1, this.size).map(([b, e]) => this.rangeHash(b, e)));
  }
}

async function fetchChecked(
  f: () => Promise<Uint8Array>,
  length: number,
  code: 'MALFORMED_TILE',
  what: string,
): Promise<Uint8Array> {
  let b: unknown;
  try {
    b = await f();
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    throw new VerificationError('FETCH_FAILED', `could not fetch ${what}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (!isBytes(b)) throw new VerificationError('FETCH_FAILED', `${what} is not bytes`);
  if (b.length !== length) throw new VerificationError(code, `${what} is ${b.length} bytes, expected ${length}`);
  return b;
}

/** Fetches the bundle holding entry `index` of a tree of `size` leaves and returns that entry's bytes. */
export async function fetchEntry(index: number, size: number, fetchBundle: EntryBundleFetcher): Promise<Uint8Array> {
  assertIndex(index, 'index');
  assertIndex(size, 'size');
  if (index >= size) throw new VerificationError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
  const n = Math.floor(index / TILE_WIDTH);
  const width = tileWidthAt(0, n, size);
  const bundle = await fetchBundleChecked(fetchBundle, n, width);
  return parseEntryBundle(bundle, width ?? TILE_WIDTH)[index % TILE_WIDTH]!;
}

export async function fetchBundleChecked(fetchBundle: EntryBundleFetcher, index: number, width: number | undefined): Promise<Uint8Array> {
  let b: unknown;
  try {
    b = await fetchBundle(index, width);
  } catch (e) {
    if (e instanceof VerificationError) throw e;
    throw new VerificationError('FETCH_FAILED', `could not fetch ${entriesPath(index, width)}: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
  if (!isBytes(b)) throw new VerificationError('FETCH_FAILED', `${entriesPath(index, width)} is not bytes`);
  return b;
}
