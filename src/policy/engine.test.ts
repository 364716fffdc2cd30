import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { isRedlineError } from '../errors.js';
import {
  createPolicyEngine, DEFAULT_POLICY_DIR, LETHAL_HOLD_ID, loadPolicyDir, policySetVersion,
  type PolicyInput, type PolicyTarget,
} from './index.js';

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A private copy of the default pack (without its tests) that a test may edit. */
function packCopy(): string {
  const root = mkdtempSync(join(tmpdir(), 'redline-policy-'));
  tmpRoots.push(root);
  const dir = join(root, 'pack');
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true, filter: (src) => !src.includes('/tests') });
  return dir;
}

/** A pack with just the schema and the given files. */
function miniPack(files: Record<string, string>): string {
  const dir = packCopy();
  for (const f of ['00-baseline.cedar', '10-red-lines.cedar', '20-restricted.cedar', '30-bulk.cedar', '40-tool-effects.cedar', '50-provider-terms.cedar']) {
    rmSync(join(dir, f));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const lawfulTarget: PolicyTarget = { provider: 'openai', model: 'gpt-4o', terms: { name: 'all-lawful-use', forbiddenUses: [] } };
const strictTarget: PolicyTarget = {
  provider: 'anthropic', model: 'claude-sonnet',
  terms: { name: 'anthropic-usage-policy', forbiddenUses: ['domestic_mass_surveillance', 'autonomous_lethal_action', 'offensive_cyber'] },
};

function input(over: Partial<PolicyInput['context']> = {}, rest: Partial<Omit<PolicyInput, 'context'>> = {}): PolicyInput {
  return {
    principal: { id: 'analyst-1', roles: ['analyst'], attributes: { unit: 'J2', clearance: 'secret' } },
    action: 'chat',
    context: {
      scores: { logistics: 0.9 }, labels: ['logistics'], top: 'logistics', pii: { total: 0, protected: 0 },
      bulk: { distinctPersons: 0, windowSeconds: 3600 }, toolEffects: [], time: new Date('2025-03-01T10:00:00Z'),
      ...over,
    },
    ...rest,
  };
}

function expectPolicyFailed(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isRedlineError(e) && e.code === 'POLICY_FAILED');
}

describe('decide', () => {
  const engine = createPolicyEngine({ dir: DEFAULT_POLICY_DIR });

  test('decision ids are dec_ + 20 hex characters and unique', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const d = engine.decide(input(), [lawfulTarget]);
      assert.match(d.decisionId, /^dec_[0-9a-f]{20}$/);
      ids.add(d.decisionId);
    }
    assert.equal(ids.size, 200);
  });

  test('the policy version is the sha256 of the set and is stamped on every decision', () => {
    assert.match(engine.version, /^[0-9a-f]{64}$/);
    assert.equal(engine.decide(input(), [lawfulTarget]).policyVersion, engine.version);
  });

  test('a repeated request gets the same answer from the cache', () => {
    const a = engine.decide(input({ labels: ['offensive_cyber'] }), [strictTarget, lawfulTarget]);
    const b = engine.decide(input({ labels: ['offensive_cyber'] }), [strictTarget, lawfulTarget]);
    assert.equal(a.kind, 'deny');
    assert.deepEqual({ ...a, decisionId: '' }, { ...b, decisionId: '' });
    assert.notEqual(a.decisionId, b.decisionId);
  });

  test('reroute reasons say why the earlier target was skipped', () => {
    const ops = { id: 'ops-1', roles: ['cyber_operations'], attributes: {} };
    const d = engine.decide(input({ labels: ['offensive_cyber'] }, { principal: ops }), [strictTarget, lawfulTarget]);
    assert.equal(d.kind, 'reroute');
    assert.equal(d.targetIndex, 1);
    assert.ok(d.reasons.some((r) => r.includes("provider anthropic's terms") && r.includes('offensive_cyber')), d.reasons.join('|'));
    assert.deepEqual(d.obligations, ['log_content']);
    assert.deepEqual(d.perTarget.map((v) => v.effect), ['deny', 'allow']);
    assert.deepEqual(d.perTarget[0]?.policies, ['provider-terms']);
  });

  test('a red line on the first target is not rerouted, and perTarget stops there', () => {
    const d = engine.decide(input({ labels: ['domestic_mass_surveillance'] }), [strictTarget, lawfulTarget]);
    assert.equal(d.kind, 'deny');
    assert.equal(d.targetIndex, -1);
    assert.deepEqual(d.policies, ['red-line-domestic-mass-surveillance']);
    assert.equal(d.perTarget.length, 1);
  });

  test('no targets means deny', () => {
    const d = engine.decide(input(), []);
    assert.equal(d.kind, 'deny');
    assert.equal(d.targetIndex, -1);
  });

  test('reasons never contain anything but policy text and target metadata', () => {
    const d = engine.decide(input({ labels: ['targeted_investigation'] }), [lawfulTarget]);
    assert.equal(d.kind, 'deny');
    assert.match(d.reasons.join(' '), /attach/);
  });

  test('a principal attribute of the wrong type fails closed with POLICY_FAILED', () => {
    const p = { id: 'x', roles: [], attributes: { unit: 5 } };
    expectPolicyFailed(() => engine.decide(input({}, { principal: p }), [lawfulTarget]));
  });

  test('a non-finite score or an invalid time fails with POLICY_FAILED', () => {
    expectPolicyFailed(() => engine.decide(input({ scores: { general: Number.NaN } }), [lawfulTarget]));
    expectPolicyFailed(() => engine.decide(input({ time: new Date('nope') }), [lawfulTarget]));
  });

  test('a single-valued set attribute is accepted as a one-element set', () => {
    const p = { id: 'x', roles: [], attributes: { legal_authorities: 'FISA-702' } };
    assert.equal(engine.decide(input({}, { principal: p }), [lawfulTarget]).kind, 'allow');
  });
});

