import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalize } from '../verify/index.js';
import { parseAnthropicMessagesRequest, parseOpenAIChatRequest, type ChatRequest } from '../wire/index.js';
import { contentValue } from './record.js';
import type { Call } from './pipeline.js';

// The commitment is over the canonical form whatever the key order; these tests hold the parsers to
// writing messages and parts in that order already, which lets the ledger skip its sorting pass.
const inOrder = (req: ChatRequest) => {
  const v = contentValue({ req } as Call);
  assert.equal(JSON.stringify(v), canonicalize(v));
};

test('OpenAI requests parse into content already in canonical key order', () => {
  inOrder(parseOpenAIChatRequest({ model: 'm', messages: [{ role: 'user', content: 'hello' }] }));
  inOrder(parseOpenAIChatRequest({
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://x.example/a.png', detail: 'low' } }] },
      { role: 'assistant', content: 'calling', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'done' },
    ],
  }));
});

test('Anthropic requests parse into content already in canonical key order', () => {
  inOrder(parseAnthropicMessagesRequest({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hello' }] }));
  inOrder(parseAnthropicMessagesRequest({
    model: 'm', max_tokens: 5, system: 'be brief',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', source: { type: 'url', url: 'https://x.example/a.png' } }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok', is_error: false }] },
    ],
  }));
});
