import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { SWEEP_MS, Watched, watchedOn } from './watch.js';

class Probe extends Watched {
  readonly reasons: unknown[] = [];
  abort(reason: unknown): void {
    this.reasons.push(reason);
  }
  start(signal: AbortSignal, totalMs = 60_000): this {
    this.watch(signal, totalMs);
    return this;
  }
  stop(): void {
    this.unwatch();
  }
}

test('a signal gets one listener for all its exchanges, and its abort reaches each one still watched, once', () => {
  const ac = new AbortController();
  const [a, b, c, d] = [new Probe(), new Probe(), new Probe(), new Probe()].map((p) => p.start(ac.signal));
  b!.stop(); // over before the client left
  d!.stop();
  d!.stop(); // twice is harmless
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1);
  assert.equal(watchedOn(ac.signal), 2);
  ac.abort(new Error('client gone'));
  assert.deepEqual(a!.reasons.map((r) => (r as Error).message), ['client gone']);
  assert.deepEqual(b!.reasons, []);
  assert.equal(c!.reasons.length, 1);
  assert.equal(watchedOn(ac.signal), 0);
  a!.stop(); // the exchange releases itself after its abort: nothing left to unlink
  assert.equal(watchedOn(ac.signal), 0);
});

test('an exchange past its total timeout is aborted with a TimeoutError within a sweep; one in time is not', async () => {
  const signal = new AbortController().signal;
  const late = new Probe().start(signal, 30);
  const early = new Probe().start(signal, 10);
  const done = new Probe().start(signal, 10);
  const patient = new Probe().start(signal, 60_000);
  done.stop(); // finished in time
  await sleep(30 + 3 * SWEEP_MS);
  for (const p of [late, early]) {
    assert.equal(p.reasons.length, 1);
    assert.equal((p.reasons[0] as DOMException).name, 'TimeoutError');
  }
  assert.deepEqual(done.reasons, []);
  assert.deepEqual(patient.reasons, []);
  assert.equal(watchedOn(signal), 1, 'a timed-out exchange is no longer watched on its signal either');
  patient.stop();
  await sleep(3 * SWEEP_MS); // the sweeper finds nothing in flight and stops; a new watch restarts it
  const again = new Probe().start(signal, 5);
  await sleep(5 + 3 * SWEEP_MS);
  assert.equal(again.reasons.length, 1);
  assert.equal(watchedOn(signal), 0);
});
