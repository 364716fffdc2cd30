// Static reading of Cedar policies (their JSON form), for two jobs Cedar itself does not do:
//
//  1. What each policy can see of the request. Cedar-wasm converts the whole request from JSON on
//     every call and that conversion is most of its cost (a few µs per value), so the engine sends
//     each prepared policy set only the attributes its policies read, through a "plan":
//       - an attribute no policy reads is left out;
//       - a number or string that policies only ever compare with literals (`>= 200`, `== ""`) is
//         replaced by a canonical member of its equivalence class: 537 and 999 both become 201 when
//         the literals are 200 and 1000, because every comparison gives the same answer for both.
//     Neither step can change a result, and the engine memoises Cedar's answers keyed by exactly
//     the request it sends, so equivalent requests share one answer.
//  2. Labels and tool effects written as string literals. The schema types them as String, so a
//     misspelt label in a red-line forbid would silently never match; the loader rejects unknown
//     literals compared with label- or effect-valued attributes.
import type { CedarValueJson, PolicyJson } from '@cedar-policy/cedar-wasm/nodejs';
import { TOOL_EFFECTS, USE_LABELS } from '../classify/labels.js';

type Json = unknown;
type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export type RootVar = 'principal' | 'resource' | 'context';
const isRoot = (v: unknown): v is RootVar => v === 'principal' || v === 'resource' || v === 'context';

/** How a read attribute is used: compared with a literal, tested with `has`, or anything else. */
export type Use = { kind: 'cmp'; literal: Json } | { kind: 'has' } | { kind: 'other' };

export interface Occurrence {
  root: RootVar;
  path: string[];
  use: Use;
}

/** Everything a policy reads. `identity`: the entity's id matters; `opaque`: it is used in a way
 *  this reading cannot follow, so all of it must be sent. */
export interface PolicyReads {
  occurrences: Occurrence[];
  identity: Set<RootVar>;
  opaque: Set<RootVar>;
}

const CMP = new Set(['==', '!=', '<', '<=', '>', '>=']);

/** `{".": {left, attr}}` / `{has: {left, attr}}` → its parts. */
function access(o: Json): { op: '.' | 'has'; left: Json; attr: string[] } | undefined {
  if (!isObj(o)) return undefined;
  const keys = Object.keys(o);
  if (keys.length !== 1 || (keys[0] !== '.' && keys[0] !== 'has')) return undefined;
  const b = o[keys[0]];
  if (!isObj(b) || !('left' in b) || !('attr' in b)) return undefined;
  const attr = typeof b.attr === 'string' ? [b.attr] : Array.isArray(b.attr) && b.attr.every((a) => typeof a === 'string') ? (b.attr as string[]) : undefined;
  return attr ? { op: keys[0] as '.' | 'has', left: b.left, attr } : undefined;
}

/** An access chain rooted at a request variable, e.g. context.bulk.distinct_persons. */
function chain(e: Json): { root: RootVar; path: string[]; has: boolean } | undefined {
  const a = access(e);
  if (!a) return undefined;
  const path: string[] = [...a.attr];
  let left = a.left;
  for (;;) {
    if (isObj(left) && Object.keys(left).length === 1 && isRoot(left.Var)) return { root: left.Var, path, has: a.op === 'has' };
    const inner = access(left);
    if (!inner || inner.op !== '.') return undefined;
    path.unshift(...inner.attr);
    left = inner.left;
  }
}

function literalOf(e: Json): Json | undefined {
  return isObj(e) && Object.keys(e).length === 1 && 'Value' in e ? e.Value : undefined;
}

