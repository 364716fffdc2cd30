// PII detection latency on an 8 KB prompt holding five identifiers (e-mail, phone, SSN, street
// address, IP), with the gateway's default detection options.
import { ConfigFileSchema, EMBEDDED_CONFIG } from '../../config/index.js';
import { detectPii } from '../../classify/index.js';
import type { StageContext, StageResult } from '../stage.js';
import { timeCallsCpu } from './timing.js';
import { PLANTED_IDENTIFIERS, promptText } from './fixtures.js';

export async function pii8k(ctx: StageContext): Promise<StageResult[]> {
  const { pii } = ConfigFileSchema.parse(EMBEDDED_CONFIG);
  const opts = { country: pii.country, protectedCidrs: [...pii.protectedCidrs] };
  const text = promptText({ identifiers: true });
  // A detector that finds nothing would time a no-op; refuse to report that as a figure.
  const found = detectPii(text, opts).length;
  if (found < PLANTED_IDENTIFIERS) throw new Error(`found ${found} of the ${PLANTED_IDENTIFIERS} planted identifiers`);
  const { wall, cpu } = await timeCallsCpu(() => detectPii(text, opts), { budgetMs: ctx.budgetMs });
  return [
    { name: `PII detection p50, 8 KB prompt with ${PLANTED_IDENTIFIERS} identifiers`, value: wall.p50, unit: 'ms' },
    { name: `PII detection p99, 8 KB prompt with ${PLANTED_IDENTIFIERS} identifiers`, value: wall.p99, unit: 'ms' },
    { name: '  same, CPU-time p99 (excludes waiting for a core)', value: cpu.p99, unit: 'ms' },
  ];
}
