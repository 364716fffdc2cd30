// Ledger benchmarks (not tests: numbers depend on the machine). Run with
//   node --import tsx src/ledger/ledger.bench.ts append  [dir] [count] [concurrency]
//   node --import tsx src/ledger/ledger.bench.ts build   [dir] [count]       synthetic log of tiny entries
//   node --import tsx src/ledger/ledger.bench.ts proofs  [dir]               inclusion/consistency proof latency
// `append` goes through createLedger (canonical JSON, group commit, synchronous=FULL, WAL) on a file;
// `build` writes the same tables through the same tree code without JSON, to reach 10M entries quickly.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TILE_WIDTH, bytesEqual, leafHash, parseEntryBundle, rootFromInclusionProof, tileWidthAt, verifyConsistency } from '../verify/index.js';
import { createLedger, loadOrCreateSigningKey, openLedgerReader } from './index.js';
import { openLedgerStorage } from './storage.js';
import { loadTree } from './writer.js';

const [mode = 'append', dir = '/tmp/redline-ledger-bench', countArg, concArg] = process.argv.slice(2);
mkdirSync(dir, { recursive: true });

function open(file: string): Database.Database {
  const db = new Database(join(dir, file));
  db.pragma('journal_mode = WAL');
  return db;
}

async function append(): Promise<void> {
  const count = Number(countArg ?? 200_000);
  const concurrency = Number(concArg ?? 1000);
  const db = open('redline.db');
  const key = loadOrCreateSigningKey(join(dir, 'keys'), 'bench.example/log');
  const ledger = createLedger({ db, signer: key });
  const start = ledger.size();
  let next = 0;
  const t0 = performance.now();
  async function producer(): Promise<void> {
    while (next < count) {
      const i = next++;
      await ledger.append({
        decisionId: `dec_${start + i}`, principal: 'a'.repeat(64), action: 'chat.completions', labels: ['general', 'logistics'],
        decision: 'allow', policyVersion: 'v42', provider: 'anthropic', model: 'claude-x', commitment: 'c'.repeat(64),
      });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, producer));
  const s = (performance.now() - t0) / 1000;
  const st = ledger.stats();
  console.log(`append: ${count} entries in ${s.toFixed(2)} s = ${Math.round(count / s)} appends/s; ${st.transactions} transactions, largest batch ${st.largestBatch}; size now ${st.size}`);
  await ledger.close(); // signs and stores the final checkpoint
  console.log(`verifier key: ${key.vkey} (also in ${join(dir, 'keys', 'verifiers')})`);
  db.close();
}

function build(): void {
  const count = Number(countArg ?? 10_000_000);
  const db = open('synthetic.db');
  const storage = openLedgerStorage(db, { origin: 'bench.example/synthetic', synchronous: 'NORMAL' });
  const tree = loadTree(storage);
  const t0 = performance.now();
  const batch = 50_000;
  while (tree.size < count) {
    const n = Math.min(batch, count - tree.size);
    const data: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const d = new Uint8Array(8);
      new DataView(d.buffer).setFloat64(0, tree.size + i);
      data.push(d);
    }
    const start = tree.size;
    storage.writeBatch(start, data, tree.appendLeaves(data.map(leafHash)));
    if (tree.size % 1_000_000 === 0) console.log(`  ${tree.size} entries, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`build: ${count} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  db.close();
}

function proofs(): void {
  const file = countArg ?? 'synthetic.db';
  const db = new Database(join(dir, file), { readonly: true });
  const reader = openLedgerReader(db);
  const size = reader.size();
  const root = reader.root(size);
  // Cold-ish: distinct random indices, each proof reads its own rows (the OS page cache is warm after the build).
  const n = 2000;
  const lat: number[] = [];
  let cpu = 0;
  for (let k = 0; k < n; k++) {
    const index = Math.floor(Math.random() * size);
    const t = performance.now();
    const c0 = process.cpuUsage();
    const proof = reader.inclusionProof(index, size);
    const c1 = process.cpuUsage(c0);
    lat.push(performance.now() - t);
    cpu += c1.user + c1.system;
    if (k % 100 === 0) {
      // Synthetic entries are not JSON, so read the leaf through its entry bundle.
      const n = Math.floor(index / TILE_WIDTH);
      const width = tileWidthAt(0, n, size);
      const leaf = leafHash(parseEntryBundle(reader.entryBundle(n, width)!)[index % TILE_WIDTH]!);
      if (!bytesEqual(rootFromInclusionProof(leaf, index, size, proof), root)) throw new Error('proof does not verify');
    }
  }
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.floor(p * (lat.length - 1))]!.toFixed(3);
  console.log(`inclusion proof at size ${size} (${n} random indices): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${pct(1)} ms; mean CPU time ${(cpu / n / 1000).toFixed(3)} ms (wall-clock tails on a shared machine are scheduling)`);
  const cl: number[] = [];
  for (let k = 0; k < 200; k++) {
    const s1 = 1 + Math.floor(Math.random() * (size - 1));
    const t = performance.now();
    const proof = reader.consistencyProof(s1, size);
    cl.push(performance.now() - t);
    if (k % 50 === 0) verifyConsistency(s1, size, proof, reader.root(s1), root);
  }
  cl.sort((a, b) => a - b);
  console.log(`consistency proof to size ${size} (200 random sizes): p50 ${cl[100]!.toFixed(3)} ms, p99 ${cl[198]!.toFixed(3)} ms`);
  db.close();
}

if (mode === 'append') await append();
else if (mode === 'build') build();
else if (mode === 'proofs') proofs();
else console.error('modes: append | build | proofs');
