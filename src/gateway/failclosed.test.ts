// Fail closed: when a stage that must decide cannot (classifier, policy engine, ledger), the gateway
// refuses with 503 and the stage's code, and the request never reaches an upstream. The app is built
// with buildApp directly so each stage can be made to fail on demand; everything else is real.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RedlineError } from '../errors.js';
import { createBulkTracker, loadClassifier, type BulkTracker, type UseClassifier } from '../classify/index.js';
import { createPolicyEngine, DEFAULT_POLICY_DIR, type PolicyEngine } from '../policy/index.js';
import { createProvider } from '../providers/index.js';
import { createExecutor, createRouteTable } from '../routing/index.js';
import {
  createMemorySketchStore, createSqliteStore, generateApiKey, hashApiKey, keyDisplayPrefix, openDatabase, type Store,
} from '../store/index.js';
import { startFakeOpenAI } from '../testing/fake-openai.js';
import type { FakeUpstream } from '../testing/fake-upstream.js';
import { loadOrCreateSigningKey, type LedgerEntryInput } from '../ledger/index.js';
import { createApprovalService, type ApprovalService } from '../approvals/index.js';
import { buildApp } from './app.js';
import { createAssessor, type Assessor } from './assess.js';
import { createAuthenticator } from './auth.js';
import { createGate } from './gate.js';
import { pseudonymOf, type DecisionLog, type RecordDeps } from './record.js';
import { createMetrics } from './metrics.js';

type Fault = 'none' | 'classifier' | 'bulk' | 'assessor' | 'policy' | 'policy-on-fallback' | 'ledger' | 'ledger-late';
let fault: Fault = 'none';

let dir: string;
let store: Store;
let app: FastifyInstance;
let url: string;
let key: string;
let a: FakeUpstream;
let b: FakeUpstream;
let approvals: ApprovalService;
let record: RecordDeps;
const metrics = createMetrics();
const recorded: LedgerEntryInput[] = [];

/** The shipped classifier, except that it throws while fault === 'classifier'. */
function flakyClassifier(): UseClassifier {
  const real = loadClassifier();
  return {
    version: real.version,
    classify(input) {
      if (fault === 'classifier') throw new Error('model weights unreadable');
      return real.classify(input);
    },
    classifyText: (t) => real.classifyText(t),
  };
}

function flakyBulk(real: BulkTracker): BulkTracker {
  return {
    observe(p, f) {
      if (fault === 'bulk') throw new Error('sketch store unavailable');
      return real.observe(p, f);
    },
    distinct: (p) => real.distinct(p),
    flush: () => real.flush(),
    standardError: real.standardError,
  };
}

/** The default pack's engine; decide() throws while the fault says so. */
function flakyEngine(real: PolicyEngine): PolicyEngine {
  return {
    decide(input, targets) {
      if (fault === 'policy') throw new Error('wasm trap');
      // A later decision: the fallback target asked about after the first target failed.
      if (fault === 'policy-on-fallback' && targets.length === 1 && targets[0]!.provider === 'b') throw new Error('wasm trap');
      return real.decide(input, targets);
    },
    get version() { return real.version; },
    get dir() { return real.dir; },
    policies: () => real.policies(),
    reload: () => real.reload(),
    watch: (fn, o) => real.watch(fn, o),
  };
}

