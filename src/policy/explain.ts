// Human-readable account of a decision: what was decided, why, per target, and which label scores
// the classifier reported. Uses only the decision and its input, so it can explain a decision read
// back from the ledger as well as a fresh one. Never prints prompt text (the input holds none).
import { USE_LABELS } from '../classify/labels.js';
import { targetId } from './request.js';
import type { Decision, PolicyInput, PolicyTarget } from './types.js';

export interface ExplainOptions {
  /** Scores below this are left out (default 0.05). */
  scoreFloor?: number;
}

const HEADLINE: Record<Decision['kind'], string> = {
  allow: 'ALLOW',
  reroute: 'REROUTE',
  hold: 'HOLD for human approval',
  deny: 'DENY',
};

export function explainDecision(input: PolicyInput, targets: PolicyTarget[], decision: Decision, opts: ExplainOptions = {}): string {
  const floor = opts.scoreFloor ?? 0.05;
  const out: string[] = [];
  const chosen = decision.targetIndex >= 0 ? targets[decision.targetIndex] : undefined;
  out.push(`${HEADLINE[decision.kind]}${chosen ? ` → target ${decision.targetIndex} (${targetId(chosen)})` : ''}`);
  out.push(`  decision ${decision.decisionId}, policy set ${decision.policyVersion.slice(0, 12)}`);
  out.push(`  principal ${input.principal.id} (roles: ${input.principal.roles.join(', ') || 'none'}), action ${input.action}`);
  if (decision.obligations.length) out.push(`  obligations: ${decision.obligations.join(', ')}`);
  if (decision.reasons.length) {
    out.push('reasons:');
    for (const r of decision.reasons) out.push(`  - ${r}`);
  }

  out.push('targets:');
  decision.perTarget.forEach((v, i) => {
    out.push(`  [${i}] ${targetId(v.target)}  terms "${v.target.terms.name}"  → ${v.effect}`);
    if (v.policies.length === v.reasons.length) {
      v.policies.forEach((id, j) => out.push(`        ${id}: ${v.reasons[j]}`));
    } else {
      for (const id of v.policies) out.push(`        ${id}`);
      for (const r of v.reasons) out.push(`        ${r}`);
    }
  });
  for (let i = decision.perTarget.length; i < targets.length; i++) {
    const t = targets[i] as PolicyTarget;
    out.push(`  [${i}] ${targetId(t)}  (not evaluated: an earlier target was chosen)`);
  }

  const c = input.context;
  out.push('request:');
  out.push(`  labels: ${c.labels.join(', ') || 'none'}   top: ${c.top}`);
  const scores = USE_LABELS.map((l) => [l, c.scores[l] ?? 0] as const)
    .filter(([, s]) => s >= floor)
    .sort((a, b) => b[1] - a[1]);
  out.push(`  scores ≥ ${floor}: ${scores.map(([l, s]) => `${l} ${s.toFixed(2)}`).join(', ') || 'none'}`);
  if (c.toolEffects.length) out.push(`  tool effects: ${c.toolEffects.join(', ')}`);
  out.push(`  personal data: ${c.pii.total} items (${c.pii.protected} protected); ${c.bulk.distinctPersons} distinct persons in ${c.bulk.windowSeconds}s`);
  out.push(`  legal authority: ${c.legalAuthority ? 'attached' : 'none'}`);
  return out.join('\n');
}
