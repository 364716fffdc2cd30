// Turns the runs into what a reader compares: tables per mode, the target checks with PASS/MISS,
// stage lines, and the JSON document written to bench-results.json.
import type { LoadResult } from './load.js';
import type { StageOutcome, StageResult } from './stage.js';

export type TargetName = 'direct' | 'bare' | 'minimal' | 'redline' | 'portkey';
export type Mode = 'json' | 'stream';
/** 'loaded': 16 connections, closed loop; 'serial': one connection, one request at a time. */
export type Phase = 'loaded' | 'serial';

export interface Run {
  target: TargetName;
  mode: Mode;
  phase: Phase;
  result: LoadResult;
  /** The process serving the target (the upstream itself for 'direct'), read after the run. */
  proc?: { pid: number; rssMB: number; hwmMB: number; cpuUsPerRequest: number; mainCpuUsPerRequest: number };
  /** Requests/s of each round, in order; rounds take the targets in turn, so round i of two targets ran minutes apart at most. */
  roundRps?: number[];
}

export interface Check extends StageResult {
  note?: string;
}

export const TARGET_LABEL: Record<TargetName, string> = {
  direct: 'direct (upstream)',
  bare: 'bare proxy',
  minimal: 'minimal gateway',
  redline: 'redline',
  portkey: 'portkey',
};

const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));
const f1 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(1));
const f0 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(0));
const signed = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '-' : (v >= 0 ? '+' : '') + v.toFixed(3));

/** 100 · a / b for each round both targets ran. */
function roundRatios(a: readonly number[] | undefined, b: readonly number[] | undefined): number[] {
  if (!a || !b) return [];
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if ((b[i] as number) > 0) out.push((100 * (a[i] as number)) / (b[i] as number));
  return out;
}

