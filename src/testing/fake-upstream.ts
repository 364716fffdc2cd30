// A scriptable fake model server over loopback. It stands in for the upstream providers we cannot
// reach from here: each provider's dialect (fake-openai.ts, fake-anthropic.ts, fake-gemini.ts) speaks
// that provider's real wire format; this file holds what all of them share: recording requests, a
// queue of scripted behaviours, and the faults (status codes, hangs, resets, garbage).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeBehaviour =
  /** A normal answer; `text` defaults to a deterministic echo of the last user text. */
  | { kind: 'reply'; text?: string }
  /** The model calls a tool (streamed as argument fragments when the request streams). */
  | { kind: 'tool_call'; name: string; arguments: Record<string, unknown>; text?: string }
  /** An HTTP error in the provider's own error shape. */
  | { kind: 'status'; status: number; headers?: Record<string, string>; message?: string }
  /** Accepts the request and never answers. */
  | { kind: 'hang' }
  /** Destroys the socket before any response byte. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON (or, for streams, an event that is not JSON). */
  | { kind: 'garbage' }
  /** Streams the first part of a reply, then destroys the socket. */
  | { kind: 'reset_mid_stream' }
  /** Sends response headers, then stalls before the first body byte/event. */
  | { kind: 'stall_after_headers' }
  /** Streams: opens the stream (message_start / the role chunk), then reports an error in-stream. */
  | { kind: 'error_after_start'; errorType?: string }
  /** Streams: opens the stream, then sends nothing more (a model that thinks for a long time). */
  | { kind: 'stall_after_start' };

export interface RecordedRequest { method: string; path: string; headers: IncomingMessage['headers']; body: any }

export interface FakeDialect {
  /** Writes the provider-shaped answer for 'reply', 'tool_call', 'reset_mid_stream' and 'garbage'. */
  answer(req: RecordedRequest, behaviour: FakeBehaviour, res: ServerResponse): void | Promise<void>;
  /** The provider's error body for an HTTP error status. */
  errorBody(status: number, message: string): unknown;
}

export interface FakeUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Behaviours for the next requests, in order; once empty, every request gets `{kind:'reply'}`. */
  enqueue(...b: FakeBehaviour[]): void;
  /** Drops behaviours still queued (a test whose breaker skipped an attempt leaves one behind). */
  clear(): void;
  /** Count of requests aborted by the client before the fake finished answering. */
  aborted(): number;
  close(): Promise<void>;
}

export async function startFakeUpstream(dialect: FakeDialect): Promise<FakeUpstream> {
  const queue: FakeBehaviour[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let abortedCount = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: any = raw;
    try { body = raw ? JSON.parse(raw) : undefined; } catch { /* keep raw text */ }
    const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    requests.push(rec);
    res.on('close', () => { if (!res.writableFinished) abortedCount++; });
    const b = queue.shift() ?? { kind: 'reply' };
    switch (b.kind) {
      case 'status':
        res.writeHead(b.status, { 'content-type': 'application/json', ...b.headers });
        res.end(JSON.stringify(dialect.errorBody(b.status, b.message ?? `fake error ${b.status}`)));
        return;
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'stall_after_headers':
        res.writeHead(200, { 'content-type': rec.body?.stream ? 'text/event-stream' : 'application/json' });
        res.flushHeaders();
        return;
      default:
        await dialect.answer(rec, b, res);
    }
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...b) => { queue.push(...b); },
    clear: () => { queue.length = 0; },
    aborted: () => abortedCount,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** The last user text of a recorded request, for deterministic echo replies. */
export function echoText(lastUserText: string | undefined): string {
  return `echo: ${(lastUserText ?? '').slice(0, 200)}`;
}
