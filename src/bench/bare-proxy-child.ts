// Child entry: the practical limit for a Node reverse proxy — node:http in, undici (keep-alive pool)
// out, the body forwarded and the response piped back, nothing else. Whatever redline does beyond this
// is what its overhead pays for. Usage: node bare-proxy-child.js <upstream origin>
import './guard.js';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const origin = process.argv[2];
if (!origin) {
  console.error('usage: bare-proxy-child <upstream origin>');
  process.exit(2);
}
const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are not forwarded.
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function endToEnd(h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    // Small chat bodies: buffering is cheaper than streaming them chunked, and it is what a proxy
    // that inspects the body (as redline does) has to do anyway.
    const body = Buffer.concat(chunks);
    const headers = endToEnd(req.headers) as Record<string, string>;
    headers['content-length'] = String(body.length);
    pool.request({ method: (req.method ?? 'GET') as 'POST', path: req.url ?? '/', headers, body })
      .then(async (up) => {
        res.writeHead(up.statusCode, endToEnd(up.headers));
        await pipeline(up.body, res);
      })
      .catch(() => {
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"bad gateway"}}');
        } else res.destroy();
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => { server.close(); void pool.close().finally(() => process.exit(0)); });
process.on('SIGINT', () => process.exit(0));
