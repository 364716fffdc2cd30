// POST /v1/messages — the Anthropic Messages API.
import type { FastifyInstance } from 'fastify';
import { AnthropicStreamEncoder, parseAnthropicMessagesRequest, renderAnthropicMessage } from '../../wire/index.js';
import { sseFrame } from '../../wire/index.js';
import { chatHandler, type ChatDeps, type ClientCodec } from '../chat.js';
import { anthropicErrorBody } from '../errors.js';

export const anthropicCodec: ClientCodec = {
  flavour: 'anthropic',
  parse: parseAnthropicMessagesRequest,
  render: renderAnthropicMessage,
  encoder: (o) => new AnthropicStreamEncoder(o),
  errorFrame: (e) => sseFrame(JSON.stringify(anthropicErrorBody(e)), 'error'),
  responseId: (requestId) => `msg_${requestId}`,
  // An event type of redline's own; the Anthropic SDKs pass over event types they do not know.
  extensionFrame: ({ report }) => sseFrame(JSON.stringify({ type: 'redline', ...report }), 'redline'),
};

export async function anthropicRoutes(app: FastifyInstance, deps: ChatDeps): Promise<void> {
  app.post('/v1/messages', chatHandler(anthropicCodec, deps));
}
