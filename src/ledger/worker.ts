// The ledger thread: builds entries (canonical JSON, content commitments), hashes them into the tree
// and commits them to SQLite on its own connection, off the gateway's event loop. One message is one
// transaction: the gateway's side does the group commit (see thread.ts).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { leafData } from './entry.js';
import { openLedgerStorage } from './storage.js';
import type { AppendItem, FromLedgerThread, LedgerThreadData, ToLedgerThread } from './thread-protocol.js';
import { LedgerWriter } from './writer.js';

const port = parentPort!;
const cfg = workerData as LedgerThreadData;
const db = new Database(cfg.file);
db.pragma('journal_mode = WAL');
db.pragma('busy_timeout = 5000');
const writer = new LedgerWriter(openLedgerStorage(db, { origin: cfg.origin, synchronous: cfg.synchronous, dedicated: true }));
const now = () => new Date();
const secret = cfg.secret ? new Uint8Array(cfg.secret) : undefined;

const send = (m: FromLedgerThread, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

function commit(m: Extract<ToLedgerThread, { t: 'append' }>): void {
  const datas: Uint8Array[] = [];
  // A malformed entry is refused alone (its slot carries the reason); the rest commit together.
  const errors = (JSON.parse(m.items) as AppendItem[]).map((it) => {
    try {
      datas.push(leafData(it.input, it.content === undefined ? {} : { content: it.content }, now, secret));
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  });
  const acks = [{ id: m.id, errors }];
  if (datas.length === 0) {
    send({ t: 'done', start: writer.tree.size, hashes: new Uint8Array(0), acks });
    return;
  }
  try {
    const { start, leafHashes } = writer.commit(datas);
    const hashes = new Uint8Array(leafHashes.length * 32);
    leafHashes.forEach((h, i) => hashes.set(h, i * 32));
    send({ t: 'done', start, hashes, acks }, [hashes.buffer as ArrayBuffer]);
  } catch (e) {
    send({ t: 'failed', ids: [m.id], message: (e as Error).message });
  }
}

port.on('message', (m: ToLedgerThread) => {
  if (m.t === 'append') commit(m);
  else if (m.t === 'close') {
    db.close();
    send({ t: 'closed' });
    port.close();
  }
});

send({ t: 'ready', size: writer.tree.size });
