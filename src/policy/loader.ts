// Reads a policy directory, parses and validates it with Cedar, and reads redline's annotations.
// Pure: nothing here touches Cedar's prepared (stateful) storage; the engine does that once a set
// has passed every check, so a broken set can never replace a working one.
//
// A policy directory holds `*.cedar` files and one schema (`schema.cedarschema`, or
// `schema.cedarschema.json` in Cedar's JSON schema format). Every policy carries:
//   @id("...")        unique across the set; letters, digits, `_ . -` (ids with `:` are redline's own)
//   @reason("...")    shown to the caller; may use {provider} {model} {target} {terms} {forbidden_uses}
//                     {labels} {top} {action} {principal}, filled per target; never prompt text
//   @severity("...")  red_line | high | medium | low | info; a red_line deny is never rerouted
//   @effect("hold")   optional, forbid only: the match means "hold for a human" (see engine.ts)
//   @obligation("a, b") optional duties for the caller when the policy determines the decision
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USE_LABELS } from '../classify/labels.js';
import { policyReads, readsResource, unknownLiterals, type PolicyReads } from './analyze.js';
import { cedar, formatCedarError, describeCedarError, lineCol, type EntityJson, type PolicyJson, type Schema } from './cedar.js';
import {
  actionUid, buildContext, entity, principalAttrs, targetAttrs, PRINCIPAL_TYPE, TARGET_TYPE, NS,
  type PrincipalAttrKind, type PrincipalAttrSpec,
} from './request.js';
import { POLICY_ACTIONS, SEVERITIES, type PolicyClass, type PolicyInfo, type PolicyInput, type PolicyTarget, type Severity } from './types.js';

export interface LoadedPolicy extends PolicyInfo {
  /** The policy's own source text, as Cedar split it from its file. */
  text: string;
  json: PolicyJson;
  reads: PolicyReads;
}

export interface LoadedPolicySet {
  dir: string;
  version: string;
  schema: Schema;
  schemaFile: string;
  principalAttrs: PrincipalAttrSpec[];
  policies: LoadedPolicy[];
}

export type LoadResult = { ok: true; set: LoadedPolicySet } | { ok: false; errors: string[] };

export const SCHEMA_FILES = ['schema.cedarschema', 'schema.cedarschema.json'] as const;

export const REASON_FIELDS = ['provider', 'model', 'target', 'terms', 'forbidden_uses', 'labels', 'top', 'action', 'principal'] as const;
const REASON_FIELD_SET: ReadonlySet<string> = new Set(REASON_FIELDS);
const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const OBLIGATION_RE = /^[a-z][a-z0-9_]*$/;

/** True for the files whose change alters the policy set (what `watch` listens for). */
export function isPolicyFile(name: string): boolean {
  return name.endsWith('.cedar') || (SCHEMA_FILES as readonly string[]).includes(name);
}

/**
 * sha256 over the sorted file names and contents, schema included. Lengths are hashed as well so
 * no two different sets can concatenate to the same bytes.
 */
export function policySetVersion(files: ReadonlyArray<{ name: string; content: string }>): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    h.update(`${f.name}\0${Buffer.byteLength(f.content, 'utf8')}\0`);
    h.update(f.content, 'utf8');
  }
  return h.digest('hex');
}

function attrKind(t: unknown): PrincipalAttrKind | undefined {
  if (typeof t !== 'object' || t === null) return undefined;
  const o = t as { type?: string; name?: string; element?: unknown };
  const prim = (x: { type?: string; name?: string }): string | undefined => {
    const n = x.type === 'EntityOrCommon' ? x.name : x.type;
    return n?.replace(/^__cedar::/, '');
  };
  if (o.type === 'Set') {
    const el = typeof o.element === 'object' && o.element !== null ? prim(o.element as { type?: string; name?: string }) : undefined;
    return el === 'String' ? 'set_string' : el === 'Long' ? 'set_long' : undefined;
  }
  switch (prim(o)) {
    case 'String': return 'string';
    case 'Long': return 'long';
    case 'Bool': case 'Boolean': return 'bool';
    default: return undefined;
  }
}

/** The Principal entity's attributes, read from the schema so deployments can add their own. */
function principalSpecs(schema: Schema, schemaFile: string, errors: string[]): PrincipalAttrSpec[] {
  let json: unknown;
  if (typeof schema === 'string') {
    const r = cedar.schemaToJsonWithResolvedTypes(schema);
    if (r.type !== 'success') {
      for (const e of r.errors) errors.push(`${schemaFile}: ${describeCedarError(e)}`);
      return [];
    }
    json = r.json;
  } else {
    json = schema;
  }
  const ns = (json as Record<string, { entityTypes?: Record<string, unknown> }>)[NS];
  const types = ns?.entityTypes ?? {};
  for (const t of ['Principal', 'Target']) {
    if (!(t in types)) errors.push(`${schemaFile}: the schema must declare entity ${NS}::${t}`);
  }
  const shape = (types.Principal as { shape?: { attributes?: Record<string, unknown> } } | undefined)?.shape;
  const out: PrincipalAttrSpec[] = [];
  for (const [name, t] of Object.entries(shape?.attributes ?? {})) {
    const kind = attrKind(t);
    if (!kind) {
      errors.push(`${schemaFile}: ${NS}::Principal attribute ${name} must be String, Long, Bool, Set<String> or Set<Long>`);
      continue;
    }
    out.push({ name, kind, required: (t as { required?: boolean }).required !== false });
  }
  if (!out.some((s) => s.name === 'roles' && s.kind === 'set_string')) {
    errors.push(`${schemaFile}: ${NS}::Principal must have roles: Set<String>`);
  }
  return out;
}

