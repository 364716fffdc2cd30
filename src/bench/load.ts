// The load generator: a closed loop of N workers over an undici Pool with N connections, each sending
// one small chat request after another and timing it with the monotonic clock. A warm-up phase opens
// the connections and lets the JIT settle; only the measured phase is recorded.
import { Pool } from 'undici';
import { Samples, type Summary } from './stats.js';

export interface Endpoint {
  origin: string;
  path: string;
  headers: Record<string, string>;
  model: string;
}

export interface LoadOptions {
  stream: boolean;
  /** Concurrent workers; the pool gets exactly this many connections, pipelining 1. */
  concurrency: number;
  warmupMs: number;
  measureMs: number;
  /** Called between warm-up and measurement, e.g. to read the target process's CPU counters. */
  beforeMeasure?: () => void;
  /** Record latencies into these (to pool several runs of one target); the result summarises them. */
  into?: { latency: Samples; ttft: Samples };
}

export interface LoadResult {
  requests: number;
  errors: number;
  /** A few distinct error descriptions (status and body excerpt, or the exception). */
  errorSamples: string[];
  elapsedMs: number;
  rps: number;
  /** Whole request: send to last body byte. */
  latency: Summary;
  /** Streams only: send to the first token (see hasToken). */
  ttft?: Summary;
  /** CPU the load generator itself spent in the measured phase, ms (user + system). */
  loadgenCpuMs: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Whether the stream text from `from` on holds the first token: a chunk whose delta has non-empty
 * `content`. Time to first token is measured to there, not to the first byte: an opening chunk that
 * names only the role carries no token, and gateways differ in when they send it (redline holds it
 * briefly to keep fallback possible; see gateway/pipeline.ts).
 */
export function hasToken(text: string, from: number): boolean {
  const key = '"content":"';
  for (let i = text.indexOf(key, Math.max(0, from - key.length)); i >= 0; i = text.indexOf(key, i + 1)) {
    const next = text[i + key.length];
    if (next !== undefined && next !== '"') return true;
  }
  return false;
}

export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: 'hello bench' }], ...(stream && { stream: true }) });
}

/** One request end to end; used as a readiness and correctness probe before any load. */
export async function probe(ep: Endpoint, stream: boolean, timeoutMs = 5_000): Promise<void> {
  const pool = new Pool(ep.origin, { connections: 1, pipelining: 1 });
  try {
    const res = await pool.request({
      method: 'POST', path: ep.path, headers: { 'content-type': 'application/json', ...ep.headers },
      body: chatBody(ep.model, stream), headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    const bad = check(res.statusCode, text, stream);
    if (bad) throw new Error(bad);
  } finally {
    await pool.destroy().catch(() => {});
  }
}

/** Undefined when the answer looks right; otherwise a short description that never includes a whole body. */
function check(status: number, text: string, stream: boolean): string | undefined {
  if (status !== 200) return `HTTP ${status}: ${text.slice(0, 160)}`;
  if (stream ? !text.includes('data: [DONE]') : !text.includes('"choices"')) return `unexpected ${stream ? 'stream' : 'body'}: ${text.slice(0, 160)}`;
  return undefined;
}

export async function runLoad(ep: Endpoint, o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(ep.origin, {
    connections: o.concurrency, pipelining: 1, keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  const body = chatBody(ep.model, o.stream);
  const headers = { 'content-type': 'application/json', ...ep.headers };
  let recording = false;
  let requests = 0;
  let errors = 0;
  const errorSamples = new Set<string>();
  const latency = o.into?.latency ?? new Samples();
  const ttft = o.into?.ttft ?? new Samples();

  const fail = (why: string) => {
    errors++;
    if (errorSamples.size < 3) errorSamples.add(why);
  };

  const worker = async (until: number) => {
    while (performance.now() < until) {
      const t0 = process.hrtime.bigint();
      let first = 0n;
      try {
        const res = await pool.request({ method: 'POST', path: ep.path, headers, body });
        let text = '';
        for await (const chunk of res.body) {
          const from = text.length;
          text += (chunk as Buffer).toString('latin1');
          if (first === 0n && o.stream && hasToken(text, from)) first = process.hrtime.bigint();
        }
        const t1 = process.hrtime.bigint();
        if (!recording) continue;
        const bad = check(res.statusCode, text, o.stream);
        if (bad) { fail(bad); continue; }
        requests++;
        latency.push(Number(t1 - t0) / 1e6);
        if (o.stream) ttft.push(Number((first || t1) - t0) / 1e6);
      } catch (e) {
        if (recording) fail((e as Error).message ?? String(e));
        // A refused or reset connection fails instantly; do not spin the CPU that the target needs.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };

  const workers = (until: number) => Promise.all(Array.from({ length: o.concurrency }, () => worker(until)));
  try {
    if (o.warmupMs > 0) await workers(performance.now() + o.warmupMs);
    o.beforeMeasure?.();
    recording = true;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await workers(start + o.measureMs);
    const elapsedMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    return {
      requests, errors, errorSamples: [...errorSamples], elapsedMs,
      rps: requests / (elapsedMs / 1000),
      latency: latency.summary(),
      ...(o.stream && { ttft: ttft.summary() }),
      loadgenCpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await pool.destroy().catch(() => {});
  }
}
