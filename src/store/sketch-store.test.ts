import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { SketchStore } from '../classify/bulk/index.js';
import { createMemorySketchStore, createSqliteSketchStore } from './sketch-store.js';

// One contract, run against every SketchStore implementation.
function contract(name: string, make: () => { store: SketchStore; done: () => void }): void {
  test(`${name}: load, save, overwrite, prune`, () => {
    const { store, done } = make();
    try {
      assert.equal(store.load('a', 1), undefined);
      store.save('a', 1, Uint8Array.of(1, 2, 3));
      store.save('a', 2, Uint8Array.of(4));
      store.save('b', 1, Uint8Array.of(5));
      assert.deepEqual(store.load('a', 1), Uint8Array.of(1, 2, 3));
      assert.ok(store.load('a', 1) instanceof Uint8Array);
      store.save('a', 1, Uint8Array.of(9));
      assert.deepEqual(store.load('a', 1), Uint8Array.of(9));
      store.prune(2);
      assert.equal(store.load('a', 1), undefined);
      assert.equal(store.load('b', 1), undefined);
      assert.deepEqual(store.load('a', 2), Uint8Array.of(4));
    } finally {
      done();
    }
  });

  test(`${name}: saved bytes are copied, not aliased`, () => {
    const { store, done } = make();
    try {
      const b = Uint8Array.of(1, 2);
      store.save('a', 1, b);
      b[0] = 7;
      const got = store.load('a', 1)!;
      assert.deepEqual(got, Uint8Array.of(1, 2));
      got[1] = 8;
      assert.deepEqual(store.load('a', 1), Uint8Array.of(1, 2));
    } finally {
      done();
    }
  });

  test(`${name}: saveMany, when offered, saves all`, () => {
    const { store, done } = make();
    try {
      if (!store.saveMany) return;
      store.saveMany([{ principal: 'a', bucket: 1, sketch: Uint8Array.of(1) }, { principal: 'b', bucket: 2, sketch: Uint8Array.of(2) }]);
      assert.deepEqual(store.load('a', 1), Uint8Array.of(1));
      assert.deepEqual(store.load('b', 2), Uint8Array.of(2));
    } finally {
      done();
    }
  });
}

contract('memory', () => ({ store: createMemorySketchStore(), done: () => {} }));

contract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-sketch-'));
  const db = new Database(join(dir, 'x.db'));
  return { store: createSqliteSketchStore(db), done: () => (db.close(), rmSync(dir, { recursive: true, force: true })) };
});

test('sqlite: the table is created once and reused by a second store on the same database', () => {
  const db = new Database(':memory:');
  createSqliteSketchStore(db).save('a', 5, Uint8Array.of(1));
  assert.deepEqual(createSqliteSketchStore(db).load('a', 5), Uint8Array.of(1));
  const cols = db.prepare("SELECT name FROM pragma_table_info('bulk_sketches') ORDER BY cid").all() as { name: string }[];
  assert.deepEqual(cols.map((c) => c.name), ['principal', 'bucket', 'sketch']);
  db.close();
});
