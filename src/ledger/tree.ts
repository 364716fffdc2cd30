// Tree maths for the ledger, separate from storage (tessera's integrate.go takes a tile-reading function
// in the same way): `ChunkSource` is any function that returns the stored bytes of a node chunk.
import {
  EMPTY_ROOT,
  TreeBuilder,
  consistencyRanges,
  foldRange,
  inclusionRanges,
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

interface Tail {
  chunk: number;
  buf: Uint8Array; // CHUNK_WIDTH · HASH_BYTES
  width: number;
}

/**
 * The writer's in-memory view of the tree's right edge: the compact range (for the root) and the last,
 * still-growing chunk of every stratum. `appendLeaves` mutates it and reports the chunks to write;
 * the ledger applies a batch to a clone and keeps the clone only once the batch has committed.
 */
export class TreeState {
  private builder: TreeBuilder;
  private readonly tails: Map<number, Tail>;
  private dirty = new Map<number, { stratum: number; tail: Tail }>();

  private constructor(size: number, frontier: Uint8Array[], tails: Map<number, Tail>) {
    this.tails = tails;
    this.builder = TreeBuilder.resume(size, frontier, (level, index, hash) => this.onNode(level, index, hash));
  }

  /** Rebuilds the state for `size` entries from stored chunks. */
  static load(size: number, src: ChunkSource): TreeState {
    const m = memoSource(src);
    const frontier = rangeNodes(0, size).map((n) => readNodeHash(m, n).slice());
    const tails = new Map<number, Tail>();
    for (let stratum = 0; 2 ** stratum <= size; stratum += STRATUM_STEP) {
      const count = Math.floor(size / 2 ** stratum); // complete nodes in this stratum
      const chunk = Math.floor(count / CHUNK_WIDTH);
      const width = count % CHUNK_WIDTH;
      const buf = new Uint8Array(CHUNK_WIDTH * HASH_BYTES);
      if (width > 0) {
        const stored = m(stratum, chunk);
        if (!stored || stored.length < width * HASH_BYTES) throw new RedlineError('INTERNAL', `ledger node store lacks stratum ${stratum} chunk ${chunk}`);
        buf.set(stored.subarray(0, width * HASH_BYTES));
      }
      tails.set(stratum, { chunk, buf, width });
    }
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

  /** Stored bytes of the tail chunk, so reads of the right edge need no database access. */
  tailChunk(stratum: number, chunk: number): Uint8Array | undefined {
    const t = this.tails.get(stratum);
    return t && t.chunk === chunk ? t.buf.subarray(0, t.width * HASH_BYTES) : undefined;
  }

  /** Appends leaf hashes and returns the chunks that changed (to be written in the same transaction). */
  appendLeaves(leafHashes: readonly Uint8Array[]): ChunkWrite[] {
    this.dirty = new Map();
    for (const h of leafHashes) this.builder.push(h);
    const out: ChunkWrite[] = [];
    for (const { stratum, tail } of this.dirty.values()) {
      out.push({ stratum, chunk: tail.chunk, hashes: tail.buf.slice(0, tail.width * HASH_BYTES) });
    }
    return out;
  }

  private onNode(level: number, index: number, hash: Uint8Array): void {
    if (level % STRATUM_STEP !== 0) return;
    const chunk = Math.floor(index / CHUNK_WIDTH);
    const off = index % CHUNK_WIDTH;
    let t = this.tails.get(level);
    if (!t || t.chunk !== chunk) {
      t = { chunk, buf: new Uint8Array(CHUNK_WIDTH * HASH_BYTES), width: 0 };
      this.tails.set(level, t);
    }
    if (off !== t.width) throw new RedlineError('INTERNAL', 'ledger tree state out of step');
    t.buf.set(hash, off * HASH_BYTES);
    t.width = off + 1;
    this.dirty.set(chunk * 64 + level, { stratum: level, tail: t });
  }
}
