// A ledger whose writer runs on its own thread (worker.ts): the gateway's event loop hands entries over
// and gets leaf hashes back, and the canonical JSON, commitments, hashing and SQLite commit happen on
// another core. Measured in the gateway at 16 connections, the ledger was a quarter of the CPU per
// request on the serving thread; here it is a message per loop turn.
//
// This thread keeps a mirror of the tree's right edge, grown from the hashes each commit returns, so
// reads (proofs, tiles, checkpoints) stay synchronous and served from here: the same TreeState the
// writer has, fed the same leaves in the same order. If the two ever disagree on the size (a commit
// whose outcome was uncertain), the mirror is reloaded from the database, which is the truth.
//
// Failure: a commit that fails refuses its entries (LEDGER_PUSHBACK); a thread that dies refuses every
// entry in flight, and the next append starts a new one. Nothing is acknowledged that has not committed.
import type { Worker } from 'node:worker_threads';
import { RedlineError } from '../errors.js';
import { startWorker } from '../threads.js';
import type { AppendOptions } from './entry.js';
import { ledgerFront, pushback, type LedgerOptions } from './ledger.js';
import type { FromLedgerThread, LedgerThreadData, ToLedgerThread } from './thread-protocol.js';
import { loadTree } from './writer.js';
import type { Ledger, LedgerEntryInput, LedgerStats } from './types.js';

interface Waiting {
  input: LedgerEntryInput;
  content?: unknown;
  resolve: (r: { index: number }) => void;
  reject: (e: unknown) => void;
}

export type LedgerThreadOptions = Omit<LedgerOptions, 'maxBatch' | 'maxDelayMs' | 'now'>;

const newWorker = (workerData: LedgerThreadData): Worker => startWorker(import.meta.url, 'worker', workerData);
const HASH = 32;

