// `npm run bench`: redline against the practical limit (a bare node:http + undici proxy) and against
// the Portkey gateway, all in front of the same fake OpenAI upstream, each in its own process, driven
// one after another by an undici load generator in this process. Prints tables and target checks and
// writes bench-results.json at the repository root so releases can be compared.
//
// Environment: BENCH_SECONDS (measured seconds per target and mode, default 8), BENCH_WARMUP_SECONDS
// (default 2), BENCH_SERIAL_SECONDS (one-connection latency phase, default 3; 0 skips it),
// BENCH_ROUNDS (default 3: each phase is measured in this many rounds that take the targets in turn,
// so a machine whose speed drifts over minutes slows every target alike; results pool the rounds),
// BENCH_TARGETS (comma list of direct,bare,redline,portkey; default all), BENCH_PROFILE (comma list of
// targets to run under --cpu-prof, e.g. "redline"; profiles land in .bench/ and are summarised),
// BENCH_STAGE_SECONDS (per stage, default 2), BENCH_STRICT=1 (exit 1 when a target is missed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort, killAllNow, lastLines, outputLines, procStats, spawnChild, stopAll, type Child, type ProcStats } from './children.js';
import { probe, runLoad, type Endpoint, type LoadResult } from './load.js';
import { Samples } from './stats.js';
import { formatProfile, summariseProfile } from './profile.js';
import { computeChecks, find, formatChecks, formatRuns, TARGET_LABEL, type Mode, type Phase, type Run, type TargetName } from './report.js';
import { runStages, type StageOutcome } from './stage.js';
import { stages } from './stages/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const CONCURRENCY = 16;
const ADMIN_KEY = 'bench-admin-key-0123456789abcdef';
const ALL_TARGETS: readonly TargetName[] = ['direct', 'bare', 'minimal', 'redline', 'portkey'];

function num(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return v;
}

function list(name: string, dflt: readonly TargetName[]): TargetName[] {
  const raw = process.env[name];
  if (raw === undefined) return [...dflt];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) if (!ALL_TARGETS.includes(n as TargetName)) throw new Error(`${name}: unknown target "${n}" (known: ${ALL_TARGETS.join(', ')})`);
  return names as TargetName[];
}

const settings = {
  measureSeconds: Math.max(0.5, num('BENCH_SECONDS', 8)),
  warmupSeconds: num('BENCH_WARMUP_SECONDS', 2),
  serialSeconds: num('BENCH_SERIAL_SECONDS', 3),
  stageSeconds: num('BENCH_STAGE_SECONDS', 2),
  rounds: Math.max(1, Math.round(num('BENCH_ROUNDS', 3))),
  concurrency: CONCURRENCY,
  targets: list('BENCH_TARGETS', ALL_TARGETS),
  profile: list('BENCH_PROFILE', []),
};

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms); }),
  ]);
}

/**
 * Retries a real chat request until one succeeds, the child dies, or the deadline passes; then tries
 * a streamed one. A target that answers but cannot stream is still measured without streams.
 */
