// The one schema for redline's configuration file (YAML or JSON). Upstream keys are never in the file:
// a provider names the environment variable that holds its key (`apiKeyEnv`), and `.strict()` objects
// reject an `apiKey` field outright so a secret cannot slip into a committed config.
import { z } from 'zod';
import { USE_LABELS } from '../classify/labels.js';

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
}).strict().superRefine((c, ctx) => {
  const seen = new Set<string>();
  c.providers.forEach((p, i) => {
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: ['providers', i, 'name'], message: `duplicate provider name "${p.name}"` });
    seen.add(p.name);
  });
  const aliases = new Set<string>();
  c.routes.forEach((r, i) => {
    if (aliases.has(r.alias)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'alias'], message: `duplicate route alias "${r.alias}"` });
    aliases.add(r.alias);
    r.targets.forEach((t, j) => {
      if (!seen.has(t.provider)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'targets', j, 'provider'], message: `no provider named "${t.provider}" (declared: ${[...seen].join(', ') || 'none'})` });
    });
  });
});

export type ConfigFile = z.infer<typeof ConfigFileSchema>;
export type ProviderEntry = z.infer<typeof ProviderSchema>;
export type RouteEntry = z.infer<typeof RouteSchema>;
