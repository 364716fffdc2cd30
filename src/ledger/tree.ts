// Tree maths for the ledger, separate from storage (tessera's integrate.go takes a tile-reading function
// in the same way): `ChunkSource` is any function that returns the stored bytes of a node chunk.
import {
  EMPTY_ROOT,
  TreeBuilder,
  consistencyRanges,
  foldRange,
  inclusionRanges,
  leafHash,
  perfectRoot,
  rangeNodes,
  type NodeId,
} from '../verify/index.js';
import { RedlineError } from '../errors.js';
import { CHUNK_WIDTH, HASH_BYTES, STRATUM_STEP, type ChunkWrite } from './storage.js';

/** Returns the bytes of chunk `chunk` of stratum `stratum` (a prefix of 256·32 bytes), if stored. */
export type ChunkSource = (stratum: number, chunk: number) => Uint8Array | undefined;

/** Memoises a source for the duration of one proof. */
export function memoSource(src: ChunkSource): ChunkSource {
  const m = new Map<number, Uint8Array | undefined>();
  return (s, c) => {
    const k = c * 64 + s;
    if (m.has(k)) return m.get(k);
    const v = src(s, c);
    m.set(k, v);
    return v;
  };
}

/** Hash of a complete node: read its stratum row, rebuild up to STRATUM_STEP − 1 levels. */
export function readNodeHash(src: ChunkSource, node: NodeId): Uint8Array {
  const stratum = node.level - (node.level % STRATUM_STEP);
  const r = node.level - stratum;
  const span = 2 ** r;
  const first = node.index * span;
  const chunk = Math.floor(first / CHUNK_WIDTH);
  const off = first % CHUNK_WIDTH;
  const bytes = src(stratum, chunk);
  if (!bytes || bytes.length < (off + span) * HASH_BYTES) {
    throw new RedlineError('INTERNAL', `ledger node store lacks level ${node.level} node ${node.index}`);
  }
  // A copy, not a view: callers may keep or alter proof hashes, and the bytes may be the live tail.
  if (span === 1) return bytes.slice(off * HASH_BYTES, (off + 1) * HASH_BYTES);
  const hs: Uint8Array[] = [];
  for (let i = 0; i < span; i++) hs.push(bytes.subarray((off + i) * HASH_BYTES, (off + i + 1) * HASH_BYTES));
  return perfectRoot(hs);
}

export function readRangeHash(src: ChunkSource, begin: number, end: number): Uint8Array {
  return foldRange(rangeNodes(begin, end).map((n) => readNodeHash(src, n)));
}

export function rootAt(src: ChunkSource, size: number): Uint8Array {
  return size === 0 ? EMPTY_ROOT : readRangeHash(memoSource(src), 0, size);
}

export function inclusionProofAt(src: ChunkSource, index: number, size: number): Uint8Array[] {
  const m = memoSource(src);
  return inclusionRanges(index, size).map(([b, e]) => readRangeHash(m, b, e));
}

export function consistencyProofAt(src: ChunkSource, size1: number, size2: number): Uint8Array[] {
  if (size1 === 0 || size1 === size2) return [];
  const m = memoSource(src);
  return consistencyRanges(size1, size2).map(([b, e]) => readRangeHash(m, b, e));
}

/** The right-edge chunk of one stratum: its first `width` hashes are complete nodes. */
export interface Tail {
  chunk: number;
  buf: Uint8Array; // CHUNK_WIDTH · HASH_BYTES
  width: number;
}

/** Returns the leaf data (entries) [begin, end) in order. */
export type EntrySource = (begin: number, end: number) => Uint8Array[];

const FULL_CHUNK = CHUNK_WIDTH * HASH_BYTES;

/**
 * Rebuilds the partial (right-edge) chunk of every stratum of a tree of `size` entries. Only full
 * chunks are stored, so the right edge comes from what is durable: level-0 leaf hashes from the last
 * (< 256) entries, each higher stratum's from the stratum below (its full stored chunks plus the tail
 * just rebuilt). The entries are the source of truth, so this cannot disagree with them.
 */
export function rebuildTails(size: number, src: ChunkSource, entries: EntrySource): Map<number, Tail> {
  const tails = new Map<number, Tail>();
  for (let stratum = 0; 2 ** stratum <= size; stratum += STRATUM_STEP) {
    const count = Math.floor(size / 2 ** stratum); // complete nodes in this stratum
    const chunk = Math.floor(count / CHUNK_WIDTH);
    const width = count % CHUNK_WIDTH;
    const buf = new Uint8Array(FULL_CHUNK);
    if (stratum === 0) {
      const data = width > 0 ? entries(chunk * CHUNK_WIDTH, count) : [];
      if (data.length !== width) throw new RedlineError('INTERNAL', `ledger entries ${chunk * CHUNK_WIDTH}..${count - 1} are missing`);
      data.forEach((d, i) => buf.set(leafHash(d), i * HASH_BYTES));
    } else {
      const below = tails.get(stratum - STRATUM_STEP)!;
      const fan = 2 ** STRATUM_STEP; // nodes of the stratum below under one node of this one
      const hs: Uint8Array[] = new Array<Uint8Array>(fan);
      for (let i = 0; i < width; i++) {
        const first = (chunk * CHUNK_WIDTH + i) * fan; // index in the stratum below
        const c = Math.floor(first / CHUNK_WIDTH);
        const off = first % CHUNK_WIDTH;
        const bytes = c === below.chunk ? below.buf.subarray(0, below.width * HASH_BYTES) : src(stratum - STRATUM_STEP, c);
        if (!bytes || bytes.length < (off + fan) * HASH_BYTES) {
          throw new RedlineError('INTERNAL', `ledger node store lacks stratum ${stratum - STRATUM_STEP} chunk ${c}`);
        }
        for (let j = 0; j < fan; j++) hs[j] = bytes.subarray((off + j) * HASH_BYTES, (off + j + 1) * HASH_BYTES);
        buf.set(perfectRoot(hs), i * HASH_BYTES);
      }
    }
    tails.set(stratum, { chunk, buf, width });
  }
  return tails;
}

