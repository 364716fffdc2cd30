// The official SDKs, pointed at redline by base URL only, against the demo model and against fake
// upstreams of every provider over loopback: every client format reaches every provider.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';
import { startFakeOpenAI } from '../testing/fake-openai.js';
import { startFakeAnthropic } from '../testing/fake-anthropic.js';
import { startFakeGemini } from '../testing/fake-gemini.js';
import type { FakeUpstream } from '../testing/fake-upstream.js';

let gw: TestGateway;
const fakes: Record<string, FakeUpstream> = {};
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  fakes.openai = await startFakeOpenAI();
  fakes.xai = await startFakeOpenAI();
  fakes.ollama = await startFakeOpenAI();
  fakes.anthropic = await startFakeAnthropic();
  fakes.gemini = await startFakeGemini();
  gw = await startTestGateway({
    providers: [
      { name: 'demo', kind: 'demo' },
      { name: 'openai', kind: 'openai', baseUrl: `${fakes.openai.url}/v1`, apiKeyEnv: 'FAKE_OPENAI_KEY' },
      { name: 'xai', kind: 'xai', baseUrl: `${fakes.xai.url}/v1`, apiKeyEnv: 'FAKE_XAI_KEY' },
      { name: 'ollama', kind: 'openai_compatible', baseUrl: `${fakes.ollama.url}/v1` },
      { name: 'anthropic', kind: 'anthropic', baseUrl: fakes.anthropic.url, apiKeyEnv: 'FAKE_ANTHROPIC_KEY' },
      { name: 'gemini', kind: 'gemini', baseUrl: fakes.gemini.url, apiKeyEnv: 'FAKE_GEMINI_KEY' },
    ],
    routes: [
      { alias: 'demo', targets: [{ provider: 'demo', model: 'demo' }] },
      { alias: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o' }] },
      { alias: 'grok', targets: [{ provider: 'xai', model: 'grok-4' }] },
      { alias: 'llama', targets: [{ provider: 'ollama', model: 'llama3.1' }] },
      { alias: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      { alias: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-pro' }] },
    ],
  }, { FAKE_OPENAI_KEY: 'sk-openai', FAKE_XAI_KEY: 'xai-key', FAKE_ANTHROPIC_KEY: 'sk-ant', FAKE_GEMINI_KEY: 'gem-key' });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: gw.key, maxRetries: 0 });
});

after(async () => {
  await gw.stop();
  for (const f of Object.values(fakes)) await f.close();
});

const weatherTool = { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const upstreams = ['gpt', 'grok', 'llama', 'claude', 'gemini'] as const;
const fakeOf = (alias: string) => fakes[{ gpt: 'openai', grok: 'xai', llama: 'ollama', claude: 'anthropic', gemini: 'gemini' }[alias]!]!;

describe('openai SDK', () => {
  test('demo: completion, stream and tool call', async () => {
    const r = await openai.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'hi there' }] });
    assert.match(r.choices[0]!.message.content ?? '', /hi there/);
    let text = '';
    for await (const c of await openai.chat.completions.create({ model: 'demo', stream: true, messages: [{ role: 'user', content: 'stream me' }] })) text += c.choices[0]?.delta?.content ?? '';
    assert.match(text, /stream me/);
    const t = await openai.chat.completions.create({ model: 'demo', tools: [{ type: 'function', function: weatherTool }], messages: [{ role: 'user', content: 'weather in Oslo' }] });
    const call = t.choices[0]!.message.tool_calls![0]!;
    assert.equal(t.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
  });

  for (const alias of upstreams) {
    test(`${alias}: text, stream, tool call and streamed tool call`, async () => {
      const fake = fakeOf(alias);
      const r = await openai.chat.completions.create({ model: alias, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `ping ${alias}` }] });
      assert.equal(r.choices[0]!.message.content, `echo: ping ${alias}`);
      assert.ok(r.usage!.prompt_tokens > 0);

      let text = '';
      const s = await openai.chat.completions.create({ model: alias, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: `stream ${alias}` }] });
      let usage: any;
      for await (const c of s) { text += c.choices[0]?.delta?.content ?? ''; if (c.usage) usage = c.usage; }
      assert.equal(text, `echo: stream ${alias}`);
      assert.ok(usage?.completion_tokens > 0);

      fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo' } });
      const t = await openai.chat.completions.create({ model: alias, tools: [{ type: 'function', function: weatherTool }], messages: [{ role: 'user', content: 'weather?' }] });
      const call = t.choices[0]!.message.tool_calls![0]!;
      assert.equal(t.choices[0]!.finish_reason, 'tool_calls');
      assert.ok(call.type === 'function');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Oslo' });

      fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Bergen' } });
      const st = openai.chat.completions.stream({ model: alias, stream: true, tools: [{ type: 'function', function: weatherTool }], messages: [{ role: 'user', content: 'weather?' }] });
      const final = await st.finalChatCompletion();
      const sc = final.choices[0]!.message.tool_calls![0]!;
      assert.ok(sc.type === 'function');
      assert.equal(sc.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(sc.function.arguments), { city: 'Bergen' });

      // A full tool loop: the tool result goes back upstream in the provider's own shape.
      const back = await openai.chat.completions.create({
        model: alias,
        tools: [{ type: 'function', function: weatherTool }],
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: sc.id, type: 'function', function: { name: 'get_weather', arguments: sc.function.arguments } }] },
          { role: 'tool', tool_call_id: sc.id, content: '{"temp_c": 4}' },
          { role: 'user', content: 'thanks' },
        ],
      });
      assert.equal(back.choices[0]!.message.content, 'echo: thanks');
      const sent = JSON.stringify(fake.requests.at(-1)!.body);
      assert.match(sent, /temp_c/);
    });
  }
});

