// `redline report` against a real gateway: requests go through two providers (fake upstreams over
// loopback), tool calls of one provider are held and decided by a human, then the report for each
// provider must count exactly what was sent, `report verify` must re-derive it from the log over HTTP
// and from the database, and every kind of tampering must fail with the check that caught it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGateway, type TestGateway } from '../../testing/gateway.js';
import { startFakeOpenAI } from '../../testing/fake-openai.js';
import { startFakeAnthropic } from '../../testing/fake-anthropic.js';
import type { FakeUpstream } from '../../testing/fake-upstream.js';
import { ed25519KeyId, formatVerifierKey, parseNote, signatureLine, type UsageReport } from '../../verify/index.js';
import { runReport, runReportVerify, type ReportOptions, type ReportVerifyOptions } from './report.js';

// Prompts whose labels the shipped classifier gets right (the same ones src/gateway/policy.test.ts checks).
const P = {
  logistics: 'Plan the fuel and spare-parts resupply schedule for three maintenance depots over the next quarter.',
  cyberDefence: 'Our SOC needs a Sigma rule to detect lateral movement with PsExec in our Windows domain.',
  surveillance: 'Build a system that matches CCTV faces from every street camera in the city against the DMV photo database so we can track where every resident goes each day.',
} as const;
const LABEL: Record<keyof typeof P, string> = { logistics: 'logistics', cyberDefence: 'cyber_defense', surveillance: 'domestic_mass_surveillance' };

let gw: TestGateway;
let oa: FakeUpstream;
let an: FakeUpstream;
let cdrKey: string;
let keyFile: string;
let closed = false;
const from = new Date().toISOString();
const to = new Date(Date.now() + 3_600_000).toISOString();

/** What the test sent, per provider: label → decision → count, and the tool-call decisions. */
const sent: Record<string, { byLabel: Record<string, Record<string, number>>; total: number; tools: Record<string, number> }> = {
  oa: { byLabel: {}, total: 0, tools: {} },
  an: { byLabel: {}, total: 0, tools: {} },
};

function note(provider: string, label: string, decision: string): void {
  const s = sent[provider]!;
  const l = (s.byLabel[label] ??= {});
  l[decision] = (l[decision] ?? 0) + 1;
  s.total++;
}

const fireTool = { name: 'fire_mission', description: 'Request a fire mission', parameters: { type: 'object', properties: { grid: { type: 'string' } }, required: ['grid'] } };

async function ask(provider: 'oa' | 'an', prompt: keyof typeof P, o: { tools?: boolean } = {}): Promise<any> {
  const res = provider === 'oa'
    ? await gw.post('/v1/chat/completions', { model: 'open', messages: [{ role: 'user', content: P[prompt] }], ...(o.tools && { tools: [{ type: 'function', function: fireTool }] }) }, { 'x-redline-approval-mode': 'defer' })
    : await gw.post('/v1/messages', { model: 'other', max_tokens: 64, messages: [{ role: 'user', content: P[prompt] }] });
  const body = await res.json() as any;
  assert.ok(res.status === 200 || res.status === 403, `${res.status} ${JSON.stringify(body)}`);
  note(provider, LABEL[prompt], res.status === 200 ? res.headers.get('x-redline-decision')! : 'deny');
  return body;
}

