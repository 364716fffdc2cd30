import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCheckpointer } from './checkpointer.js';

function tempDb(): { db: Database.Database; file: string; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'redline-ckpt-'));
  const file = join(dir, 'redline.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
  return { db, file, done: () => { if (db.open) db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

const tick = () => new Promise((r) => setTimeout(r, 2));

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await tick();
  }
}

test('the thread checkpoints what the gateway connection commits, and rewinds the WAL under steady writes', async () => {
  const { db, file, done } = tempDb();
  try {
    const c = startCheckpointer(db, { intervalMs: 10, restartFrames: 200 });
    await c.ready;
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the gateway connection no longer checkpoints');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    // Steady writes with the event loop turning between them, as in the gateway: 3,000 commits of 3 KB.
    for (let i = 0; i < 3000; i++) {
      insert.run(Buffer.alloc(3000, i % 251));
      if (i % 20 === 0) await tick();
    }
    await until(() => c.stats().restarts >= 2);
    const s = c.stats();
    // Every commit wrote at least one frame (about three here), and each is counted once however many
    // ticks saw it (summing SQLite's running totals instead gave about 20,000 here).
    assert.ok(s.framesCopied >= 3000 && s.framesCopied < 3000 * 4, `frames copied: ${s.framesCopied}`);
    assert.ok(statSync(file).size > 3000 * 3000, 'the rows reached the database file itself');
    // Without the RESTARTs the WAL would hold every frame written: about 35 MB here.
    assert.ok(statSync(file + '-wal').size < 10_000_000, `WAL rewound (${statSync(file + '-wal').size} bytes)`);
    await c.stop();
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000, 'stopping hands checkpoints back to SQLite');
    assert.equal((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 3000);
  } finally {
    done();
  }
});

test('a thread that cannot run hands checkpoints back to the connection and says so', async () => {
  const { db, file, done } = tempDb();
  try {
    // The connection stays open on its file, but the name the thread would open no longer exists.
    renameSync(file, file + '.moved');
    const problems: string[] = [];
    const c = startCheckpointer(db, { intervalMs: 10, onProblem: (m) => problems.push(m) });
    await c.ready;
    await until(() => !c.stats().running);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    assert.match(problems.join('\n'), /checkpointer stopped \(SQLITE_CANTOPEN/);
    await c.stop();
  } finally {
    done();
  }
});

test('stopping while the thread is still starting ends it, and hands checkpoints back', async () => {
  const { db, done } = tempDb();
  try {
    const c = startCheckpointer(db);
    await c.stop(); // nothing else keeps the event loop alive: a stop that did not hold it would hang here
    assert.equal(c.stats().running, false);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  } finally {
    done();
  }
});

test('an in-memory database has no WAL to checkpoint: nothing starts', async () => {
  const db = new Database(':memory:');
  const c = startCheckpointer(db);
  assert.equal(c.stats().running, false);
  await c.stop();
  db.close();
});

test('a long reader on the database (a verify run, say) never makes the gateway connection wait', async () => {
  const { db, file, done } = tempDb();
  const reader = new Database(file, { readonly: true });
  try {
    const c = startCheckpointer(db, { intervalMs: 5, restartFrames: 50 });
    await c.ready;
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 100; i++) insert.run(Buffer.alloc(3000, 1));
    // The reader pins a snapshot, so no RESTART can rewind the WAL while it reads.
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    let slowest = 0;
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      const t0 = performance.now();
      insert.run(Buffer.alloc(3000, 2));
      slowest = Math.max(slowest, performance.now() - t0);
      await tick();
    }
    reader.exec('COMMIT');
    // A RESTART that waited for the reader would hold the write lock, and this insert would wait with it
    // (with a one-second busy timeout in the thread, the inserts starved until they failed: "database is
    // locked").
    assert.ok(slowest < 250, `slowest insert ${slowest.toFixed(1)} ms`);
    await until(() => c.stats().restarts >= 1); // once the reader is gone, the WAL can be rewound
    assert.equal(c.stats().failures, 0, "a RESTART kept out by the reader is a busy answer, not a failure to warn about");
    await c.stop();
  } finally {
    reader.close();
    done();
  }
});

