// Policy tests: YAML files of cases, each a request, its targets and the decision expected. Used by
// `redline policy test` and by the node tests that prove the default pack on every `npm test`.
//
// A file is a list of cases, or `{ defaults, cases }` where defaults (principal, action, targets,
// context) fill in what a case leaves out (context is merged key by key). A case:
//   name: text
//   principal: { id, roles: [..], attributes: { unit, clearance, legal_authorities, .. } }
//   action: chat | messages | tool_call | embedding | classify         (default chat)
//   context:
//     labels: [..]              labels past the threshold; when absent, those scoring >= 0.5
//     scores: { label: 0..1 }   when absent, each listed label scores 0.9
//     top: label                when absent, the best-scoring label
//     legal_authority: text     pii: { total, protected }    bulk: { distinct_persons, window_seconds }
//     tool_effects: [..]        time: ISO 8601 (default 2025-01-01T12:00:00Z)
//   targets: [ { provider, model, terms: { name, forbidden_uses: [..] } } ]
//   expect: { decision: allow|deny|hold|reroute, target?: index, policies?: [ids, exact set],
//             obligations?: [exact set], reason_contains?: text }
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { TOOL_EFFECTS, USE_LABELS, type UseLabel } from '../classify/labels.js';
import { POLICY_ACTIONS, type Decision, type PolicyEngine, type PolicyInput, type PolicyTarget } from './types.js';

const Label = z.enum(USE_LABELS);
const count = z.number().int().min(0);

const TargetS = z.object({
  provider: z.string().min(1),
  model: z.string().min(1),
  terms: z.object({ name: z.string(), forbidden_uses: z.array(Label).default([]) }).strict().default({ name: 'none', forbidden_uses: [] }),
}).strict();

const PrincipalS = z.object({
  id: z.string().min(1),
  roles: z.array(z.string()).default([]),
  attributes: z.record(z.string(), z.unknown()).default({}),
}).strict();

const ContextS = z.object({
  labels: z.array(Label).optional(),
  scores: z.partialRecord(Label, z.number().min(0).max(1)).optional(),
  top: Label.optional(),
  legal_authority: z.string().optional(),
  pii: z.object({ total: count.default(0), protected: count.default(0) }).strict().optional(),
  bulk: z.object({ distinct_persons: count.default(0), window_seconds: count.default(3600) }).strict().optional(),
  tool_effects: z.array(z.enum(TOOL_EFFECTS)).optional(),
  time: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO 8601 time').optional(),
}).strict();

const ExpectS = z.object({
  decision: z.enum(['allow', 'deny', 'hold', 'reroute']),
  target: z.number().int().min(-1).optional(),
  policies: z.array(z.string()).optional(),
  obligations: z.array(z.string()).optional(),
  reason_contains: z.string().optional(),
}).strict();

const RequestFields = {
  principal: PrincipalS.optional(),
  action: z.enum(POLICY_ACTIONS).optional(),
  context: ContextS.optional(),
  targets: z.array(TargetS).min(1).optional(),
};

const CaseS = z.object({ name: z.string().min(1), ...RequestFields, expect: ExpectS }).strict();
const RequestS = z.object(RequestFields).strict();

const DefaultsS = z.object({
  principal: PrincipalS.optional(),
  action: z.enum(POLICY_ACTIONS).optional(),
  context: ContextS.optional(),
  targets: z.array(TargetS).min(1).optional(),
}).strict();

const FileS = z.union([
  z.array(CaseS),
  z.object({ defaults: DefaultsS.optional(), cases: z.array(CaseS) }).strict(),
]);

export type PolicyTestExpect = z.infer<typeof ExpectS>;

export interface PolicyTestCase {
  file: string;
  name: string;
  input: PolicyInput;
  targets: PolicyTarget[];
  expect: PolicyTestExpect;
}

export interface PolicyTestResult {
  file: string;
  name: string;
  ok: boolean;
  /** What differs from the expectation, one line each; empty when ok. */
  diff: string[];
  decision?: Decision;
}

export interface PolicyTestReport {
  results: PolicyTestResult[];
  passed: number;
  failed: number;
}

/** Labels past this score count as present when a case gives scores but no labels. */
const DEFAULT_LABEL_THRESHOLD = 0.5;
const DEFAULT_TIME = '2025-01-01T12:00:00Z';

type Ctx = z.infer<typeof ContextS>;

type RequestDoc = z.infer<typeof RequestS>;

