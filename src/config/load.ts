// loadConfig() is the only place that reads the environment and the config file. It validates once and
// returns a deep-frozen Config; everything else receives the slice it needs.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RedlineError } from '../errors.js';
import type { Timeouts } from '../providers/types.js';
import { ConfigFileSchema, referenceIssues, type ConfigFile, type ProviderEntry } from './schema.js';

export interface ResolvedProvider extends Omit<ProviderEntry, 'timeouts' | 'apiKeyEnv'> {
  timeouts: Timeouts;
  apiKeyEnv?: string;
  /** Read from the environment variable apiKeyEnv names; never from the file. */
  apiKey?: string;
}

export interface Config extends Omit<ConfigFile, 'providers'> {
  /** Where the file came from, or 'embedded defaults'. */
  source: string;
  dataDir: string;
  adminKey?: string;
  logLevel: string;
  providers: ResolvedProvider[];
  /** Key for the guard model, read from classifier.guard.apiKeyEnv. */
  guardApiKey?: string;
  /** Webhook HMAC secret, read from tools.webhook.secretEnv. */
  webhookSecret?: string;
  warnings: string[];
}

/** The embedded default: the offline demo model, reachable as "demo". */
export const EMBEDDED_CONFIG = {
  providers: [{ name: 'demo', kind: 'demo' }],
  routes: [{ alias: 'demo', targets: [{ provider: 'demo', model: 'demo' }] }],
} as const;

const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 5_000, firstByteMs: 60_000, totalMs: 600_000 };

export interface LoadOptions {
  /** Explicit config file path (CLI --config); otherwise REDLINE_CONFIG, then ./redline.yaml|yml|json. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function findConfigFile(o: LoadOptions = {}): string | undefined {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  if (o.file) return resolve(cwd, o.file);
  if (env.REDLINE_CONFIG) return resolve(cwd, env.REDLINE_CONFIG);
  return ['redline.yaml', 'redline.yml', 'redline.json'].map((f) => resolve(cwd, f)).find((p) => existsSync(p));
}

/** Parses and validates config text; every problem is reported with its path. */
export function parseConfigText(text: string, file: string): ConfigFile {
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new RedlineError('CONFIG_INVALID', `${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  // A file that declares neither providers nor routes (one that only tunes the server or the ledger,
  // or an empty one) keeps the embedded demo model rather than serving no model at all.
  const doc = raw ?? {};
  if (typeof doc === 'object' && !Array.isArray(doc) && !('providers' in doc) && !('routes' in doc)) raw = { ...doc, ...EMBEDDED_CONFIG };
  const r = ConfigFileSchema.safeParse(raw ?? {});
  const issues = [...(r.success ? [] : formatIssues(r.error)), ...referenceIssues(raw)];
  if (!r.success || issues.length > 0) {
    throw new RedlineError('CONFIG_INVALID', `${file}: ${issues.length} problem(s)`, { details: { issues } });
  }
  return r.data;
}

export function formatIssues(err: z.ZodError): string[] {
  return err.issues.map((i) => `${pathString(i.path)}: ${i.message}`);
}

function pathString(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

export function loadConfig(o: LoadOptions = {}): Config {
  const env = o.env ?? process.env;
  const cwd = o.cwd ?? process.cwd();
  const file = findConfigFile(o);
  let parsed: ConfigFile;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new RedlineError('CONFIG_INVALID', `cannot read config file ${file}: ${(e as Error).message}`);
    }
    parsed = parseConfigText(text, file);
  } else {
    parsed = ConfigFileSchema.parse(EMBEDDED_CONFIG);
  }
  const warnings: string[] = [];
  const providers: ResolvedProvider[] = parsed.providers.map((p) => {
    const apiKey = p.apiKeyEnv ? env[p.apiKeyEnv] : undefined;
    if (p.apiKeyEnv && !apiKey) warnings.push(`provider ${p.name}: environment variable ${p.apiKeyEnv} is not set; its requests will fail`);
    if (!p.apiKeyEnv && ['anthropic', 'openai', 'gemini', 'xai'].includes(p.kind)) warnings.push(`provider ${p.name}: no apiKeyEnv; requests go upstream without a key`);
    return { ...p, timeouts: { ...DEFAULT_TIMEOUTS, ...p.timeouts }, ...(apiKey ? { apiKey } : {}) };
  });
  const server = { ...parsed.server };
  if (env.PORT !== undefined) {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RedlineError('CONFIG_INVALID', `PORT must be an integer 0-65535, got "${env.PORT}"`);
    server.port = port;
  }
  if (env.HOST) server.host = env.HOST;
  const adminKey = env.REDLINE_ADMIN_KEY;
  if (adminKey !== undefined && adminKey.length < 16) throw new RedlineError('CONFIG_INVALID', 'REDLINE_ADMIN_KEY must be at least 16 characters');
  const guardEnv = parsed.classifier.guard?.apiKeyEnv;
  const guardApiKey = guardEnv ? env[guardEnv] : undefined;
  if (guardEnv && !guardApiKey) warnings.push(`classifier.guard: environment variable ${guardEnv} is not set`);
  const hookEnv = parsed.tools.webhook?.secretEnv;
  const webhookSecret = hookEnv ? env[hookEnv] : undefined;
  if (hookEnv && !webhookSecret) throw new RedlineError('CONFIG_INVALID', `tools.webhook.secretEnv: environment variable ${hookEnv} is not set; webhooks must be signed`);
  return deepFreeze({
    ...parsed,
    ...(guardApiKey && { guardApiKey }),
    ...(webhookSecret && { webhookSecret }),
    server,
    providers,
    source: file ?? 'embedded defaults',
    dataDir: resolve(cwd, env.REDLINE_DATA_DIR ?? 'data'),
    ...(adminKey ? { adminKey } : {}),
    logLevel: env.LOG_LEVEL ?? 'info',
    warnings,
  });
}

export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
