// Wire bodies are checked on every request, twice (the client's request and the upstream's answer).
// zod stays the one definition of each shape and the source of every error message; ajv runs a
// validator compiled from zod's own JSON Schema export first, and zod parses only bodies that validator
// refuses. Why: zod's parse walks each schema through shared generic code that the rest of the process
// (config, policy files) also drives, and in the running gateway it cost about 6 µs per request where a
// microbenchmark shows 0.3; a knock-out of both parses gave +6.5% requests/s. ajv's output is straight-line
// code for one schema.
import { Ajv } from 'ajv';
import { z } from 'zod';

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });

export type SafeParse<T> = { success: true; data: T } | { success: false; error: z.ZodError };

/**
 * `schema.safeParse`, with a compiled fast path for bodies that pass. The shapes given here must not
 * transform values (no defaults, transforms or coercion), since a body that passes is returned as it
 * came; unknown keys stay on it, so readers take only the fields they know (the wire parsers rebuild
 * every object they keep). A body the fast path refuses still gets zod's verdict, so a disagreement
 * can only cost time, and wire/validate.test.ts checks that the two agree.
 */
export function compiledParse<S extends z.ZodType>(name: string, schema: S): (value: unknown) => SafeParse<z.output<S>> {
  const check = ajv.compile(z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'throw' }));
  shapes.set(name, { schema, check: (v) => check(v) });
  return (value) => (check(value) ? { success: true, data: value as z.output<S> } : schema.safeParse(value));
}

const shapes = new Map<string, { schema: z.ZodType; check(value: unknown): boolean }>();

/** Every shape compiledParse was given, by name, with its compiled check: for the agreement tests. */
export function compiledShapes(): ReadonlyMap<string, { schema: z.ZodType; check(value: unknown): boolean }> {
  return shapes;
}
