// The ledger over HTTP: the C2SP tlog-tiles resources (checkpoint, tiles, entry bundles) that any
// tlog client can verify, plus JSON conveniences (one entry, server-built proofs, verifier keys). All
// of it is public by design (entries hold pseudonyms and commitments, not content), so register this
// plugin outside the authenticated scope. Errors use the OpenAI error shape like the rest of /v1.
import { gzipSync, constants as zlib } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RedlineError } from '../../errors.js';
import type { Ledger } from '../../ledger/index.js';
import { parseTilePath, toBase64, isVerificationError } from '../../verify/index.js';
import { normaliseError, openAIErrorBody } from '../errors.js';

export type LedgerHttpSource = Pick<
  Ledger,
  'origin' | 'size' | 'checkpoint' | 'verifiers' | 'entry' | 'inclusionProof' | 'consistencyProof' | 'tile' | 'entryBundle'
>;

const IMMUTABLE = 'public, max-age=31536000, immutable';

function fail(reply: FastifyReply, err: unknown): FastifyReply {
  const e = normaliseError(err);
  return reply.code(e.status).header('cache-control', 'no-store').type('application/json').send(JSON.stringify(openAIErrorBody(e)));
}

/** A query parameter as a non-negative integer in canonical decimal; anything else is a 400. */
function intParam(q: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const v = q[name];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new RedlineError('INVALID_REQUEST', `${name} must be a non-negative integer`, { param: name });
  }
  return Number(v);
}

function sendBytes(request: FastifyRequest, reply: FastifyReply, body: Uint8Array, compressible: boolean): FastifyReply {
  reply.header('content-type', 'application/octet-stream').header('cache-control', IMMUTABLE);
  if (!compressible) return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  reply.header('vary', 'accept-encoding');
  const accepts = String(request.headers['accept-encoding'] ?? '');
  // tlog-tiles asks for compressed entry bundles (tiles are hashes and would not shrink); level 1 keeps the CPU cost small.
  if (body.length > 512 && /\bgzip\b/.test(accepts)) {
    return reply.header('content-encoding', 'gzip').send(gzipSync(body, { level: zlib.Z_BEST_SPEED }));
  }
  return reply.send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

function parseResource(path: string, entries: boolean): { index: number; width?: number; level?: number } {
  try {
    const p = parseTilePath(path);
    if ((p.level === 'entries') !== entries) throw new RedlineError('INVALID_REQUEST', 'not a tile path');
    return p.level === 'entries' ? { index: p.index, ...(p.width !== undefined && { width: p.width }) } : { index: p.index, level: p.level, ...(p.width !== undefined && { width: p.width }) };
  } catch (e) {
    if (isVerificationError(e)) throw new RedlineError('INVALID_REQUEST', 'not a canonical tlog-tiles path');
    throw e;
  }
}

export async function ledgerRoutes(app: FastifyInstance, o: { ledger: LedgerHttpSource }): Promise<void> {
  const { ledger } = o;

  app.get('/ledger/checkpoint', async (_request, reply) => {
    try {
      const note = ledger.checkpoint();
      return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'public, max-age=1').send(note);
    } catch (e) {
      return fail(reply, e);
    }
  });

  // Static segments win over parameters in Fastify's router, so /tile/entries/* never reaches :L.
  app.get('/ledger/tile/entries/*', async (request, reply) => {
    try {
      const rest = (request.params as Record<string, string>)['*'] ?? '';
      const r = parseResource(`tile/entries/${rest}`, true);
      const body = ledger.entryBundle(r.index, r.width);
      if (!body) throw new RedlineError('NOT_FOUND', 'no such entry bundle in this log');
      return sendBytes(request, reply, body, true);
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/ledger/tile/:L/*', async (request, reply) => {
    try {
      const params = request.params as Record<string, string>;
      const r = parseResource(`tile/${params.L ?? ''}/${params['*'] ?? ''}`, false);
      const body = ledger.tile(r.level!, r.index, r.width);
      if (!body) throw new RedlineError('NOT_FOUND', 'no such tile in this log');
      return sendBytes(request, reply, body, false);
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/v1/redline/ledger/entries/:index', async (request, reply) => {
    try {
      const index = intParam(request.params as Record<string, unknown>, 'index', true)!;
      const rec = ledger.entry(index);
      if (!rec) throw new RedlineError('NOT_FOUND', `the log has no entry ${index}`);
      return reply.header('cache-control', IMMUTABLE).send({ index, leaf_hash: toBase64(rec.leafHash), entry: rec.entry });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/v1/redline/ledger/proof/inclusion', async (request, reply) => {
    try {
      const q = request.query as Record<string, unknown>;
      const index = intParam(q, 'index', true)!;
      const size = intParam(q, 'size', false) ?? ledger.size();
      const hashes = ledger.inclusionProof(index, size);
      return reply.send({ index, size, hashes: hashes.map(toBase64) });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/v1/redline/ledger/proof/consistency', async (request, reply) => {
    try {
      const q = request.query as Record<string, unknown>;
      const from = intParam(q, 'from', true)!;
      const to = intParam(q, 'to', false) ?? ledger.size();
      const hashes = ledger.consistencyProof(from, to);
      return reply.send({ from, to, hashes: hashes.map(toBase64) });
    } catch (e) {
      return fail(reply, e);
    }
  });

  app.get('/v1/redline/ledger/verifiers', async (_request, reply) => {
    const keys = ledger.verifiers();
    return reply.send({ origin: ledger.origin, current: keys[0], keys });
  });
}
