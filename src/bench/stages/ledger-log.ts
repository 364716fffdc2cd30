// A large log: inclusion-proof latency (issue target ≤ 1 ms at 10M entries) and the time for a full
// verification from the SQLite file (issue target ≤ 10 s for 1M entries), by the same function
// `redline ledger verify --dir` runs. Building 10M entries takes minutes, so the size defaults to 1M
// (BENCH_LEDGER_ENTRIES changes it) and is stated in every line.
//
// The log is built by the fast path of src/ledger/ledger.bench.ts (`build`): batches of 50,000 entries
// written through the ledger's own storage and tree code, skipping per-entry JSON encoding. That path
// is not exported from src/ledger/index.ts, hence the two internal imports below. Unlike ledger.bench's
// 8-byte synthetic entries, these are gateway-shaped canonical JSON (~540 bytes), so verification hashes
// and reads as much as it would in service.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runLedgerVerify } from '../../cli/commands/ledger.js';
import { createLedger, entryBytes, loadOrCreateSigningKey, openLedgerReader, toLedgerEntry } from '../../ledger/index.js';
import { openLedgerStorage } from '../../ledger/storage.js';
import { TreeState } from '../../ledger/tree.js';
import { TILE_WIDTH, bytesEqual, leafHash, parseEntryBundle, rootFromInclusionProof, tileWidthAt } from '../../verify/index.js';
import type { StageContext, StageResult } from '../stage.js';
import { timeCallsCpu, type CpuTiming } from './timing.js';
import { typicalEntry } from './fixtures.js';

const DEFAULT_ENTRIES = 1_000_000;
const PROOF_TARGET_MS = 1;
const VERIFY_TARGET_S_PER_MILLION = 10;
const ORIGIN = 'bench.redline.local/log';
const BATCH = 50_000;

export function ledgerEntries(): number {
  const raw = process.env.BENCH_LEDGER_ENTRIES;
  if (raw === undefined || raw === '') return DEFAULT_ENTRIES;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`BENCH_LEDGER_ENTRIES must be a positive integer, got "${raw}"`);
  return n;
}

const sizeLabel = (n: number): string =>
  n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1_000 === 0 ? `${n / 1_000}k` : String(n);

/** Writes `count` gateway-shaped entries; returns seconds taken. */
function build(db: Database.Database, count: number): number {
  const storage = openLedgerStorage(db, { origin: ORIGIN, synchronous: 'NORMAL' });
  let tree = TreeState.load(storage.size(), (s, c) => storage.readChunk(s, c));
  // One canonical entry, its fixed-width decision id rewritten per entry: distinct leaves, no JSON work.
  const template = Buffer.from(entryBytes(toLedgerEntry(typicalEntry(0), () => new Date('2026-01-01T00:00:00Z'))));
  const marker = typicalEntry(0).decisionId;
  const at = template.indexOf(marker) + 'dec_'.length;
  const width = marker.length - 'dec_'.length;
  const t0 = performance.now();
  while (tree.size < count) {
    const n = Math.min(BATCH, count - tree.size);
    const data: Uint8Array[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const b = Buffer.from(template);
      b.write(String(tree.size + i).padStart(width, '0'), at, 'latin1');
      data[i] = b;
    }
    const next = tree.clone();
    storage.writeBatch(tree.size, data, next.appendLeaves(data.map(leafHash)));
    tree = next;
  }
  return (performance.now() - t0) / 1000;
}

export async function ledgerLargeLog(ctx: StageContext): Promise<StageResult[]> {
  const entries = ledgerEntries();
  const label = sizeLabel(entries);
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-log-'));
  try {
    const file = join(dir, 'redline.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    const key = loadOrCreateSigningKey(join(dir, 'ledger'), ORIGIN);
    let buildS: number;
    try {
      buildS = build(db, entries);
      // The gateway's ledger signs and stores the checkpoint the verifier starts from.
      const ledger = createLedger({ db, signer: key });
      if (ledger.size() !== entries) throw new Error(`built ${ledger.size()} entries, wanted ${entries}`);
      ledger.checkpoint();
      await ledger.close();
      db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
    const mb = statSync(file).size / 1e6;

    // Inclusion proofs as the HTTP route serves them: from a reader, at the full size, random indices.
    const rdb = new Database(file, { readonly: true, fileMustExist: true });
    let proof: CpuTiming;
    try {
      const reader = openLedgerReader(rdb);
      const size = reader.size();
      const root = reader.root(size);
      // Spot-check that the proofs are right before timing them, or the figure means nothing.
      for (let k = 0; k < 20; k++) {
        const index = Math.floor(Math.random() * size);
        const bundle = reader.entryBundle(Math.floor(index / TILE_WIDTH), tileWidthAt(0, Math.floor(index / TILE_WIDTH), size));
        const leaf = leafHash(parseEntryBundle(bundle!)[index % TILE_WIDTH]!);
        if (!bytesEqual(rootFromInclusionProof(leaf, index, size, reader.inclusionProof(index, size)), root)) throw new Error(`inclusion proof for ${index} does not verify`);
      }
      proof = await timeCallsCpu(() => reader.inclusionProof(Math.floor(Math.random() * size), size), { budgetMs: ctx.budgetMs, minCalls: 1000 });
    } finally {
      rdb.close();
    }

    // Full verification: checkpoint signature, every entry rebuilt into the tree, stored checkpoints.
    const lines: string[] = [];
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const code = await runLedgerVerify({ dir, key: [key.vkey] }, (l) => lines.push(l), (l) => lines.push(l));
    const verifyS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(c0);
    const verifyCpuS = (cpu.user + cpu.system) / 1e6;
    if (code !== 0) throw new Error(`ledger verify failed: ${lines.join(' | ')}`);
    const verifyTarget = (VERIFY_TARGET_S_PER_MILLION * entries) / 1_000_000;

    return [
      { name: `ledger ${label}-entry log built by the fast path (${mb.toFixed(0)} MB file; not a target)`, value: buildS, unit: 's' },
      { name: `inclusion proof p50, ${label}-entry log (issue target is for 10M)`, value: proof.wall.p50, unit: 'ms' },
      { name: `inclusion proof p99, ${label}-entry log (issue target is for 10M)`, value: proof.wall.p99, unit: 'ms', target: PROOF_TARGET_MS, better: 'lower', pass: proof.wall.p99 <= PROOF_TARGET_MS },
      { name: '  same, CPU-time p99 (excludes waiting for a core)', value: proof.cpu.p99, unit: 'ms' },
      { name: `full verification of the ${label}-entry log from its SQLite file (redline ledger verify --dir, warm page cache)`, value: verifyS, unit: 's', target: verifyTarget, better: 'lower', pass: verifyS <= verifyTarget },
      { name: '  same, CPU time (excludes waiting for a core)', value: verifyCpuS, unit: 's' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