function readAnnotations(
  j: PolicyJson, where: string, errors: string[],
): Pick<PolicyInfo, 'id' | 'class' | 'severity' | 'reason' | 'obligations'> | undefined {
  const a = j.annotations ?? {};
  const str = (k: string): string | undefined => (typeof a[k] === 'string' ? a[k] : undefined);
  const before = errors.length;
  const id = str('id');
  if (!id) errors.push(`${where}: policy has no @id("...")`);
  else if (!ID_RE.test(id)) errors.push(`${where}: @id("${id}") may only use letters, digits, '_', '.', '-'`);
  const reason = str('reason');
  const named = id ? `policy ${id}` : 'policy';
  if (!reason) errors.push(`${where}: ${named} has no @reason("...")`);
  else {
    for (const m of reason.matchAll(/\{([^}]*)\}/g)) {
      if (!REASON_FIELD_SET.has(m[1] ?? '')) errors.push(`${where}: @reason uses unknown placeholder {${m[1]}} (known: ${REASON_FIELDS.join(', ')})`);
    }
  }
  const sev = str('severity');
  if (!sev) errors.push(`${where}: ${named} has no @severity("...") (${SEVERITIES.join(' | ')})`);
  else if (!(SEVERITIES as readonly string[]).includes(sev)) errors.push(`${where}: @severity("${sev}") must be one of ${SEVERITIES.join(', ')}`);
  const effect = str('effect');
  let cls: PolicyClass = j.effect === 'permit' ? 'permit' : 'deny';
  if (effect !== undefined) {
    if (j.effect !== 'forbid') errors.push(`${where}: @effect belongs on forbid policies`);
    else if (effect === 'hold' || effect === 'deny') cls = effect;
    else errors.push(`${where}: @effect("${effect}") must be "deny" or "hold"`);
  }
  const obligations = (str('obligation') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of obligations) {
    if (o === 'hold') errors.push(`${where}: a hold is written as a forbid with @effect("hold"), not @obligation("hold")`);
    else if (!OBLIGATION_RE.test(o)) errors.push(`${where}: obligation "${o}" must be snake_case`);
  }
  if (sev === 'red_line' && cls !== 'deny') errors.push(`${where}: @severity("red_line") is for forbid policies that deny`);
  if (errors.length > before || !id || !reason || !sev) return undefined;
  return { id, class: cls, severity: sev as Severity, reason, obligations };
}

