import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../testing/gateway.js';
import { generateApiKey, hashApiKey, keyDisplayPrefix } from '../store/index.js';

let gw: TestGateway;
before(async () => { gw = await startTestGateway(); });
after(async () => { await gw.stop(); });

const chat = { model: 'demo', messages: [{ role: 'user', content: 'hello' }] };
const msgs = { model: 'demo', max_tokens: 64, messages: [{ role: 'user', content: 'hello' }] };

describe('round trip on the demo model', () => {
  test('OpenAI chat completion, with a request id header', async () => {
    const res = await gw.post('/v1/chat/completions', chat);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-request-id') ?? '', /^req_[A-Za-z0-9]{20}$/);
    assert.equal(res.headers.get('x-redline-provider'), 'demo');
    const body = await res.json() as any;
    assert.equal(body.object, 'chat.completion');
    assert.match(body.choices[0].message.content, /hello/);
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.ok(body.usage.total_tokens > 0);
  });

  test('Anthropic message, with the request-id header its SDK reads', async () => {
    const res = await gw.post('/v1/messages', msgs, { authorization: '', 'x-api-key': gw.key });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('request-id') ?? '', /^req_[A-Za-z0-9]{20}$/);
    assert.equal(res.headers.get('request-id'), res.headers.get('x-request-id'));
    const body = await res.json() as any;
    assert.equal(body.type, 'message');
    assert.equal(body.stop_reason, 'end_turn');
    assert.match(body.content[0].text, /hello/);
  });

  test('OpenAI stream ends with [DONE] and carries usage when asked', async () => {
    const res = await gw.post('/v1/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await res.text();
    const datas = text.split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''));
    assert.equal(datas.at(-1), '[DONE]');
    const chunks = datas.slice(0, -1).map((d) => JSON.parse(d));
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), "Hello from redline's offline demo model. You said: \"hello\"");
    assert.ok(chunks.at(-1).usage.completion_tokens > 0);
  });

  test('Anthropic stream has the real event sequence', async () => {
    const res = await gw.post('/v1/messages', { ...msgs, stream: true });
    const events = (await res.text()).split('\n\n').filter(Boolean).map((f) => f.split('\n')[0]!.replace('event: ', ''));
    assert.deepEqual([events[0], events[1], events.at(-3), events.at(-2), events.at(-1)], ['message_start', 'content_block_start', 'content_block_stop', 'message_delta', 'message_stop']);
  });

  test('GET /v1/models lists route aliases', async () => {
    const res = await fetch(gw.url + '/v1/models', { headers: { authorization: `Bearer ${gw.key}` } });
    const body = await res.json() as any;
    assert.deepEqual(body.data.map((m: any) => m.id), ['demo']);
  });

  test('requests are recorded without content by default', async () => {
    const res = await gw.post('/v1/chat/completions', chat);
    const id = res.headers.get('x-request-id');
    await res.text();
    const recent = await gw.store.requests.recent(50);
    const rec = recent.find((r) => r.id === id);
    assert.ok(rec, 'request recorded');
    assert.equal(rec.provider, 'demo');
    assert.equal(rec.status, 200);
    assert.equal(rec.content, null);
    assert.ok(rec.outputTokens > 0);
  });

  test('bodies refused before a decision are recorded against their caller, once each, and counted', async () => {
    const refused = [
      { res: await gw.post('/v1/chat/completions', { model: 'demo', messages: [] }), status: 400 },            // schema
      { res: await gw.post('/v1/messages', '{"model":', { authorization: '', 'x-api-key': gw.key }), status: 400 }, // JSON syntax
      { res: await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: 'x'.repeat(9 << 20) }] }), status: 413 },
    ];
    const recent = await gw.store.requests.recent(100);
    for (const { res, status } of refused) {
      assert.equal(res.status, status);
      const id = res.headers.get('x-request-id');
      await res.text();
      const recs = recent.filter((r) => r.id === id);
      assert.equal(recs.length, 1, `one record for the ${status} (${id})`);
      assert.equal(recs[0]!.status, status);
      assert.ok(recs[0]!.errorCode);
      assert.equal(recs[0]!.alias, 'unknown');
      assert.equal(recs[0]!.provider, null);
    }
    const m = await (await fetch(gw.url + '/metrics')).text();
    assert.match(m, /redline_requests_total\{api="openai",alias="unknown",provider="none",status="400"\} [1-9]/);
    assert.match(m, /redline_requests_total\{api="anthropic",alias="unknown",provider="none",status="400"\} [1-9]/);
    assert.match(m, /redline_requests_total\{api="openai",alias="unknown",provider="none",status="413"\} [1-9]/);
  });

  test('requests without a valid key are counted, not recorded (there is no principal to record them against)', async () => {
    const res = await fetch(gw.url + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'rl-not-a-key' }, body: JSON.stringify(msgs) });
    assert.equal(res.status, 401);
    const id = res.headers.get('x-request-id');
    await res.text();
    assert.equal((await gw.store.requests.recent(100)).find((r) => r.id === id), undefined);
    const m = await (await fetch(gw.url + '/metrics')).text();
    assert.match(m, /redline_requests_total\{api="anthropic",alias="unknown",provider="none",status="401"\} [1-9]/);
  });
});