describe('engine errors', () => {
  test('a policy that errors while evaluating fails the decision closed', () => {
    // Multiplying the epoch seconds overflows Cedar's 64-bit integers at evaluation time, which
    // the validator cannot see. Cedar would skip the erroring forbid; redline refuses to decide.
    const dir = miniPack({
      'a.cedar': `@id("all") @reason("ok") @severity("info") permit (principal, action, resource);
@id("overflow") @reason("boom") @severity("high")
forbid (principal, action, resource) when { context.time * 100000000000 > 0 };`,
    });
    for (const fastPath of [true, false]) {
      const e = createPolicyEngine({ dir, fastPath });
      expectPolicyFailed(() => e.decide(input(), [lawfulTarget]));
    }
  });

  test('the initial load of an invalid set throws CONFIG_INVALID with the errors', () => {
    const dir = miniPack({ 'a.cedar': 'permit (principal, action, resource);' });
    assert.throws(() => createPolicyEngine({ dir }), (e: unknown) => {
      return isRedlineError(e) && e.code === 'CONFIG_INVALID' && Array.isArray(e.details?.issues)
        && (e.details.issues as string[]).some((i) => i.includes('a.cedar') && i.includes('@id'));
    });
  });
});

describe('holds', () => {
  test('a lethal tool call is held even when no policy says so (built in)', () => {
    const dir = miniPack({ 'a.cedar': '@id("all") @reason("ok") @severity("info") permit (principal, action, resource);' });
    const e = createPolicyEngine({ dir });
    const d = e.decide(input({ toolEffects: ['lethal'] }, { action: 'tool_call' }), [lawfulTarget]);
    assert.equal(d.kind, 'hold');
    assert.deepEqual(d.policies, [LETHAL_HOLD_ID]);
    assert.ok(d.obligations.includes('hold'));
    // The same effects on a chat request are not a tool call.
    assert.equal(e.decide(input({ toolEffects: ['lethal'] }), [lawfulTarget]).kind, 'allow');
  });

  test('a hold with nothing permitting the request is a deny', () => {
    const dir = miniPack({
      'a.cedar': '@id("h") @reason("wait") @severity("low") @effect("hold") forbid (principal, action, resource);',
    });
    const d = createPolicyEngine({ dir }).decide(input(), [lawfulTarget]);
    assert.equal(d.kind, 'deny');
    assert.deepEqual(d.policies, []);
  });

  test('a hold carries the obligations of the permits behind it', () => {
    const dir = miniPack({
      'a.cedar': `@id("p") @reason("ok") @severity("info") @obligation("log_content, notify_duty_officer") permit (principal, action, resource);
@id("h") @reason("wait") @severity("low") @effect("hold") forbid (principal, action, resource) when { context.pii.total > 0 };`,
    });
    const e = createPolicyEngine({ dir });
    const d = e.decide(input({ pii: { total: 3, protected: 0 } }), [lawfulTarget]);
    assert.equal(d.kind, 'hold');
    assert.deepEqual(d.policies, ['h']);
    assert.deepEqual([...d.obligations].sort(), ['hold', 'log_content', 'notify_duty_officer']);
    assert.deepEqual(e.decide(input(), [lawfulTarget]).obligations, ['log_content', 'notify_duty_officer']);
  });
});