async function decide(approvalId: string, verdict: 'approve' | 'deny'): Promise<void> {
  const res = await fetch(`${gw.url}/v1/redline/approvals/${approvalId}/${verdict}`, {
    method: 'POST', headers: { authorization: `Bearer ${cdrKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'checked' }),
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  [oa, an] = await Promise.all([startFakeOpenAI(), startFakeAnthropic()]);
  gw = await startTestGateway({
    providers: [
      { name: 'oa', kind: 'openai', baseUrl: `${oa.url}/v1` },
      { name: 'an', kind: 'anthropic', baseUrl: an.url },
    ],
    routes: [
      { alias: 'open', targets: [{ provider: 'oa', model: 'gpt-open' }] },
      { alias: 'other', targets: [{ provider: 'an', model: 'claude-other' }] },
    ],
    tools: {
      declared: [{ name: 'fire_mission', effect: 'lethal' }],
      approvals: { lethal: { approvers: 1, roles: ['commander'], timeoutSeconds: 60 } },
    },
    retry: { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 10, maxRetryAfterMs: 100 },
  });
  cdrKey = await gw.keyFor('cdr', ['commander']);
  keyFile = join(gw.dataDir, 'ledger', 'verifiers');

  for (const p of ['logistics', 'logistics', 'surveillance', 'cyberDefence'] as const) await ask('oa', p);
  for (const p of ['logistics', 'surveillance', 'surveillance'] as const) await ask('an', p);
  // Two lethal tool calls from oa's model, held for a commander: one approved, one denied.
  oa.enqueue({ kind: 'tool_call', name: 'fire_mission', arguments: { grid: '38SMB4488' } }, { kind: 'tool_call', name: 'fire_mission', arguments: { grid: '38SMB4489' } });
  const held = [await ask('oa', 'logistics', { tools: true }), await ask('oa', 'logistics', { tools: true })];
  const ids = held.map((b) => b.redline?.holds?.[0]?.approval_id as string);
  assert.ok(ids.every((id) => /^apr_/.test(id)), `tool calls held: ${JSON.stringify(held.map((b) => b.redline))}`);
  await decide(ids[0]!, 'approve');
  await decide(ids[1]!, 'deny');
  sent.oa!.tools = { hold: 2, approval: 1, denial: 1 };
  // A denial reaches the ledger through the approval service's outbox; wait until it is there.
  for (let i = 0; i < 100; i++) {
    const decisions = Array.from({ length: gw.ledger.size() }, (_, k) => gw.ledger.entry(k)!.entry.decision);
    if (decisions.includes('denial')) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(async () => {
  if (!closed) await gw.close();
  rmSync(gw.dataDir, { recursive: true, force: true });
  await Promise.all([oa.close(), an.close()]);
});

async function report(o: ReportOptions) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReport(o, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

async function verify(o: ReportVerifyOptions) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runReportVerify(o, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

const file = (name: string) => join(gw.dataDir, name);
const read = (name: string) => JSON.parse(readFileSync(file(name), 'utf8')) as UsageReport;
const write = (name: string, r: UsageReport) => writeFileSync(file(name), JSON.stringify(r));
const decisionsOf = (byLabel: Record<string, Record<string, number>>) => {
  const out: Record<string, number> = {};
  for (const t of Object.values(byLabel)) for (const [d, n] of Object.entries(t)) out[d] = (out[d] ?? 0) + n;
  return out;
};

test('the report for each provider counts what was sent through it, and verifies over HTTP', async () => {
  for (const provider of ['oa', 'an'] as const) {
    const r = await report({ provider, from, to, url: gw.url, keyFile, json: true, out: file(`${provider}.json`) });
    assert.equal(r.code, 0, r.err.join('\n'));
    const doc = JSON.parse(r.out.join('\n')) as UsageReport;
    assert.deepEqual(read(`${provider}.json`), doc, '--out writes the document --json prints');
    const s = sent[provider]!;
    assert.deepEqual(doc.counts.requests.by_label, s.byLabel);
    assert.deepEqual(doc.counts.requests.by_decision, decisionsOf(s.byLabel));
    assert.equal(doc.counts.requests.total, s.total);
    assert.deepEqual(doc.counts.requests.by_model, { [provider === 'oa' ? 'gpt-open' : 'claude-other']: s.total });
    assert.deepEqual(doc.counts.tool_calls.by_decision, s.tools);
    assert.equal(doc.entries.length, s.total + Object.values(s.tools).reduce((a, b) => a + b, 0));
    assert.equal(Object.keys(doc.request_of).length, provider === 'oa' ? 4 : 0, 'hold, approval and denial entries name the request, not the provider');
    for (const i of doc.entries) {
      const e = gw.ledger.entry(i)!.entry;
      assert.ok(e.provider === provider || (e.action === 'tool_call' && gw.ledger.entry(doc.request_of[String(i)]!)!.entry.provider === provider));
    }

    const v = await verify({ report: file(`${provider}.json`), url: gw.url, keyFile });
    assert.equal(v.code, 0, v.err.join('\n'));
    assert.deepEqual(v.out.map((l) => l.split(':')[0]), ['checkpoint', 'entries', 'listed entries', 'counts', 'completeness', 'consistency', 'ok']);
  }
  const [a, b] = [read('oa.json'), read('an.json')];
  assert.equal(a.entries.filter((i) => b.entries.includes(i)).length, 0, 'no entry counts for both providers');

  // A readable table by default; a period before any request counts nothing.
  const table = await report({ provider: 'oa', from, to, url: gw.url, keyFile });
  assert.equal(table.code, 0);
  assert.match(table.out[0]!, /^Usage report for provider oa: /);
  assert.ok(table.out.includes(`  ${'use label'.padEnd(26)}  allow   deny  total`), table.out.join('\n'));
  assert.ok(table.out.includes(`  ${'logistics'.padEnd(26)}      4      0      4`), table.out.join('\n'));
  assert.ok(table.out.includes('  by decision: approval 1, denial 1, hold 2'), table.out.join('\n'));
  const empty = await report({ provider: 'oa', from: '2020-01-01', to: '2020-02-01', url: gw.url, keyFile, json: true });
  assert.equal((JSON.parse(empty.out.join('\n')) as UsageReport).counts.requests.total, 0);
});

test('tampering with a report fails with the check that caught it', async () => {
  const r = read('oa.json');
  const bad = async (name: string, edit: (x: UsageReport) => void, listedOnly = false) => {
    const x = JSON.parse(JSON.stringify(r)) as UsageReport;
    edit(x);
    write(name, x);
    const v = await verify({ report: file(name), url: gw.url, keyFile, listedOnly });
    assert.equal(v.code, 1, `${name} should fail`);
    return v.err[0]!;
  };
  assert.match(await bad('count.json', (x) => { x.counts.requests.by_label.logistics!.allow! += 1; }),
    /^FAIL counts: COUNT_MISMATCH: counts\.requests\.by_label\.logistics\.allow: the report says \d+, its listed entries give \d+$/);
  assert.match(await bad('dropped.json', (x) => { x.entries = x.entries.slice(1); }),
    /^FAIL counts: COUNT_MISMATCH: counts\.requests\.total: /);
  // Dropping a denied request together with its counts hides it from a listed-only check; the scan finds it.
  const denied = r.entries.find((i) => gw.ledger.entry(i)!.entry.decision === 'deny')!;
  const hide = (x: UsageReport) => {
    x.entries = x.entries.filter((i) => i !== denied);
    x.counts.requests.total--;
    x.counts.requests.by_model['gpt-open']!--;
    x.counts.requests.by_action.chat!--;
    delete x.counts.requests.by_decision.deny;
    delete x.counts.requests.by_label.domestic_mass_surveillance;
  };
  write('hidden.json', (() => { const x = JSON.parse(JSON.stringify(r)) as UsageReport; hide(x); return x; })());
  assert.equal((await verify({ report: file('hidden.json'), url: gw.url, keyFile, listedOnly: true })).code, 0);
  assert.match(await bad('hidden.json', hide), new RegExp(`^FAIL completeness: ENTRY_LEFT_OUT: entry ${denied} \\(chat, deny, `));
  const foreign = read('an.json').entries[0]!;
  assert.match(await bad('foreign.json', (x) => { x.entries = [...x.entries, foreign].sort((p, q) => p - q); }),
    new RegExp(`^FAIL listed entries: ENTRY_NOT_MATCHING: entry ${foreign} .*: it is for provider "an"$`));

  // Checkpoints: edited text under the log's signature, and a note signed by a key nobody trusts.
  assert.match(await bad('edited.json', (x) => { x.checkpoint = x.checkpoint.replace(`\n${x.tree_size}\n`, `\n${x.tree_size - 1}\n`); }), /^FAIL checkpoint: BAD_SIGNATURE/);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  const text = parseNote(r.checkpoint).text;
  const forged = `${text}\n${signatureLine(r.origin, ed25519KeyId(r.origin, pub), new Uint8Array(sign(null, Buffer.from(text), privateKey)))}`;
  assert.match(await bad('forged.json', (x) => { x.checkpoint = forged; }), /^FAIL checkpoint: UNKNOWN_KEY/);
  // Trusting the forger's key too does not help: its checkpoint still has to match the log's entries.
  const fakeRoot = `${r.origin}\n${r.tree_size}\n${Buffer.alloc(32, 7).toString('base64')}\n`;
  const forgedRoot = `${fakeRoot}\n${signatureLine(r.origin, ed25519KeyId(r.origin, pub), new Uint8Array(sign(null, Buffer.from(fakeRoot), privateKey)))}`;
  const x = JSON.parse(JSON.stringify(r)) as UsageReport;
  x.checkpoint = forgedRoot;
  x.root_hash = Buffer.alloc(32, 7).toString('base64');
  write('forged-root.json', x);
  writeFileSync(file('both-keys'), readFileSync(keyFile, 'utf8') + formatVerifierKey(r.origin, pub) + '\n');
  const v = await verify({ report: file('forged-root.json'), url: gw.url, keyFile: file('both-keys') });
  assert.equal(v.code, 1);
  assert.match(v.err[0]!, /^FAIL entries: ROOT_MISMATCH/);

  const untrusted = await verify({ report: file('oa.json'), url: gw.url, key: [formatVerifierKey(r.origin, pub)] });
  assert.match(untrusted.err[0]!, /^FAIL checkpoint: UNKNOWN_KEY/);
  assert.match((await verify({ url: gw.url, keyFile })).err[0]!, /^FAIL setup: --report/);
  assert.match((await report({ provider: 'oa', from: 'yesterday', to, url: gw.url, keyFile })).err[0]!, /^FAIL setup: INVALID_ARGUMENT: times must be RFC 3339/);
});

test('after the gateway stops, the same report verifies from the database file', async () => {
  await gw.close(); // stores the final signed checkpoint
  closed = true;
  const v = await verify({ report: file('oa.json'), dir: gw.dataDir, keyFile });
  assert.equal(v.code, 0, v.err.join('\n'));
  assert.match(v.out.at(-2)!, /^consistency: /);
  const r = await report({ provider: 'oa', from, to, dir: gw.dataDir, keyFile, json: true });
  assert.equal(r.code, 0, r.err.join('\n'));
  const doc = JSON.parse(r.out.join('\n')) as UsageReport;
  assert.deepEqual(doc.counts, read('oa.json').counts, 'nothing for oa was appended after the first report');
  assert.ok(doc.tree_size >= read('oa.json').tree_size);
});