function buildRequest(c: RequestDoc, d: z.infer<typeof DefaultsS>, what: string): { input: PolicyInput; targets: PolicyTarget[] } {
  const ctx: Ctx = { ...d.context, ...c.context };
  const targets = c.targets ?? d.targets;
  if (!targets) throw new Error(`${what}: no targets (give them in the case or in defaults)`);
  const given = ctx.scores ?? {};
  const labels: UseLabel[] = ctx.labels ?? USE_LABELS.filter((l) => (given[l] ?? 0) >= DEFAULT_LABEL_THRESHOLD);
  const scores: Partial<Record<UseLabel, number>> = ctx.scores ?? Object.fromEntries(labels.map((l) => [l, 0.9]));
  const best = USE_LABELS.reduce<UseLabel | undefined>((acc, l) => ((scores[l] ?? 0) > (acc ? (scores[acc] ?? 0) : 0) ? l : acc), undefined);
  const principal = c.principal ?? d.principal ?? { id: 'tester', roles: [], attributes: {} };
  return {
    input: {
      principal,
      action: c.action ?? d.action ?? 'chat',
      context: {
        scores,
        labels,
        top: ctx.top ?? best ?? labels[0] ?? 'general',
        pii: { total: ctx.pii?.total ?? 0, protected: ctx.pii?.protected ?? 0 },
        bulk: { distinctPersons: ctx.bulk?.distinct_persons ?? 0, windowSeconds: ctx.bulk?.window_seconds ?? 3600 },
        ...(ctx.legal_authority !== undefined ? { legalAuthority: ctx.legal_authority } : {}),
        toolEffects: ctx.tool_effects ?? [],
        time: new Date(ctx.time ?? DEFAULT_TIME),
      },
    },
    targets: targets.map((t) => ({ provider: t.provider, model: t.model, terms: { name: t.terms.name, forbiddenUses: t.terms.forbidden_uses } })),
  };
}

function buildCase(file: string, c: z.infer<typeof CaseS>, d: z.infer<typeof DefaultsS>): PolicyTestCase {
  return { file, name: c.name, ...buildRequest(c, d, `case "${c.name}"`), expect: c.expect };
}

/**
 * A policy request written the way test cases are (principal, action, context, targets; snake_case
 * context), e.g. for `redline policy explain`. Throws with the schema's complaints.
 */
export function policyRequestFromObject(doc: unknown): { input: PolicyInput; targets: PolicyTarget[] } {
  const r = RequestS.safeParse(doc);
  if (!r.success) throw new Error(z.prettifyError(r.error).replace(/\n/g, '; '));
  return buildRequest(r.data, {}, 'request');
}

function testFiles(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort().map((n) => join(path, n));
}

/** Parses every test file under `path` (a directory or one file). Throws on a malformed file. */
export function loadPolicyTests(path: string): PolicyTestCase[] {
  const out: PolicyTestCase[] = [];
  for (const file of testFiles(path)) out.push(...loadPolicyTestFile(file));
  return out;
}

export function loadPolicyTestFile(file: string): PolicyTestCase[] {
  const doc: unknown = parseYaml(readFileSync(file, 'utf8'));
  const r = FileS.safeParse(doc);
  if (!r.success) throw new Error(`${file}: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`);
  const { defaults, cases } = Array.isArray(r.data) ? { defaults: {}, cases: r.data } : { defaults: r.data.defaults ?? {}, cases: r.data.cases };
  const names = new Set<string>();
  return cases.map((c) => {
    if (names.has(c.name)) throw new Error(`${file}: two cases are named "${c.name}"`);
    names.add(c.name);
    return buildCase(basename(file), c, defaults);
  });
}

function setDiff(what: string, expected: string[], actual: string[]): string[] {
  const missing = expected.filter((x) => !actual.includes(x));
  const extra = actual.filter((x) => !expected.includes(x));
  if (!missing.length && !extra.length) return [];
  return [`${what}: expected [${expected.join(', ')}], got [${actual.join(', ')}]`
    + (missing.length ? `; missing ${missing.join(', ')}` : '') + (extra.length ? `; unexpected ${extra.join(', ')}` : '')];
}

/** Runs one case; an engine error is a failed case, not a crash. */
export function runPolicyCase(engine: Pick<PolicyEngine, 'decide'>, tc: PolicyTestCase): PolicyTestResult {
  let d: Decision;
  try {
    d = engine.decide(tc.input, tc.targets);
  } catch (e) {
    return { file: tc.file, name: tc.name, ok: false, diff: [`decide() threw: ${(e as Error).message}`] };
  }
  const x = tc.expect;
  const diff: string[] = [];
  if (d.kind !== x.decision) diff.push(`decision: expected ${x.decision}, got ${d.kind}`);
  if (x.target !== undefined && d.targetIndex !== x.target) diff.push(`target: expected ${x.target}, got ${d.targetIndex}`);
  if (x.policies) diff.push(...setDiff('policies', x.policies, d.policies));
  if (x.obligations) diff.push(...setDiff('obligations', x.obligations, d.obligations));
  if (x.reason_contains !== undefined && !d.reasons.some((r) => r.includes(x.reason_contains as string))) {
    diff.push(`reasons: none contains "${x.reason_contains}"`);
  }
  if (diff.length) diff.push(`(got ${d.kind} target ${d.targetIndex}, policies [${d.policies.join(', ')}], reasons: ${d.reasons.join(' | ')})`);
  return { file: tc.file, name: tc.name, ok: diff.length === 0, diff, decision: d };
}

/** Runs every case under `dir` (a directory of YAML files, or one file). */
export function runPolicyTests(dir: string, engine: Pick<PolicyEngine, 'decide'>): PolicyTestReport {
  const results: PolicyTestResult[] = [];
  for (const file of testFiles(dir)) {
    let cases: PolicyTestCase[];
    try {
      cases = loadPolicyTestFile(file);
    } catch (e) {
      results.push({ file: basename(file), name: '(file)', ok: false, diff: [(e as Error).message] });
      continue;
    }
    for (const tc of cases) results.push(runPolicyCase(engine, tc));
  }
  const passed = results.filter((r) => r.ok).length;
  return { results, passed, failed: results.length - passed };
}