function walk(e: Json, out: PolicyReads): void {
  if (Array.isArray(e)) {
    for (const x of e) walk(x, out);
    return;
  }
  if (!isObj(e)) return;
  const keys = Object.keys(e);
  if (keys.length === 1) {
    const k = keys[0] as string;
    const body = e[k];
    if (k === 'Value') return;
    if (k === 'Var') {
      // A bare variable outside an access chain: its identity matters (`principal == X`,
      // `principal in X`), and whatever is done with it beyond that cannot be followed here.
      if (isRoot(body)) {
        out.identity.add(body);
        out.opaque.add(body);
      }
      return;
    }
    const c = chain(e);
    if (c) {
      out.occurrences.push({ root: c.root, path: c.path, use: c.has ? { kind: 'has' } : { kind: 'other' } });
      return;
    }
    if (CMP.has(k) && isObj(body) && 'left' in body && 'right' in body) {
      for (const [side, other] of [[body.left, body.right], [body.right, body.left]] as const) {
        const sc = chain(side);
        const lit = literalOf(other);
        if (sc && !sc.has && lit !== undefined) {
          out.occurrences.push({ root: sc.root, path: sc.path, use: { kind: 'cmp', literal: lit } });
          return;
        }
      }
    }
  }
  for (const v of Object.values(e)) walk(v, out);
}

export function policyReads(p: PolicyJson): PolicyReads {
  const out: PolicyReads = { occurrences: [], identity: new Set(), opaque: new Set() };
  // Scope constraints: `is` only tests the type, which the engine always sends right; `==` and
  // `in` compare the id.
  for (const v of ['principal', 'resource'] as const) {
    const op = (p[v] as { op?: string }).op;
    if (op === '==' || op === 'in') out.identity.add(v);
  }
  for (const c of p.conditions) walk(c.body, out);
  return out;
}

export function mergeReads(all: readonly PolicyReads[]): PolicyReads {
  const out: PolicyReads = { occurrences: [], identity: new Set(), opaque: new Set() };
  for (const r of all) {
    out.occurrences.push(...r.occurrences);
    for (const v of r.identity) out.identity.add(v);
    for (const v of r.opaque) out.opaque.add(v);
  }
  return out;
}

/** A policy whose result can differ between targets: it reads the resource. */
export function readsResource(r: PolicyReads): boolean {
  return r.identity.has('resource') || r.opaque.has('resource') || r.occurrences.some((o) => o.root === 'resource');
}

// ---- plans -------------------------------------------------------------------------------------

export type ValuePlan =
  | { kind: 'raw' }
  | { kind: 'record'; fields: ReadonlyMap<string, ValuePlan> }
  | { kind: 'num'; cuts: readonly number[] }
  | { kind: 'str'; literals: ReadonlySet<string>; other: string };

interface Node {
  uses: Use[];
  children: Map<string, Node>;
}

function nodePlan(n: Node): ValuePlan {
  if (n.uses.some((u) => u.kind === 'other')) return { kind: 'raw' };
  if (n.children.size > 0) {
    // A record reached only through its fields; `has` on the record itself is unaffected by
    // leaving other fields out. A comparison of the whole record with a literal needs all of it.
    if (n.uses.some((u) => u.kind === 'cmp')) return { kind: 'raw' };
    return { kind: 'record', fields: new Map([...n.children].map(([k, c]) => [k, nodePlan(c)])) };
  }
  const lits = n.uses.filter((u): u is { kind: 'cmp'; literal: Json } => u.kind === 'cmp').map((u) => u.literal);
  if (lits.length === 0) return { kind: 'raw' }; // only `has`: send it as it is
  if (lits.every((l) => typeof l === 'number' && Number.isSafeInteger(l) && Math.abs(l) < Number.MAX_SAFE_INTEGER - 1)) {
    return { kind: 'num', cuts: [...new Set(lits as number[])].sort((a, b) => a - b) };
  }
  if (lits.every((l) => typeof l === 'string')) {
    const literals = new Set(lits as string[]);
    // Longer than every literal, so equal to none of them.
    const other = '\u0000'.repeat(Math.max(0, ...[...literals].map((s) => s.length)) + 1);
    return { kind: 'str', literals, other };
  }
  return { kind: 'raw' };
}

/**
 * The plan for one variable's value (the context record, or an entity's attribute record):
 * undefined when nothing is read, so nothing needs sending.
 */
