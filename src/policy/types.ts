// The policy capability's vocabulary: what the gateway hands to decide() and what comes back.
import type { ToolEffect, UseLabel } from '../classify/labels.js';

export const POLICY_ACTIONS = ['chat', 'messages', 'tool_call', 'embedding', 'classify'] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export interface PolicyPrincipal {
  id: string;
  roles: string[];
  /** Attributes named as in the schema's Principal entity (unit, clearance, legal_authorities, ...). */
  attributes: Record<string, unknown>;
}

export interface PolicyContext {
  /** Classifier probabilities, 0..1. Sent to Cedar as integers per mille (Cedar has no floats). */
  scores: Partial<Record<UseLabel, number>>;
  /** Labels whose score passed the caller's threshold. */
  labels: UseLabel[];
  top: UseLabel;
  pii: { total: number; protected: number };
  bulk: { distinctPersons: number; windowSeconds: number };
  /** Warrant, court order or similar reference attached to the request. */
  legalAuthority?: string;
  /** Declared effects of the tool calls in the request or response. */
  toolEffects: ToolEffect[];
  time: Date;
}

export interface PolicyInput {
  principal: PolicyPrincipal;
  action: PolicyAction;
  context: PolicyContext;
}

/** A provider's contract terms as far as policy is concerned. */
export interface ProviderTerms {
  name: string;
  forbiddenUses: UseLabel[];
}

/** Treated as immutable: the engine caches derived data per target object. */
export interface PolicyTarget {
  provider: string;
  model: string;
  terms: ProviderTerms;
}

export type TargetEffect = 'allow' | 'deny' | 'hold';
export type DecisionKind = 'allow' | 'deny' | 'hold' | 'reroute';

export interface TargetVerdict {
  target: PolicyTarget;
  effect: TargetEffect;
  /** Ids of the policies that determined this target's effect. */
  policies: string[];
  /** One reason per entry of `policies`, in the same order; a single reason when no policy applied. */
  reasons: string[];
}

export interface Decision {
  kind: DecisionKind;
  decisionId: string;
  /** sha256 hex of the policy set that made the decision. */
  policyVersion: string;
  /** Index into the offered targets of the chosen one; -1 when none. */
  targetIndex: number;
  reasons: string[];
  /** Ids of the policies that determined the decision. */
  policies: string[];
  /** Duties for the caller, e.g. 'log_content', 'hold'. */
  obligations: string[];
  /** The targets evaluated, in order, up to and including the chosen one. */
  perTarget: TargetVerdict[];
}

export const SEVERITIES = ['red_line', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What a policy does when it matches, after redline's reading of its annotations. */
export type PolicyClass = 'permit' | 'deny' | 'hold';

/** One loaded policy, as the engine and explain see it. */
export interface PolicyInfo {
  id: string;
  class: PolicyClass;
  severity: Severity;
  /** Reason template; placeholders such as {provider} are filled per target. */
  reason: string;
  obligations: string[];
  file: string;
  line: number;
  /** True when the policy reads `resource`, i.e. its result can differ between targets. */
  perTarget: boolean;
}

export type ReloadResult = { ok: true; version: string } | { ok: false; errors: string[] };

export interface PolicyEngine {
  decide(input: PolicyInput, targets: PolicyTarget[]): Decision;
  /** Version of the active policy set. */
  readonly version: string;
  /** Directory the set is loaded from. */
  readonly dir: string;
  /** The active set's policies, in file order. */
  policies(): PolicyInfo[];
  /** Re-reads the directory; on any error the active set stays and the errors are returned. */
  reload(): ReloadResult;
  /**
   * Calls `onChange` (debounced) when a policy or schema file in the directory changes. It does not
   * reload by itself: the gateway reloads on file change, SIGHUP and its admin API alike and logs the
   * result in one place. Returns a function that stops watching.
   */
  watch(onChange: (files: string[]) => void, opts?: { debounceMs?: number }): () => void;
}
