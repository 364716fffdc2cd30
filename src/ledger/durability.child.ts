// Child process for durability.test.ts: appends to a file-backed ledger under load and prints each
// acknowledged index on its own line, only after its append promise has resolved. The parent kills
// it with SIGKILL mid-stream and checks that every printed index survived.
// With a fourth argument N, it stops after N appends, prints `done`, and idles until killed: the
// crash then lands right after commits that left partial chunks in every stratum.
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createLedger } from './index.js';

const [dbPath, pemPath, name, stopArg] = process.argv.slice(2) as [string, string, string, string | undefined];
const stopAfter = stopArg === undefined ? Number.POSITIVE_INFINITY : Number(stopArg);
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
const ledger = createLedger({ db, signer: { name, privateKey: readFileSync(pemPath, 'utf8') } });

let n = 0;
async function worker(): Promise<void> {
  while (n < stopAfter) {
    const i = n++;
    const { index } = await ledger.append({ decisionId: `d${i}`, principal: 'p', action: 'chat', labels: ['general'], decision: 'allow', seq: i });
    // Pipes are synchronous on Linux: once write() returns, the line is out of this process.
    process.stdout.write(`${index}\n`);
  }
}
process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 64 }, worker));
process.stdout.write('done\n');
setInterval(() => {}, 60_000); // idle (no close, no final checkpoint) until the parent's SIGKILL
