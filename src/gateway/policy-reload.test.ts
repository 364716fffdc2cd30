// A bad policy change under load: while requests keep flowing, a policy file is overwritten with a
// syntax error and then with a schema violation. Reloads (file watcher and admin API) reject both,
// the active set stays, and no request fails. A valid change is then picked up, by the watcher and
// by the API, and the version header moves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_POLICY_DIR } from '../policy/index.js';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';

let gw: TestGateway;
let dir: string;
let file: string;
let original: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redline-policy-reload-'));
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
  file = join(dir, '20-restricted.cedar');
  original = readFileSync(file, 'utf8');
  gw = await startTestGateway({ policy: { dir, watch: true } });
});
after(async () => {
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
});

const LAWFUL = 'Plan the fuel and spare-parts resupply schedule for three maintenance depots over the next quarter.';
const INVESTIGATION = 'Pull the phone records, bank transactions and travel history of John Smith, the suspect in case 24-1183, and build a timeline of his movements.';

interface Seen { status: number; version: string | null; at: number }

/** Requests back to back from `n` workers (alternating the two APIs) until stopped; answers kept in arrival order. */
function load(n: number) {
  const seen: Seen[] = [];
  let running = true;
  const one = async (worker: number): Promise<void> => {
    while (running) {
      const res = await gw.post(worker % 2 ? '/v1/messages' : '/v1/chat/completions', { model: 'demo', max_tokens: 16, messages: [{ role: 'user', content: LAWFUL }] });
      await res.arrayBuffer();
      seen.push({ status: res.status, version: res.headers.get('x-redline-policy-version'), at: seen.length });
    }
  };
  const workers = Array.from({ length: n }, (_, i) => one(i));
  return {
    seen,
    /** Resolves once `k` more answers have arrived. */
    async more(k: number): Promise<void> {
      const target = seen.length + k;
      while (seen.length < target) await sleep(5);
    },
    async stop(): Promise<void> {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function reload(): Promise<{ status: number; body: any }> {
  const res = await gw.post('/v1/redline/policy/reload', {});
  return { status: res.status, body: await res.json() };
}

async function currentVersion(): Promise<string> {
  const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: LAWFUL }] });
  await res.arrayBuffer();
  assert.equal(res.status, 200);
  return res.headers.get('x-redline-policy-version')!;
}

/** Polls until the served version differs from `from` (the watcher's reload is asynchronous). */
async function versionChangedFrom(from: string): Promise<string> {
  for (let i = 0; i < 400; i++) {
    const v = await currentVersion();
    if (v !== from) return v;
    await sleep(10);
  }
  assert.fail(`the policy version stayed ${from}`);
}

/** The reason the targeted-investigation policy gives, read through a real request. */
async function investigationReason(): Promise<string> {
  const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: INVESTIGATION }] });
  assert.equal(res.status, 403);
  const body = await res.json() as any;
  return body.error.reasons.join('; ');
}

test('bad policy files are rejected under load; valid changes are picked up', async () => {
  const policyRes = await fetch(gw.url + '/v1/redline/policy', { headers: { authorization: `Bearer ${gw.key}` } });
  const v0full = (await policyRes.json() as { version: string }).version;
  const v0 = v0full.slice(0, 16);
  assert.equal(await currentVersion(), v0);

  const WORKERS = 2;
  const traffic = load(WORKERS);
  try {
    await traffic.more(5);

    // 1. A syntax error.
    writeFileSync(file, original.replace('forbid (principal, action, resource)\nwhen { context.labels.contains("targeted_investigation")', 'forbid (principal, action resource\nwhen { context.labels.contains("targeted_investigation")'));
    let r = await reload();
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'policy_invalid');
    assert.ok(Array.isArray(r.body.error.errors) && r.body.error.errors.length > 0);
    assert.ok(r.body.error.errors.some((e: string) => e.includes('20-restricted.cedar')), r.body.error.errors.join('\n'));
    assert.equal(r.body.active_version, v0full);
    await sleep(400); // past the watcher's debounce, so its reload of the bad file has run too
    await traffic.more(5);

    // 2. Parses, but reads an attribute the schema does not have.
    writeFileSync(file, original.replace('context.legal_authority == ""', 'context.legal_authority_ref == ""'));
    r = await reload();
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, 'policy_invalid');
    assert.ok(r.body.error.errors.some((e: string) => /legal_authority_ref/.test(e)), r.body.error.errors.join('\n'));
    assert.equal(r.body.active_version, v0full);
    await sleep(400);
    await traffic.more(5);

    const bad = traffic.seen.length;
    assert.ok(traffic.seen.every((s) => s.status === 200), 'no request failed while the bad files were in place');
    assert.ok(traffic.seen.every((s) => s.version === v0), 'every request was decided by the old version');
    // The old set is not only named but used: its reason text still comes back.
    assert.match(await investigationReason(), /attach the warrant or court order reference/);

    // 3. A valid change, picked up by the file watcher alone.
    writeFileSync(file, original.replace('attach the warrant or court order reference to the request', 'attach the warrant or court order reference (x-redline-legal-authority header)'));
    const v1 = await versionChangedFrom(v0);
    assert.match(await investigationReason(), /x-redline-legal-authority header/);
    await traffic.more(5);

    // 4. Another valid change, loaded through the admin API without waiting for the watcher.
    writeFileSync(file, original.replace('attach the warrant or court order reference to the request', 'attach a legal authority reference'));
    r = await reload();
    assert.equal(r.status, 200);
    const v2 = (r.body.version as string).slice(0, 16);
    assert.notEqual(v2, v1);
    assert.notEqual(v2, v0);
    assert.equal(await currentVersion(), v2);
    // Each worker has at most one request in flight that may have been decided before the reload.
    const mark = traffic.seen.length + WORKERS;
    assert.match(await investigationReason(), /attach a legal authority reference/);
    await traffic.more(8);
    await traffic.stop();

    assert.ok(traffic.seen.every((s) => s.status === 200), 'no request failed at any point');
    const versions = traffic.seen.map((s) => s.version);
    assert.ok(versions.every((v) => v === v0 || v === v1 || v === v2), `unexpected versions: ${[...new Set(versions)].join(', ')}`);
    assert.ok(versions.slice(0, bad).every((v) => v === v0));
    assert.ok(versions.slice(mark).every((v) => v === v2), 'requests after the API reload use the new version');
  } finally {
    await traffic.stop();
  }
});
