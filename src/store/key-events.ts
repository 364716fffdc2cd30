// The audit event a key change leaves in the store's outbox; the gateway moves the outbox into the
// ledger (and pseudonymises the principal) when it starts, so key changes made anywhere are on record.
export type KeyChange = 'key_created' | 'key_revoked';

export function keyChangeEvent(what: KeyChange, keyId: string, principalId: string): Record<string, unknown> {
  return { decisionId: `kc_${keyId}_${what}`, action: 'key_change', decision: 'key_change', change: what, keyId, principal: principalId, labels: [], time: new Date().toISOString() };
}
