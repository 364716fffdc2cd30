// Bench stages: extra lines for the report, one small function each in stages/*.ts (e.g. "policy
// decide p99", "classifier p99 for an 8 KB prompt", "ledger appends/s"). They run in the bench
// process after the HTTP targets have stopped, one after another, so they have the machine to
// themselves. A stage that throws is reported as an error line; the bench goes on.
import { Samples, type Summary } from './stats.js';

export interface StageResult {
  name: string;
  value: number;
  unit: string;
  /** The figure this line is held to, in the same unit. */
  target?: number;
  /** Whether the value meets the target; the stage decides. */
  pass?: boolean;
  /** Which way is better, for printing the target as "≤ x" or "≥ x". */
  better?: 'lower' | 'higher';
}

export interface StageContext {
  /** Suggested measuring time per stage (BENCH_STAGE_SECONDS), ms. */
  budgetMs: number;
}

/** One stage may report several lines (say p50 and p99 of the same measurement). */
export type BenchStage = (ctx: StageContext) => StageResult | StageResult[] | Promise<StageResult | StageResult[]>;

export interface StageOutcome {
  results: StageResult[];
  errors: { stage: string; message: string }[];
}

export async function runStages(stages: readonly BenchStage[], ctx: StageContext): Promise<StageOutcome> {
  const out: StageOutcome = { results: [], errors: [] };
  for (const stage of stages) {
    try {
      const r = await stage(ctx);
      out.results.push(...(Array.isArray(r) ? r : [r]));
    } catch (e) {
      out.errors.push({ stage: stage.name || 'anonymous stage', message: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

export interface Timing extends Summary {
  /** Calls per second over the measured phase. */
  opsPerSec: number;
}

/**
 * Times `fn` call by call (ms per call) for about `budgetMs` after a short warm-up, so stage
 * functions stay a few lines long. Calls run one at a time; async functions are awaited.
 */
export async function timeCalls(fn: () => unknown, o: { budgetMs: number; warmupMs?: number; minCalls?: number; maxCalls?: number }): Promise<Timing> {
  const warmEnd = performance.now() + (o.warmupMs ?? Math.min(500, o.budgetMs / 4));
  while (performance.now() < warmEnd) {
    const r = fn();
    if (isThenable(r)) await r;
  }
  const samples = new Samples();
  const min = o.minCalls ?? 100;
  const max = o.maxCalls ?? 5_000_000;
  const start = performance.now();
  const end = start + o.budgetMs;
  while ((performance.now() < end || samples.length < min) && samples.length < max) {
    const t0 = process.hrtime.bigint();
    const r = fn();
    if (isThenable(r)) await r;
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const elapsed = performance.now() - start;
  return { ...samples.summary(), opsPerSec: samples.length / (elapsed / 1000) };
}

/** Only promises are awaited: an extra microtask per call would distort sub-microsecond timings. */
function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function';
}
