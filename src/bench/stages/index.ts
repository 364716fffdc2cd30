// The registered bench stages, run in this order after the HTTP targets. Add a stage by writing
// stages/<name>.ts exporting a BenchStage and listing it here.
import type { BenchStage } from '../stage.js';
import { assessment8k } from './assess.js';
import { classifier8k } from './classifier.js';
import { ledgerAppends } from './ledger-append.js';
import { ledgerLargeLog } from './ledger-log.js';
import { pii8k } from './pii.js';
import { policyDecide } from './policy.js';
import { addedLatencyShares } from './shares.js';

export const stages: readonly BenchStage[] = [
  policyDecide,
  classifier8k,
  pii8k,
  assessment8k,
  addedLatencyShares,
  ledgerAppends,
  // Last: it builds a large log on disk and takes the longest (BENCH_LEDGER_ENTRIES sets its size).
  ledgerLargeLog,
];
