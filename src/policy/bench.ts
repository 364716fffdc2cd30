// decide() latency, for the lead to wire into src/bench. Not a test: timings depend on the machine.
import { createPolicyEngine, type PolicyEngineOptions } from './engine.js';
import type { PolicyInput, PolicyTarget } from './types.js';

export interface DecideBenchResult {
  scenario: string;
  iterations: number;
  p50Micros: number;
  p99Micros: number;
}

const targets: PolicyTarget[] = [
  { provider: 'anthropic', model: 'claude-sonnet', terms: { name: 'anthropic-usage-policy', forbiddenUses: ['domestic_mass_surveillance', 'autonomous_lethal_action', 'offensive_cyber'] } },
  { provider: 'openai', model: 'gpt-4o', terms: { name: 'all-lawful-use', forbiddenUses: [] } },
];

function input(i: number, labels: PolicyInput['context']['labels'], roles: string[]): PolicyInput {
  return {
    principal: { id: `user-${i % 50}`, roles, attributes: { unit: 'J2', clearance: 'secret' } },
    action: 'chat',
    context: {
      scores: Object.fromEntries(labels.map((l) => [l, 0.8])), labels, top: labels[0] ?? 'general',
      pii: { total: i % 7, protected: 0 }, bulk: { distinctPersons: i % 150, windowSeconds: 3600 },
      toolEffects: [], time: new Date(),
    },
  };
}

function measure(scenario: string, n: number, f: (i: number) => void): DecideBenchResult {
  for (let i = 0; i < Math.min(2000, n); i++) f(i);
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    f(i);
    t[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  t.sort();
  return { scenario, iterations: n, p50Micros: t[Math.floor(n * 0.5)] ?? 0, p99Micros: t[Math.floor(n * 0.99)] ?? 0 };
}

/** Two targets each time: lawful traffic (allow on target 0) and offensive cyber (reroute to 1). */
export function benchDecide(o: { dir: string; iterations?: number }): DecideBenchResult[] {
  const n = o.iterations ?? 20000;
  const out: DecideBenchResult[] = [];
  for (const [name, opts] of [['memoised', {}], ['every call to Cedar', { cacheSize: 0 }]] as Array<[string, Partial<PolicyEngineOptions>]>) {
    const e = createPolicyEngine({ dir: o.dir, ...opts });
    out.push(measure(`allow, ${name}`, n, (i) => void e.decide(input(i, ['logistics'], ['analyst']), targets)));
    out.push(measure(`reroute, ${name}`, n, (i) => void e.decide(input(i, ['offensive_cyber'], ['cyber_operations']), targets)));
  }
  return out;
}