/** Tails as they were stored by schema 1 (a partial row per stratum, rewritten by every commit). */
function storedTails(size: number, m: ChunkSource): Map<number, Tail> {
  const tails = new Map<number, Tail>();
  for (let stratum = 0; 2 ** stratum <= size; stratum += STRATUM_STEP) {
    const count = Math.floor(size / 2 ** stratum);
    const chunk = Math.floor(count / CHUNK_WIDTH);
    const width = count % CHUNK_WIDTH;
    const buf = new Uint8Array(FULL_CHUNK);
    if (width > 0) {
      const stored = m(stratum, chunk);
      if (!stored || stored.length < width * HASH_BYTES) throw new RedlineError('INTERNAL', `ledger node store lacks stratum ${stratum} chunk ${chunk}`);
      buf.set(stored.subarray(0, width * HASH_BYTES));
    }
    tails.set(stratum, { chunk, buf, width });
  }
  return tails;
}

/** What `mark()` saved: enough to put the state back after a batch that did not commit. */
export interface TreeMark {
  readonly size: number;
  readonly frontier: Uint8Array[];
  readonly tails: [number, Tail, number][];
}

/**
 * The writer's in-memory view of the tree's right edge: the compact range (for the root) and the last,
 * still-growing chunk of every stratum. `appendLeaves` mutates it and reports the chunks that became
 * full (the only ones stored); the ledger marks the state before a batch and rolls back to the mark if
 * the batch does not commit, instead of copying every tail per commit.
 */
export class TreeState {
  private builder: TreeBuilder;
  private tails: Map<number, Tail>;
  private filled: ChunkWrite[] = [];

  private constructor(size: number, frontier: Uint8Array[], tails: Map<number, Tail>) {
    this.tails = tails;
    this.builder = TreeBuilder.resume(size, frontier, (level, index, hash) => this.onNode(level, index, hash));
  }

  /**
   * Rebuilds the state for `size` entries: the right edge from `entries` (see rebuildTails), the rest
   * from stored full chunks. Without `entries`, the right edge is read from stored partial chunks, as
   * schema 1 kept them.
   */
  static load(size: number, src: ChunkSource, entries?: EntrySource): TreeState {
    const m = memoSource(src);
    const tails = entries ? rebuildTails(size, m, entries) : storedTails(size, m);
    const withTails: ChunkSource = (s, c) => {
      const t = tails.get(s);
      return t && t.chunk === c ? t.buf.subarray(0, t.width * HASH_BYTES) : m(s, c);
    };
    const frontier = rangeNodes(0, size).map((n) => readNodeHash(withTails, n));
    return new TreeState(size, frontier, tails);
  }

  get size(): number {
    return this.builder.size;
  }

  root(): Uint8Array {
    return this.builder.root().slice();
  }

  clone(): TreeState {
    const tails = new Map<number, Tail>();
    for (const [s, t] of this.tails) tails.set(s, { chunk: t.chunk, buf: t.buf.slice(), width: t.width });
    return new TreeState(this.size, this.builder.frontier().map((f) => f.hash), tails);
  }

  /**
   * Saves the current state cheaply. Frontier hashes are never written in place (the builder replaces
   * them), and bytes a batch writes past a tail's saved width are invisible once the width is restored,
   * so references and widths are all a rollback needs.
   */
  mark(): TreeMark {
    return {
      size: this.size,
      frontier: this.builder.frontier().map((f) => f.hash),
      tails: [...this.tails].map(([s, t]) => [s, t, t.width]),
    };
  }

  rollback(m: TreeMark): void {
    this.tails = new Map(m.tails.map(([s, t, width]) => {
      t.width = width;
      return [s, t];
    }));
    this.builder = TreeBuilder.resume(m.size, m.frontier, (level, index, hash) => this.onNode(level, index, hash));
  }

  /** Stored bytes of the tail chunk, so reads of the right edge need no database access. */
  tailChunk(stratum: number, chunk: number): Uint8Array | undefined {
    const t = this.tails.get(stratum);
    return t && t.chunk === chunk ? t.buf.subarray(0, t.width * HASH_BYTES) : undefined;
  }

  /**
   * Appends leaf hashes and returns the chunks that became full, to be written in the same
   * transaction. Partial chunks are not returned: they live in memory and are rebuilt on open.
   */
  appendLeaves(leafHashes: readonly Uint8Array[]): ChunkWrite[] {
    const out: ChunkWrite[] = [];
    this.filled = out;
    for (const h of leafHashes) this.builder.push(h);
    return out;
  }

  private onNode(level: number, index: number, hash: Uint8Array): void {
    if (level % STRATUM_STEP !== 0) return;
    const chunk = Math.floor(index / CHUNK_WIDTH);
    const off = index % CHUNK_WIDTH;
    let t = this.tails.get(level);
    if (!t || t.chunk !== chunk) {
      t = { chunk, buf: new Uint8Array(FULL_CHUNK), width: 0 };
      this.tails.set(level, t);
    }
    if (off !== t.width) throw new RedlineError('INTERNAL', 'ledger tree state out of step');
    t.buf.set(hash, off * HASH_BYTES);
    t.width = off + 1;
    // Handed out without a copy: the next node of this stratum starts a new buffer, and only a rollback
    // (after the batch's write is over) could reopen this one.
    if (t.width === CHUNK_WIDTH) this.filled.push({ stratum: level, chunk, hashes: t.buf });
  }
}