describe('loading and reload', () => {
  test('the version is the sha256 of sorted names and contents and changes with content', () => {
    const dir = packCopy();
    const a = loadPolicyDir(dir);
    const b = loadPolicyDir(DEFAULT_POLICY_DIR);
    assert.ok(a.ok && b.ok);
    assert.equal(a.set.version, b.set.version);
    appendFileSync(join(dir, '00-baseline.cedar'), '\n// a comment changes the version\n');
    const c = loadPolicyDir(dir);
    assert.ok(c.ok);
    assert.notEqual(c.set.version, a.set.version);
    assert.notEqual(policySetVersion([{ name: 'a', content: 'bc' }]), policySetVersion([{ name: 'ab', content: 'c' }]));
    assert.equal(
      policySetVersion([{ name: 'a', content: '1' }, { name: 'b', content: '2' }]),
      policySetVersion([{ name: 'b', content: '2' }, { name: 'a', content: '1' }]),
    );
  });

  test('a broken policy file keeps the old set and reports file and line', () => {
    const dir = packCopy();
    const engine = createPolicyEngine({ dir });
    const v1 = engine.version;
    writeFileSync(join(dir, '60-broken.cedar'), '\n\n@id("x") @reason("r") @severity("low")\npermit (principal, action, resource) when { context.labels.contains("general") ;\n');
    const r = engine.reload();
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.errors.some((e) => e.includes('60-broken.cedar:4:')), JSON.stringify(r));
    assert.equal(engine.version, v1);
    assert.equal(engine.decide(input({ labels: ['domestic_mass_surveillance'] }), [lawfulTarget]).kind, 'deny');
    assert.equal(engine.decide(input(), [lawfulTarget]).policyVersion, v1);
  });

  test('a schema violation is rejected with its position', () => {
    const dir = packCopy();
    const engine = createPolicyEngine({ dir });
    const v1 = engine.version;
    writeFileSync(join(dir, '60-typo.cedar'), '@id("t") @reason("r") @severity("low")\nforbid (principal, action, resource)\nwhen { context.bulk.persons > 10 };\n');
    const r = engine.reload();
    assert.ok(!r.ok && r.errors.some((e) => /60-typo\.cedar:3:\d+: .*bulk\.persons/.test(e)), JSON.stringify(r));
    assert.equal(engine.version, v1);
  });

  test('a misspelt label literal is rejected (the schema types labels as String)', () => {
    const dir = packCopy();
    writeFileSync(join(dir, '60-label.cedar'), '@id("t") @reason("r") @severity("red_line")\nforbid (principal, action, resource)\nwhen { context.labels.containsAny(["domestic_mass_survelliance"]) };\n');
    const r = loadPolicyDir(dir);
    assert.ok(!r.ok && r.errors.some((e) => e.includes('unknown label "domestic_mass_survelliance"')), JSON.stringify(r));
  });

  test('annotation mistakes are rejected', () => {
    const cases: Array<[string, RegExp]> = [
      ['forbid (principal, action, resource);', /no @id/],
      ['@id("a") @severity("low") forbid (principal, action, resource);', /no @reason/],
      ['@id("a") @reason("r") forbid (principal, action, resource);', /no @severity/],
      ['@id("a") @reason("r") @severity("low") @effect("hold") permit (principal, action, resource);', /@effect belongs on forbid/],
      ['@id("a") @reason("r") @severity("low") @obligation("hold") permit (principal, action, resource);', /@effect\("hold"\)/],
      ['@id("a") @reason("r {prompt}") @severity("low") permit (principal, action, resource);', /unknown placeholder \{prompt\}/],
      ['@id("a") @reason("r") @severity("red_line") @effect("hold") forbid (principal, action, resource);', /red_line/],
      ['@id("a:b") @reason("r") @severity("low") permit (principal, action, resource);', /may only use/],
      ['@id("lawful-use") @reason("r") @severity("low") permit (principal, action, resource);', /already used/],
    ];
    for (const [text, re] of cases) {
      const dir = packCopy();
      writeFileSync(join(dir, '60-bad.cedar'), text);
      const r = loadPolicyDir(dir);
      assert.ok(!r.ok && r.errors.some((e) => re.test(e)), `${text} → ${JSON.stringify(r)}`);
    }
  });

  test('a schema that does not fit the request redline sends is rejected', () => {
    const dir = packCopy();
    const schema = readFileSync(join(dir, 'schema.cedarschema'), 'utf8');
    writeFileSync(join(dir, 'schema.cedarschema'), schema.replace('    translation: Long,\n', ''));
    const r = loadPolicyDir(dir);
    assert.ok(!r.ok && r.errors.some((e) => e.includes('schema.cedarschema') && e.includes('translation')), JSON.stringify(r));
  });

  test('a valid change is picked up by reload and changes decisions', () => {
    const dir = packCopy();
    const engine = createPolicyEngine({ dir });
    const v1 = engine.version;
    const bulkAt = (n: number) => engine.decide(input({ bulk: { distinctPersons: n, windowSeconds: 3600 } }), [lawfulTarget]).kind;
    assert.equal(bulkAt(500), 'hold');
    const f = join(dir, '30-bulk.cedar');
    writeFileSync(f, readFileSync(f, 'utf8').replace('distinct_persons >= 1000 }', 'distinct_persons >= 400 }'));
    const r = engine.reload();
    assert.ok(r.ok);
    assert.notEqual(engine.version, v1);
    assert.equal(r.ok && r.version, engine.version);
    assert.equal(bulkAt(500), 'deny');
    assert.equal(bulkAt(300), 'hold');
    // Reloading unchanged files keeps the version.
    assert.deepEqual(engine.reload(), { ok: true, version: engine.version });
  });

  test('a missing schema or an empty directory is an error', () => {
    const dir = packCopy();
    rmSync(join(dir, 'schema.cedarschema'));
    const r = loadPolicyDir(dir);
    assert.ok(!r.ok && r.errors[0]?.includes('schema.cedarschema'));
    const r2 = loadPolicyDir(join(dir, 'nope'));
    assert.equal(r2.ok, false);
  });

  test('a JSON schema works like the Cedar-syntax one', async () => {
    const dir = packCopy();
    const { cedar } = await import('./cedar.js');
    const j = cedar.schemaToJson(readFileSync(join(dir, 'schema.cedarschema'), 'utf8'));
    assert.equal(j.type, 'success');
    rmSync(join(dir, 'schema.cedarschema'));
    writeFileSync(join(dir, 'schema.cedarschema.json'), JSON.stringify(j.type === 'success' ? j.json : {}));
    const e = createPolicyEngine({ dir });
    assert.equal(e.decide(input({ labels: ['mass_casualty_weapons'] }), [lawfulTarget]).kind, 'deny');
    assert.equal(e.decide(input(), [lawfulTarget]).kind, 'allow');
  });

  test('watch reports changed policy files once per burst', async () => {
    const dir = packCopy();
    const engine = createPolicyEngine({ dir });
    const calls: string[][] = [];
    let done!: () => void;
    const fired = new Promise<void>((res) => (done = res));
    const stop = engine.watch((files) => {
      calls.push(files);
      done();
    }, { debounceMs: 50 });
    const guard = setTimeout(() => done(), 3000);
    try {
      const f = join(dir, '30-bulk.cedar');
      appendFileSync(f, '\n// 1\n');
      appendFileSync(f, '// 2\n');
      writeFileSync(join(dir, 'notes.txt'), 'not a policy file');
      await fired;
      await new Promise((r) => setTimeout(r, 120));
    } finally {
      clearTimeout(guard);
      stop();
    }
    assert.equal(calls.length, 1, JSON.stringify(calls));
    assert.deepEqual(calls[0], ['30-bulk.cedar']);
    assert.equal(engine.reload().ok, true);
  });
});