function readPolicyFile(dir: string, name: string, text: string, schema: Schema, errors: string[]): LoadedPolicy[] {
  const file = join(dir, name);
  const v = cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (v.type === 'failure') {
    for (const e of v.errors) errors.push(formatCedarError(file, text, e));
    return [];
  }
  // The validator reports one error per action the policy applies to; they read the same once the
  // action name is dropped, so report each once.
  const seen = new Set<string>();
  for (const ve of v.validationErrors) {
    const msg = formatCedarError(file, text, {
      ...ve.error,
      message: ve.error.message.replace(/^for policy `[^`]*`, /, '').replace(/ for Redline::Action::"[^"]*"/g, ''),
    });
    if (!seen.has(msg)) errors.push(msg);
    seen.add(msg);
  }
  const parts = cedar.policySetTextToParts(text);
  if (parts.type === 'failure') {
    for (const e of parts.errors) errors.push(formatCedarError(file, text, e));
    return [];
  }
  if (parts.policy_templates.length > 0) errors.push(`${file}: policy templates are not supported`);
  const out: LoadedPolicy[] = [];
  const used = new Set<number>();
  for (const part of parts.policies) {
    let off = text.indexOf(part);
    while (off >= 0 && used.has(off)) off = text.indexOf(part, off + 1);
    used.add(off);
    const { line, col } = lineCol(text, Math.max(0, Buffer.byteLength(text.slice(0, Math.max(0, off)), 'utf8')));
    const where = `${file}:${line}:${col}`;
    const pj = cedar.policyToJson(part);
    if (pj.type === 'failure') {
      for (const e of pj.errors) errors.push(`${where}: ${describeCedarError(e)}`);
      continue;
    }
    const ann = readAnnotations(pj.json, where, errors);
    for (const p of unknownLiterals(pj.json)) errors.push(`${where}: ${p}`);
    if (!ann) continue;
    const reads = policyReads(pj.json);
    out.push({ ...ann, file, line, text: part, json: pj.json, reads, perTarget: readsResource(reads) });
  }
  return out.sort((a, b) => a.line - b.line);
}

/** A request with every attribute present, used once per load to prove the schema fits redline. */
export function probeInput(): { input: PolicyInput; target: PolicyTarget } {
  return {
    input: {
      principal: { id: 'probe', roles: [], attributes: {} },
      action: 'chat',
      context: {
        scores: Object.fromEntries(USE_LABELS.map((l) => [l, 0])),
        labels: ['general'], top: 'general', pii: { total: 0, protected: 0 },
        bulk: { distinctPersons: 0, windowSeconds: 0 }, toolEffects: [], time: new Date(0),
      },
    },
    target: { provider: 'probe', model: 'probe', terms: { name: 'probe', forbiddenUses: [] } },
  };
}

function probe(set: Omit<LoadedPolicySet, 'version'>, errors: string[]): void {
  const { input, target } = probeInput();
  const staticPolicies = Object.fromEntries(set.policies.map((p) => [p.id, p.text]));
  const entities: EntityJson[] = [
    entity(PRINCIPAL_TYPE, input.principal.id, principalAttrs(input, set.principalAttrs)),
    entity(TARGET_TYPE, 'probe/probe', targetAttrs(target)),
  ];
  const seen = new Set<string>();
  for (const action of POLICY_ACTIONS) {
    let problems: string[];
    try {
      const r = cedar.isAuthorized({
        principal: { type: PRINCIPAL_TYPE, id: input.principal.id }, action: actionUid(action),
        resource: { type: TARGET_TYPE, id: 'probe/probe' }, context: buildContext(input),
        schema: set.schema, validateRequest: true, policies: { staticPolicies }, entities,
      });
      problems = r.type === 'failure' ? r.errors.map(describeCedarError) : [];
    } catch (e) {
      problems = [e instanceof Error ? e.message : String(e)];
    }
    for (const p of problems) {
      const msg = `${join(set.dir, set.schemaFile)}: the schema does not fit the request redline sends (action ${action}): ${p}`;
      if (!seen.has(p)) errors.push(msg);
      seen.add(p);
    }
  }
}

export function loadPolicyDir(dir: string): LoadResult {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    return { ok: false, errors: [`${dir}: cannot read the policy directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`] };
  }
  const policyFiles = names.filter((n) => n.endsWith('.cedar')).sort();
  const schemas = SCHEMA_FILES.filter((n) => names.includes(n));
  const errors: string[] = [];
  if (schemas.length !== 1) errors.push(`${dir}: expected exactly one of ${SCHEMA_FILES.join(', ')}, found ${schemas.length}`);
  if (policyFiles.length === 0) errors.push(`${dir}: no .cedar policy files`);
  if (errors.length) return { ok: false, errors };
  const schemaFile = schemas[0] as string;

  const contents = new Map<string, string>();
  for (const n of [...policyFiles, schemaFile]) {
    try {
      contents.set(n, readFileSync(join(dir, n), 'utf8'));
    } catch (e) {
      errors.push(`${join(dir, n)}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
  }
  if (errors.length) return { ok: false, errors };
  const version = policySetVersion([...contents].map(([name, content]) => ({ name, content })));

  const schemaText = contents.get(schemaFile) as string;
  const schemaPath = join(dir, schemaFile);
  let schema: Schema = schemaText;
  if (schemaFile.endsWith('.json')) {
    try {
      schema = JSON.parse(schemaText) as Schema;
    } catch (e) {
      return { ok: false, errors: [`${schemaPath}: ${(e as Error).message}`] };
    }
  }
  const parsed = cedar.checkParseSchema(schema);
  if (parsed.type === 'failure') {
    return { ok: false, errors: parsed.errors.map((e) => formatCedarError(schemaPath, typeof schema === 'string' ? schemaText : undefined, e)) };
  }
  const specs = principalSpecs(schema, schemaPath, errors);
  if (errors.length) return { ok: false, errors };

  const policies: LoadedPolicy[] = [];
  for (const name of policyFiles) policies.push(...readPolicyFile(dir, name, contents.get(name) as string, schema, errors));
  const byId = new Map<string, LoadedPolicy>();
  for (const p of policies) {
    const prev = byId.get(p.id);
    if (prev) errors.push(`${p.file}:${p.line}: @id("${p.id}") is already used at ${prev.file}:${prev.line}`);
    else byId.set(p.id, p);
  }
  if (errors.length) return { ok: false, errors };

  const set = { dir, schema, schemaFile, principalAttrs: specs, policies };
  probe(set, errors);
  if (errors.length) return { ok: false, errors };
  return { ok: true, set: { ...set, version } };
}
