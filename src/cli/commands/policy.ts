// `redline policy ...`: check, test and explain a policy set. Thin over src/policy; `explain` runs a
// request through the gateway's own assessment and decision steps, without a server.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { RedlineError, isRedlineError } from '../../errors.js';
import { createBulkTracker, loadClassifier, USE_LABELS, type PiiCounts, type UseClassifier } from '../../classify/index.js';
import { ConfigFileSchema, parseConfigText, type ConfigFile } from '../../config/index.js';
import {
  createPolicyEngine, DEFAULT_POLICY_DIR, explainDecision, loadPolicyDir, runPolicyTests,
  type Decision, type PolicyEngine, type PolicyInput, type PolicyTarget, type ProviderTerms,
} from '../../policy/index.js';
import { createRouteTable, type Route } from '../../routing/index.js';
import { createMemorySketchStore } from '../../store/index.js';
import { parseAnthropicMessagesRequest, parseOpenAIChatRequest, type ChatRequest } from '../../wire/index.js';
// The gateway's own request steps, so that explain decides exactly as a live request would. gateway/
// has no index.ts door yet; see the note in the report about moving these two into a shared place.
import { createAssessor, decideCall, type Call } from '../../gateway/index.js';

const DEFAULT_DIR_HELP = 'policies/default, else the pack shipped with redline';

/** ./policies/default when the working directory has one, else the pack shipped with redline. */
function defaultDir(): string {
  return existsSync('policies/default') ? 'policies/default' : DEFAULT_POLICY_DIR;
}

function engineFor(dir: string): PolicyEngine | undefined {
  try {
    return createPolicyEngine({ dir });
  } catch (e) {
    const issues = isRedlineError(e) && Array.isArray(e.details?.issues) ? (e.details.issues as string[]) : [String(e)];
    console.error(`policy set ${dir} is invalid:`);
    for (const i of issues) console.error(`  ${i}`);
    process.exitCode = 1;
    return undefined;
  }
}

const TermsSpec = z.object({
  name: z.string().min(1).optional(),
  forbidden_uses: z.array(z.enum(USE_LABELS)).optional(),
  forbiddenUses: z.array(z.enum(USE_LABELS)).optional(),
}).strict();

/** The `--request` file of `policy explain` (YAML or JSON). */
export const ExplainFileSchema = z.object({
  /** The chat body as a client would send it; its API is inferred unless `api` names it. */
  request: z.record(z.string(), z.unknown()),
  api: z.enum(['openai', 'anthropic']).optional(),
  principal: z.object({
    id: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    roles: z.array(z.string()).default([]),
    attributes: z.record(z.string(), z.unknown()).default({}),
  }).strict().default({ roles: [], attributes: {} }),
  /** As the x-redline-legal-authority header. */
  legal_authority: z.string().optional(),
  /** Distinct persons this principal already sent within the bulk window (default 0). */
  prior_distinct_persons: z.number().int().min(0).optional(),
  /** The targets to decide over, in order. Default: the route the request's model names in `config`. */
  targets: z.array(z.object({ provider: z.string().min(1), model: z.string().min(1), terms: TermsSpec.optional() }).strict()).min(1).optional(),
  /** A gateway config file (relative to this file): routes, provider terms, classifier, PII and bulk settings, policy dir. */
  config: z.string().optional(),
}).strict();
export type ExplainFile = z.infer<typeof ExplainFileSchema>;

export interface ExplainResult {
  api: 'openai' | 'anthropic';
  input: PolicyInput;
  targets: PolicyTarget[];
  decision: Decision;
  pii: PiiCounts;
  classifierVersion: string;
  threshold: number;
  /** explainDecision's text. */
  text: string;
}

export interface ExplainOptions {
  engine: PolicyEngine;
  classifier: UseClassifier;
  /** A parsed gateway config, when the file names one. */
  config?: ConfigFile;
  scoreFloor?: number;
}

/**
 * Which API a bare request body is in. Anthropic's has the system prompt at the top level and always
 * a max_tokens; OpenAI's puts the system prompt in a message. Ambiguous bodies (only user turns) are
 * read as OpenAI; the file's `api` settles it.
 */
function apiOf(body: Record<string, unknown>): 'openai' | 'anthropic' {
  if ('system' in body) return 'anthropic';
  const roles = Array.isArray(body.messages) ? body.messages.map((m) => (m as { role?: unknown } | null)?.role) : [];
  if (roles.some((r) => r === 'system' || r === 'developer' || r === 'tool')) return 'openai';
  return 'max_tokens' in body && !('max_completion_tokens' in body) ? 'anthropic' : 'openai';
}

/** The terms a target is held to: the config's provider terms, as the gateway builds them. */
function configTerms(config: ConfigFile | undefined): Map<string, ProviderTerms> {
  return new Map((config?.providers ?? []).map((p) => [p.name, { name: p.terms?.name ?? p.name, forbiddenUses: [...(p.terms?.forbiddenUses ?? [])] }]));
}

