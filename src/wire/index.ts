export type * from './types.js';
export { parseSse, sseFrame, type SseEvent } from './sse.js';
export { parseOpenAIChatRequest, renderOpenAIChatResponse, OpenAIStreamEncoder, toOpenAIChatBody, fromOpenAIChatResponse, OpenAIStreamDecoder, errorMessageOf } from './openai.js';
export { parseAnthropicMessagesRequest, renderAnthropicMessage, AnthropicStreamEncoder, anthropicPing, toAnthropicMessagesBody, fromAnthropicMessage, AnthropicStreamDecoder } from './anthropic.js';
export { toGeminiRequest, fromGeminiResponse, GeminiStreamDecoder } from './gemini.js';