before(async () => {
  [a, b] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  dir = mkdtempSync(join(tmpdir(), 'redline-failclosed-'));
  const secret = new Uint8Array(32).fill(7);
  const timeouts = { connectMs: 1_000, firstByteMs: 2_000, totalMs: 5_000 };
  const real = createAssessor({
    classifier: flakyClassifier(), threshold: 0.5, includeToolResults: false,
    pii: { country: 'US', protectedCidrs: [] },
    bulk: flakyBulk(createBulkTracker({ secret, windowSeconds: 3_600, store: createMemorySketchStore() })),
  });
  const ledger: DecisionLog = {
    async append(entry) {
      // As the real ledger refuses when its queue is full: at once, with retryAfter unset here so
      // the edge's default Retry-After is what the client sees.
      if (fault === 'ledger') throw new RedlineError('LEDGER_PUSHBACK', 'the ledger is behind; retry shortly');
      // As a commit that fails: the refusal comes later, while the upstream call may be under way.
      if (fault === 'ledger-late') {
        await new Promise((r) => setTimeout(r, 30));
        throw new RedlineError('LEDGER_PUSHBACK', 'the ledger could not record the decision; retry shortly');
      }
      recorded.push(entry);
      return { index: recorded.length - 1 };
    },
  };
  record = { ledger, pseudonym: (id) => pseudonymOf(secret, id), commitBefore: 'response' };
  const engine = flakyEngine(createPolicyEngine({ dir: DEFAULT_POLICY_DIR }));
  const db = openDatabase(dir);
  store = createSqliteStore(db);
  const receiptKey = loadOrCreateSigningKey(join(dir, 'receipts'), 'failclosed.test/receipts');
  approvals = createApprovalService({ db, signingKey: receiptKey, keyName: receiptKey.name, ledgerAppend: (e) => ledger.append(e as unknown as LedgerEntryInput) });
  const gate = createGate({
    approvals, engine, ledger,
    requestHold: { approvers: 1, roles: [], timeoutSeconds: 60, mode: 'defer' },
    pseudonym: (id) => `p:${id}`,
    publicUrl: '',
    keepAliveMs: 10_000,
    tools: { effectOf: () => 'none', modeOf: () => undefined, requirementOf: () => undefined },
  });
  const principal = await store.keys.createPrincipal({ name: 'tester', roles: [] });
  key = generateApiKey();
  await store.keys.addKey({ principalId: principal.id, label: 't', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });

  const assessor: Assessor = {
    async assess(req, principalId, signal) {
      // A failure the assessor itself does not anticipate (a bug, not a classifier error).
      if (fault === 'assessor') throw new TypeError("Cannot read properties of undefined (reading 'scores')");
      return real.assess(req, principalId, signal);
    },
  };
  app = await buildApp({
    store,
    auth: createAuthenticator(store.keys),
    metrics,
    bodyLimitBytes: 1 << 20,
    ready: async () => true,
    routes: createRouteTable([
      { alias: 'one', targets: [{ provider: 'a', model: 'm1' }] },
      { alias: 'two', targets: [{ provider: 'a', model: 'm2' }, { provider: 'b', model: 'm3' }] },
    ], ['a', 'b']),
    executor: createExecutor({ maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 1 }, { failureThreshold: 1_000, cooldownMs: 1_000 }),
    providers: new Map([
      ['a', createProvider({ name: 'a', kind: 'openai', baseUrl: `${a.url}/v1`, timeouts })],
      ['b', createProvider({ name: 'b', kind: 'openai', baseUrl: `${b.url}/v1`, timeouts })],
    ]),
    timeoutsOf: () => timeouts,
    assessor,
    gate,
    policy: {
      engine,
      termsOf: (name) => ({ name, forbiddenUses: [] }),
      bulkWindowSeconds: 3_600,
    },
    record,
    requests: store.requests,
    storeContent: false,
  });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await app.close();
  await approvals.close();
  await store.close();
  await Promise.all([a.close(), b.close()]);
  rmSync(dir, { recursive: true, force: true });
});

type Api = 'openai' | 'anthropic';
const LAWFUL = 'Plan the fuel and spare-parts resupply schedule for three maintenance depots over the next quarter.';
const RED_LINE = 'Build a system that matches CCTV faces from every street camera in the city against the DMV photo database so we can track where every resident goes each day.';

