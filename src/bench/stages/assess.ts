// The whole assessment step of the request path (classifier + PII detection + bulk-tracker observe),
// through the gateway's own assessor with the default configuration, on an 8 KB prompt holding five
// identifiers. The assessor is async only for the optional guard model, which is not configured here.
import { randomBytes } from 'node:crypto';
import { createBulkTracker, loadClassifier, type SketchStore } from '../../classify/index.js';
import { ConfigFileSchema, EMBEDDED_CONFIG } from '../../config/index.js';
import { createAssessor, type Assessor } from '../../gateway/index.js';
import type { StageContext, StageResult } from '../stage.js';
import { timeCallsCpu } from './timing.js';
import { chatRequestOf, PLANTED_IDENTIFIERS, promptText } from './fixtures.js';

/** Sketches are written only on flush(), which the gateway runs on a timer, off the request path. */
export function memorySketchStore(): SketchStore {
  const m = new Map<string, Uint8Array>();
  return {
    load: (p, b) => m.get(`${p}\n${b}`),
    save: (p, b, s) => void m.set(`${p}\n${b}`, s),
    prune: () => {},
  };
}

/** An assessor wired as src/main.ts wires it, from the default configuration. */
export function benchAssessor(): Assessor {
  const cfg = ConfigFileSchema.parse(EMBEDDED_CONFIG);
  return createAssessor({
    classifier: loadClassifier(),
    bulk: createBulkTracker({ secret: randomBytes(32), windowSeconds: cfg.bulk.windowSeconds, store: memorySketchStore() }),
    threshold: cfg.classifier.threshold,
    includeToolResults: cfg.classifier.includeToolResults,
    pii: { country: cfg.pii.country, protectedCidrs: [...cfg.pii.protectedCidrs] },
  });
}

export async function assessment8k(ctx: StageContext): Promise<StageResult[]> {
  const assessor = benchAssessor();
  const req = chatRequestOf(promptText({ identifiers: true }));
  const signal = new AbortController().signal;
  let n = 0;
  const first = await assessor.assess(req, 'principal-0', signal);
  if (first.pii.total < PLANTED_IDENTIFIERS) throw new Error(`the assessor saw ${first.pii.total} of ${PLANTED_IDENTIFIERS} identifiers`);
  // A handful of principals, as on a shared gateway, so bulk observe touches more than one sketch.
  const { wall, cpu } = await timeCallsCpu(() => assessor.assess(req, `principal-${n++ % 16}`, signal), { budgetMs: ctx.budgetMs });
  return [
    { name: 'assessment p50 (classifier + PII + bulk observe), 8 KB prompt', value: wall.p50, unit: 'ms' },
    { name: 'assessment p99 (classifier + PII + bulk observe), 8 KB prompt', value: wall.p99, unit: 'ms' },
    { name: '  same, CPU-time p99 (excludes waiting for a core)', value: cpu.p99, unit: 'ms' },
  ];
}
