// Pipeline step: every decision goes into the transparency ledger before the response it records is
// acknowledged. The entry names the principal by pseudonym and commits to the content by a salted
// hash, so an outside party can audit usage without seeing what was asked.
import { createHmac } from 'node:crypto';
import type { AppendOptions, LedgerEntryInput } from '../ledger/index.js';
export { contentSalt } from '../ledger/index.js';
import { canonicalBytes } from '../verify/index.js';
import type { Route } from '../routing/index.js';
import type { Assessment } from './assess.js';
import type { CallDecision } from './decide.js';
import type { Call } from './pipeline.js';

export interface DecisionLog {
  append(entry: LedgerEntryInput, o?: AppendOptions): Promise<{ index: number }>;
}

export interface RecordDeps {
  ledger: DecisionLog;
  pseudonym(principalId: string): string;
  /** config ledger.commitBefore: whether an allowed request waits for its entry before going upstream. */
  commitBefore: 'response' | 'forward';
}

/** HMAC-SHA256(secret, principal id): stable per principal, meaningless without the secret. */
export function pseudonymOf(secret: Uint8Array, principalId: string): string {
  return createHmac('sha256', secret).update('principal:' + principalId).digest('hex');
}

/** pseudonymOf with a bounded memo: principals are few and every request needs one. */
export function pseudonymizer(secret: Uint8Array, max = 10_000): (principalId: string) => string {
  const memo = new Map<string, string>();
  return (id) => {
    let p = memo.get(id);
    if (p === undefined) {
      if (memo.size >= max) memo.clear();
      memo.set(id, (p = pseudonymOf(secret, id)));
    }
    return p;
  };
}

/**
 * The committed content: the neutral request (system, messages, tools); the ledger commits to its RFC
 * 8785 canonical JSON. Keys are written in canonical order, as the wire parsers write messages and
 * parts, so canonicalising a typical request is one JSON.stringify (see verify/jcs.ts).
 */
export function contentValue(call: Call): { messages: unknown; system: unknown; tools: unknown } {
  const { system, messages, tools } = call.req;
  return { messages, system: system ?? null, tools: tools ?? null };
}

/** contentValue as the canonical bytes the commitment is over (for disclosure and hold fingerprints). */
export function contentOf(call: Call): Uint8Array {
  return canonicalBytes(contentValue(call));
}

/** The entry of a call's decision; its content commitment is added by the ledger (append's `content`). */
export function decisionEntry(call: Call, route: Route, a: Assessment, d: CallDecision, deps: RecordDeps): LedgerEntryInput {
  const dec = d.decision;
  const target = route.targets[dec.targetIndex >= 0 ? dec.targetIndex : 0]!;
  return {
    decisionId: dec.decisionId,
    principal: deps.pseudonym(call.caller.principal.id),
    action: call.api === 'openai' ? 'chat' : 'messages',
    labels: a.labels,
    top: a.classification.top,
    decision: dec.kind,
    policyVersion: dec.policyVersion,
    policies: dec.policies,
    provider: target.provider,
    model: target.model,
    route: route.alias,
    requestId: call.requestId,
    pii: { protected: a.pii.protected, total: a.pii.total }, // keys in canonical order: see toLedgerEntry
  };
}
