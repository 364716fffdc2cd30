// The processes under test. Each child is spawned detached, i.e. as the leader of its own process
// group, so stopping it signals the whole group (-pid) and nothing it forked survives. Every child
// also loads guard.js, which ends it if the bench itself dies without cleaning up.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

export interface Child {
  name: string;
  pid: number;
  /** Resolves with the first `READY {json}` line the child prints (children we wrote print one). */
  ready: Promise<Record<string, unknown>>;
  /** The last few KB of the child's stdout and stderr, for error reports. */
  output(): string;
  /** The last few KB of stderr alone (stdout may hold half-drawn progress lines). */
  errorOutput(): string;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

export interface SpawnOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnChild(name: string, o: SpawnOptions): Child {
  const proc: ChildProcess = spawn(process.execPath, o.args, {
    cwd: o.cwd,
    env: o.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error(`${name}: spawn failed`);
  const pid = proc.pid;
  let tail = '';
  let errTail = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const keep = (s: string) => { tail = (tail + s).slice(-4096); };
  let lineBuf = '';
  let resolveReady!: (v: Record<string, unknown>) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<Record<string, unknown>>((res, rej) => { resolveReady = res; rejectReady = rej; });
  ready.catch(() => {}); // children without a READY line never await it
  proc.stdout!.setEncoding('utf8').on('data', (s: string) => {
    keep(s);
    lineBuf += s;
    let nl: number;
    while ((nl = lineBuf.indexOf('\n')) >= 0) {
      const line = lineBuf.slice(0, nl);
      lineBuf = lineBuf.slice(nl + 1);
      if (line.startsWith('READY ')) {
        try { resolveReady(JSON.parse(line.slice(6)) as Record<string, unknown>); } catch (e) { rejectReady(e as Error); }
      }
    }
    if (lineBuf.length > 65536) lineBuf = '';
  });
  proc.stderr!.setEncoding('utf8').on('data', (s: string) => { keep(s); errTail = (errTail + s).slice(-4096); });
  const exitedP = new Promise<void>((resolve) => {
    proc.on('exit', (code, signal) => {
      exit = { code, signal };
      live.delete(child);
      rejectReady(new Error(`${name} exited (${signal ?? `code ${code}`}) before it was ready: ${lastLines(tail)}`));
      resolve();
    });
  });
  proc.on('error', (e) => rejectReady(e));
  const child: Child = {
    name,
    pid,
    ready,
    output: () => tail,
    errorOutput: () => errTail,
    exited: () => exit,
    async stop(graceMs = 5_000) {
      if (exit) return;
      signalGroup(pid, 'SIGTERM');
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
      if ((await Promise.race([exitedP.then(() => 'exited' as const), timer])) === 'timeout') {
        signalGroup(pid, 'SIGKILL');
        await Promise.race([exitedP, new Promise((r) => setTimeout(r, 1_000).unref())]);
      }
      live.delete(child);
    },
  };
  live.add(child);
  return child;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pid, sig); } catch { /* already gone */ }
}

/** Synchronous last resort (process 'exit' handlers cannot await): SIGKILL every child group still alive. */
export function killAllNow(): void {
  for (const c of live) signalGroup(c.pid, 'SIGKILL');
  live.clear();
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

/** Output as lines, without terminal escapes (Portkey clears the screen and draws a spinner). */
export function outputLines(s: string): string[] {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r|\n/).map((l) => l.trim()).filter(Boolean);
}

export function lastLines(s: string, n = 4): string {
  return outputLines(s).slice(-n).join(' | ').slice(0, 600);
}

/** A port that was free a moment ago, for programs that take a port number rather than 0. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface ProcStats {
  /** Resident set size now, MB. */
  rssMB: number;
  /** Peak resident set size so far, MB. */
  hwmMB: number;
  /** User + system CPU time consumed so far, ms. */
  cpuMs: number;
  /** The same for the main thread alone (the event loop), ms. */
  mainCpuMs: number;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clockTicks = 100; }
  }
  return clockTicks;
}

/** Reads /proc (Linux only); undefined elsewhere or once the process is gone. */
export function procStats(pid: number): ProcStats | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
    const ms = (statFile: string) => {
      // The command name (field 2) may contain spaces, so count fields after its ')'.
      const stat = readFileSync(statFile, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond(); // utime, stime (fields 14, 15)
    };
    return {
      rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024,
      cpuMs: ms(`/proc/${pid}/stat`), mainCpuMs: ms(`/proc/${pid}/task/${pid}/stat`),
    };
  } catch {
    return undefined;
  }
}
