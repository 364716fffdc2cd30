// The one schema for redline's configuration file (YAML or JSON). Upstream keys are never in the file:
// a provider names the environment variable that holds its key (`apiKeyEnv`), and `.strict()` objects
// reject an `apiKey` field outright so a secret cannot slip into a committed config.
import { z } from 'zod';
import { TOOL_EFFECTS, USE_LABELS } from '../classify/labels.js';

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'use lower-case letters, digits, ".", "_" or "-"');
const ms = z.number().int().positive();

export const TimeoutsSchema = z.object({
  connectMs: ms.default(5_000),
  firstByteMs: ms.default(60_000),
  totalMs: ms.default(600_000),
}).strict();

export const ProviderSchema = z.object({
  name,
  kind: z.enum(['anthropic', 'openai', 'gemini', 'xai', 'openai_compatible', 'demo']),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name').optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeouts: TimeoutsSchema.partial().optional(),
  /** The provider's contract terms: uses it forbids (part 2 policy reads them). */
  terms: z.object({
    name: z.string().optional(),
    forbiddenUses: z.array(z.enum(USE_LABELS)).default([]),
  }).strict().optional(),
}).strict().superRefine((p, ctx) => {
  if (p.kind === 'openai_compatible' && !p.baseUrl) ctx.addIssue({ code: 'custom', path: ['baseUrl'], message: 'openai_compatible providers need a baseUrl (e.g. http://127.0.0.1:8000/v1 for vLLM)' });
});

export const TargetSchema = z.object({ provider: name, model: z.string().min(1) }).strict();

export const RouteSchema = z.object({
  alias: z.string().min(1).max(128),
  targets: z.array(TargetSchema).min(1, 'a route needs at least one target'),
}).strict();

