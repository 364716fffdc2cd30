import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSse, sseFrame } from './sse.js';

async function collect(chunks: string[]) {
  const out = [];
  for await (const e of parseSse((async function* () { for (const c of chunks) yield new TextEncoder().encode(c); })())) out.push(e);
  return out;
}

test('parses events split across chunks, with CRLF, comments and multi-line data', async () => {
  const events = await collect(['event: a\r\nda', 'ta: {"x":1}\r\n\r\n: keep-alive\n\ndata: l1\ndata: l2\n\n', 'data: [DONE]\n\n']);
  assert.deepEqual(events, [
    { event: 'a', data: '{"x":1}' },
    { event: undefined, data: 'l1\nl2' },
    { event: undefined, data: '[DONE]' },
  ]);
});

test('a CR split from its LF across chunks is one line end', async () => {
  const events = await collect(['data: a\r', '\n\r\n']);
  assert.deepEqual(events, [{ event: undefined, data: 'a' }]);
});

test('a final event without trailing blank line is still delivered', async () => {
  assert.deepEqual(await collect(['data: tail']), [{ event: undefined, data: 'tail' }]);
});

test('frames round-trip through the parser', async () => {
  const events = await collect([sseFrame('{"a":1}', 'message_start') + sseFrame('[DONE]')]);
  assert.deepEqual(events, [{ event: 'message_start', data: '{"a":1}' }, { event: undefined, data: '[DONE]' }]);
});
