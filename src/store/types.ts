// Narrow storage interfaces. SQLite implements them for one instance; a PostgreSQL implementation
// (several gateway instances) will implement the same ones. Methods are async so either fits.

export interface Principal {
  id: string;
  name: string;
  roles: string[];
  /** e.g. unit, clearance, legal_authorities. */
  attributes: Record<string, unknown>;
  createdAt: string;
}

export interface ApiKeyInfo {
  id: string;
  principalId: string;
  principalName: string;
  label: string;
  /** The first characters of the key, enough to recognise it in a list. */
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface RequestRecord {
  id: string;
  time: string;
  principalId: string;
  keyId: string;
  api: 'openai' | 'anthropic';
  alias: string;
  provider: string | null;
  model: string | null;
  status: number;
  errorCode: string | null;
  stream: boolean;
  inputTokens: number;
  outputTokens: number;
  latencyMs: number;
  attempts: number;
  /** Only when the operator opted in (server.storeContent). */
  content: string | null;
}

export interface KeyStore {
  createPrincipal(p: { name: string; roles: string[]; attributes?: Record<string, unknown> }): Promise<Principal>;
  getPrincipalByName(name: string): Promise<Principal | undefined>;
  listPrincipals(): Promise<Principal[]>;
  /** Stores only the hash; returns the info row. */
  addKey(k: { principalId: string; label: string; hash: string; prefix: string }): Promise<ApiKeyInfo>;
  listKeys(): Promise<ApiKeyInfo[]>;
  /** Revokes by key id or prefix; returns the revoked key or undefined when none matched. */
  revokeKey(idOrPrefix: string): Promise<ApiKeyInfo | undefined>;
  /** The live (not revoked) key with this hash and its principal. */
  findKey(hash: string): Promise<{ key: ApiKeyInfo; principal: Principal } | undefined>;
  countKeys(): Promise<number>;
}

export interface RequestLog {
  /** Queues a record; records are written in batches (they are metadata, not the ledger). */
  record(r: RequestRecord): void;
  recent(limit: number): Promise<RequestRecord[]>;
  flush(): Promise<void>;
}

/** Audit events from processes that do not own the ledger (the CLI), moved into it by the gateway. */
export interface AuditOutbox {
  add(entry: Record<string, unknown>): Promise<void>;
  /** Appends queued events in order; each leaves the outbox only once its append resolved. */
  drain(append: (entry: Record<string, unknown>) => Promise<unknown>, limit?: number): Promise<number>;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  keys: KeyStore;
  requests: RequestLog;
  audit: AuditOutbox;
  close(): Promise<void>;
}