export function planFor(reads: PolicyReads, root: RootVar): ValuePlan | undefined {
  if (reads.opaque.has(root)) return { kind: 'raw' };
  const top: Node = { uses: [], children: new Map() };
  let any = false;
  for (const o of reads.occurrences) {
    if (o.root !== root) continue;
    any = true;
    let n = top;
    for (const a of o.path) {
      let c = n.children.get(a);
      if (!c) {
        c = { uses: [], children: new Map() };
        n.children.set(a, c);
      }
      n = c;
    }
    n.uses.push(o.use);
  }
  return any ? nodePlan(top) : undefined;
}

function canonNum(v: number, cuts: readonly number[]): number {
  let i = 0;
  while (i < cuts.length && (cuts[i] as number) < v) i++;
  if (i < cuts.length && cuts[i] === v) return v;
  // v lies strictly between cuts[i-1] and cuts[i] (or beyond an end): so does this value.
  return i === 0 ? (cuts[0] as number) - 1 : (cuts[i - 1] as number) + 1;
}

/** The value to send for `v` under `plan`; undefined leaves the attribute out. */
export function applyPlan(plan: ValuePlan, v: CedarValueJson): CedarValueJson {
  switch (plan.kind) {
    case 'raw':
      return v;
    case 'num':
      return typeof v === 'number' && plan.cuts.length ? canonNum(v, plan.cuts) : v;
    case 'str':
      return typeof v === 'string' ? (plan.literals.has(v) ? v : plan.other) : v;
    case 'record': {
      if (!isObj(v) || '__entity' in v || '__extn' in v) return v;
      const out: Record<string, CedarValueJson> = {};
      for (const [k, p] of plan.fields) {
        const f = (v as Record<string, CedarValueJson>)[k];
        if (f !== undefined) out[k] = applyPlan(p, f);
      }
      return out;
    }
  }
}

// ---- literal checks ------------------------------------------------------------------------------

const LABEL_ATTRS = new Set(['labels', 'top', 'forbidden_uses']);
const EFFECT_ATTRS = new Set(['tool_effects']);
const COMPARISONS = new Set(['contains', 'containsAny', 'containsAll', '==', '!=']);
const KNOWN_LABELS: ReadonlySet<string> = new Set(USE_LABELS);
const KNOWN_EFFECTS: ReadonlySet<string> = new Set(TOOL_EFFECTS);

function lastAttr(e: Json): string | undefined {
  const a = access(e);
  return a && a.op === '.' ? a.attr[a.attr.length - 1] : undefined;
}

function stringLiterals(e: Json): string[] {
  if (!isObj(e)) return [];
  if ('Value' in e) {
    const v = e.Value;
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
    return [];
  }
  if (Array.isArray(e.Set)) return e.Set.flatMap(stringLiterals);
  return [];
}

/** Unknown label / tool-effect literals compared with label- or effect-valued attributes. */
export function unknownLiterals(p: PolicyJson): string[] {
  const problems: string[] = [];
  const visit = (e: Json): void => {
    if (Array.isArray(e)) return e.forEach(visit);
    if (!isObj(e)) return;
    for (const [k, v] of Object.entries(e)) {
      if (COMPARISONS.has(k) && isObj(v) && 'left' in v && 'right' in v) {
        for (const [attrSide, litSide] of [[v.left, v.right], [v.right, v.left]] as const) {
          const attr = lastAttr(attrSide);
          if (attr === undefined) continue;
          const known = LABEL_ATTRS.has(attr) ? KNOWN_LABELS : EFFECT_ATTRS.has(attr) ? KNOWN_EFFECTS : undefined;
          if (!known) continue;
          for (const s of stringLiterals(litSide)) {
            if (!known.has(s)) problems.push(`unknown ${known === KNOWN_LABELS ? 'label' : 'tool effect'} "${s}" compared with ${attr}`);
          }
        }
      }
      if (k !== 'Value') visit(v);
    }
  };
  for (const c of p.conditions) visit(c.body);
  return problems;
}
