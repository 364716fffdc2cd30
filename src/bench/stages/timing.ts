// Call timing that also records each call's CPU time. On a shared machine a wall-clock p99 is mostly
// the time the thread waited for a core; the CPU-time p99 beside it tells that apart from slow code.
// process.cpuUsage() counts every thread of the process (GC helpers included), so it errs high.
import { Samples, type Summary } from '../stats.js';

export interface CpuTiming {
  wall: Summary;
  cpu: Summary;
}

/** Like stage.ts timeCalls (ms per call, warm-up first, one call at a time), plus CPU ms per call. */
export async function timeCallsCpu(fn: () => unknown, o: { budgetMs: number; warmupMs?: number; minCalls?: number }): Promise<CpuTiming> {
  const warmEnd = performance.now() + (o.warmupMs ?? Math.min(500, o.budgetMs / 4));
  while (performance.now() < warmEnd) {
    const r = fn();
    if (isThenable(r)) await r;
  }
  const wall = new Samples();
  const cpu = new Samples();
  const min = o.minCalls ?? 100;
  const end = performance.now() + o.budgetMs;
  while (performance.now() < end || wall.length < min) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    const r = fn();
    if (isThenable(r)) await r;
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    wall.push(t);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: wall.summary(), cpu: cpu.summary() };
}

/** Only promises are awaited, so a synchronous call is timed without an extra microtask. */
function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function';
}
