export type * from './types.js';
export { parseSse, sseFrame, type SseEvent } from './sse.js';