async function waitAnswering(child: Child, ep: Endpoint, deadlineMs: number): Promise<{ streamError?: string }> {
  const end = Date.now() + deadlineMs;
  let last = 'not started';
  for (;;) {
    const ex = child.exited();
    if (ex) throw new Error(`exited (${ex.signal ?? `code ${ex.code}`}): ${lastLines(child.output()) || 'no output'}`);
    try {
      await probe(ep, false, 3_000);
      break;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() >= end) throw new Error(`no good answer within ${deadlineMs / 1000} s (last: ${last})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await probe(ep, true, 3_000);
      return {};
    } catch (e) {
      last = (e as Error).message;
    }
  }
  // The child's own account of the failure is more telling than its HTTP 500.
  const logged = outputLines(child.errorOutput()).reverse().find((l) => /error/i.test(l) && !l.startsWith('at '));
  return { streamError: `${last}${logged ? `; its log: ${logged.slice(0, 200)}` : ''}` };
}

interface Target {
  name: TargetName;
  child: Child;
  ep: Endpoint;
  modes: Mode[];
}

function modesOf(name: TargetName, probed: { streamError?: string }, unavailable: Record<string, string>): Mode[] {
  if (probed.streamError === undefined) return ['json', 'stream'];
  unavailable[`${name} streaming`] = probed.streamError;
  return ['json'];
}

function profileArgs(name: TargetName, dir: string): string[] {
  return settings.profile.includes(name) ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`] : [];
}

async function main(): Promise<number> {
  const started = Date.now();
  const guard = pathToFileURL(join(here, 'guard.js')).href;
  const profileDir = join(root, '.bench', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
  if (settings.profile.length) mkdirSync(profileDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'redline-bench-'));
  tmpDir = tmp;
  const unavailable: Record<string, string> = {};
  const runs: Run[] = [];
  let stageOutcome: StageOutcome = { results: [], errors: [] };
  const load0 = loadavg();

  try {
    // The upstream is needed by every target, including "direct".
    const upstream = spawnChild('upstream', { args: [...profileArgs('direct', profileDir), join(here, 'upstream-child.js')], cwd: root });
    const upUrl = String((await withTimeout(upstream.ready, 15_000, 'fake upstream')).url);
    log(`fake upstream at ${upUrl} (pid ${upstream.pid})`);
    const chatPath = '/v1/chat/completions';
    const targets: Target[] = [];
    if (settings.targets.includes('direct')) targets.push({ name: 'direct', child: upstream, ep: { origin: upUrl, path: chatPath, headers: {}, model: 'm' }, modes: ['json', 'stream'] });

    const starting: Promise<Target | undefined>[] = [];
    if (settings.targets.includes('bare')) {
      starting.push((async () => {
        const child = spawnChild('bare', { args: [...profileArgs('bare', profileDir), join(here, 'bare-proxy-child.js'), upUrl], cwd: root });
        const url = String((await withTimeout(child.ready, 15_000, 'bare proxy')).url);
        const ep = { origin: url, path: chatPath, headers: {}, model: 'm' };
        return { name: 'bare' as const, child, ep, modes: modesOf('bare', await waitAnswering(child, ep, 10_000), unavailable) };
      })());
    }
    if (settings.targets.includes('minimal')) {
      starting.push((async () => {
        const child = spawnChild('minimal', { args: [...profileArgs('minimal', profileDir), join(here, 'minimal-gateway-child.js'), upUrl], cwd: root });
        const url = String((await withTimeout(child.ready, 15_000, 'minimal gateway')).url);
        const ep = { origin: url, path: chatPath, headers: {}, model: 'bench' };
        await waitAnswering(child, ep, 10_000);
        unavailable['minimal streaming'] = 'not built: the minimal gateway re-serialises JSON answers only';
        return { name: 'minimal' as const, child, ep, modes: ['json'] as Mode[] };
      })());
    }
    if (settings.targets.includes('redline')) {
      starting.push((async () => {
        const port = await freePort();
        const dataDir = join(tmp, 'redline-data');
        const configFile = join(tmp, 'redline.json');
        writeFileSync(configFile, JSON.stringify({
          providers: [{ name: 'up', kind: 'openai', baseUrl: `${upUrl}/v1` }],
          routes: [{ alias: 'bench', targets: [{ provider: 'up', model: 'm' }] }],
        }));
        const child = spawnChild('redline', {
          args: ['--import', guard, ...profileArgs('redline', profileDir), join(root, 'dist', 'cli', 'bin.js'), 'serve', '--config', configFile],
          cwd: root,
          env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDLINE_DATA_DIR: dataDir, REDLINE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'warn' },
        });
        const ep = { origin: `http://127.0.0.1:${port}`, path: chatPath, headers: { authorization: `Bearer ${ADMIN_KEY}` }, model: 'bench' };
        return { name: 'redline' as const, child, ep, modes: modesOf('redline', await waitAnswering(child, ep, 20_000), unavailable) };
      })());
    }
    if (settings.targets.includes('portkey')) {
      starting.push((async () => {
        const script = join(root, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
        if (!existsSync(script)) {
          unavailable.portkey = `${script} not found`;
          return undefined;
        }
        const port = await freePort();
        const child = spawnChild('portkey', {
          args: ['--import', guard, '--import', pathToFileURL(join(here, 'loopback.js')).href, ...profileArgs('portkey', profileDir), script, `--port=${port}`, '--headless'],
          cwd: root,
          env: { ...process.env, NODE_ENV: 'production' },
        });
        const ep = {
          origin: `http://127.0.0.1:${port}`, path: chatPath, model: 'm',
          headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${upUrl}/v1`, authorization: 'Bearer x' },
        };
        try {
          return { name: 'portkey' as const, child, ep, modes: modesOf('portkey', await waitAnswering(child, ep, 20_000), unavailable) };
        } catch (e) {
          unavailable.portkey = (e as Error).message;
          await child.stop();
          return undefined;
        }
      })());
    }
    for (const t of await Promise.all(starting)) if (t) targets.push(t);
    targets.sort((a, b) => ALL_TARGETS.indexOf(a.name) - ALL_TARGETS.indexOf(b.name));
    for (const [name, why] of Object.entries(unavailable)) log(`${name}: not available (${why})`);
    log(`targets ready in ${((Date.now() - started) / 1000).toFixed(1)} s: ${targets.map((t) => `${t.name} (pid ${t.child.pid})`).join(', ')}`);

    const phases: { phase: Phase; concurrency: number; warmupMs: number; measureMs: number }[] = [
      { phase: 'loaded', concurrency: CONCURRENCY, warmupMs: settings.warmupSeconds * 1000, measureMs: settings.measureSeconds * 1000 },
    ];
    if (settings.serialSeconds > 0) phases.push({ phase: 'serial', concurrency: 1, warmupMs: 500, measureMs: settings.serialSeconds * 1000 });

    for (const p of phases) {
      for (const mode of ['json', 'stream'] as Mode[]) {
        const inMode = targets.filter((t) => t.modes.includes(mode));
        const pooled = new Map(inMode.map((t) => [t, newPool()]));
        for (let round = 0; round < settings.rounds; round++) {
          for (const t of inMode) {
            const warmupMs = round === 0 ? p.warmupMs : Math.min(p.warmupMs, 500);
            const measureMs = p.measureMs / settings.rounds;
            log(`${TARGET_LABEL[t.name]}, ${mode}, ${p.phase}, round ${round + 1}/${settings.rounds}: ${((warmupMs + measureMs) / 1000).toFixed(1)} s`);
            const acc = pooled.get(t)!;
            let before: ReturnType<typeof procStats>;
            const result = await runLoad(t.ep, {
              stream: mode === 'stream', concurrency: p.concurrency, warmupMs, measureMs, into: acc.samples,
              beforeMeasure: () => { before = procStats(t.child.pid); },
            });
            addRound(acc, result, before, procStats(t.child.pid));
          }
        }
        for (const t of inMode) runs.push(pooledRun(t, mode, p.phase, pooled.get(t)!));
      }
    }
  } finally {
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
  }

  if (stages.length) {
    log(`stages: ${stages.length}`);
    stageOutcome = await runStages(stages, { budgetMs: settings.stageSeconds * 1000 });
  }

  const checks = computeChecks(runs);
  const out: string[] = [''];
  out.push(`redline bench — node ${process.version}, ${cpus().length} cpu (${cpus()[0]?.model ?? '?'}), load avg ${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at end`);
  out.push(`${settings.measureSeconds} s measured per target and mode, in ${settings.rounds} rounds taking the targets in turn (${settings.warmupSeconds} s warm-up first); ${CONCURRENCY} connections, pipelining 1; latencies in ms`);
  out.push(`added = target minus direct-to-upstream at the same percentile; cpu µs/req = CPU of the serving process (upstream for direct) per request, all threads; loop µs/req = its main thread (the event loop) alone`);
  for (const phase of ['loaded', 'serial'] as Phase[]) {
    for (const mode of ['json', 'stream'] as Mode[]) {
      const t = formatRuns(runs, mode, phase);
      if (t) out.push('', t);
    }
  }
  for (const [name, why] of Object.entries(unavailable)) out.push('', `${name}: not available (${why})`);
  out.push('', 'targets and comparisons', formatChecks(checks, stageOutcome));
  console.log(out.join('\n'));

  if (settings.profile.length) {
    for (const name of settings.profile) {
      const dir = join(profileDir, name);
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')) : [];
      if (!files.length) { console.log(`\nprofile ${name}: none written (target not run, or killed before exit)`); continue; }
      for (const f of files) console.log('\n' + formatProfile(`profile ${name}: ${join(dir, f)}`, summariseProfile(join(dir, f))));
    }
  }

  const doc = {
    version: readPackageVersion(),
    commit: gitCommit(),
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    loadavg: { start: load0, end: loadavg() },
    settings,
    unavailable,
    runs: runs.map((r) => ({ ...r, added: addedOver(runs, r) })),
    checks,
    stages: stageOutcome,
  };
  const file = join(root, 'bench-results.json');
  writeFileSync(file, JSON.stringify(doc, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');
  console.log(`\nwrote ${file} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  const missed = [...checks, ...stageOutcome.results].some((c) => c.pass === false) || stageOutcome.errors.length > 0;
  return process.env.BENCH_STRICT === '1' && missed ? 1 : 0;
}

/** Target minus direct at the same percentiles, for readers of the JSON who compare releases. */
function addedOver(runs: readonly Run[], r: Run): Record<string, number> | null {
  const base = r.target === 'direct' ? undefined : find(runs, 'direct', r.mode, r.phase)?.result;
  if (!base) return null;
  const x = r.result;
  return {
    latencyP50: x.latency.p50 - base.latency.p50,
    latencyP99: x.latency.p99 - base.latency.p99,
    ...(x.ttft && base.ttft && { ttftP50: x.ttft.p50 - base.ttft.p50, ttftP99: x.ttft.p99 - base.ttft.p99 }),
  };
}

function readPackageVersion(): string | null {
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

/** Read-only; absent outside a git checkout. */
function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/** One target's rounds of one phase and mode, pooled. */
interface Pool {
  samples: { latency: Samples; ttft: Samples };
  requests: number;
  errors: number;
  errorSamples: Set<string>;
  elapsedMs: number;
  loadgenCpuMs: number;
  cpuMs: number;
  mainCpuMs: number;
  /** Whether every round could read the process's counters. */
  counted: boolean;
  last?: ProcStats;
  stream: boolean;
  roundRps: number[];
}

function newPool(): Pool {
  return { samples: { latency: new Samples(), ttft: new Samples() }, requests: 0, errors: 0, errorSamples: new Set(), elapsedMs: 0, loadgenCpuMs: 0, cpuMs: 0, mainCpuMs: 0, counted: true, stream: false, roundRps: [] };
}

function addRound(acc: Pool, r: LoadResult, before: ProcStats | undefined, after: ProcStats | undefined): void {
  acc.requests += r.requests;
  acc.errors += r.errors;
  for (const e of r.errorSamples) if (acc.errorSamples.size < 3) acc.errorSamples.add(e);
  acc.elapsedMs += r.elapsedMs;
  acc.loadgenCpuMs += r.loadgenCpuMs;
  acc.stream = r.ttft !== undefined;
  acc.roundRps.push(r.rps);
  if (before && after) {
    acc.cpuMs += after.cpuMs - before.cpuMs;
    acc.mainCpuMs += after.mainCpuMs - before.mainCpuMs;
    acc.last = after;
  } else acc.counted = false;
}

function pooledRun(t: Target, mode: Mode, phase: Phase, acc: Pool): Run {
  const result: LoadResult = {
    requests: acc.requests, errors: acc.errors, errorSamples: [...acc.errorSamples], elapsedMs: acc.elapsedMs,
    rps: acc.requests / (acc.elapsedMs / 1000),
    latency: acc.samples.latency.summary(),
    ...(acc.stream && { ttft: acc.samples.ttft.summary() }),
    loadgenCpuMs: acc.loadgenCpuMs,
  };
  const run: Run = { target: t.name, mode, phase, result, roundRps: acc.roundRps };
  const done = acc.requests + acc.errors;
  if (acc.last) {
    run.proc = {
      pid: t.child.pid, rssMB: acc.last.rssMB, hwmMB: acc.last.hwmMB,
      cpuUsPerRequest: acc.counted && done > 0 ? (acc.cpuMs * 1000) / done : Number.NaN,
      mainCpuUsPerRequest: acc.counted && done > 0 ? (acc.mainCpuMs * 1000) / done : Number.NaN,
    };
  }
  return run;
}

let tmpDir: string | undefined;

// Children and the scratch directory must not outlive the bench, whatever ends it.
process.on('exit', () => {
  killAllNow();
  if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping children`);
    killAllNow();
    process.exit(130);
  });
}

// A hard ceiling on the whole run, from the configured durations, so a wedged target cannot hang it.
const perTarget = 2 * (settings.warmupSeconds + settings.measureSeconds + settings.rounds * 0.5) + (settings.serialSeconds > 0 ? 2 * (settings.rounds * 0.5 + settings.serialSeconds) : 0);
const ceilingMs = (60 + 1.5 * (settings.targets.length * perTarget + (stages.length * settings.stageSeconds) * 2 + 20)) * 1000;
const ceiling = setTimeout(() => {
  log(`hard time limit of ${(ceilingMs / 1000).toFixed(0)} s reached: stopping`);
  killAllNow();
  process.exit(2);
}, ceilingMs);
ceiling.unref();

main().then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    console.error(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    killAllNow();
    process.exitCode = 1;
  },
);