export const ConfigFileSchema = z.object({
  server: z.object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    bodyLimitBytes: z.number().int().positive().default(8 * 1024 * 1024),
    /** Store message content with request records (off: only metadata is kept). */
    storeContent: z.boolean().default(false),
  }).strict().default({ host: '127.0.0.1', port: 8080, bodyLimitBytes: 8 * 1024 * 1024, storeContent: false }),
  providers: z.array(ProviderSchema).default([]),
  routes: z.array(RouteSchema).default([]),
  retry: z.object({
    /** Attempts per target, including the first. */
    maxAttempts: z.number().int().min(1).max(10).default(2),
    baseDelayMs: ms.default(100),
    maxDelayMs: ms.default(2_000),
    /** A Retry-After longer than this moves on to the next target instead of waiting. */
    maxRetryAfterMs: ms.default(10_000),
  }).strict().default({ maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 2_000, maxRetryAfterMs: 10_000 }),
  circuitBreaker: z.object({
    /** Consecutive failures that open the circuit of a target. */
    failureThreshold: z.number().int().min(1).default(5),
    /** How long an open circuit rejects before one trial request is let through. */
    cooldownMs: ms.default(30_000),
  }).strict().default({ failureThreshold: 5, cooldownMs: 30_000 }),
  /** Policy as code (Cedar). `dir` defaults to the policy pack shipped with redline (policies/default). */
  policy: z.object({
    dir: z.string().optional(),
    /** Reload when a file in the policy directory changes. */
    watch: z.boolean().default(true),
    /** Who releases a whole request that policy answers `hold` for, and how the client waits. */
    hold: z.object({
      approvers: z.number().int().min(1).max(10).default(1),
      roles: z.array(z.string()).default([]),
      timeoutSeconds: z.number().int().positive().default(600),
      /** defer (default): 403 approval_required with the approval id at once; wait: the request blocks until decided. */
      mode: z.enum(['wait', 'defer']).default('defer'),
    }).strict().default({ approvers: 1, roles: [], timeoutSeconds: 600, mode: 'defer' }),
  }).strict().default({ watch: true, hold: { approvers: 1, roles: [], timeoutSeconds: 600, mode: 'defer' } }),
  classifier: z.object({
    /** A label is "present" for policy when its probability reaches this. */
    threshold: z.number().min(0).max(1).default(0.5),
    /** Also classify tool results sent back by the client (off: system prompt and user turns only). */
    includeToolResults: z.boolean().default(false),
    /** Optional second stage: a guard model behind an OpenAI-compatible endpoint; fails closed. */
    guard: z.object({
      url: z.url({ protocol: /^https?$/ }),
      model: z.string().min(1),
      apiKeyEnv: z.string().optional(),
      timeoutMs: z.number().int().positive().default(2_000),
    }).strict().optional(),
  }).strict().default({ threshold: 0.5, includeToolResults: false }),
  pii: z.object({
    /** ISO 3166 alpha-2 country whose people are the protected population (taxonomy: US persons). */
    country: z.string().regex(/^[A-Z]{2}$/).default('US'),
    /** IP ranges whose addresses point at protected persons (IPs cannot be placed offline otherwise). */
    protectedCidrs: z.array(z.string()).default([]),
  }).strict().default({ country: 'US', protectedCidrs: [] }),
  bulk: z.object({
    /** Sliding window over which distinct identifiers per principal are counted. */
    windowSeconds: z.number().int().positive().default(86_400),
  }).strict().default({ windowSeconds: 86_400 }),
  /** Tools a model may call, with their effect (taxonomy), and who must approve which effect. */
  tools: z.object({
    defaultEffect: z.enum(TOOL_EFFECTS).default('none'),
    declared: z.array(z.object({ name: z.string().min(1), effect: z.enum(TOOL_EFFECTS), mode: z.enum(['wait', 'defer']).optional() }).strict()).default([]),
    approvals: z.partialRecord(z.enum(TOOL_EFFECTS), z.object({
      /** Distinct approvers needed. For `lethal` at least 1 is enforced whatever this says. */
      approvers: z.number().int().min(0).max(10).default(1),
      /** Approvers must hold one of these roles (none listed: role approver or admin). */
      roles: z.array(z.string()).default([]),
      timeoutSeconds: z.number().int().positive().default(600),
      mode: z.enum(['wait', 'defer']).default('wait'),
    }).strict()).default({}),
    receiptTtlSeconds: z.number().int().positive().default(3_600),
    /** While a wait-mode approval is pending, a keep-alive goes to the client this often. */
    keepAliveSeconds: z.number().int().min(1).max(300).default(10),
    webhook: z.object({ url: z.url({ protocol: /^https?$/ }), secretEnv: z.string() }).strict().optional(),
  }).strict().default({ defaultEffect: 'none', declared: [], approvals: {}, receiptTtlSeconds: 3_600, keepAliveSeconds: 10 }),
  ledger: z.object({
    /** The log's origin line in checkpoints (C2SP tlog-checkpoint); also names the signing key. Fixed for the life of a log. */
    origin: z.string().regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').default('redline.local/ledger'),
    /**
     * NORMAL (default, SQLite WAL): an acknowledged entry survives the process being killed (kill -9),
     * and the commit costs no fsync. FULL: it also survives power loss, at one fsync per group commit
     * (on the ledger's own thread, not the event loop).
     */
    synchronous: z.enum(['NORMAL', 'FULL']).default('NORMAL'),
    /**
     * What must wait for a decision's entry to be durable. `response` (default): nothing reaches the
     * client before its entry commits, and denied or held requests never reach a provider (the policy
     * decides before anything is forwarded), but an allowed request goes upstream while its entry
     * commits, so the commit costs no latency. If the commit then fails, the answer is discarded and the
     * client gets 503. `forward`: an allowed request also waits for the commit before it goes upstream,
     * so a provider never sees content whose decision is not on record, at one commit of latency.
     */
    commitBefore: z.enum(['response', 'forward']).default('response'),
    /**
     * Write the ledger from a thread of its own (entry building, hashing and SQLite commits leave the
     * event loop) instead of the event loop itself. It frees the event loop of about a fifth of its
     * CPU per request, but costs a thread wake-up each way per commit and some CPU to hand entries
     * over: on a 2-core host shared with other busy processes it measured slower (latency at one
     * connection 0.78 → 1.33 ms p50). Worth it where spare cores exist and the event loop is the limit.
     */
    thread: z.boolean().default(false),
  }).strict().default({ origin: 'redline.local/ledger', synchronous: 'NORMAL', commitBefore: 'response', thread: false }),
  /** Public base URL of this gateway, for status URLs in hold objects and webhooks. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
}).strict();

/**
 * Names that must agree across the file: unique provider names and aliases, route targets naming a
 * declared provider. Checked on the raw document, so these problems are reported together with any
 * schema problems rather than only once the rest is valid.
 */
export function referenceIssues(raw: unknown): string[] {
  const doc = (raw ?? {}) as { providers?: unknown; routes?: unknown };
  const providers = Array.isArray(doc.providers) ? doc.providers : [];
  const routes = Array.isArray(doc.routes) ? doc.routes : [];
  const issues: string[] = [];
  const names = new Set<string>();
  providers.forEach((p, i) => {
    const n = (p as { name?: unknown })?.name;
    if (typeof n !== 'string') return;
    if (names.has(n)) issues.push(`providers[${i}].name: duplicate provider name "${n}"`);
    names.add(n);
  });
  if (routes.length === 0 && (doc.routes === undefined || Array.isArray(doc.routes))) {
    issues.push('routes: no route is declared, so the gateway would serve no model (declare one, or leave out both providers and routes for the embedded demo model)');
  }
  const aliases = new Set<string>();
  routes.forEach((r, i) => {
    const alias = (r as { alias?: unknown })?.alias;
    if (typeof alias === 'string') {
      if (aliases.has(alias)) issues.push(`routes[${i}].alias: duplicate route alias "${alias}"`);
      aliases.add(alias);
    }
    const targets = (r as { targets?: unknown })?.targets;
    (Array.isArray(targets) ? targets : []).forEach((t, j) => {
      const provider = (t as { provider?: unknown })?.provider;
      if (typeof provider === 'string' && !names.has(provider)) {
        issues.push(`routes[${i}].targets[${j}].provider: no provider named "${provider}" (declared: ${[...names].join(', ') || 'none'})`);
      }
    });
  });
  return issues;
}

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
export type ProviderEntry = z.infer<typeof ProviderSchema>;
export type RouteEntry = z.infer<typeof RouteSchema>;
