// Property tests: random and adversarial bodies at both chat endpoints. Whatever arrives, the gateway
// answers with a 2xx or a 4xx in the API's own error shape, never a 5xx, and keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';

let gw: TestGateway;
before(async () => { gw = await startTestGateway(); });
after(async () => { await gw.stop(); });

const part = fc.oneof(
  fc.record({ type: fc.constant('text'), text: fc.string() }),
  fc.record({ type: fc.constantFrom('image_url', 'image', 'tool_use', 'tool_result', 'bogus'), image_url: fc.anything(), source: fc.anything(), id: fc.anything(), input: fc.anything() }),
);
const message = fc.record({
  role: fc.constantFrom('user', 'assistant', 'system', 'tool', 'developer', 'root', ''),
  content: fc.oneof(fc.string(), fc.array(part, { maxLength: 3 }), fc.constant(null), fc.integer()),
  tool_calls: fc.option(fc.array(fc.anything(), { maxLength: 2 }), { nil: undefined }),
  tool_call_id: fc.option(fc.string(), { nil: undefined }),
}, { requiredKeys: ['role', 'content'] });
const body = fc.record({
  model: fc.oneof(fc.constant('demo'), fc.string(), fc.integer()),
  messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()),
  max_tokens: fc.oneof(fc.integer({ min: -5, max: 5000 }), fc.string(), fc.constant(undefined)),
  stream: fc.oneof(fc.boolean(), fc.string()),
  tools: fc.oneof(fc.constant(undefined), fc.array(fc.anything(), { maxLength: 2 })),
  tool_choice: fc.anything(),
  temperature: fc.oneof(fc.double(), fc.string()),
  stop: fc.anything(),
}, { requiredKeys: [] });

async function check(path: '/v1/chat/completions' | '/v1/messages', payload: string): Promise<void> {
  const res = await gw.post(path, payload);
  const text = await res.text();
  assert.ok(res.status < 500, `${path} answered ${res.status}: ${text.slice(0, 300)}`);
  if (res.status >= 400) {
    const j = JSON.parse(text);
    if (path === '/v1/messages') {
      assert.equal(j.type, 'error');
      assert.equal(typeof j.error.message, 'string');
    } else {
      assert.equal(typeof j.error.message, 'string');
      assert.equal(typeof j.error.type, 'string');
    }
  }
}

test('structured random chat bodies never yield a 5xx, errors keep the API shape', async () => {
  await fc.assert(fc.asyncProperty(body, fc.constantFrom('/v1/chat/completions', '/v1/messages') as fc.Arbitrary<'/v1/chat/completions' | '/v1/messages'>, async (b, path) => {
    await check(path, JSON.stringify(b));
  }), { numRuns: 250 });
});

test('arbitrary JSON values and raw strings never yield a 5xx', async () => {
  await fc.assert(fc.asyncProperty(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify(v).slice(0, -1))), fc.constantFrom('/v1/chat/completions', '/v1/messages') as fc.Arbitrary<'/v1/chat/completions' | '/v1/messages'>, async (raw, path) => {
    await check(path, raw);
  }), { numRuns: 250 });
});

test('prototype pollution and deep nesting are refused cleanly', async () => {
  await check('/v1/chat/completions', '{"model":"demo","__proto__":{"admin":true},"messages":[{"role":"user","content":"x"}]}');
  const deep = '['.repeat(50_000) + ']'.repeat(50_000);
  await check('/v1/chat/completions', `{"model":"demo","messages":${deep}}`);
  await check('/v1/messages', `{"model":"demo","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_use","id":"a","name":"t","input":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}]}]}`);
  const after = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: 'still up' }] });
  assert.equal(after.status, 200);
});

test('tool schemas nested to the limit go through (and into the ledger); one level deeper is a 400 naming the param', async () => {
  const { MAX_JSON_DEPTH } = await import('../wire/checks.js');
  // An object `levels` deep: each level a JSON object.
  const nested = (levels: number): Record<string, unknown> => {
    let v: Record<string, unknown> = { type: 'string' };
    for (let i = 1; i < levels; i++) v = { x: v };
    return v;
  };
  const openai = (schema: unknown) => ({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: schema } }] });
  const anthropic = (schema: unknown) => ({ model: 'demo', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'f', input_schema: { type: 'object', ...schema as object } }] });
  for (const [path, build, param] of [
    ['/v1/chat/completions', openai, 'tools[0].function.parameters'],
    ['/v1/messages', anthropic, 'tools.0.input_schema'],
  ] as const) {
    const ok = await gw.post(path, build(nested(MAX_JSON_DEPTH)));
    assert.equal(ok.status, 200, `${path} at the limit: ${await ok.text()}`);
    await ok.arrayBuffer().catch(() => {});
    const bad = await gw.post(path, build(nested(MAX_JSON_DEPTH + 1)));
    const text = await bad.text();
    assert.equal(bad.status, 400, `${path} one level deeper: ${text}`);
    const j = JSON.parse(text);
    assert.match(j.error.message, new RegExp(`nested more than ${MAX_JSON_DEPTH} levels`));
    if (path === '/v1/chat/completions') assert.equal(j.error.param, param);
    else assert.ok(j.error.message.startsWith(param), j.error.message);
  }
});
