// The shipped model: a linear softmax over hashed n-gram features, stored sparse and quantised.
//
// File format (JSON, one object):
//   format   "redline-use-linear/1"
//   labels   label order of every per-label array below
//   features FeatureConfig (hash width, n-gram settings); the extractor must match it exactly
//   bias     per-label bias (float)
//   scale    per-label dequantisation step: weight = int8 * scale[label]
//   rows     number of stored buckets
//   index    base64 of the bucket numbers, ascending, as LEB128 varint deltas
//   weights  base64 of int8 weights, rows x labels, row-major in index order
//   meta     how it was trained (seed, epochs, example counts); informational only
//   minEvidence  optional; a bag with fewer distinct features is normalised as if it had this many
//            (see the classifier's toProbs). Absent in older files, which means plain L2 (0).
// Buckets no training example touched have all-zero weights and are not stored, which is what keeps
// a 2^18 x 14 table down to a few hundred kilobytes.
import type { FeatureConfig } from './features.js';

export const MODEL_FORMAT = 'redline-use-linear/1';

export interface ModelFile {
  format: string;
  labels: string[];
  features: FeatureConfig;
  bias: number[];
  scale: number[];
  rows: number;
  index: string;
  weights: string;
  minEvidence?: number;
  meta: Record<string, unknown>;
}

/** Dense float weights as training produces them: w[bucket * labels + label]. */
export interface DenseModel {
  labels: string[];
  features: FeatureConfig;
  weights: Float32Array;
  bias: Float32Array;
  /** Normalisation floor the model was trained with (0 = plain L2). */
  minEvidence?: number;
}

/** Runtime form: int8 weights laid out bucket-major so one feature reads one contiguous row. */
export interface QuantisedModel {
  labels: string[];
  features: FeatureConfig;
  q: Int8Array;
  scale: Float64Array;
  bias: Float64Array;
  minEvidence: number;
}

/** mulberry32: a tiny seeded PRNG, so shuffles and sampling are reproducible across runs and machines. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Quantises to int8 with a per-label step. The step is set from a high percentile of the label's
 * non-zero weights rather than the maximum, so a handful of outsized weights (clipped) do not crush
 * the resolution of all the others.
 */
export function encodeModel(m: DenseModel, meta: Record<string, unknown>): ModelFile {
  const K = m.labels.length;
  const dim = 1 << m.features.bits;
  const scale: number[] = [];
  for (let k = 0; k < K; k++) {
    const mags: number[] = [];
    for (let b = 0; b < dim; b++) {
      const w = m.weights[b * K + k] as number;
      if (w !== 0) mags.push(Math.abs(w));
    }
    mags.sort((x, y) => x - y);
    const p = mags.length ? (mags[Math.min(mags.length - 1, Math.floor(mags.length * 0.9995))] as number) : 1;
    scale.push(p > 0 ? p / 127 : 1 / 127);
  }
  const rows: number[] = [];
  const q: number[] = [];
  for (let b = 0; b < dim; b++) {
    const row: number[] = [];
    let any = false;
    for (let k = 0; k < K; k++) {
      const v = Math.max(-127, Math.min(127, Math.round((m.weights[b * K + k] as number) / (scale[k] as number))));
      row.push(v);
      if (v !== 0) any = true;
    }
    if (!any) continue;
    rows.push(b);
    q.push(...row);
  }
  const varints: number[] = [];
  let prev = 0;
  for (const b of rows) {
    let d = b - prev;
    prev = b;
    while (d >= 0x80) {
      varints.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    varints.push(d);
  }
  return {
    format: MODEL_FORMAT,
    labels: [...m.labels],
    features: { ...m.features },
    bias: Array.from(m.bias, round6),
    scale: scale.map((s) => Number(s.toPrecision(8))),
    rows: rows.length,
    index: Buffer.from(varints).toString('base64'),
    weights: Buffer.from(Int8Array.from(q).buffer).toString('base64'),
    ...(m.minEvidence ? { minEvidence: m.minEvidence } : {}),
    meta,
  };
}

export function decodeModel(f: ModelFile): QuantisedModel {
  if (f.format !== MODEL_FORMAT) throw new Error(`unsupported model format ${String(f.format)}`);
  const K = f.labels.length;
  if (f.bias.length !== K || f.scale.length !== K) throw new Error('model arrays do not match the label count');
  const minEvidence = f.minEvidence ?? 0;
  if (typeof minEvidence !== 'number' || !Number.isFinite(minEvidence) || minEvidence < 0) throw new Error('model minEvidence must be a non-negative number');
  const dim = 1 << f.features.bits;
  const q = new Int8Array(dim * K);
  const idx = Buffer.from(f.index, 'base64');
  const w = Buffer.from(f.weights, 'base64');
  if (w.length !== f.rows * K) throw new Error('model weight table has the wrong size');
  let pos = 0;
  let bucket = 0;
  for (let r = 0; r < f.rows; r++) {
    let d = 0;
    let shift = 0;
    for (;;) {
      if (pos >= idx.length) throw new Error('model index is truncated');
      const byte = idx[pos++] as number;
      d += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
      shift += 7;
    }
    bucket += d;
    if (bucket >= dim) throw new Error('model index is out of range');
    for (let k = 0; k < K; k++) q[bucket * K + k] = (w[r * K + k] as number) << 24 >> 24;
  }
  return { labels: [...f.labels], features: { ...f.features }, q, scale: Float64Array.from(f.scale), bias: Float64Array.from(f.bias), minEvidence };
}

/** Softmax in place, numerically stable. */
export function softmax(z: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < z.length; k++) if ((z[k] as number) > max) max = z[k] as number;
  let sum = 0;
  for (let k = 0; k < z.length; k++) {
    const e = Math.exp((z[k] as number) - max);
    z[k] = e;
    sum += e;
  }
  for (let k = 0; k < z.length; k++) z[k] = (z[k] as number) / sum;
}
