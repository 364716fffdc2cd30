// The compiled fast path must say yes exactly where zod says yes: a body it passes is used as it came,
// so a yes where zod says no would let a malformed body through. Checked on valid bodies of every wire
// shape and on random mutations of them (a node replaced, removed, or given an unknown sibling).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import './index.js';
import { compiledParse, compiledShapes } from './validate.js';
import { z } from 'zod';

const SEEDS: Record<string, unknown[]> = {
  'openai.request': [
    { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
    {
      model: 'm', max_tokens: 5, max_completion_tokens: null, temperature: 0.5, top_p: 1, stop: ['x'], stream: true,
      stream_options: { include_usage: true }, parallel_tool_calls: false, user: 'u', n: 1,
      tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } }],
      tool_choice: { type: 'function', function: { name: 'f' } },
      messages: [
        { role: 'system', content: [{ type: 'text', text: 's' }] },
        { role: 'developer', content: 'd' },
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'r' },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'no' }] },
      ],
    },
  ],
  'openai.completion': [
    { id: 'x', model: 'm', choices: [{ message: { content: 'hi' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 2 } },
    { choices: [{ message: { content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] } }] },
  ],
  'anthropic.request': [
    { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
    {
      model: 'm', max_tokens: 10, system: [{ type: 'text', text: 's' }], stop_sequences: ['x'], temperature: 1, top_p: 0.5,
      stream: false, metadata: { user_id: null },
      tools: [{ type: 'custom', name: 't', description: 'd', input_schema: { type: 'object' } }],
      tool_choice: { type: 'tool', name: 't', disable_parallel_tool_use: true },
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AA==' } }] },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'u1', name: 't', input: { q: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'u1', content: [{ type: 'image', source: { type: 'url', url: 'https://x' } }], is_error: false }] },
      ],
    },
  ],
  'anthropic.message': [
    { id: 'm1', type: 'message', model: 'm', content: [{ type: 'text', text: 'hi' }, { type: 'thinking', thinking: '' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 2, cache_read_input_tokens: 0 } },
  ],
  'anthropic.text': [{ type: 'text', text: 'hi' }],
  'anthropic.tool_use': [{ type: 'tool_use', id: 'u', name: 't', input: { a: [1, 2] } }],
};

type Path = Array<string | number>;
function pathsOf(v: unknown, base: Path = [], out: Path[] = []): Path[] {
  out.push(base);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...base, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...base, k], out);
  return out;
}

type Edit = { kind: 'replace' | 'remove' | 'add'; at: number; value: unknown };
function edited(seed: unknown, e: Edit): unknown {
  const copy = structuredClone(seed);
  const paths = pathsOf(copy);
  const path = paths[e.at % paths.length]!;
  if (path.length === 0) return e.kind === 'replace' ? e.value : copy;
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (e.kind === 'replace') parent[key] = e.value;
  else if (e.kind === 'remove') { if (Array.isArray(parent)) parent.splice(key as number, 1); else delete parent[key]; }
  else if (!Array.isArray(parent)) parent['unknown_' + String(key)] = e.value;
  return copy;
}

// Values chosen for the edges where JSON Schema and zod could part: non-integers and unsafe integers,
// negative and out-of-range numbers, empty strings and containers, null, arrays where objects belong.
const awkward = fc.oneof(
  fc.constantFrom(1.5, 2 ** 60, -1, 0, -0, 3, 1e308, Number.MAX_SAFE_INTEGER + 2, '', 'text', 'tool_use', 'user', 'function', null, true, [], {}, [1], { type: 'text' }),
  fc.jsonValue({ maxDepth: 2 }),
);
const edit: fc.Arbitrary<Edit> = fc.record({ kind: fc.constantFrom('replace', 'remove', 'add'), at: fc.nat(), value: awkward });

test('every wire shape has valid examples here, and they pass both ways', () => {
  const wire = [...compiledShapes()].filter(([name]) => !name.startsWith('test.'));
  assert.deepEqual(wire.map(([name]) => name).sort(), Object.keys(SEEDS).sort());
  for (const [name, { schema, check }] of wire) {
    for (const seed of SEEDS[name]!) {
      assert.equal(schema.safeParse(seed).success, true, `${name}: zod refuses a seed`);
      assert.equal(check(seed), true, `${name}: the compiled check refuses a seed`);
    }
  }
});

test('the compiled check agrees with zod on mutated bodies of every wire shape', () => {
  for (const [name, { schema, check }] of [...compiledShapes()].filter(([n]) => !n.startsWith('test.'))) {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS[name]!), fc.array(edit, { minLength: 1, maxLength: 3 }), (seed, edits) => {
        const body = edits.reduce(edited, seed);
        assert.equal(check(body), schema.safeParse(body).success, `${name}: ${JSON.stringify(body)}`);
      }),
      { numRuns: 3000 },
    );
  }
});

test('a body the fast path refuses gets zod’s verdict and error; one it passes comes back as it came', () => {
  const parse = compiledParse('test.shape', z.object({ n: z.number().int().positive() }));
  const good = { n: 3, extra: 'kept' };
  const r = parse(good);
  assert.ok(r.success && r.data === good);
  const bad = parse({ n: 1.5 });
  assert.ok(!bad.success);
  assert.deepEqual(bad.error.issues[0]!.path, ['n']);
});