/** The route to decide over: the file's targets, else the config's route for the request's model. */
function routeOf(spec: ExplainFile, req: ChatRequest, config: ConfigFile | undefined): { route: Route; terms: Map<string, ProviderTerms> } {
  const terms = configTerms(config);
  if (spec.targets) {
    // Terms belong to a provider, as in the gateway config, so one provider cannot have two sets.
    const given = new Map<string, ProviderTerms>();
    for (const t of spec.targets) {
      if (!t.terms) continue;
      const mine: ProviderTerms = { name: t.terms.name ?? t.provider, forbiddenUses: [...(t.terms.forbidden_uses ?? t.terms.forbiddenUses ?? [])] };
      const prev = given.get(t.provider);
      if (prev && JSON.stringify(prev) !== JSON.stringify(mine)) throw new RedlineError('INVALID_REQUEST', `targets: provider ${t.provider} is given two different sets of terms`);
      given.set(t.provider, mine);
    }
    for (const [provider, t] of given) terms.set(provider, t);
    return { route: { alias: req.model, targets: spec.targets.map((t) => ({ provider: t.provider, model: t.model })) }, terms };
  }
  if (config) {
    const table = createRouteTable(config.routes, config.providers.map((p) => p.name));
    return { route: table.resolve(req.model), terms };
  }
  // Neither: one target with no terms, so only the policies themselves decide.
  return { route: { alias: req.model, targets: [{ provider: 'any', model: req.model }] }, terms };
}

/** Runs one request file through the classifier, the PII detectors and the policy set. */
export async function explainRequest(spec: ExplainFile, o: ExplainOptions): Promise<ExplainResult> {
  const api = spec.api ?? apiOf(spec.request);
  let req: ChatRequest;
  try {
    req = api === 'openai' ? parseOpenAIChatRequest(spec.request) : parseAnthropicMessagesRequest(spec.request);
  } catch (e) {
    const why = isRedlineError(e) ? e.message : String(e);
    throw new RedlineError('INVALID_REQUEST', `request: not a valid ${api === 'openai' ? 'OpenAI chat' : 'Anthropic messages'} body (set api: to the other one if it is): ${why}`);
  }
  // Without a config file, the gateway's defaults (the schema's, so they cannot drift apart).
  const c = o.config ?? ConfigFileSchema.parse({});
  const threshold = c.classifier.threshold;
  const includeToolResults = c.classifier.includeToolResults;
  const pii = { country: c.pii.country, protectedCidrs: [...c.pii.protectedCidrs] };
  const windowSeconds = c.bulk.windowSeconds;
  const id = spec.principal.id ?? spec.principal.name ?? 'explain';
  const name = spec.principal.name ?? id;
  const now = new Date().toISOString();
  // The header value as the gateway reads it: trimmed, blank means none.
  const legalAuthority = spec.legal_authority?.trim().slice(0, 256) || undefined;
  const call: Call = {
    api, req, requestId: 'explain', startedAt: 0, signal: new AbortController().signal,
    caller: {
      principal: { id, name, roles: spec.principal.roles, attributes: spec.principal.attributes, createdAt: now },
      key: { id: 'explain', principalId: id, principalName: name, label: 'explain', prefix: '', createdAt: now, revokedAt: null },
    },
    ...(legalAuthority && { legalAuthority }),
  };
  // A fresh in-memory tracker: this request's identifiers alone, plus what the file says came before.
  const bulk = createBulkTracker({ secret: randomBytes(32), windowSeconds, store: createMemorySketchStore() });
  const assessor = createAssessor({ classifier: o.classifier, threshold, includeToolResults, pii, bulk });
  const assessed = await assessor.assess(req, id, call.signal);
  const assessment = { ...assessed, bulkDistinct: assessed.bulkDistinct + (spec.prior_distinct_persons ?? 0) };
  const { route, terms } = routeOf(spec, req, o.config);
  const decided = decideCall(call, route, assessment, {
    engine: o.engine, bulkWindowSeconds: windowSeconds,
    termsOf: (provider) => terms.get(provider) ?? { name: provider, forbiddenUses: [] },
  });
  const text = explainDecision(decided.input, decided.targets, decided.decision, { scoreFloor: o.scoreFloor ?? 0.05 });
  return {
    api, input: decided.input, targets: decided.targets, decision: decided.decision, pii: assessment.pii,
    classifierVersion: o.classifier.version, threshold, text,
  };
}

