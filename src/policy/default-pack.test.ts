// The default pack's YAML cases run as node tests, so `npm test` proves the shipped policies.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RED_LINE_LABELS, RESTRICTED_LABELS } from '../classify/labels.js';
import { createPolicyEngine, DEFAULT_POLICY_DIR, loadPolicyTests, runPolicyCase, type Decision } from './index.js';

const cases = loadPolicyTests(join(DEFAULT_POLICY_DIR, 'tests'));
const fast = createPolicyEngine({ dir: DEFAULT_POLICY_DIR });
const slow = createPolicyEngine({ dir: DEFAULT_POLICY_DIR, fastPath: false });

describe('default pack cases', () => {
  for (const tc of cases) {
    test(`${tc.file} › ${tc.name}`, () => {
      const r = runPolicyCase(fast, tc);
      assert.ok(r.ok, r.diff.join('\n'));
    });
  }
});

// The fast path (split sets, pruned requests, memoised answers) must decide exactly as plain Cedar
// does with every policy, the full request and schema validation on every call.
test('fast and validated paths agree on every case', () => {
  const shape = (d: Decision) => ({
    kind: d.kind, targetIndex: d.targetIndex, policies: d.policies, obligations: d.obligations, reasons: d.reasons,
    perTarget: d.perTarget.map((v) => ({ effect: v.effect, policies: v.policies, reasons: v.reasons })),
  });
  for (const tc of cases) {
    // Twice through the fast path: once filling the cache, once reading it.
    const a = shape(fast.decide(tc.input, tc.targets));
    const b = shape(fast.decide(tc.input, tc.targets));
    const c = shape(slow.decide(tc.input, tc.targets));
    assert.deepEqual(a, c, tc.name);
    assert.deepEqual(b, c, tc.name);
  }
});

test('the pack covers every red line, every restricted use and every decision kind', () => {
  assert.ok(cases.length >= 25, `${cases.length} cases`);
  const deniedBy = new Set(cases.filter((c) => c.expect.decision === 'deny').flatMap((c) => c.input.context.labels));
  for (const l of RED_LINE_LABELS) assert.ok(deniedBy.has(l), `no deny case for ${l}`);
  const labelled = new Set(cases.flatMap((c) => c.input.context.labels));
  for (const l of RESTRICTED_LABELS) assert.ok(labelled.has(l), `no case for ${l}`);
  const kinds = new Set(cases.map((c) => c.expect.decision));
  for (const k of ['allow', 'deny', 'hold', 'reroute'] as const) assert.ok(kinds.has(k), `no ${k} case`);
});
