import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isRedlineError } from '../errors.js';
import { createGuardStage, parseGuardReply } from './guard.js';

// A fake OpenAI-compatible guard on loopback; the requested model name picks its behaviour.
const seen: Array<{ url: string | undefined; auth: string | undefined; body: { model: string; messages: Array<{ role: string; content: string }> } }> = [];
const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let raw = '';
  req.on('data', (c: Buffer) => (raw += c.toString()));
  req.on('end', () => {
    const body = JSON.parse(raw) as { model: string; messages: Array<{ role: string; content: string }> };
    seen.push({ url: req.url, auth: req.headers.authorization, body });
    const reply = (content: string): void => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }] }));
    };
    switch (body.model) {
      case 'safe': return reply('safe');
      case 'unsafe': return reply('unsafe\nS1,S9');
      case 'garbage': return reply('I think this request is probably fine.');
      case 'badjson': res.writeHead(200, { 'content-type': 'application/json' }); return res.end('{"choices": [');
      case 'status': res.writeHead(500); return res.end('boom');
      case 'hang': return; // never answers
      default: res.writeHead(404); return res.end();
    }
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const input = { system: 'You are a helpful assistant.', user: ['first turn', 'second turn'], toolResults: ['tool output'] };
const failsWith = (reason: string) => (e: unknown) => isRedlineError(e) && e.code === 'CLASSIFIER_FAILED' && e.details?.reason === reason;

test('safe and unsafe replies are parsed; the request carries the conversation and the key', async () => {
  const safe = await createGuardStage({ url: base, model: 'safe', apiKey: 'k-123', timeoutMs: 2000 }).check(input);
  assert.deepEqual(safe, { unsafe: false, categories: [] });
  const last = seen.at(-1)!;
  assert.equal(last.url, '/v1/chat/completions');
  assert.equal(last.auth, 'Bearer k-123');
  assert.equal(last.body.messages.length, 1);
  assert.equal(last.body.messages[0]!.role, 'user');
  for (const t of ['You are a helpful assistant.', 'first turn', 'second turn', 'tool output']) assert.ok(last.body.messages[0]!.content.includes(t));

  const unsafe = await createGuardStage({ url: `${base}/chat/completions`, model: 'unsafe', timeoutMs: 2000 }).check(input);
  assert.deepEqual(unsafe, { unsafe: true, categories: ['S1', 'S9'] });
  assert.equal(seen.at(-1)!.url, '/v1/chat/completions');
  assert.equal(seen.at(-1)!.auth, undefined);
});

test('garbage, broken JSON and error statuses fail closed with CLASSIFIER_FAILED', async () => {
  await assert.rejects(createGuardStage({ url: base, model: 'garbage', timeoutMs: 2000 }).check(input), failsWith('unparseable'));
  await assert.rejects(createGuardStage({ url: base, model: 'badjson', timeoutMs: 2000 }).check(input), failsWith('unparseable'));
  await assert.rejects(createGuardStage({ url: base, model: 'status', timeoutMs: 2000 }).check(input), failsWith('status'));
});

test('a guard that never answers times out with CLASSIFIER_FAILED', async () => {
  await assert.rejects(createGuardStage({ url: base, model: 'hang', timeoutMs: 150 }).check(input), failsWith('timeout'));
});

test('an unreachable guard and a caller abort both fail closed', async () => {
  // A loopback port that was just released: nothing listens there, so the connection is refused.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  await assert.rejects(createGuardStage({ url: `http://127.0.0.1:${port}/v1`, model: 'safe', timeoutMs: 2000 }).check(input), failsWith('network'));
  const ac = new AbortController();
  const pending = createGuardStage({ url: base, model: 'hang', timeoutMs: 5000 }).check(input, ac.signal);
  ac.abort();
  await assert.rejects(pending, failsWith('aborted'));
});

test('the error never carries prompt text', async () => {
  const secret = 'very secret prompt words';
  await assert.rejects(createGuardStage({ url: base, model: 'garbage', timeoutMs: 2000 }).check({ user: [secret] }), (e: unknown) => {
    assert.ok(isRedlineError(e));
    assert.ok(!e.message.includes(secret) && !JSON.stringify(e.details).includes(secret));
    return true;
  });
});

test('parseGuardReply', () => {
  assert.deepEqual(parseGuardReply('safe'), { unsafe: false, categories: [] });
  assert.deepEqual(parseGuardReply('  safe\n'), { unsafe: false, categories: [] });
  assert.deepEqual(parseGuardReply('unsafe\nS1, S10'), { unsafe: true, categories: ['S1', 'S10'] });
  assert.deepEqual(parseGuardReply('unsafe'), { unsafe: true, categories: [] });
  for (const bad of ['', 'Safe enough', 'safe\nS1', 'unsafe\nS1\nmore', 'unsafe\nS1; drop table', 'yes']) assert.equal(parseGuardReply(bad), undefined, bad);
});