export async function startLedgerThread(o: LedgerThreadOptions): Promise<Ledger> {
  const file = o.db.name;
  if (!file || o.db.memory) throw new RedlineError('CONFIG_INVALID', 'a threaded ledger needs a database file that a second connection can open');
  const maxQueue = o.maxQueue ?? 100_000;
  const front = ledgerFront(o);
  const loadMirror = () => loadTree(front.storage);
  let mirror = loadMirror();
  const stats = { transactions: 0, appended: 0, failedBatches: 0, largestBatch: 0 };
  const data: LedgerThreadData = {
    file, origin: front.origin, synchronous: o.synchronous ?? 'FULL',
    ...(o.commitmentSecret && { secret: o.commitmentSecret }),
  };

  let queue: Waiting[] = [];
  let scheduled = false;
  const inflight = new Map<number, Waiting[]>();
  let inflightCount = 0;
  let seq = 0;
  let closed = false;
  let thread: { worker: Worker; ready: Promise<void> } | undefined;
  let closing: ((v: void) => void) | undefined;

  const settle = (id: number): Waiting[] => {
    const batch = inflight.get(id) ?? [];
    inflight.delete(id);
    inflightCount -= batch.length;
    return batch;
  };

  function onMessage(m: FromLedgerThread): void {
    if (m.t === 'done') {
      const hashes: Uint8Array[] = [];
      for (let i = 0; i < m.hashes.length; i += HASH) hashes.push(m.hashes.subarray(i, i + HASH));
      if (mirror.size === m.start) mirror.appendLeaves(hashes);
      // Out of step (a commit reported failed had in fact landed): the database decides.
      if (mirror.size !== m.start + hashes.length) mirror = loadMirror();
      if (hashes.length) {
        stats.transactions++;
        stats.appended += hashes.length;
        stats.largestBatch = Math.max(stats.largestBatch, hashes.length);
      }
      let index = m.start;
      for (const ack of m.acks) {
        const batch = settle(ack.id);
        ack.errors.forEach((err, i) => {
          const w = batch[i];
          if (!w) return;
          if (err === null) w.resolve({ index: index++ });
          else w.reject(new RedlineError('INTERNAL', err));
        });
      }
    } else if (m.t === 'failed') {
      stats.failedBatches++;
      const err = pushback('the ledger could not record the decision; retry shortly', new Error(m.message));
      for (const id of m.ids) for (const w of settle(id)) w.reject(err);
    }
    if (m.t === 'done' || m.t === 'failed') {
      if (queue.length > 0 && inflight.size === 0 && !closed) void post();
    } else if (m.t === 'closed') {
      closing?.();
    }
  }

  function lost(why: unknown): void {
    thread = undefined;
    const err = pushback('the ledger thread stopped; retry shortly', why);
    for (const id of [...inflight.keys()]) for (const w of settle(id)) w.reject(err);
    closing?.();
    if (queue.length > 0 && !closed) schedule(); // a new thread takes what waited behind the lost message
  }

  function start(): { worker: Worker; ready: Promise<void> } {
    const worker = newWorker(data);
    // The ledger is closed explicitly (close()); an idle thread must not keep a process alive on its own.
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      const first = (m: FromLedgerThread) => {
        if (m.t !== 'ready') return;
        worker.off('message', first);
        // Another writer cannot exist (the storage guards the size), so this only differs after a restart.
        if (m.size !== mirror.size) mirror = loadMirror();
        resolve();
      };
      worker.on('message', first);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`ledger thread exited with code ${code} while starting`)));
    });
    ready.catch(() => {});
    worker.on('message', onMessage);
    worker.on('error', (e) => lost(e));
    worker.on('exit', (code) => { if (thread?.worker === worker) lost(new Error(`ledger thread exited with code ${code}`)); });
    return { worker, ready };
  }

  /**
   * Group commit across threads: one message (one transaction) in flight at a time. While the thread
   * commits, appends gather here and go as the next message the moment its answer is back; an idle
   * thread gets a message on the next turn of the loop, so appends of the same turn travel together.
   * Each message costs a thread wake-up on both sides, so under load fewer, larger ones are cheaper,
   * and at rest nothing waits longer than one turn.
   */
  function schedule(): void {
    if (scheduled || inflight.size > 0) return;
    scheduled = true;
    setImmediate(() => void post());
  }

  async function post(): Promise<void> {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const id = ++seq;
    inflight.set(id, batch);
    inflightCount += batch.length;
    try {
      thread ??= start();
      const t = thread;
      await t.ready;
      t.worker.postMessage({ t: 'append', id, items: serialise(batch) } satisfies ToLedgerThread);
    } catch (e) {
      // Not sent: the thread did not start (a value JSON cannot carry was refused one by one already).
      thread = undefined;
      for (const w of settle(id)) w.reject(pushback('the ledger thread is unavailable; retry shortly', e));
      if (queue.length > 0 && !closed) schedule();
    }
  }

  /**
   * JSON text of the batch. An item JSON cannot carry (a BigInt, a cycle: a bug in the caller) is
   * refused alone and left out, so one bad entry never takes its neighbours down with it.
   */
  function serialise(batch: Waiting[]): string {
    const parts: string[] = [];
    for (const w of [...batch]) {
      try {
        parts.push(JSON.stringify(w.content === undefined ? { input: w.input } : { input: w.input, content: w.content }));
      } catch (e) {
        batch.splice(batch.indexOf(w), 1);
        inflightCount--;
        w.reject(new RedlineError('INTERNAL', `invalid ledger entry: ${(e as Error).message}`));
      }
    }
    return `[${parts.join(',')}]`;
  }

  thread = start();
  await thread.ready;

  return {
    ...front.reader(() => mirror.size, (s, c) => mirror.tailChunk(s, c)),
    origin: front.origin,
    append(input: LedgerEntryInput, ao: AppendOptions = {}): Promise<{ index: number }> {
      if (closed) return Promise.reject(pushback('the ledger is closed'));
      if (queue.length + inflightCount >= maxQueue) return Promise.reject(pushback('the ledger is behind; retry shortly'));
      return new Promise((resolve, reject) => {
        queue.push({ input, ...(ao.content !== undefined && { content: ao.content }), resolve, reject });
        schedule();
      });
    },
    checkpoint: front.checkpointer(() => mirror),
    verifiers: front.verifiers,
    stats: (): LedgerStats => ({ size: mirror.size, queued: queue.length + inflightCount, ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      await post();
      const t = thread;
      if (t) {
        await new Promise<void>((resolve) => {
          closing = resolve;
          t.worker.postMessage({ t: 'close' } satisfies ToLedgerThread);
        });
        thread = undefined;
        await t.worker.terminate();
      }
      front.closeCheckpoint(() => mirror);
    },
  };
}
