// Each step's share of the latency redline adds over calling the upstream directly: assess
// (classifier + PII + bulk), policy, ledger, and proxying (everything else: HTTP in and out, auth,
// parsing and rendering, the upstream client, the request log).
//
// How it is split. The fake upstream runs in its own process, as in the HTTP part of the bench; a real
// gateway (startGateway, real SQLite file, loopback HTTP) runs in this process, so its ledger can be
// switched off per request; the client runs in a worker thread. One connection, one request at a
// time, three kinds interleaved round by
// round so drift hits all alike: direct to the upstream, through the gateway, and through the gateway
// with the ledger append answered at once. Then, at p50:
//   added     = gateway − direct
//   ledger    = (gateway − gateway without ledger) + building the entry (timed alone)
//   assess    = the gateway's assessor on the same request, timed alone
//   policy    = the gateway's policy step (decideCall) on the same request, timed alone
//   proxying  = added − assess − policy − ledger
// Assess and policy are synchronous on the request path, so their time alone is their share. The
// ledger's share is measured A/B rather than alone, so it stays right whether the pipeline awaits the
// commit before forwarding or lets it overlap the upstream call.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { loadConfig, type Config } from '../../config/index.js';
import { decideCall, decisionEntry, pseudonymizer, type Call } from '../../gateway/index.js';
import { entryBytes, toLedgerEntry } from '../../ledger/index.js';
import { startGateway, type Gateway } from '../../main.js';
import { createPolicyEngine, DEFAULT_POLICY_DIR } from '../../policy/index.js';
import { loadOrCreateSecret } from '../../store/index.js';
import { spawnChild, type Child } from '../children.js';
import { timeCalls, type StageContext, type StageResult } from '../stage.js';
import { summarise } from '../stats.js';
import type { ClientJob, ClientResult } from './shares-client.js';
import { benchAssessor } from './assess.js';
import { chatBodyOf, chatRequestOf, promptText } from './fixtures.js';

const ADMIN_KEY = 'bench-shares-admin-key-0123456789';

async function startUpstream(): Promise<{ child: Child; url: string }> {
  // Compiled (npm run bench) this file is .js beside upstream-child.js; under tsx both are .ts.
  const ts = import.meta.url.endsWith('.ts');
  const entry = fileURLToPath(new URL(`../upstream-child.${ts ? 'ts' : 'js'}`, import.meta.url));
  const child = spawnChild('shares-upstream', { args: [...(ts ? ['--import', 'tsx'] : []), entry] });
  const ready = await Promise.race([
    child.ready,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('fake upstream did not start within 15 s')), 15_000).unref()),
  ]);
  return { child, url: String(ready.url) };
}

function configFor(dir: string, upstreamUrl: string): Config {
  const file = join(dir, 'redline.json');
  // Two targets, as a typical route with a fallback; the first serves.
  writeFileSync(file, JSON.stringify({
    providers: [
      { name: 'primary', kind: 'openai', baseUrl: `${upstreamUrl}/v1` },
      { name: 'fallback', kind: 'openai', baseUrl: `${upstreamUrl}/v1` },
    ],
    routes: [{ alias: 'bench', targets: [{ provider: 'primary', model: 'm' }, { provider: 'fallback', model: 'm' }] }],
  }));
  return loadConfig({ file, env: { REDLINE_DATA_DIR: join(dir, 'data'), REDLINE_ADMIN_KEY: ADMIN_KEY, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' } });
}

/** Runs the client rounds in a worker thread (see shares-client.ts for why). */
async function clientRounds(job: ClientJob): Promise<ClientResult> {
  const ts = import.meta.url.endsWith('.ts');
  const entry = new URL(`./shares-client.${ts ? 'ts' : 'js'}`, import.meta.url);
  // Compiled (npm run bench) the entry is plain JS. Under tsx the worker needs tsx's loader, and Node 20
  // workers do not take --import, so a small bootstrap registers it before loading the entry.
  const worker = ts
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true, workerData: job })
    : new Worker(entry, { workerData: job });
  try {
    return await new Promise<ClientResult>((resolve, reject) => {
      worker.once('message', (m: { ok: true; result: ClientResult } | { ok: false; error: string }) => (m.ok ? resolve(m.result) : reject(new Error(m.error))));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`client worker exited (code ${code}) without a result`)));
    });
  } finally {
    await worker.terminate();
  }
}

interface Split { addedUs: number; assessUs: number; policyUs: number; ledgerUs: number; proxyUs: number; rounds: number }

