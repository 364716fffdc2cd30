import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { applyPlan, mergeReads, planFor, policyReads, readsResource, unknownLiterals, type ValuePlan } from './analyze.js';
import { cedar, type PolicyJson } from './cedar.js';

function json(text: string): PolicyJson {
  const r = cedar.policyToJson(text);
  if (r.type !== 'success') throw new Error(r.errors.map((e) => e.message).join('; '));
  return r.json;
}

const reads = (...texts: string[]) => mergeReads(texts.map((t) => policyReads(json(t))));

test('reads follow access chains to full paths and classify their use', () => {
  const r = reads(`forbid (principal, action, resource)
    when { context.bulk.distinct_persons >= 10 && context has pii.total && principal.roles.contains("x") }
    unless { resource.terms.forbidden_uses.containsAny(context.labels) };`);
  const occ = r.occurrences.map((o) => `${o.root}.${o.path.join('.')}:${o.use.kind}`).sort();
  assert.deepEqual(occ, [
    'context.bulk.distinct_persons:cmp', 'context.labels:other', 'context.pii.total:has',
    'principal.roles:other', 'resource.terms.forbidden_uses:other',
  ]);
  assert.equal(r.identity.size + r.opaque.size, 0);
  assert.equal(readsResource(r), true);
});

test('identity uses and opaque uses are flagged', () => {
  const a = reads('permit (principal == Redline::Principal::"alice", action, resource is Redline::Target);');
  assert.ok(a.identity.has('principal') && !a.opaque.has('principal'));
  assert.equal(readsResource(a), false, '`is` only tests the type');
  const b = reads('permit (principal, action, resource) when { context == {} || resource == Redline::Target::"a/b" };');
  assert.ok(b.opaque.has('context') && b.identity.has('resource'));
  const c = reads('permit (principal, action, resource) when { (if context.hour > 3 then principal else principal).unit == "x" };');
  assert.ok(c.opaque.has('principal'), 'an entity reached through an expression is sent whole');
  assert.deepEqual(planFor(c, 'principal'), { kind: 'raw' });
});

test('record literals whose keys look like expression nodes are not misread', () => {
  const r = reads('permit (principal, action, resource) when { {Var: principal.unit, left: 1}.left == 1 };');
  assert.deepEqual(r.occurrences.map((o) => o.path.join('.')), ['unit']);
  assert.equal(r.opaque.size, 0);
});

test('plans keep only what is read and canonicalise literal comparisons', () => {
  const r = reads(
    'forbid (principal, action, resource) when { context.bulk.distinct_persons >= 1000 };',
    'forbid (principal, action, resource) when { context.bulk.distinct_persons >= 200 && context.legal_authority == "" };',
    'forbid (principal, action, resource) when { context.labels.contains("general") && context.scores.general > 500 };',
  );
  const plan = planFor(r, 'context') as ValuePlan;
  const ctx = {
    bulk: { distinct_persons: 537, window_seconds: 3600 }, legal_authority: 'warrant 1', labels: ['general'],
    scores: { general: 900, logistics: 10 }, hour: 3,
  };
  assert.deepEqual(applyPlan(plan, ctx), {
    bulk: { distinct_persons: 201 }, legal_authority: '\u0000', labels: ['general'], scores: { general: 501 },
  });
  const at = (n: number) => (applyPlan(plan, { ...ctx, bulk: { distinct_persons: n, window_seconds: 1 } }) as { bulk: { distinct_persons: number } }).bulk.distinct_persons;
  assert.deepEqual([0, 199, 200, 201, 999, 1000, 1001, 5e6].map(at), [199, 199, 200, 201, 201, 1000, 1001, 1001]);
  assert.equal(planFor(r, 'principal'), undefined, 'no principal attribute is read');
});

test('canonical values give every comparison the same answer as the real ones', () => {
  const ops = ['<', '<=', '>', '>=', '==', '!='] as const;
  const holds = (op: (typeof ops)[number], a: number, b: number) =>
    ({ '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b, '==': a === b, '!=': a !== b })[op];
  fc.assert(fc.property(
    fc.uniqueArray(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 5 }),
    fc.integer({ min: -80, max: 80 }),
    (cuts, v) => {
      const r = reads(...cuts.map((c, i) => `forbid (principal, action, resource) when { context.hour ${ops[i % ops.length]} ${c} };`));
      const out = (applyPlan(planFor(r, 'context') as ValuePlan, { hour: v }) as { hour: number }).hour;
      for (const c of cuts) for (const op of ops) assert.equal(holds(op, out, c), holds(op, v, c), `${v}→${out} ${op} ${c}`);
    },
  ), { numRuns: 200 });
});

test('any other use of a value sends it unchanged', () => {
  const r = reads(
    'forbid (principal, action, resource) when { context.hour >= 9 };',
    'forbid (principal, action, resource) when { context.hour + 1 > 20 };',
  );
  assert.deepEqual(applyPlan(planFor(r, 'context') as ValuePlan, { hour: 13, time: 5 }), { hour: 13 });
});

test('unknownLiterals catches misspelt labels and tool effects, and only those', () => {
  assert.deepEqual(unknownLiterals(json('forbid (principal, action, resource) when { context.labels.contains("offensive_cyber") && context.top == "general" };')), []);
  assert.equal(unknownLiterals(json('forbid (principal, action, resource) when { context.labels.contains("ofensive_cyber") };')).length, 1);
  assert.equal(unknownLiterals(json('forbid (principal, action, resource) when { "genral" == context.top };')).length, 1);
  assert.equal(unknownLiterals(json('forbid (principal, action, resource) when { context.labels.containsAny(["general", "nope"]) };')).length, 1);
  assert.equal(unknownLiterals(json('forbid (principal, action, resource) when { resource.terms.forbidden_uses.contains("x") };')).length, 1);
  assert.equal(unknownLiterals(json('forbid (principal, action, resource) when { context.tool_effects.contains("deadly") };')).length, 1);
  // Other string attributes are free text.
  assert.deepEqual(unknownLiterals(json('forbid (principal, action, resource) when { principal.unit == "J2" && context.legal_authority == "" };')), []);
});
