// Use-classifier latency on an 8 KB prompt, in this one thread (the classifier is synchronous and runs
// on the request's event loop). Issue target: p99 ≤ 2 ms.
import { classifyInputOf, loadClassifier } from '../../classify/index.js';
import type { StageContext, StageResult } from '../stage.js';
import { timeCallsCpu } from './timing.js';
import { chatRequestOf, promptText } from './fixtures.js';

const TARGET_P99_MS = 2;

export async function classifier8k(ctx: StageContext): Promise<StageResult[]> {
  const classifier = loadClassifier();
  // The gateway's own path from request to classifier input, so truncation rules apply as in service.
  const input = classifyInputOf(chatRequestOf(promptText()));
  const { wall, cpu } = await timeCallsCpu(() => classifier.classify(input), { budgetMs: ctx.budgetMs });
  return [
    { name: 'classifier p50, 8 KB prompt, one core', value: wall.p50, unit: 'ms' },
    { name: 'classifier p99, 8 KB prompt, one core', value: wall.p99, unit: 'ms', target: TARGET_P99_MS, better: 'lower', pass: wall.p99 <= TARGET_P99_MS },
    { name: '  same, CPU-time p99 (excludes waiting for a core)', value: cpu.p99, unit: 'ms' },
  ];
}
