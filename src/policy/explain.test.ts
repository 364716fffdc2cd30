import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPolicyEngine, DEFAULT_POLICY_DIR, explainDecision, type PolicyInput, type PolicyTarget } from './index.js';

const engine = createPolicyEngine({ dir: DEFAULT_POLICY_DIR });
const targets: PolicyTarget[] = [
  { provider: 'strict', model: 'a', terms: { name: 'strict-terms', forbiddenUses: ['offensive_cyber'] } },
  { provider: 'openai', model: 'gpt-4o', terms: { name: 'all-lawful-use', forbiddenUses: [] } },
  { provider: 'local', model: 'llama', terms: { name: 'all-lawful-use', forbiddenUses: [] } },
];
const input: PolicyInput = {
  principal: { id: 'ops-1', roles: ['cyber_operations'], attributes: {} },
  action: 'chat',
  context: {
    scores: { offensive_cyber: 0.91, cyber_defense: 0.3, general: 0.01 }, labels: ['offensive_cyber'], top: 'offensive_cyber',
    pii: { total: 0, protected: 0 }, bulk: { distinctPersons: 0, windowSeconds: 3600 }, toolEffects: [], time: new Date(),
  },
};

test('explain names the decision, each evaluated target with its policies and reasons, and the scores', () => {
  const d = engine.decide(input, targets);
  assert.equal(d.kind, 'reroute');
  const text = explainDecision(input, targets, d);
  const lines = text.split('\n');
  assert.match(lines[0] ?? '', /^REROUTE → target 1 \(openai\/gpt-4o\)/);
  assert.ok(text.includes(d.decisionId));
  assert.match(text, /\[0\] strict\/a .*→ deny/);
  assert.match(text, /provider-terms: provider strict's terms \(strict-terms\) forbid offensive_cyber/);
  assert.match(text, /\[1\] openai\/gpt-4o .*→ allow/);
  assert.match(text, /offensive-cyber-logged: offensive cyber operations/);
  assert.match(text, /\[2\] local\/llama  \(not evaluated/);
  assert.match(text, /obligations: log_content/);
  assert.match(text, /offensive_cyber 0\.91, cyber_defense 0\.30/);
  assert.ok(!text.includes('general 0.01'), 'scores below the floor are left out');
  assert.match(explainDecision(input, targets, d, { scoreFloor: 0 }), /general 0\.01/);
});

test('explain of a deny with no permitting policy says so', () => {
  const d = engine.decide({ ...input, principal: { id: 'a', roles: [], attributes: {} } }, [targets[0] as PolicyTarget]);
  assert.equal(d.kind, 'deny');
  const text = explainDecision(input, [targets[0] as PolicyTarget], d);
  assert.match(text, /^DENY/);
  assert.match(text, /offensive-cyber-needs-role/);
});
