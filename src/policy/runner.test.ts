import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createPolicyEngine, DEFAULT_POLICY_DIR, loadPolicyTestFile, policyRequestFromObject, runPolicyTests } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'redline-policy-tests-'));
after(() => rmSync(root, { recursive: true, force: true }));
const engine = createPolicyEngine({ dir: DEFAULT_POLICY_DIR });

function file(name: string, text: string): string {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
}

const target = `targets: [{ provider: openai, model: gpt-4o, terms: { name: lawful, forbidden_uses: [] } }]`;

test('wrong expectations fail with a diff naming what differs', () => {
  const p = file('wrong.yaml', `
- name: expects allow but is a red line
  context: { labels: [mass_casualty_weapons] }
  ${target}
  expect: { decision: allow, target: 0, policies: [lawful-use], obligations: [log_content], reason_contains: nothing like this }
- name: right
  context: { labels: [logistics] }
  ${target}
  expect: { decision: allow, target: 0 }
`);
  const r = runPolicyTests(p, engine);
  assert.equal(r.passed, 1);
  assert.equal(r.failed, 1);
  const bad = r.results[0];
  assert.ok(bad && !bad.ok);
  const text = bad.diff.join('\n');
  assert.match(text, /decision: expected allow, got deny/);
  assert.match(text, /target: expected 0, got -1/);
  assert.match(text, /missing lawful-use/);
  assert.match(text, /unexpected red-line-mass-casualty-weapons/);
  assert.match(text, /obligations/);
  assert.match(text, /none contains "nothing like this"/);
});

test('a malformed file is one failed result, not a crash', () => {
  const dir = join(root, 'malformed');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  writeFileSync(join(dir, 'a.yaml'), `- name: x\n  context: { labels: [not_a_label] }\n  ${target}\n  expect: { decision: allow }\n`);
  writeFileSync(join(dir, 'b.yml'), `- name: ok\n  ${target}\n  expect: { decision: allow }\n`);
  const r = runPolicyTests(dir, engine);
  assert.equal(r.results.length, 2);
  assert.equal(r.results[0]?.name, '(file)');
  assert.match(r.results[0]?.diff[0] ?? '', /a\.yaml/);
  assert.equal(r.results[1]?.ok, true);
});

test('defaults fill cases; scores and labels derive from each other', () => {
  const p = file('defaults.yaml', `
defaults:
  principal: { id: ops-1, roles: [cyber_operations] }
  action: tool_call
  context: { tool_effects: [kinetic], bulk: { distinct_persons: 5 } }
  ${target}
cases:
  - name: labels from scores
    context: { scores: { offensive_cyber: 0.7, cyber_defense: 0.4 } }
    expect: { decision: allow }
  - name: scores from labels
    context: { labels: [logistics, translation], top: translation }
    action: chat
    expect: { decision: allow }
`);
  const [a, b] = loadPolicyTestFile(p);
  assert.ok(a && b);
  assert.deepEqual(a.input.context.labels, ['offensive_cyber']);
  assert.equal(a.input.context.top, 'offensive_cyber');
  assert.deepEqual(a.input.context.toolEffects, ['kinetic']);
  assert.equal(a.input.context.bulk.distinctPersons, 5);
  assert.equal(a.input.context.bulk.windowSeconds, 3600);
  assert.equal(a.input.action, 'tool_call');
  assert.deepEqual(a.input.principal.roles, ['cyber_operations']);
  assert.deepEqual(b.input.context.scores, { logistics: 0.9, translation: 0.9 });
  assert.equal(b.input.context.top, 'translation');
  assert.equal(b.input.action, 'chat');
  assert.equal(runPolicyTests(p, engine).failed, 0);
});

test('duplicate case names and cases without targets are rejected', () => {
  assert.throws(() => loadPolicyTestFile(file('dup.yaml', `- { name: a, ${target}, expect: { decision: allow } }\n- { name: a, ${target}, expect: { decision: allow } }\n`)), /two cases/);
  assert.throws(() => loadPolicyTestFile(file('nt.yaml', `- { name: a, expect: { decision: allow } }\n`)), /no targets/);
});


test('policyRequestFromObject reads a request written like a test case', () => {
  const { input, targets } = policyRequestFromObject({
    principal: { id: 'a', roles: ['analyst'] }, action: 'tool_call',
    context: { labels: ['targeting_support'], tool_effects: ['lethal'] },
    targets: [{ provider: 'p', model: 'm' }],
  });
  assert.equal(input.action, 'tool_call');
  assert.deepEqual(targets, [{ provider: 'p', model: 'm', terms: { name: 'none', forbiddenUses: [] } }]);
  assert.equal(engine.decide(input, targets).kind, 'hold');
  assert.throws(() => policyRequestFromObject({ targets: [{ provider: 'p', model: 'm' }], context: { labels: ['nope'] } }), /labels/);
});
