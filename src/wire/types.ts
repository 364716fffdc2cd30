// The one neutral shape of a chat call inside redline. Every client format (OpenAI Chat Completions,
// Anthropic Messages) is parsed into it and every provider format is rendered from it, so the
// pipeline (policy, classification, approvals, ledger) never sees a wire format.

/**
 * A prompt-cache breakpoint (Anthropic's `cache_control`): the prompt up to and including the part
 * that carries it may be cached. A hint only: providers without prompt caching ignore it.
 */
export interface CacheControl { type: 'ephemeral'; ttl?: '5m' | '1h' }

export interface TextPart { type: 'text'; text: string; cacheControl?: CacheControl }
/** An image by URL; base64 images are carried as `data:` URLs so both formats can express them. */
export interface ImagePart { type: 'image'; url: string; detail?: string; cacheControl?: CacheControl }
/** A tool call made by the assistant. `arguments` is the JSON text exactly as the model produced it. */
export interface ToolCallPart { type: 'tool_call'; id: string; name: string; arguments: string; cacheControl?: CacheControl }
/** The result of a tool call, sent back by the client. */
export interface ToolResultPart { type: 'tool_result'; toolCallId: string; content: Array<TextPart | ImagePart>; isError?: boolean; cacheControl?: CacheControl }

export type Part = TextPart | ImagePart | ToolCallPart | ToolResultPart;

/**
 * Tool results travel inside `user` messages (Anthropic's model); the OpenAI codec splits them into
 * `role: "tool"` messages on the way out and merges them back on the way in.
 */
export interface Message { role: 'user' | 'assistant'; content: Part[] }

export interface ToolDef {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  /** OpenAI structured outputs: the arguments must follow the schema exactly. */
  strict?: boolean;
  cacheControl?: CacheControl;
}

export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string };

export interface ChatRequest {
  /** The model name the client asked for (a route alias or provider/model). Providers get target.model. */
  model: string;
  system?: string;
  /** A prompt-cache breakpoint at the end of the system prompt. */
  systemCacheControl?: CacheControl;
  messages: Message[];
  tools?: ToolDef[];
  toolChoice?: ToolChoice;
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  stream: boolean;
  /** OpenAI `stream_options.include_usage`; Anthropic always reports usage. */
  includeUsage?: boolean;
  parallelToolCalls?: boolean;
  /** End-user id from the client (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
  /** Sampling controls some providers take (README, "What cannot be translated", says which). */
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  topK?: number;
  /** JSON output (OpenAI `response_format`; Gemini's response MIME type and schema). Absent: text. */
  responseFormat?: ResponseFormat;
}

export type ResponseFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; description?: string; schema: Record<string, unknown>; strict?: boolean };

export type StopReason = 'end' | 'max_tokens' | 'tool_use' | 'stop_sequence' | 'content_filter' | 'refusal';

export interface Usage { inputTokens: number; outputTokens: number }

export interface ChatResponse {
  id: string;
  /** Model name as reported by the upstream. */
  model: string;
  content: Array<TextPart | ToolCallPart>;
  stopReason: StopReason;
  stopSequence?: string;
  usage: Usage;
}

/**
 * Streaming events. `index` is the content-block index in the final message (text and tool calls
 * share one numbering, as Anthropic's content blocks do). Producers emit, per block:
 * start-of-block (text_start / tool_call_start), deltas, block_stop; then one `finish`.
 */
export type StreamEvent =
  | { type: 'start'; id: string; model: string; inputTokens?: number }
  | { type: 'text_start'; index: number }
  | { type: 'text_delta'; index: number; text: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; argumentsDelta: string }
  | { type: 'block_stop'; index: number }
  | { type: 'finish'; stopReason: StopReason; stopSequence?: string; usage: Usage };
