// Turns redline's typed policy input into Cedar's JSON request pieces. The shapes here are the ones
// policies/default/schema.cedarschema declares; the loader checks every schema against them once at
// load time (a validated probe request), so the request path does not revalidate.
import type { CedarValueJson, EntityJson, TypeAndId } from '@cedar-policy/cedar-wasm/nodejs';
import { USE_LABELS } from '../classify/labels.js';
import { RedlineError } from '../errors.js';
import type { PolicyAction, PolicyInput, PolicyTarget } from './types.js';

export const NS = 'Redline';
export const PRINCIPAL_TYPE = `${NS}::Principal`;
export const TARGET_TYPE = `${NS}::Target`;
export const ACTION_TYPE = `${NS}::Action`;

export type PrincipalAttrKind = 'string' | 'long' | 'bool' | 'set_string' | 'set_long';
export interface PrincipalAttrSpec {
  name: string;
  kind: PrincipalAttrKind;
  required: boolean;
}

export type CedarRecord = Record<string, CedarValueJson>;

export function actionUid(a: PolicyAction): TypeAndId {
  return { type: ACTION_TYPE, id: a };
}

export function targetId(t: PolicyTarget): string {
  return `${t.provider}/${t.model}`;
}

/**
 * Cedar has no floating point, so a probability p in 0..1 becomes the integer round(p * 1000).
 * Policies compare against per-mille thresholds, e.g. `context.scores.offensive_cyber >= 800`.
 */
export function perMille(p: number): number {
  if (!Number.isFinite(p)) throw new RedlineError('POLICY_FAILED', 'a label score is not a finite number');
  return Math.min(1000, Math.max(0, Math.round(p * 1000)));
}

function count(n: number, what: string): number {
  if (!Number.isFinite(n)) throw new RedlineError('POLICY_FAILED', `${what} is not a finite number`);
  return Math.max(0, Math.floor(n));
}

/** Cedar sets are unordered; sorting makes equal requests serialise equally (the result cache keys on it). */
function sortedUnique(xs: readonly string[]): string[] {
  // Most requests carry no label or tool effect, or one: no Set and no sort for those.
  if (xs.length < 2) return xs.length === 0 ? [] : [xs[0]!];
  return [...new Set(xs)].sort();
}

/**
 * The Cedar context for a request; attribute names match the schema's RequestContext. `only` names
 * the attributes to build (those some policy reads); the others are left out, though their inputs are
 * still checked, so a malformed input fails the decision whether or not a policy reads it.
 */
export function buildContext(input: PolicyInput, only?: ReadonlySet<string>): CedarRecord {
  const c = input.context;
  const want = (k: string) => only === undefined || only.has(k);
  const out: CedarRecord = {};
  if (want('scores')) {
    const scores: CedarRecord = {};
    for (const l of USE_LABELS) scores[l] = perMille(c.scores[l] ?? 0);
    out.scores = scores;
  } else {
    for (const l of USE_LABELS) perMille(c.scores[l] ?? 0);
  }
  const t = c.time.getTime();
  if (!Number.isFinite(t)) throw new RedlineError('POLICY_FAILED', 'request time is invalid');
  if (want('labels')) out.labels = sortedUnique(c.labels);
  if (want('top')) out.top = c.top;
  const pii = { total: count(c.pii.total, 'pii.total'), protected: count(c.pii.protected, 'pii.protected') };
  if (want('pii')) out.pii = pii;
  const bulk = {
    distinct_persons: count(c.bulk.distinctPersons, 'bulk.distinctPersons'),
    window_seconds: count(c.bulk.windowSeconds, 'bulk.windowSeconds'),
  };
  if (want('bulk')) out.bulk = bulk;
  if (want('legal_authority')) out.legal_authority = c.legalAuthority ?? '';
  if (want('tool_effects')) out.tool_effects = sortedUnique(c.toolEffects);
  if (want('hour')) out.hour = new Date(t).getUTCHours();
  // Seconds since the epoch rather than Cedar's datetime extension: converting a datetime costs
  // the wasm build ~30 µs per call, more than the rest of a typical request.
  if (want('time')) out.time = Math.floor(t / 1000);
  return out;
}

/** snake_case → camelCase, memoised: attribute names are few and every decision looks each one up. */
const camelNames = new Map<string, string>();
const camel = (s: string): string => {
  let c = camelNames.get(s);
  if (c === undefined) camelNames.set(s, (c = s.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase())));
  return c;
};

function bad(name: string, expected: string): never {
  throw new RedlineError('POLICY_FAILED', `principal attribute ${name} must be ${expected}`, { details: { attribute: name } });
}

function coerce(spec: PrincipalAttrSpec, v: unknown): CedarValueJson | undefined {
  if (v === undefined || v === null) {
    if (!spec.required) return undefined;
    // Absent text and list attributes read as empty, so a principal created without a unit still
    // evaluates; absent numbers and booleans have no safe default and fail closed.
    if (spec.kind === 'string') return '';
    if (spec.kind === 'set_string' || spec.kind === 'set_long') return [];
    return bad(spec.name, spec.kind === 'long' ? 'an integer (it is required)' : 'a boolean (it is required)');
  }
  switch (spec.kind) {
    case 'string':
      return typeof v === 'string' ? v : bad(spec.name, 'a string');
    case 'long':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : bad(spec.name, 'an integer');
    case 'bool':
      return typeof v === 'boolean' ? v : bad(spec.name, 'a boolean');
    case 'set_string': {
      // `redline keys create --attr k=v` stores a single value as a string, a comma list as an array.
      const arr = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string')) return bad(spec.name, 'a list of strings');
      return sortedUnique(arr as string[]);
    }
    case 'set_long': {
      const arr = typeof v === 'number' ? [v] : v;
      if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) return bad(spec.name, 'a list of integers');
      return [...new Set(arr as number[])].sort((a, b) => a - b);
    }
  }
}

/** Principal attributes as the schema declares them; `roles` comes from the principal's roles. */
export function principalAttrs(input: PolicyInput, specs: readonly PrincipalAttrSpec[]): CedarRecord {
  const out: CedarRecord = {};
  const p = input.principal;
  for (const spec of specs) {
    const raw = spec.name === 'roles' ? p.roles : (p.attributes[spec.name] ?? p.attributes[camel(spec.name)]);
    const v = coerce(spec, raw);
    if (v !== undefined) out[spec.name] = v;
  }
  return out;
}

export function targetAttrs(t: PolicyTarget): CedarRecord {
  return {
    provider: t.provider,
    model: t.model,
    terms: { name: t.terms.name, forbidden_uses: sortedUnique(t.terms.forbiddenUses) },
  };
}

export function entity(type: string, id: string, attrs: CedarRecord): EntityJson {
  return { uid: { type, id }, attrs, parents: [] };
}
