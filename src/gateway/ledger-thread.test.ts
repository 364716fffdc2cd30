// ledger.thread: the gateway's decisions recorded from the ledger thread are the same log a reader
// checks from outside, content commitments included; and the log carries on when the same data dir is
// restarted with the ledger on the event loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalBytes, commitmentOf, leafHash, verifyCheckpoint, verifyInclusion } from '../verify/index.js';
import { contentSalt } from '../ledger/index.js';
import { loadOrCreateSecret } from '../store/index.js';
import { startTestGateway } from '../testing/gateway.js';

test('with ledger.thread, every decision is committed, provable and commits to its content; a restart in-thread continues the log', async () => {
  const gw = await startTestGateway({ ledger: { thread: true } });
  const ask = async (content: string, stream = false) => {
    const res = await gw.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content }], stream });
    assert.equal(res.status, 200);
    await res.text();
  };
  let size = 0;
  try {
    await Promise.all(Array.from({ length: 40 }, (_, i) => ask(`Summarise the maintenance log for depot ${i}.`, i % 2 === 1)));
    size = gw.ledger.size();
    assert.ok(size >= 40, `40 decisions recorded (size ${size})`);

    const cp = verifyCheckpoint(await (await fetch(`${gw.url}/ledger/checkpoint`)).text(), gw.ledger.verifiers());
    assert.equal(cp.size, size);
    const secret = loadOrCreateSecret(gw.dataDir);
    let seen = 0;
    for (let i = 0; i < size; i++) {
      const e = gw.ledger.entry(i)!;
      verifyInclusion(e.leafHash, i, size, gw.ledger.inclusionProof(i, size), cp.rootHash);
      assert.deepEqual(leafHash(e.data), e.leafHash);
      if (e.entry.action !== 'chat') continue;
      assert.ok(!new TextDecoder().decode(e.data).includes('depot'), 'content is not in the log');
      // The commitment is over the neutral request, salted per decision from the server secret.
      const hits = Array.from({ length: 40 }, (_, k) => commitmentOf(contentSalt(secret, e.entry.decisionId),
        canonicalBytes({ system: null, messages: [{ role: 'user', content: [{ type: 'text', text: `Summarise the maintenance log for depot ${k}.` }] }], tools: null })));
      if (hits.includes(e.entry.commitment!)) seen++;
    }
    assert.equal(seen, 40, 'each chat entry commits to exactly one of the prompts sent');
  } finally {
    await gw.close();
  }
  const again = await startTestGateway({}, {}, { dataDir: gw.dataDir });
  try {
    const res = await again.post('/v1/chat/completions', { model: 'demo', messages: [{ role: 'user', content: 'one more' }] });
    assert.equal(res.status, 200);
    await res.text();
    assert.ok(again.ledger.size() > size, 'the in-thread ledger continues the log the thread wrote');
    const leaves = Array.from({ length: again.ledger.size() }, (_, i) => again.ledger.entry(i)!.leafHash);
    verifyInclusion(leaves[0]!, 0, leaves.length, again.ledger.inclusionProof(0), again.ledger.root());
  } finally {
    await again.stop();
  }
});