describe('health and metrics', () => {
  test('healthz, readyz and metrics answer without a key', async () => {
    assert.equal((await fetch(gw.url + '/healthz')).status, 200);
    assert.equal((await fetch(gw.url + '/readyz')).status, 200);
    await (await gw.post('/v1/chat/completions', chat)).text();
    const m = await (await fetch(gw.url + '/metrics')).text();
    assert.match(m, /redline_requests_total\{api="openai",alias="demo",provider="demo",status="200"\} \d+/);
    assert.match(m, /redline_tokens_total\{provider="demo",model="demo",direction="output"\}/);
    assert.match(m, /redline_request_duration_seconds_bucket/);
  });
});

describe('keys and bad input, each in the API\'s own error shape', () => {
  test('missing key: 401 OpenAI shape / Anthropic shape', async () => {
    const a = await fetch(gw.url + '/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat) });
    assert.equal(a.status, 401);
    assert.equal((await a.json() as any).error.type, 'authentication_error');
    const b = await fetch(gw.url + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msgs) });
    assert.equal(b.status, 401);
    const bb = await b.json() as any;
    assert.equal(bb.type, 'error');
    assert.equal(bb.error.type, 'authentication_error');
  });

  test('a revoked key stops working', async () => {
    const p = await gw.store.keys.createPrincipal({ name: 'analyst-revoke', roles: ['analyst'] });
    const key = generateApiKey();
    const info = await gw.store.keys.addKey({ principalId: p.id, label: 't', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
    assert.equal((await gw.post('/v1/chat/completions', chat, { authorization: `Bearer ${key}` })).status, 200);
    await gw.store.keys.revokeKey(info.id);
    await new Promise((r) => setTimeout(r, 2_100)); // the auth cache TTL
    const res = await gw.post('/v1/chat/completions', chat, { authorization: `Bearer ${key}` });
    assert.equal(res.status, 401);
  });

  test('malformed JSON: 400 invalid_json', async () => {
    const res = await gw.post('/v1/chat/completions', '{"model": "demo", "messages": [');
    assert.equal(res.status, 400);
    const body = await res.json() as any;
    assert.equal(body.error.code, 'invalid_json');
    const res2 = await gw.post('/v1/messages', '{not json');
    assert.equal(res2.status, 400);
    assert.equal((await res2.json() as any).type, 'error');
  });

  test('schema violations name the parameter', async () => {
    const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'wizard', content: 'x' }] });
    assert.equal(res.status, 400);
    const body = await res.json() as any;
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.param ?? body.error.message, /messages/);
    const res2 = await gw.post('/v1/messages', { model: 'demo', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(res2.status, 400);
    assert.match((await res2.json() as any).error.message, /max_tokens/);
  });

  test('unknown model: 404 with the known models', async () => {
    const res = await gw.post('/v1/chat/completions', { ...chat, model: 'gpt-nope' });
    assert.equal(res.status, 404);
    const body = await res.json() as any;
    assert.equal(body.error.code, 'model_not_found');
    assert.match(body.error.message, /demo/);
    const res2 = await gw.post('/v1/messages', { ...msgs, model: 'claude-nope' });
    assert.equal(res2.status, 404);
    assert.equal((await res2.json() as any).error.type, 'not_found_error');
  });

  test('oversized body: 413', async () => {
    const big = { model: 'demo', messages: [{ role: 'user', content: 'x'.repeat(9 * 1024 * 1024) }] };
    const res = await gw.post('/v1/chat/completions', big);
    assert.equal(res.status, 413);
    assert.equal((await res.json() as any).error.code, 'body_too_large');
  });

  test('wrong content type: 415, text/plain included, in each API\'s shape', async () => {
    const res = await gw.post('/v1/chat/completions', 'model=demo', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 415);
    const plain = await gw.post('/v1/chat/completions', JSON.stringify(chat), { 'content-type': 'text/plain' });
    assert.equal(plain.status, 415);
    assert.equal((await plain.json() as any).error.code, 'unsupported_media_type');
    const anth = await gw.post('/v1/messages', JSON.stringify(msgs), { 'content-type': 'text/plain' });
    assert.equal(anth.status, 415);
    assert.equal((await anth.json() as any).type, 'error');
  });

  test('a compressed body: 415 naming the encoding, not "invalid JSON"', async () => {
    const { gzipSync } = await import('node:zlib');
    const res = await fetch(gw.url + '/v1/chat/completions', {
      method: 'POST', body: gzipSync(JSON.stringify(chat)),
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    assert.equal(res.status, 415);
    assert.match((await res.json() as any).error.message, /content-encoding gzip is not supported/);
  });

  test('another method on a client-facing path: 405 with Allow, in the API\'s shape', async () => {
    for (const [method, path, allow] of [['GET', '/v1/chat/completions', 'POST'], ['PUT', '/v1/messages', 'POST'], ['DELETE', '/v1/models', 'GET, HEAD']] as const) {
      const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${gw.key}` } });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow);
      const body = await res.json() as any;
      if (path === '/v1/messages') assert.equal(body.type, 'error');
      else assert.equal(body.error.code, 'method_not_allowed');
    }
  });

  test('unknown path: 404 in the OpenAI shape', async () => {
    const res = await gw.post('/v1/embeddings-nope', {});
    assert.equal(res.status, 404);
    assert.ok((await res.json() as any).error);
  });
});