describe('@anthropic-ai/sdk', () => {
  test('demo: message, stream and tool use', async () => {
    const m = await anthropic.messages.create({ model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'hi claude' }] });
    assert.match((m.content[0] as any).text, /hi claude/);
    assert.match(m._request_id ?? '', /^req_/, 'the SDK reads the request-id header');
    const s = await anthropic.messages.stream({ model: 'demo', max_tokens: 100, messages: [{ role: 'user', content: 'streaming' }] }).finalMessage();
    assert.match((s.content[0] as any).text, /streaming/);
    const t = await anthropic.messages.stream({ model: 'demo', max_tokens: 100, tools: [{ name: 'get_weather', input_schema: weatherTool.parameters as any }], messages: [{ role: 'user', content: 'weather' }] }).finalMessage();
    assert.equal(t.stop_reason, 'tool_use');
    const tu = t.content.find((b) => b.type === 'tool_use') as any;
    assert.deepEqual(tu.input, { city: 'demo' });
  });

  for (const alias of upstreams) {
    test(`${alias}: message, stream, tool use and streamed tool use`, async () => {
      const fake = fakeOf(alias);
      const m = await anthropic.messages.create({ model: alias, max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: `ping ${alias}` }] });
      assert.equal((m.content[0] as any).text, `echo: ping ${alias}`);
      assert.equal(m.stop_reason, 'end_turn');
      const s = await anthropic.messages.stream({ model: alias, max_tokens: 100, messages: [{ role: 'user', content: `stream ${alias}` }] }).finalMessage();
      assert.equal((s.content[0] as any).text, `echo: stream ${alias}`);
      assert.ok(s.usage.output_tokens > 0);

      fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Oslo' } });
      const t = await anthropic.messages.create({ model: alias, max_tokens: 100, tools: [{ name: 'get_weather', input_schema: weatherTool.parameters as any }], messages: [{ role: 'user', content: 'weather?' }] });
      assert.equal(t.stop_reason, 'tool_use');
      assert.deepEqual((t.content.find((b) => b.type === 'tool_use') as any).input, { city: 'Oslo' });

      fake.enqueue({ kind: 'tool_call', name: 'get_weather', arguments: { city: 'Tromsø' } });
      const st = await anthropic.messages.stream({ model: alias, max_tokens: 100, tools: [{ name: 'get_weather', input_schema: weatherTool.parameters as any }], messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
      const tu = st.content.find((b) => b.type === 'tool_use') as any;
      assert.deepEqual(tu.input, { city: 'Tromsø' });

      const back = await anthropic.messages.create({
        model: alias, max_tokens: 100,
        tools: [{ name: 'get_weather', input_schema: weatherTool.parameters as any }],
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: [{ type: 'tool_use', id: tu.id, name: 'get_weather', input: tu.input }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: tu.id, content: '{"temp_c": -3}' }, { type: 'text', text: 'thanks' }] },
        ],
      });
      assert.equal((back.content[0] as any).text, 'echo: thanks');
      assert.match(JSON.stringify(fake.requests.at(-1)!.body), /temp_c/);
    });
  }
});

describe('upstream credentials come from the environment', () => {
  test('each provider got its key in its own header', () => {
    assert.equal(fakes.openai!.requests[0]!.headers.authorization, 'Bearer sk-openai');
    assert.equal(fakes.xai!.requests[0]!.headers.authorization, 'Bearer xai-key');
    assert.equal(fakes.ollama!.requests[0]!.headers.authorization, undefined);
    assert.equal(fakes.anthropic!.requests[0]!.headers['x-api-key'], 'sk-ant');
    assert.equal(fakes.gemini!.requests[0]!.headers['x-goog-api-key'], 'gem-key');
  });
});
