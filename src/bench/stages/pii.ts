// PII detection latency on an 8 KB prompt holding five identifiers (e-mail, phone, SSN, street
// address, IP), with the gateway's default detection options.
import { ConfigFileSchema, EMBEDDED_CONFIG } from '../../config/index.js';
import { detectPii } from '../../classify/index.js';
import { timeCalls, type StageContext, type StageResult } from '../stage.js';
import { PLANTED_IDENTIFIERS, promptText } from './fixtures.js';

export async function pii8k(ctx: StageContext): Promise<StageResult[]> {
  const { pii } = ConfigFileSchema.parse(EMBEDDED_CONFIG);
  const opts = { country: pii.country, protectedCidrs: [...pii.protectedCidrs] };
  const text = promptText({ identifiers: true });
  // A detector that finds nothing would time a no-op; refuse to report that as a figure.
  const found = detectPii(text, opts).length;
  if (found < PLANTED_IDENTIFIERS) throw new Error(`found ${found} of the ${PLANTED_IDENTIFIERS} planted identifiers`);
  const t = await timeCalls(() => detectPii(text, opts), { budgetMs: ctx.budgetMs });
  return [
    { name: `PII detection p50, 8 KB prompt with ${PLANTED_IDENTIFIERS} identifiers`, value: t.p50, unit: 'ms' },
    { name: `PII detection p99, 8 KB prompt with ${PLANTED_IDENTIFIERS} identifiers`, value: t.p99, unit: 'ms' },
  ];
}