export function find(runs: readonly Run[], target: TargetName, mode: Mode, phase: Phase): Run | undefined {
  return runs.find((r) => r.target === target && r.mode === mode && r.phase === phase);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatRuns(runs: readonly Run[], mode: Mode, phase: Phase): string {
  const mine = runs.filter((r) => r.mode === mode && r.phase === phase);
  if (mine.length === 0) return '';
  const base = find(runs, 'direct', mode, phase)?.result;
  const stream = mode === 'stream';
  const header = ['target', 'req/s', 'p50 ms', 'p99 ms', 'added p50', 'added p99'];
  if (stream) header.push('ttft p50', 'ttft p99', 'ttft +p50', 'ttft +p99');
  header.push('cpu µs/req', 'loop µs/req', 'rss MB', 'errors');
  const rows = mine.map((r) => {
    const x = r.result;
    const direct = r.target === 'direct';
    const row = [
      TARGET_LABEL[r.target], f0(x.rps), f3(x.latency.p50), f3(x.latency.p99),
      direct || !base ? '-' : signed(x.latency.p50 - base.latency.p50),
      direct || !base ? '-' : signed(x.latency.p99 - base.latency.p99),
    ];
    if (stream) {
      row.push(f3(x.ttft?.p50), f3(x.ttft?.p99),
        direct || !base?.ttft || !x.ttft ? '-' : signed(x.ttft.p50 - base.ttft.p50),
        direct || !base?.ttft || !x.ttft ? '-' : signed(x.ttft.p99 - base.ttft.p99));
    }
    row.push(f0(r.proc?.cpuUsPerRequest), f0(r.proc?.mainCpuUsPerRequest), f1(r.proc?.rssMB), String(x.errors));
    return row;
  });
  const title = phase === 'loaded'
    ? `${stream ? 'streaming' : 'non-streaming'}, 16 connections (closed loop, saturated)`
    : `${stream ? 'streaming' : 'non-streaming'}, 1 connection (one request at a time)`;
  const errs = mine.filter((r) => r.result.errorSamples.length).map((r) => `  ${TARGET_LABEL[r.target]} errors, e.g.: ${r.result.errorSamples.join(' || ')}`);
  return [title, table(header, rows), ...errs].join('\n');
}

/** The held targets and the comparison lines, from whatever runs exist. */
export function computeChecks(runs: readonly Run[]): Check[] {
  const out: Check[] = [];
  for (const mode of ['json', 'stream'] as const) {
    const label = mode === 'json' ? 'non-streaming' : 'streaming';
    const red = find(runs, 'redline', mode, 'loaded')?.result;
    const bare = find(runs, 'bare', mode, 'loaded')?.result;
    const pk = find(runs, 'portkey', mode, 'loaded')?.result;
    if (red && bare) {
      const v = (100 * red.rps) / bare.rps;
      out.push({ name: `redline throughput as % of bare proxy, ${label}`, value: v, unit: '%', target: 70, better: 'higher', pass: v >= 70 });
      // The same ratio round by round: how far the machine's drift moved it within this run.
      const ratios = roundRatios(find(runs, 'redline', mode, 'loaded')?.roundRps, find(runs, 'bare', mode, 'loaded')?.roundRps);
      if (ratios.length > 1) {
        out.push({ name: `  same, lowest round of ${ratios.length}`, value: Math.min(...ratios), unit: '%' });
        out.push({ name: `  same, highest round of ${ratios.length}`, value: Math.max(...ratios), unit: '%' });
      }
    }
    // Added latency is held on the one-connection phase: under a saturated closed loop, latency is
    // concurrency / throughput, so the loaded difference repeats the throughput ratio as queueing delay.
    const redS = find(runs, 'redline', mode, 'serial')?.result;
    const dirS = find(runs, 'direct', mode, 'serial')?.result;
    if (redS && dirS) {
      const [a, b] = mode === 'json' ? [redS.latency, dirS.latency] : [redS.ttft!, dirS.ttft!];
      const v = a.p50 - b.p50;
      out.push({ name: `redline added ${mode === 'json' ? 'latency' : 'TTFT'} p50 over direct, ${label}, 1 connection`, value: v, unit: 'ms', target: 0.3, better: 'lower', pass: v <= 0.3 });
      out.push({ name: `redline added ${mode === 'json' ? 'latency' : 'TTFT'} p99 over direct, ${label}, 1 connection`, value: a.p99 - b.p99, unit: 'ms' });
    }
    const redL = red;
    const dirL = find(runs, 'direct', mode, 'loaded')?.result;
    if (redL && dirL) {
      out.push({ name: `redline added latency p50 over direct, ${label}, 16 connections`, value: redL.latency.p50 - dirL.latency.p50, unit: 'ms',
        note: 'includes queueing at saturation' });
    }
    if (red && pk) out.push({ name: `redline / portkey throughput, ${label}`, value: red.rps / pk.rps, unit: '×' });
    const min = find(runs, 'minimal', mode, 'loaded')?.result;
    if (min && bare) out.push({ name: `minimal gateway throughput as % of bare proxy, ${label}`, value: (100 * min.rps) / bare.rps, unit: '%' });
    if (red && min) out.push({ name: `redline throughput as % of minimal gateway, ${label}`, value: (100 * red.rps) / min.rps, unit: '%' });
    const bareS = find(runs, 'bare', mode, 'serial')?.result;
    if (bareS && dirS) {
      const [a, b] = mode === 'json' ? [bareS.latency, dirS.latency] : [bareS.ttft!, dirS.ttft!];
      out.push({ name: `bare proxy added ${mode === 'json' ? 'latency' : 'TTFT'} p50 over direct, ${label}, 1 connection`, value: a.p50 - b.p50, unit: 'ms' });
    }
  }
  return out;
}

export function formatChecks(checks: readonly Check[], stages: StageOutcome): string {
  const lines = [...checks, ...stages.results].map((c) => {
    const value = c.unit === '%' ? `${c.value.toFixed(1)}%` : c.unit === '×' ? `${c.value.toFixed(2)}×` : `${c.value.toFixed(3)} ${c.unit}`;
    const dir = c.better === 'lower' ? '≤ ' : c.better === 'higher' ? '≥ ' : '';
    const tgt = c.target === undefined ? '' : `  (target ${dir}${c.target}${c.unit === '%' ? '%' : ` ${c.unit}`})`;
    const mark = c.pass === undefined ? '' : c.pass ? '  PASS' : '  MISS';
    const note = 'note' in c && c.note ? `  [${c.note}]` : '';
    return `  ${c.name}: ${value}${tgt}${mark}${note}`;
  });
  for (const e of stages.errors) lines.push(`  stage ${e.stage}: ERROR ${e.message}`);
  return lines.join('\n');
}