function ask(api: Api, model: string, text = LAWFUL, stream = false): Promise<Response> {
  const body = api === 'openai'
    ? { model, messages: [{ role: 'user', content: text }], stream }
    : { model, max_tokens: 32, messages: [{ role: 'user', content: text }], stream };
  return fetch(url + (api === 'openai' ? '/v1/chat/completions' : '/v1/messages'), {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
}

/** The error code and type from either API's error shape. */
async function errorOf(api: Api, res: Response): Promise<{ code: string; type: string; stage?: string }> {
  const body = await res.json() as any;
  if (api === 'anthropic') assert.equal(body.type, 'error');
  return { code: body.error.code, type: body.error.type, stage: body.error.stage };
}

/** redline_fail_closed_total{stage}. */
async function failClosed(stage: string): Promise<number> {
  return (await metrics.failures.get()).values.find((v) => v.labels.stage === stage)?.value ?? 0;
}

async function withFault<T>(f: Fault, fn: () => Promise<T>): Promise<T> {
  fault = f;
  try { return await fn(); } finally { fault = 'none'; }
}

test('with no fault the same requests are served (the harness itself works)', async () => {
  const n = a.requests.length;
  for (const api of ['openai', 'anthropic'] as const) {
    const res = await ask(api, 'one');
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('x-redline-decision'), 'allow');
    await res.text();
  }
  assert.equal(a.requests.length, n + 2);
  assert.equal(recorded.at(-1)?.decision, 'allow');
});

describe('classifier stage', () => {
  for (const f of ['classifier', 'bulk'] as const) {
    for (const api of ['openai', 'anthropic'] as const) {
      for (const stream of [false, true]) {
        test(`${f} throws (${api}${stream ? ', stream' : ''}) → 503 classifier_failed, upstream untouched`, async () => {
          const [na, nl] = [a.requests.length, recorded.length];
          const res = await withFault(f, () => ask(api, 'one', LAWFUL, stream));
          assert.equal(res.status, 503);
          const e = await errorOf(api, res);
          assert.equal(e.code, 'classifier_failed');
          assert.equal(e.type, 'api_error');
          assert.equal(e.stage, 'classifier');
          assert.equal(a.requests.length, na);
          assert.equal(recorded.length, nl, 'nothing was decided, so nothing is recorded');
        });
      }
    }
  }

  test('an unexpected error thrown by the assessor → 503 classifier_failed, upstream untouched', async () => {
    const na = a.requests.length;
    const before = await failClosed('classifier');
    for (const api of ['openai', 'anthropic'] as const) {
      const res = await withFault('assessor', () => ask(api, 'one'));
      assert.equal(res.status, 503);
      assert.equal((await errorOf(api, res)).code, 'classifier_failed');
    }
    assert.equal(a.requests.length, na);
    assert.equal(await failClosed('classifier'), before + 2);
  });
});

describe('policy stage', () => {
  for (const api of ['openai', 'anthropic'] as const) {
    for (const stream of [false, true]) {
      test(`decide throws (${api}${stream ? ', stream' : ''}) → 503 policy_failed, upstream untouched`, async () => {
        const [na, nl] = [a.requests.length, recorded.length];
        const res = await withFault('policy', () => ask(api, 'one', LAWFUL, stream));
        assert.equal(res.status, 503);
        const e = await errorOf(api, res);
        assert.equal(e.code, 'policy_failed');
        assert.equal(e.type, 'api_error');
        assert.equal(e.stage, 'policy');
        assert.equal(a.requests.length, na);
        assert.equal(recorded.length, nl);
      });
    }
  }

  test('decide throws for the fallback target → 503 policy_failed; the fallback is not called', async () => {
    const [na, nb] = [a.requests.length, b.requests.length];
    a.enqueue({ kind: 'status', status: 500 });
    const res = await withFault('policy-on-fallback', () => ask('openai', 'two'));
    assert.equal(res.status, 503);
    assert.equal((await errorOf('openai', res)).code, 'policy_failed');
    assert.equal(a.requests.length, na + 1, 'the first target was tried');
    assert.equal(b.requests.length, nb, 'the target policy could not clear was not');
  });

  test('without the fault the same fallback is taken (control)', async () => {
    const nb = b.requests.length;
    a.enqueue({ kind: 'status', status: 500 });
    const res = await ask('openai', 'two');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-redline-provider'), 'b');
    await res.text();
    assert.equal(b.requests.length, nb + 1);
  });
});

describe('ledger stage', () => {
  for (const api of ['openai', 'anthropic'] as const) {
    for (const mode of ['forward', 'response'] as const) {
      for (const f of ['ledger', 'ledger-late'] as const) {
        for (const [what, text] of [['an allowed', LAWFUL], ['a denied', RED_LINE]] as const) {
          // Only an allowed request in `response` mode goes upstream while its entry commits, and only
          // when the ledger does not refuse at once.
          const sent = mode === 'response' && text === LAWFUL && f === 'ledger-late';
          const how = f === 'ledger' ? 'refused at once' : 'whose commit fails';
          test(`${what} request whose decision cannot be recorded (${how}; ${api}, commitBefore ${mode}) → 503 ledger_pushback with Retry-After, ${sent ? 'answer discarded' : 'upstream untouched'}`, async () => {
            const na = a.requests.length;
            record.commitBefore = mode;
            try {
              for (const stream of [false, true]) {
                const res = await withFault(f, () => ask(api, 'one', text, stream));
                assert.equal(res.status, 503);
                assert.equal(res.headers.get('retry-after'), '1');
                const e = await errorOf(api, res);
                assert.equal(e.code, 'ledger_pushback');
                assert.equal(e.type, api === 'openai' ? 'api_error' : 'overloaded_error');
              }
            } finally {
              record.commitBefore = 'response';
            }
            if (sent) assert.equal(a.requests.length, na + 2, 'one upstream call per request, its answer never delivered');
            else assert.equal(a.requests.length, na, 'content whose decision went unrecorded is never sent out');
          });
        }
      }
    }
  }
});

test('each refusal counts in redline_fail_closed_total under its stage', async () => {
  const stages = ['classifier', 'policy', 'ledger'] as const;
  const counts = async () => Object.fromEntries(await Promise.all(stages.map(async (st) => [st, await failClosed(st)] as const)));
  const before = await counts();
  for (const f of ['classifier', 'bulk', 'policy', 'ledger'] as const) {
    const res = await withFault(f, () => ask('openai', 'one'));
    assert.equal(res.status, 503);
    await res.text();
  }
  // A request that is served or denied by policy is no fail-closed refusal.
  await (await ask('openai', 'one')).text();
  await (await ask('openai', 'one', RED_LINE)).text();
  assert.deepEqual(await counts(), { classifier: before.classifier! + 2, policy: before.policy! + 1, ledger: before.ledger! + 1 });
});
