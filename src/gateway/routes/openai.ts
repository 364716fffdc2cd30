// POST /v1/chat/completions — the OpenAI Chat Completions API.
import type { FastifyInstance } from 'fastify';
import { OpenAIStreamEncoder, parseOpenAIChatRequest, renderOpenAIChatResponse } from '../../wire/index.js';
import { sseFrame } from '../../wire/index.js';
import { chatHandler, type ChatDeps, type ClientCodec } from '../chat.js';
import { openAIErrorBody } from '../errors.js';

export const openAICodec: ClientCodec = {
  flavour: 'openai',
  parse: parseOpenAIChatRequest,
  render: renderOpenAIChatResponse,
  encoder: (o) => new OpenAIStreamEncoder(o),
  // OpenAI streams report a mid-stream failure as a data event carrying an error object.
  errorFrame: (e) => sseFrame(JSON.stringify(openAIErrorBody(e))),
  responseId: (requestId) => `chatcmpl-${requestId}`,
  // A chunk with no choices (as the usage chunk has) carrying redline's report; SDKs ignore the field.
  extensionFrame: ({ id, model, created, report }) => sseFrame(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], redline: report })),
};

export async function openAIRoutes(app: FastifyInstance, deps: ChatDeps): Promise<void> {
  app.post('/v1/chat/completions', chatHandler(openAICodec, deps));
}
