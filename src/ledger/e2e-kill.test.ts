// The judged scenario end to end: a real gateway process under concurrent chat load is killed with
// SIGKILL; it must come back on the same data directory, the verifier CLI (another process) must accept
// the ledger, the log must still extend a checkpoint served before the crash, and every decision the
// gateway acknowledged with a 200 must be in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openLedgerReader, VERIFIERS_FILE } from './index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../cli/bin.ts', import.meta.url));
const ADMIN_KEY = 'e2e-kill-admin-key-0123456789abcdef';
const IN_FLIGHT = 8;
/** Kill once this many requests were acknowledged (and a checkpoint was taken), or after LOAD_MAX_MS. */
const ACKED_BEFORE_KILL = 1000;
const LOAD_MAX_MS = 6_000;

interface Proc {
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const proc = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (s: string) => { tail = (tail + s).slice(-4000); };
  proc.stdout!.setEncoding('utf8').on('data', keep);
  proc.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return { proc, output: () => tail, exited };
}

/** The gateway takes a port number, and PORT=0 would leave us guessing which one it got. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen(0, '127.0.0.1', resolve); });
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function serve(configFile: string, dataDir: string, port: number): Proc {
  return start(['serve', '--config', configFile], {
    PORT: String(port), HOST: '127.0.0.1', REDLINE_DATA_DIR: dataDir, REDLINE_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'warn',
  });
}

async function waitReady(p: Proc, base: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) throw new Error(`gateway exited before it was ready: ${p.output()}`);
    try {
      const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`gateway not ready within ${ms / 1000} s: ${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function chat(base: string, n: number): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: `plan delivery route number ${n} for the depot` }] }),
  });
}

const modes: [string, Record<string, unknown>][] = [['in the event loop', {}], ['on its own thread', { ledger: { thread: true } }]];
for (const [mode, extra] of modes) test(`after kill -9 under load, the CLI verifies the ledger from outside and it holds every acknowledged decision (ledger ${mode})`, { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-e2e-kill-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'redline.json');
  // The embedded defaults, written out so a redline.yaml in the working directory cannot interfere.
  writeFileSync(configFile, JSON.stringify({
    providers: [{ name: 'demo', kind: 'demo' }],
    routes: [{ alias: 'demo', targets: [{ provider: 'demo', model: 'demo' }] }],
    ...extra,
  }));
  const procs: Proc[] = [];
  try {
    // ---- first life: load, a checkpoint mid-load, then SIGKILL with requests in flight ----
    const port1 = await freePort();
    const base1 = `http://127.0.0.1:${port1}`;
    const first = serve(configFile, dataDir, port1);
    procs.push(first);
    await waitReady(first, base1);

    const acked: string[] = [];
    const refusedBeforeKill: string[] = [];
    let killed = false;
    let seq = 0;
    const worker = async (): Promise<void> => {
      while (!killed) {
        let res: Response;
        try {
          res = await chat(base1, seq++);
        } catch (e) {
          if (killed) return;
          throw e;
        }
        // A 200's headers are sent only after the decision's ledger commit: from here on it is acknowledged.
        if (res.status === 200) {
          const id = res.headers.get('x-redline-decision-id');
          assert.ok(id, 'a 200 carries x-redline-decision-id');
          acked.push(id);
        } else if (!killed) {
          refusedBeforeKill.push(String(res.status));
        }
        await res.arrayBuffer().catch(() => undefined);
      }
    };
    const loadStart = Date.now();
    const workers = Array.from({ length: IN_FLIGHT }, worker);

    // A checkpoint served while under load: the log after the crash must still extend it.
    while (acked.length < ACKED_BEFORE_KILL / 3 && Date.now() - loadStart < LOAD_MAX_MS / 2) await new Promise((r) => setTimeout(r, 20));
    const cpRes = await fetch(`${base1}/ledger/checkpoint`);
    assert.equal(cpRes.status, 200);
    const oldCheckpoint = join(dir, 'before-kill.checkpoint');
    writeFileSync(oldCheckpoint, await cpRes.text());

    while (acked.length < ACKED_BEFORE_KILL && Date.now() - loadStart < LOAD_MAX_MS) await new Promise((r) => setTimeout(r, 10));
    first.proc.kill('SIGKILL');
    killed = true;
    const killedAt = Date.now();
    assert.equal((await first.exited).signal, 'SIGKILL');
    await Promise.all(workers);
    assert.deepEqual(refusedBeforeKill, [], 'no request was refused while the gateway was healthy');
    assert.ok(acked.length >= 20, `only ${acked.length} requests were acknowledged before the kill`);

    // ---- second life on the same data directory ----
    const port2 = await freePort();
    const base2 = `http://127.0.0.1:${port2}`;
    const second = serve(configFile, dataDir, port2);
    procs.push(second);
    await waitReady(second, base2);
    // Asking for the checkpoint makes the restarted gateway sign and store one over everything it holds,
    // which is what the verifier reads from the file.
    const cp2 = await fetch(`${base2}/ledger/checkpoint`);
    assert.equal(cp2.status, 200);
    await cp2.text();

    // ---- the verifier, from outside: another process reading the SQLite file read-only ----
    const verifier = start(['ledger', 'verify', '--dir', dataDir, '--key-file', join(dataDir, 'ledger', VERIFIERS_FILE), '--old-checkpoint', oldCheckpoint], {});
    procs.push(verifier);
    const v = await verifier.exited;
    assert.equal(v.code, 0, `redline ledger verify failed: ${verifier.output()}`);
    assert.match(verifier.output(), /^entries: rebuilt the tree from \d+ entries; its root matches the checkpoint/m);
    assert.match(verifier.output(), /^consistency: old checkpoint \(size \d+\) is a prefix of the current tree/m);

    // ---- every acknowledged decision is in the log ----
    const db = new Database(join(dataDir, 'redline.db'), { readonly: true, fileMustExist: true });
    const where = new Map<string, number>();
    let size: number;
    try {
      const reader = openLedgerReader(db);
      size = reader.size();
      for (let i = 0; i < size; i++) where.set(reader.entry(i)!.entry.decisionId, i);
    } finally {
      db.close();
    }
    const verifiedSize = Number(/^checkpoint: \S+ size (\d+)/m.exec(verifier.output())?.[1]);
    assert.equal(verifiedSize, size, 'the verified checkpoint covers the whole log');
    if (process.env.LEDGER_TEST_VERBOSE) console.log({ acked: acked.length, loadMs: killedAt - loadStart, logSize: size, verifier: verifier.output() });
    const missing = acked.filter((id) => !where.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged decisions are not in the log`);

    // ---- the restarted gateway still serves: reads the old entries and records new decisions ----
    const last = acked[acked.length - 1]!;
    const got = await fetch(`${base2}/v1/redline/ledger/entries/${where.get(last)}`);
    assert.equal(got.status, 200);
    assert.equal(((await got.json()) as { entry: { decisionId: string } }).entry.decisionId, last);
    const after = await chat(base2, seq++);
    assert.equal(after.status, 200);
    const newId = after.headers.get('x-redline-decision-id');
    await after.arrayBuffer();
    let found = false;
    for (let i = size; i < size + 10 && !found; i++) {
      const r = await fetch(`${base2}/v1/redline/ledger/entries/${i}`);
      const body = (await r.json()) as { entry?: { decisionId: string } };
      if (r.status === 200 && body.entry?.decisionId === newId) found = true;
    }
    assert.ok(found, 'a decision made after the restart is appended after the surviving entries');

    second.proc.kill('SIGTERM');
    await second.exited;
  } finally {
    for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    rmSync(dir, { recursive: true, force: true });
  }
});
