// Sustained ledger appends per second: many concurrent appenders (as many requests in flight) into a
// real SQLite file opened the way the gateway opens it, with group commit. Measured at the gateway's
// configured durability (ledger.synchronous, NORMAL by default: an acknowledged entry survives a crash
// of the process) and at FULL (an fsync per commit: it also survives power loss). Issue target:
// ≥ 20,000/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileSchema, EMBEDDED_CONFIG } from '../../config/index.js';
import { createLedger, loadOrCreateSigningKey } from '../../ledger/index.js';
import { openDatabase } from '../../store/index.js';
import type { StageContext, StageResult } from '../stage.js';
import { typicalEntry } from './fixtures.js';

const TARGET_PER_SEC = 20_000;
const APPENDERS = 256;

async function measure(synchronous: 'NORMAL' | 'FULL', budgetMs: number): Promise<StageResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-bench-ledger-'));
  const db = openDatabase(dir);
  try {
    const ledger = createLedger({ db, synchronous, signer: loadOrCreateSigningKey(join(dir, 'ledger'), 'bench.redline.local/log') });
    // Warm-up fills the JIT and the first pages; only the measured window counts.
    const measureMs = Math.max(3_000, budgetMs);
    const warmEnd = performance.now() + 500;
    let measuring = false;
    let stop = false;
    let counted = 0;
    let seq = 0;
    const appender = async (): Promise<void> => {
      while (!stop) {
        await ledger.append(typicalEntry(seq++));
        if (measuring) counted++;
      }
    };
    const running = Array.from({ length: APPENDERS }, appender);
    while (performance.now() < warmEnd) await new Promise((r) => setTimeout(r, 50));
    const tx0 = ledger.stats().transactions;
    measuring = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, measureMs));
    measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const txs = ledger.stats().transactions - tx0;
    stop = true;
    await Promise.all(running);
    await ledger.close();
    const rate = counted / elapsed;
    return [
      { name: `ledger appends/s, ${APPENDERS} concurrent appenders, SQLite file, synchronous=${synchronous}`, value: rate, unit: '/s', target: TARGET_PER_SEC, better: 'higher', pass: rate >= TARGET_PER_SEC },
      { name: '  same, mean entries per commit (group commit batch)', value: txs > 0 ? counted / txs : Number.NaN, unit: 'entries' },
    ];
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function ledgerAppends(ctx: StageContext): Promise<StageResult[]> {
  const configured = ConfigFileSchema.parse(EMBEDDED_CONFIG).ledger.synchronous;
  const other = configured === 'FULL' ? 'NORMAL' : 'FULL';
  return [...(await measure(configured, ctx.budgetMs)), ...(await measure(other, ctx.budgetMs))];
}