describe('per-request work the engine skips', () => {
  test('allow verdicts are shared by decisions, frozen, only when their reasons name nothing of the request', () => {
    const plain = createPolicyEngine({ dir: miniPack({ 'a.cedar': '@id("p") @reason("ok") @severity("info") permit (principal, action, resource);' }) });
    const a = plain.decide(input(), [lawfulTarget]);
    const b = plain.decide(input(), [lawfulTarget]);
    assert.equal(a.kind, 'allow');
    assert.deepEqual(a.reasons, ['ok']);
    assert.equal(a.policies, b.policies, 'the same kept list');
    assert.throws(() => (a.policies as string[]).push('x'), TypeError);
    assert.deepEqual(b.policies, ['p']);

    const templated = createPolicyEngine({ dir: miniPack({ 'a.cedar': '@id("p") @reason("permitted for {labels}") @severity("info") permit (principal, action, resource);' }) });
    assert.deepEqual(templated.decide(input({ labels: ['logistics'] }), [lawfulTarget]).reasons, ['permitted for logistics']);
    assert.deepEqual(templated.decide(input({ labels: ['general'] }), [lawfulTarget]).reasons, ['permitted for general']);
  });

  test('context attributes no policy reads are not built, yet a policy that reads one gets it', () => {
    // Only `hour` is read here: the request is pruned to it, and it must still be there.
    const night = createPolicyEngine({ dir: miniPack({
      'a.cedar': `@id("p") @reason("ok") @severity("info") permit (principal, action, resource);
@id("night") @reason("not at night") @severity("high") forbid (principal, action, resource) when { context.hour < 6 };`,
    }) });
    assert.equal(night.decide(input({ time: new Date('2026-12-07T03:00:00Z') }), [lawfulTarget]).kind, 'deny');
    assert.equal(night.decide(input({ time: new Date('2026-12-07T10:00:00Z') }), [lawfulTarget]).kind, 'allow');
    // Scores are not read, but a malformed one still fails the decision closed.
    expectPolicyFailed(() => night.decide(input({ scores: { logistics: Number.POSITIVE_INFINITY } }), [lawfulTarget]));
  });
});
