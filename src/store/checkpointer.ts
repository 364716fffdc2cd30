// WAL checkpoints off the event loop. By default SQLite copies committed WAL frames into the database
// file from inside whichever commit takes the WAL past 1,000 frames, and that commit also waits for two
// fsyncs. In the gateway that commit is a ledger commit on the event loop. Measured on this VM with
// group commits of eight 600-byte entries and the loop busy between them: mean commit 94 to 106 µs
// with SQLite's checkpoints, 63 µs with this thread; 99.9th percentile 11 to 14 ms, 0.7 ms.
//
// So the gateway's connection stops checkpointing (wal_autocheckpoint = 0) and a thread with its own
// connection checkpoints on a timer (checkpoint-worker.ts): PASSIVE, which never blocks readers or
// writers, and now and then a RESTART, without which a busy WAL would never be rewound (a commit nearly
// always lands while a checkpoint runs). A RESTART holds the write lock for the frames PASSIVE left and
// its fsyncs (15 to 20 ms there, one every 8,000 frames), and a commit that comes meanwhile waits in
// SQLite's busy handler, which sleeps in steps: the slowest commit in that loop took 34 ms.
//
// Durability does not change: a commit is durable when COMMIT returns (synchronous decides how), and a
// checkpoint only copies what is already committed, with the same fsyncs. If the thread fails or dies,
// the connection's own automatic checkpoints come back on, so the WAL never grows without bound.
import type Database from 'better-sqlite3';
import { startWorker } from '../threads.js';

export interface CheckpointerData { file: string; intervalMs: number; restartFrames: number }
export type FromCheckpointer =
  | { t: 'ready' }
  | { t: 'checkpointed'; copied: number; restarted: boolean }
  | { t: 'failed'; message: string };

export interface CheckpointerStats {
  /** Ticks that copied frames into the database file, frames copied, and RESTARTs that rewound the WAL. */
  checkpoints: number;
  framesCopied: number;
  restarts: number;
  failures: number;
  running: boolean;
}

export interface Checkpointer {
  stats(): CheckpointerStats;
  /** Resolves once the thread is up, or has failed and handed checkpoints back to SQLite. */
  readonly ready: Promise<void>;
  /** A last checkpoint, then the thread ends; the connection's automatic checkpoints come back on. */
  stop(): Promise<void>;
}

/** SQLite's default: checkpoint from the committing connection once the WAL holds this many frames. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

export function startCheckpointer(
  db: Database.Database,
  o: { intervalMs?: number; restartFrames?: number; onProblem?: (message: string) => void } = {},
): Checkpointer {
  const stats: CheckpointerStats = { checkpoints: 0, framesCopied: 0, restarts: 0, failures: 0, running: true };
  const handBack = (why?: string) => {
    if (!stats.running) return;
    stats.running = false;
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT}`);
    if (why) o.onProblem?.(`WAL checkpointer stopped (${why}); SQLite checkpoints from the gateway's connection again`);
  };
  if (db.memory || !db.name) {
    stats.running = false;
    return { stats: () => ({ ...stats }), ready: Promise.resolve(), stop: async () => {} };
  }
  db.pragma('wal_autocheckpoint = 0');
  const data: CheckpointerData = { file: db.name, intervalMs: o.intervalMs ?? 100, restartFrames: o.restartFrames ?? 8000 };
  const worker = startWorker(import.meta.url, 'checkpoint-worker', data);
  let stopping = false;
  let exited = false;
  const ready = new Promise<void>((resolve) => {
    worker.on('message', (m: FromCheckpointer) => {
      if (m.t === 'ready') {
        // From here on the thread is bookkeeping: it must not keep the process alive (unless stop()
        // is already waiting for it to end).
        if (!stopping) worker.unref();
        resolve();
      } else if (m.t === 'checkpointed') {
        stats.checkpoints++;
        stats.framesCopied += m.copied;
        if (m.restarted) stats.restarts++;
      } else {
        stats.failures++;
        o.onProblem?.(`WAL checkpoint failed: ${m.message}`);
      }
    });
    worker.on('error', (e: Error & { code?: string }) => {
      // An error thrown in the thread may arrive with only its code (better-sqlite3's SqliteError).
      handBack(e.message || e.code || 'thread error');
      resolve();
    });
    worker.on('exit', (code) => {
      exited = true;
      if (!stopping) handBack(`thread exited with code ${code}`);
      resolve();
    });
  });
  return {
    stats: () => ({ ...stats }),
    ready,
    async stop() {
      if (stopping) return;
      stopping = true;
      if (!exited) {
        worker.ref();
        const gone = new Promise((r) => worker.once('exit', r));
        worker.postMessage('stop');
        await gone;
      }
      handBack();
    },
  };
}
