// Server-sent events, both directions. Parsing follows the WHATWG "event stream" rules
// (fields event/data/id, lines ending in LF, CRLF or CR, blank line dispatches, ':' comments).
// Hand-written because the stream is consumed straight off undici's body without extra buffering
// or an EventSource object; it is a few dozen lines.

export interface SseEvent { event: string | undefined; data: string }

export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  let event: string | undefined;
  let data: string[] = [];
  for await (const chunk of body) {
    buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = nextLineEnd(buf, start);
      if (nl < 0) break;
      if (buf[nl] === '\r' && nl + 1 === buf.length) break; // CR at the end: wait, an LF may follow
      const line = buf.slice(start, nl);
      start = nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1);
      if (line === '') {
        if (data.length > 0) yield { event, data: data.join('\n') };
        event = undefined;
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
    buf = buf.slice(start);
  }
  buf += decoder.decode();
  if (buf.length > 0 && !buf.startsWith(':')) {
    const colon = buf.indexOf(':');
    if (colon >= 0 && buf.slice(0, colon) === 'data') data.push(buf.slice(colon + 1).replace(/^ /, ''));
  }
  if (data.length > 0) yield { event, data: data.join('\n') };
}

function nextLineEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 10 || c === 13) return i;
  }
  return -1;
}

/** One SSE frame. `data` must not contain newlines (JSON.stringify output never does). */
export function sseFrame(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
