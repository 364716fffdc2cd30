// Child entry: a minimal JSON gateway, for scale. Fastify in, the body parsed and sent on re-serialised
// with the model swapped, the answer parsed and sent back: what any gateway that reads and rewrites
// requests does, and nothing redline adds (auth, classification, policy, ledger, request log, metrics,
// translation). redline's distance from this is what governance costs; the bare proxy's is what
// parsing costs against piping. Non-streaming only. Usage: node minimal-gateway-child.js <upstream origin>
import './guard.js';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const origin = process.argv[2];
if (!origin) {
  console.error('usage: minimal-gateway-child <upstream origin>');
  process.exit(2);
}
const pool = new Pool(origin, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });
const app = Fastify({ logger: false });

app.post('/v1/chat/completions', async (req, reply) => {
  const body = req.body as { model?: string; stream?: boolean };
  if (body.stream) return reply.code(400).send({ error: { message: 'the minimal gateway does not stream' } });
  const up = await pool.request({
    method: 'POST', path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, model: 'm' }),
  });
  const answer = (await up.body.json()) as { model?: string };
  reply.code(up.statusCode);
  return { ...answer, model: body.model };
});

await app.listen({ port: 0, host: '127.0.0.1' });
const { port } = app.server.address() as AddressInfo;
process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
process.on('SIGTERM', () => { void app.close().then(() => pool.close()).finally(() => process.exit(0)); });
process.on('SIGINT', () => process.exit(0));
