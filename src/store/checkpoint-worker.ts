// The WAL checkpointer thread (see checkpointer.ts): its own connection to the gateway's database.
// Every tick a PASSIVE checkpoint copies committed frames into the database file without taking any
// lock a writer needs; once the WAL holds restartFrames frames, a RESTART finishes the few frames left
// and makes the next commit write the WAL from its start again, so the file stays bounded.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointerData, FromCheckpointer } from './checkpointer.js';

type Result = { busy: number; log: number; checkpointed: number };

const port = parentPort!;
const cfg = workerData as CheckpointerData;
const db = new Database(cfg.file, { fileMustExist: true });
// No waiting: a RESTART that finds a commit in progress, or a reader still on an older snapshot, returns
// at once and is tried again next tick. Waiting would hold the write lock meanwhile, and a long reader
// (say `redline ledger verify` on the live database) would then stall every commit of the gateway.
db.pragma('busy_timeout = 0');
const send = (m: FromCheckpointer) => port.postMessage(m);

function checkpoint(mode: 'PASSIVE' | 'RESTART'): Result | undefined {
  try {
    const [r] = db.pragma(`wal_checkpoint(${mode})`) as Result[];
    return r;
  } catch (e) {
    send({ t: 'failed', message: (e as Error).message });
    return undefined;
  }
}

// SQLite reports frames in the WAL and frames copied so far, both counted from the WAL's last rewind;
// these turn that into frames copied per tick.
let lastLog = 0;
let lastCopied = 0;
function copiedSince(r: Result): number {
  if (r.log < lastLog) lastCopied = 0; // rewound since the last tick
  const n = Math.max(0, r.checkpointed - lastCopied);
  lastLog = r.log;
  lastCopied = r.checkpointed;
  return n;
}

function tick(): void {
  const r = checkpoint('PASSIVE');
  if (!r || r.log <= 0) return;
  let copied = copiedSince(r);
  let restarted = false;
  if (r.log >= cfg.restartFrames) {
    const x = checkpoint('RESTART');
    if (x && x.busy === 0) {
      restarted = true;
      copied += copiedSince(x);
    }
  }
  if (copied > 0 || restarted) send({ t: 'checkpointed', copied, restarted });
}

const timer = setInterval(tick, cfg.intervalMs);
port.on('message', (m: 'stop') => {
  if (m !== 'stop') return;
  clearInterval(timer);
  tick();
  db.close();
  port.close();
});
send({ t: 'ready' });