/** Reads a `--request` file (YAML or JSON; YAML is a superset) and the config file it names. */
export function readExplainFile(path: string): { spec: ExplainFile; config?: ConfigFile; configPath?: string } {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RedlineError('INVALID_REQUEST', `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid YAML or JSON: ${(e as Error).message}`}`);
  }
  const r = ExplainFileSchema.safeParse(raw);
  if (!r.success) {
    throw new RedlineError('INVALID_REQUEST', `${path}: ${r.error.issues.length} problem(s)`, {
      details: { issues: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) },
    });
  }
  const spec = r.data;
  if (spec.targets && spec.config) throw new RedlineError('INVALID_REQUEST', `${path}: give either targets or config, not both`);
  if (!spec.config) return { spec };
  const configPath = resolve(dirname(path), spec.config);
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    throw new RedlineError('INVALID_REQUEST', `${path}: config file ${configPath} cannot be read`);
  }
  return { spec, config: parseConfigText(text, configPath), configPath };
}

function printFailure(e: unknown): void {
  if (!isRedlineError(e)) throw e;
  console.error(e.message);
  for (const i of (e.details?.issues as string[] | undefined) ?? []) console.error(`  - ${i}`);
  process.exitCode = 1;
}

export function register(program: Command): void {
  const policy = program.command('policy').description('check and test Cedar policy sets');

  policy
    .command('validate')
    .description('parse and validate a policy set against its schema; print its version')
    .option('--policies <dir>', `policy set directory (default ${DEFAULT_DIR_HELP})`)
    .option('--json', 'print JSON')
    .action((o: { policies?: string; json?: boolean }) => {
      const dir = o.policies ?? defaultDir();
      const r = loadPolicyDir(dir);
      if (o.json) console.log(JSON.stringify(r.ok ? { ok: true, version: r.set.version, policies: r.set.policies.map((p) => p.id) } : r));
      else if (r.ok) {
        console.log(`ok  ${dir}  version ${r.set.version}`);
        for (const p of r.set.policies) console.log(`  ${p.id.padEnd(42)} ${p.class.padEnd(6)} ${p.severity.padEnd(8)} ${p.file}:${p.line}`);
      } else {
        console.error(`policy set ${dir} is invalid:`);
        for (const e of r.errors) console.error(`  ${e}`);
      }
      if (!r.ok) process.exitCode = 1;
    });

  policy
    .command('test')
    .description('run policy test cases (YAML) against a policy set; exit 1 on any failure')
    .argument('[dir]', 'directory of test files, or one file (default: the policy set\'s tests/)')
    .option('--policies <dir>', `policy set directory (default ${DEFAULT_DIR_HELP})`)
    .action((dir: string | undefined, o: { policies?: string }) => {
      const policies = o.policies ?? defaultDir();
      const engine = engineFor(policies);
      if (!engine) return;
      const testsDir = dir ?? join(policies, 'tests');
      let report;
      try {
        report = runPolicyTests(testsDir, engine);
      } catch (e) {
        console.error(`cannot read tests in ${testsDir}: ${(e as Error).message}`);
        process.exitCode = 1;
        return;
      }
      for (const r of report.results) {
        console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.file} › ${r.name}`);
        for (const d of r.diff) console.log(`        ${d}`);
      }
      const total = report.results.length;
      console.log(`\n${report.failed === 0 ? 'PASS' : 'FAIL'}: ${report.passed}/${total} passed, ${report.failed} failed (policy set ${engine.version.slice(0, 12)})`);
      if (report.failed > 0 || total === 0) process.exitCode = 1;
    });

  policy
    .command('explain')
    .description('decide one request file with the shipped classifier and a policy set, and explain why')
    .requiredOption('--request <file>', 'YAML or JSON: request (OpenAI or Anthropic body), principal, legal_authority, targets or config')
    .option('--policies <dir>', `policy set directory (default: the config's policy.dir, else ${DEFAULT_DIR_HELP})`)
    .option('--model <path>', 'classifier model file (default: the shipped model)')
    .option('--all-scores', 'list every label score, not only those of at least 0.05')
    .option('--json', 'print JSON')
    .action(async (o: { request: string; policies?: string; model?: string; allScores?: boolean; json?: boolean }) => {
      let file;
      try {
        file = readExplainFile(o.request);
      } catch (e) {
        printFailure(e);
        return;
      }
      const engine = engineFor(o.policies ?? file.config?.policy.dir ?? defaultDir());
      if (!engine) return;
      let r: ExplainResult;
      try {
        r = await explainRequest(file.spec, { engine, classifier: loadClassifier(o.model), ...(file.config && { config: file.config }), scoreFloor: o.allScores ? 0 : 0.05 });
      } catch (e) {
        printFailure(e);
        return;
      }
      if (o.json) {
        console.log(JSON.stringify({
          api: r.api, decision: r.decision, labels: r.input.context.labels, top: r.input.context.top, scores: r.input.context.scores,
          pii: r.pii, principal: r.input.principal, targets: r.targets, classifier: { version: r.classifierVersion, threshold: r.threshold },
          policy_dir: engine.dir,
        }));
        return;
      }
      const kinds = Object.entries(r.pii.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
      console.log(`request: ${r.api === 'openai' ? 'OpenAI chat' : 'Anthropic messages'}; classifier ${r.classifierVersion} (threshold ${r.threshold}); policy set ${engine.dir}`);
      if (kinds) console.log(`personal data by kind: ${kinds}`);
      if (file.config?.classifier.guard) console.log('note: the config names a guard model; explain does not consult it');
      console.log(r.text);
    });
}
