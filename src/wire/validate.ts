// Wire bodies are checked on every request, twice (the client's request and the upstream's answer).
// zod stays the one definition of each shape and the source of every error message; ajv runs a
// validator compiled from zod's own JSON Schema export first, and zod parses only bodies that validator
// refuses. Why: zod's parse walks each schema through shared generic code that the rest of the process
// (config, policy files) also drives, and in the running gateway it cost about 6 µs per request where a
// microbenchmark shows 0.3; a knock-out of both parses gave +6.5% requests/s. ajv's output is straight-line
// code for one schema.
import { Ajv } from 'ajv';
import { z } from 'zod';

// `discriminator` lets a oneOf pick its branch by a tag property (OpenAPI's keyword) instead of trying
// every branch to prove exactly one matches: 3.6 to 7 times faster on chat requests, whose messages and
// content parts are all tagged unions.
const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false, discriminator: true });

type SchemaNode = { [k: string]: unknown };

/**
 * Marks each oneOf that zod wrote for a discriminatedUnion (every branch an object whose required
 * property P is a const, the same P for all) with `discriminator: { propertyName: P }`. Same verdicts:
 * zod too refuses a value whose tag is missing or matches no branch.
 */
function markDiscriminators(node: unknown): void {
  if (Array.isArray(node)) {
    for (const x of node) markDiscriminators(x);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const s = node as SchemaNode;
  for (const v of Object.values(s)) markDiscriminators(v);
  const branches = s.oneOf;
  if (!Array.isArray(branches) || branches.length === 0) return;
  const tagOf = (b: SchemaNode, k: string) => ((b.properties as Record<string, SchemaNode> | undefined)?.[k])?.const;
  const first = branches[0] as SchemaNode;
  const tag = Object.keys((first.properties as object | undefined) ?? {}).find((k) => branches.every((b: SchemaNode) =>
    b.type === 'object' && typeof tagOf(b, k) === 'string' && Array.isArray(b.required) && b.required.includes(k)));
  if (tag !== undefined && new Set(branches.map((b: SchemaNode) => tagOf(b, tag))).size === branches.length) {
    // Every branch is an object, so the union is too; saying so makes ajv check the type before it
    // reads the tag (its discriminator code would otherwise read a property of null).
    s.type = 'object';
    s.discriminator = { propertyName: tag };
  }
}

export type SafeParse<T> = { success: true; data: T } | { success: false; error: z.ZodError };

/**
 * `schema.safeParse`, with a compiled fast path for bodies that pass. The shapes given here must not
 * transform values (no defaults, transforms or coercion), since a body that passes is returned as it
 * came; unknown keys stay on it, so readers take only the fields they know (the wire parsers rebuild
 * every object they keep). A body the fast path refuses still gets zod's verdict, so a wrong refusal
 * only costs time; a wrong pass would let a malformed body through, which wire/validate.test.ts
 * guards against by holding the two to the same verdicts.
 */
export function compiledParse<S extends z.ZodType>(name: string, schema: S): (value: unknown) => SafeParse<z.output<S>> {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' });
  markDiscriminators(json);
  const check = ajv.compile(json);
  shapes.set(name, { schema, check: (v) => check(v) });
  return (value) => (passes(check, value) ? { success: true, data: value as z.output<S> } : schema.safeParse(value));
}

/** A compiled check that throws (it should not) counts as a refusal: zod then gives the verdict. */
function passes(check: (v: unknown) => boolean, value: unknown): boolean {
  try {
    return check(value);
  } catch {
    return false;
  }
}

const shapes = new Map<string, { schema: z.ZodType; check(value: unknown): boolean }>();

/** Every shape compiledParse was given, by name, with its compiled check: for the agreement tests. */
export function compiledShapes(): ReadonlyMap<string, { schema: z.ZodType; check(value: unknown): boolean }> {
  return shapes;
}
