// The admin key on start: generated once, or pinned by REDLINE_ADMIN_KEY, where changing the variable
// rotates the key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootstrapAdmin } from './main.js';
import { createSqliteStore, generateApiKey, hashApiKey, keyDisplayPrefix, openDatabase } from './store/index.js';

test('a new REDLINE_ADMIN_KEY revokes the one pinned before it, on record; other keys stay', async () => {
  const store = createSqliteStore(openDatabase(mkdtempSync(join(tmpdir(), 'redline-admin-'))));
  try {
    const a = 'pinned-admin-key-AAAAAAAAAAAA';
    const b = 'pinned-admin-key-BBBBBBBBBBBB';
    assert.equal(await bootstrapAdmin(store, a), undefined, 'a pinned key is never printed');
    await bootstrapAdmin(store, a);
    assert.equal((await store.keys.listKeys()).length, 1, 'the same pinned key is added once');

    const admin = (await store.keys.getPrincipalByName('admin'))!;
    const other = generateApiKey();
    await store.keys.addKey({ principalId: admin.id, label: 'ops laptop', hash: hashApiKey(other), prefix: keyDisplayPrefix(other) });

    await bootstrapAdmin(store, b);
    assert.equal(await store.keys.findKey(hashApiKey(a)), undefined, 'the old pinned key no longer authenticates');
    assert.ok(await store.keys.findKey(hashApiKey(b)), 'the new one does');
    assert.ok(await store.keys.findKey(hashApiKey(other)), 'a key made otherwise is left alone');
    const keys = await store.keys.listKeys();
    const old = keys.find((k) => k.prefix === keyDisplayPrefix(a) && k.revokedAt !== null);
    assert.ok(old, 'the old pinned key is listed as revoked');

    const events: Array<Record<string, unknown>> = [];
    await store.audit.drain(async (e) => { events.push(e); }, 100);
    assert.deepEqual(events.map((e) => e.change), ['key_created', 'key_revoked', 'key_created']);
    assert.equal(events[1]!.keyId, old.id);
  } finally {
    await store.close();
  }
});

test('without a pinned key, one admin key is generated on the first start only', async () => {
  const store = createSqliteStore(openDatabase(mkdtempSync(join(tmpdir(), 'redline-admin-'))));
  try {
    const key = await bootstrapAdmin(store, undefined);
    assert.match(key ?? '', /^rl-/);
    assert.equal(await bootstrapAdmin(store, undefined), undefined);
    assert.equal((await store.keys.listKeys()).length, 1);
  } finally {
    await store.close();
  }
});
