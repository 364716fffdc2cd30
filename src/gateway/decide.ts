// Pipeline step: the policy decision for one call over the targets of its route.
import { RedlineError, isRedlineError } from '../errors.js';
import type { Decision, PolicyEngine, PolicyInput, PolicyTarget, ProviderTerms } from '../policy/index.js';
import type { Route } from '../routing/index.js';
import type { Assessment } from './assess.js';
import type { Call } from './pipeline.js';

export interface PolicyDeps {
  engine: PolicyEngine;
  termsOf(provider: string): ProviderTerms;
  bulkWindowSeconds: number;
}

export interface CallDecision {
  decision: Decision;
  input: PolicyInput;
  targets: PolicyTarget[];
  /** Whether policy lets target i serve this call (for fallback past the chosen target). */
  allowed(i: number): boolean;
}

export function policyInputOf(call: Call, a: Assessment, bulkWindowSeconds: number): PolicyInput {
  return {
    principal: { id: call.caller.principal.id, roles: call.caller.principal.roles, attributes: call.caller.principal.attributes },
    action: call.api === 'openai' ? 'chat' : 'messages',
    context: {
      scores: a.classification.scores,
      labels: a.labels,
      top: a.classification.top,
      pii: { total: a.pii.total, protected: a.pii.protected },
      bulk: { distinctPersons: a.bulkDistinct, windowSeconds: bulkWindowSeconds },
      ...(call.legalAuthority && { legalAuthority: call.legalAuthority }),
      toolEffects: [],
      time: new Date(),
    },
  };
}

/**
 * One PolicyTarget list per route, built once: the engine caches per target object, so handing it
 * fresh objects on every request would throw that cache away.
 */
const targetsByRoute = new WeakMap<Route, PolicyTarget[]>();
function targetsOf(route: Route, deps: PolicyDeps): PolicyTarget[] {
  let t = targetsByRoute.get(route);
  if (!t) targetsByRoute.set(route, (t = route.targets.map((x) => Object.freeze({ provider: x.provider, model: x.model, terms: deps.termsOf(x.provider) }))));
  return t;
}

export function decideCall(call: Call, route: Route, a: Assessment, deps: PolicyDeps): CallDecision {
  const input = policyInputOf(call, a, deps.bulkWindowSeconds);
  const targets = targetsOf(route, deps);
  const decision = guarded(() => deps.engine.decide(input, targets));
  const later = new Map<number, boolean>();
  return {
    decision, input, targets,
    allowed(i) {
      const v = decision.perTarget[i];
      if (v) return v.effect === 'allow';
      let ok = later.get(i);
      if (ok === undefined) {
        ok = guarded(() => deps.engine.decide(input, [targets[i]!])).kind === 'allow';
        later.set(i, ok);
      }
      return ok;
    },
  };
}

function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isRedlineError(err) && err.code === 'POLICY_FAILED') throw err;
    throw new RedlineError('POLICY_FAILED', 'The policy engine could not decide, so the request is refused (fail closed).', { cause: err, details: { stage: 'policy' } });
  }
}

/** Turns a deny into the caller's error (holds go to the approval gate). */
export function enforce(d: Decision): void {
  const details = { decision_id: d.decisionId, reasons: d.reasons, policies: d.policies, policy_version: d.policyVersion };
  if (d.kind === 'deny') {
    throw new RedlineError('POLICY_DENIED', `Request denied by policy: ${d.reasons.join('; ') || 'no policy permits it'} (decision ${d.decisionId})`, { details });
  }
}
