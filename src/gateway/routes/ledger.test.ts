import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { request } from 'undici';
import { createLedger } from '../../ledger/index.js';
import {
  entriesPath,
  fromBase64,
  leafHash,
  tilePath,
  verifyAllEntries,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyConsistency,
  verifyEntryInclusion,
  verifyInclusion,
} from '../../verify/index.js';
import { ledgerRoutes } from './ledger.js';

const ORIGIN = 'redline.test/http';

async function serve(n: number) {
  const ledger = createLedger({ db: new Database(':memory:'), signer: { name: ORIGIN, privateKey: generateKeyPairSync('ed25519').privateKey } });
  await Promise.all(Array.from({ length: n }, (_, i) => ledger.append({ decisionId: `d${i}`, principal: 'p', action: 'chat', labels: ['general'], decision: i % 7 ? 'allow' : 'deny' })));
  const app = Fastify();
  await ledgerRoutes(app, { ledger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(url + path, { headers });
    return { status: r.statusCode, headers: r.headers, body: new Uint8Array(await r.body.arrayBuffer()) };
  };
  const bytes = async (path: string): Promise<Uint8Array> => {
    const r = await get(path);
    if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    return r.body;
  };
  const json = async (path: string) => {
    const r = await get(path);
    return { status: r.status, body: JSON.parse(new TextDecoder().decode(r.body)) as Record<string, unknown> };
  };
  return { ledger, app, get, bytes, json };
}

test('a client verifies the log using only fetched checkpoint, tiles and entry bundles', async () => {
  const s = await serve(70_000);
  try {
    const vkeys = (await s.json('/v1/redline/ledger/verifiers')).body.keys as string[];
    const cpRes = await s.get('/ledger/checkpoint');
    assert.equal(cpRes.headers['content-type'], 'text/plain; charset=utf-8');
    const cp = verifyCheckpoint(cpRes.body, vkeys, { origin: ORIGIN });
    assert.equal(cp.size, 70_000);

    const tile = (L: number, N: number, w: number | undefined) => s.bytes('/ledger/' + tilePath(L, N, w));
    const entryBundle = (N: number, w: number | undefined) => s.bytes('/ledger/' + entriesPath(N, w));
    const tileRes = await s.get('/ledger/tile/0/x001/x234/067');
    assert.equal(tileRes.status, 404);
    const full = await s.get('/ledger/tile/0/000');
    assert.equal(full.headers['content-type'], 'application/octet-stream');
    assert.match(String(full.headers['cache-control']), /immutable/);

    await verifyAllEntries(cp, entryBundle, { concurrency: 8 });
    for (const index of [0, 255, 256, 65_535, 65_536, 69_999]) await verifyEntryInclusion(cp, index, { tile, entryBundle });

    // Move the log on and check the old checkpoint is a prefix, from the new tiles alone.
    await Promise.all(Array.from({ length: 300 }, (_, i) => s.ledger.append({ decisionId: `n${i}`, principal: 'p', action: 'chat', labels: [], decision: 'allow' })));
    const cp2 = verifyCheckpoint((await s.get('/ledger/checkpoint')).body, vkeys);
    await verifyCheckpointConsistency(cp, cp2, tile);

    // Gzip when asked (entry bundles SHOULD be compressed), identity otherwise.
    const gz = await s.get('/ledger/' + entriesPath(0), { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(new Uint8Array(gunzipSync(gz.body)), await entryBundle(0, undefined));
  } finally {
    await s.app.close();
  }
});

test('JSON entry and proof endpoints agree with the verifier', async () => {
  const s = await serve(1000);
  try {
    const vkeys = (await s.json('/v1/redline/ledger/verifiers')).body.keys as string[];
    const cp = verifyCheckpoint((await s.get('/ledger/checkpoint')).body, vkeys);
    const e = await s.json('/v1/redline/ledger/entries/123');
    assert.equal(e.status, 200);
    assert.equal((e.body.entry as { decisionId: string }).decisionId, 'd123');
    const lh = fromBase64(e.body.leaf_hash as string);
    assert.deepEqual(lh, leafHash(s.ledger.entry(123)!.data));

    const p = await s.json('/v1/redline/ledger/proof/inclusion?index=123&size=1000');
    assert.equal(p.status, 200);
    verifyInclusion(lh, 123, 1000, (p.body.hashes as string[]).map((h) => fromBase64(h)), cp.rootHash);
    const pDefault = await s.json('/v1/redline/ledger/proof/inclusion?index=123');
    assert.equal(pDefault.body.size, 1000);

    const c = await s.json('/v1/redline/ledger/proof/consistency?from=10&to=1000');
    verifyConsistency(10, 1000, (c.body.hashes as string[]).map((h) => fromBase64(h)), s.ledger.root(10), cp.rootHash);
  } finally {
    await s.app.close();
  }
});

test('bad parameters answer 400 and missing resources 404, in the OpenAI error shape', async () => {
  const s = await serve(300);
  try {
    const cases: [string, number][] = [
      ['/v1/redline/ledger/entries/abc', 400],
      ['/v1/redline/ledger/entries/-1', 400],
      ['/v1/redline/ledger/entries/007', 400],
      ['/v1/redline/ledger/entries/300', 404],
      ['/v1/redline/ledger/proof/inclusion', 400],
      ['/v1/redline/ledger/proof/inclusion?index=1.5', 400],
      ['/v1/redline/ledger/proof/inclusion?index=5&size=301', 404],
      ['/v1/redline/ledger/proof/inclusion?index=300&size=300', 404],
      ['/v1/redline/ledger/proof/consistency?from=x', 400],
      ['/v1/redline/ledger/proof/consistency?from=20&to=10', 400],
      ['/v1/redline/ledger/proof/consistency?from=1&to=99999', 404],
      ['/ledger/tile/0/1', 400],
      ['/ledger/tile/0/000.p/0', 400],
      ['/ledger/tile/0/000.p/256', 400],
      ['/ledger/tile/99/000', 400],
      ['/ledger/tile/entries/x000/001', 400],
      ['/ledger/tile/0/001', 404],
      ['/ledger/tile/0/001.p/45', 404],
      ['/ledger/tile/entries/002', 404],
    ];
    for (const [path, status] of cases) {
      const r = await s.json(path);
      assert.equal(r.status, status, path);
      const err = r.body.error as { type: string; code: string; message: string };
      assert.equal(typeof err.message, 'string', path);
      assert.equal(err.type, 'invalid_request_error', path);
      assert.equal(err.code, status === 400 ? 'invalid_request' : 'not_found', path);
    }
    assert.equal((await s.get('/ledger/tile/0/001.p/44')).status, 200);
    assert.equal((await s.get('/ledger/tile/entries/001.p/44')).status, 200);
    assert.equal((await s.get('/ledger/tile/1/000.p/1')).status, 200);
  } finally {
    await s.app.close();
  }
});