async function split(gw: Gateway, config: Config, upstreamUrl: string, text: string, budgetMs: number, ledgerOff: Int32Array): Promise<Split> {
  const r = await clientRounds({
    gatewayUrl: gw.url, upstreamUrl,
    gatewayBody: chatBodyOf(text, 'bench'), upstreamBody: chatBodyOf(text, 'm'),
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
    budgetMs, warmupMs: Math.min(1_000, budgetMs / 3), minRounds: 100, ledgerOff,
  });
  const p50 = (k: 'direct' | 'gateway' | 'noLedger') => summarise(r[k]).p50 * 1000;

  // The same request through the gateway's own steps, alone.
  const admin = await gw.store.keys.getPrincipalByName('admin');
  if (!admin) throw new Error('the gateway has no admin principal');
  const req = chatRequestOf(text, 'bench');
  const signal = new AbortController().signal;
  const call: Call = {
    api: 'openai', requestId: 'req-bench', req, signal, startedAt: 0,
    caller: { principal: admin, key: { id: 'k', principalId: admin.id, principalName: admin.name, label: 'bench', prefix: 'bench', createdAt: admin.createdAt, revokedAt: null } },
  };
  const route = { alias: 'bench', targets: config.routes[0]!.targets };
  const assessor = benchAssessor();
  const policy = {
    engine: createPolicyEngine({ dir: config.policy.dir ?? DEFAULT_POLICY_DIR }),
    termsOf: (name: string) => ({ name, forbiddenUses: [] }),
    bulkWindowSeconds: config.bulk.windowSeconds,
  };
  const secret = loadOrCreateSecret(config.dataDir);
  const record = { ledger: gw.ledger, pseudonym: pseudonymizer(secret), commitBefore: 'forward' as const };
  const part = Math.max(300, budgetMs / 4);
  const assessment = await assessor.assess(req, admin.id, signal);
  const decided = decideCall(call, route, assessment, policy);
  if (decided.decision.kind !== 'allow') throw new Error(`the bench request was decided "${decided.decision.kind}", expected "allow"`);
  const assessT = await timeCalls(() => assessor.assess(req, admin.id, signal), { budgetMs: part });
  const policyT = await timeCalls(() => decideCall(call, route, assessment, policy), { budgetMs: part });
  const entryT = await timeCalls(() => entryBytes(toLedgerEntry(decisionEntry(call, route, assessment, decided, record), () => new Date())), { budgetMs: part });

  const addedUs = p50('gateway') - p50('direct');
  const assessUs = assessT.p50 * 1000;
  const policyUs = policyT.p50 * 1000;
  const ledgerUs = p50('gateway') - p50('noLedger') + entryT.p50 * 1000;
  return { addedUs, assessUs, policyUs, ledgerUs, proxyUs: addedUs - assessUs - policyUs - ledgerUs, rounds: r.rounds };
}

function lines(label: string, s: Split): StageResult[] {
  const pct = (us: number) => (s.addedUs > 0 ? (100 * us) / s.addedUs : Number.NaN);
  const us = (v: number) => `${v.toFixed(0)} µs`;
  return [
    { name: `redline added latency p50 over direct, ${label}, 1 connection, in-process gateway (${s.rounds} rounds)`, value: s.addedUs / 1000, unit: 'ms' },
    { name: `  share: assess (classifier + PII + bulk), ${us(s.assessUs)}`, value: pct(s.assessUs), unit: '%' },
    { name: `  share: policy (decide over 2 targets, memoised), ${us(s.policyUs)}`, value: pct(s.policyUs), unit: '%' },
    { name: `  share: ledger (entry + commit wait), ${us(s.ledgerUs)}`, value: pct(s.ledgerUs), unit: '%' },
    { name: `  share: proxying (HTTP, auth, codecs, upstream client, request log), ${us(s.proxyUs)}`, value: pct(s.proxyUs), unit: '%' },
  ];
}

export async function addedLatencyShares(ctx: StageContext): Promise<StageResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-shares-'));
  let up: { child: Child; url: string } | undefined;
  let gw: Gateway | undefined;
  try {
    up = await startUpstream();
    const config = configFor(dir, up.url);
    gw = await startGateway(config);
    // Switch the ledger off per request by wrapping the gateway's own ledger object (the pipeline calls
    // append on it at request time); bench-only, so the gateway needs no hook for it.
    const ledgerOff = new Int32Array(new SharedArrayBuffer(4));
    const append = gw.ledger.append.bind(gw.ledger);
    gw.ledger.append = (e) => (Atomics.load(ledgerOff, 0) === 1 ? Promise.resolve({ index: -1 }) : append(e));
    return [
      ...lines('"hello bench" (the HTTP bench request)', await split(gw, config, up.url, 'hello bench', ctx.budgetMs, ledgerOff)),
      ...lines('8 KB prompt with 5 identifiers', await split(gw, config, up.url, promptText({ identifiers: true }), ctx.budgetMs, ledgerOff)),
    ];
  } finally {
    await gw?.close();
    await up?.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
