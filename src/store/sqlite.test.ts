import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore, generateApiKey, hashApiKey, keyDisplayPrefix, loadOrCreateSecret, openDatabase } from './index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'redline-store-'));

test('principals and keys: only hashes are stored; revoked keys are not found; ambiguous prefixes revoke nothing', async () => {
  const d = dir();
  const s = createSqliteStore(openDatabase(d));
  const p = await s.keys.createPrincipal({ name: 'analyst', roles: ['analyst'], attributes: { unit: 'J2', legal_authorities: ['EO-12333'] } });
  const key = generateApiKey();
  const info = await s.keys.addKey({ principalId: p.id, label: 'laptop', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
  const found = await s.keys.findKey(hashApiKey(key));
  assert.equal(found?.principal.name, 'analyst');
  assert.deepEqual(found?.principal.attributes, { unit: 'J2', legal_authorities: ['EO-12333'] });
  assert.equal(await s.keys.revokeKey('rl-'), undefined, 'a prefix shared by every key revokes nothing');
  assert.equal((await s.keys.revokeKey(info.id))?.id, info.id);
  assert.equal(await s.keys.findKey(hashApiKey(key)), undefined);
  await s.close();
  assert.ok(!readFileSync(join(d, 'redline.db')).includes(Buffer.from(key)), 'the key itself is not in the database file');
});

test('request records are batched and all land', async () => {
  const s = createSqliteStore(openDatabase(dir()));
  for (let i = 0; i < 1_500; i++) {
    s.requests.record({ id: `req_${i}`, time: new Date().toISOString(), principalId: 'p', keyId: 'k', api: 'openai', alias: 'a', provider: 'x', model: 'm', status: 200, errorCode: null, stream: false, inputTokens: 1, outputTokens: 2, latencyMs: 1, attempts: 1, content: null });
  }
  await s.requests.flush();
  const all = await s.requests.recent(5_000);
  assert.equal(all.length, 1_500);
  // Newest first, across the batches the records were written in (1,000 rows, then the rest).
  assert.deepEqual(all.slice(0, 3).map((r) => r.id), ['req_1499', 'req_1498', 'req_1497']);
  assert.deepEqual(all.slice(499, 502).map((r) => r.id), ['req_1000', 'req_999', 'req_998']);
  assert.equal(all.at(-1)?.id, 'req_0');
  await s.close();
});

test('the server secret is created once, owner-only, and stays the same', () => {
  const d = dir();
  const a = loadOrCreateSecret(d);
  const b = loadOrCreateSecret(d);
  assert.deepEqual(a, b);
  assert.equal(a.length, 32);
  assert.equal(statSync(join(d, 'server.secret')).mode & 0o777, 0o600);
});

test('a database from before migrations 3 and 4 keeps its request rows and loses the per-principal and time indexes', async () => {
  const d = dir();
  // A version-2 database: today's schema with the index migration 3 drops, and its version mark.
  const old = openDatabase(d);
  old.exec(`CREATE INDEX requests_principal ON requests(principal_id, time);
   INSERT INTO requests VALUES ('req_old', '2026-01-01T00:00:00.000Z', 'p', 'k', 'openai', 'a', 'x', 'm', 200, NULL, 0, 1, 2, 1.5, 1, NULL);
   PRAGMA user_version = 2;`);
  old.close();
  const db = openDatabase(d);
  const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests' AND name NOT LIKE 'sqlite_%'`).all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(indexes, []);
  assert.equal(db.pragma('user_version', { simple: true }), 4);
  const s = createSqliteStore(db);
  assert.deepEqual((await s.requests.recent(10)).map((r) => r.id), ['req_old']);
  await s.close();
});

test('the database and its WAL files are owner-only, even in a data directory open to others', async () => {
  const d = dir();
  chmodSync(d, 0o755);
  const s = createSqliteStore(openDatabase(d));
  await s.keys.createPrincipal({ name: 'analyst', roles: [], attributes: {} });
  for (const f of ['redline.db', 'redline.db-wal', 'redline.db-shm']) assert.equal(statSync(join(d, f)).mode & 0o777, 0o600, f);
  await s.close();
  chmodSync(join(d, 'redline.db'), 0o644); // a file from an older version
  const again = openDatabase(d);
  assert.equal(statSync(join(d, 'redline.db')).mode & 0o777, 0o600);
  again.close();
});
