// Worker-thread entry for shares.ts: the client side of the interleaved rounds. It runs in its own
// thread so that the in-process gateway's work after it has sent a response (request log, metrics)
// overlaps the client reading that response, as it does when client and gateway are separate
// processes; on one thread that work would be counted as added latency.
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

export interface ClientJob {
  gatewayUrl: string;
  upstreamUrl: string;
  gatewayBody: string;
  upstreamBody: string;
  headers: Record<string, string>;
  budgetMs: number;
  warmupMs: number;
  minRounds: number;
  /** Int32Array over a SharedArrayBuffer: 1 while a request that should skip the ledger is in flight. */
  ledgerOff: Int32Array;
}

export interface ClientResult {
  rounds: number;
  /** ms per request, by kind. */
  direct: number[];
  gateway: number[];
  noLedger: number[];
}

type Kind = 'direct' | 'gateway' | 'noLedger';

async function send(pool: Pool, body: string, headers: Record<string, string>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.body.text();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return ms;
}

async function run(job: ClientJob): Promise<ClientResult> {
  const toGw = new Pool(job.gatewayUrl, { connections: 1, pipelining: 1 });
  const toUp = new Pool(job.upstreamUrl, { connections: 1, pipelining: 1 });
  try {
    const once: Record<Kind, () => Promise<number>> = {
      direct: () => send(toUp, job.upstreamBody, {}),
      gateway: () => send(toGw, job.gatewayBody, job.headers),
      noLedger: async () => {
        Atomics.store(job.ledgerOff, 0, 1);
        try { return await send(toGw, job.gatewayBody, job.headers); } finally { Atomics.store(job.ledgerOff, 0, 0); }
      },
    };
    const order: Kind[] = ['direct', 'gateway', 'noLedger'];
    const out: ClientResult = { rounds: 0, direct: [], gateway: [], noLedger: [] };
    const warmEnd = performance.now() + job.warmupMs;
    while (performance.now() < warmEnd) for (const k of order) await once[k]();
    const end = performance.now() + job.budgetMs;
    // Rotating the order each round keeps any effect of position (a warm cache, a pending timer) even.
    while (performance.now() < end || out.rounds < job.minRounds) {
      for (let j = 0; j < order.length; j++) {
        const k = order[(out.rounds + j) % order.length]!;
        out[k].push(await once[k]());
      }
      out.rounds++;
    }
    return out;
  } finally {
    await toGw.close();
    await toUp.close();
  }
}

run(workerData as ClientJob).then(
  (r) => parentPort!.postMessage({ ok: true, result: r }),
  (e: unknown) => parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) }),
);
