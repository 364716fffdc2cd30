// Pipeline step: what is this request for, and whom does it touch? The use classifier, the PII
// detectors and the bulk-collection tracker, combined into the facts policy decides on. Any failure
// here refuses the request (fail closed): an unclassified request is never silently allowed.
import { RedlineError } from '../errors.js';
import { classifyInputOf, type Classification, type ClassifyInput, type UseClassifier } from '../classify/index.js';
import { countPii, detectPii, type PiiCounts, type PiiFinding } from '../classify/pii/index.js';
import type { BulkTracker } from '../classify/bulk/index.js';
import { RED_LINE_LABELS, USE_LABELS, type UseLabel } from '../classify/labels.js';

const isRedLine = (l: UseLabel) => (RED_LINE_LABELS as readonly string[]).includes(l);
import type { ChatRequest } from '../wire/index.js';

export interface Assessment {
  classification: Classification;
  /** Labels whose probability reached the threshold. */
  labels: UseLabel[];
  pii: PiiCounts;
  /** Distinct protected identifiers this principal sent within the bulk window, this request included. */
  bulkDistinct: number;
  /** Guard model verdict, when the second stage is configured. */
  guard?: { unsafe: boolean; categories: string[] };
}

export interface GuardStage { check(input: ClassifyInput, signal?: AbortSignal): Promise<{ unsafe: boolean; categories: string[] }> }

export interface AssessorOptions {
  classifier: UseClassifier;
  threshold: number;
  includeToolResults: boolean;
  pii: { country: string; protectedCidrs: string[] };
  bulk: BulkTracker;
  guard?: GuardStage;
}

/**
 * Llama Guard's category S9 ("indiscriminate weapons": chemical, biological, radiological, nuclear,
 * high-yield explosives) is the one that maps onto a taxonomy label without ambiguity; other unsafe
 * categories are recorded but left to the classifier and policy.
 */
const GUARD_LABELS: Record<string, UseLabel> = { S9: 'mass_casualty_weapons' };

/**
 * `assess` answers synchronously when no guard model is configured (classification and PII detection
 * are in-process and synchronous): the request path then skips a promise and a microtask turn.
 */
export interface Assessor { assess(req: ChatRequest, principalId: string, signal: AbortSignal): Assessment | Promise<Assessment> }

export function createAssessor(o: AssessorOptions): Assessor {
  const guard = o.guard;
  return {
    assess(req, principalId, signal) {
      const local = assessLocally(o, req, principalId);
      return guard ? withGuard(o, guard, local, signal) : finish(o, local);
    },
  };
}

interface Local { input: ClassifyInput; classification: Classification; findings: PiiFinding[]; bulkDistinct: number }

/** The classifier, the PII detectors and the bulk tracker: everything that runs in this process. */
function assessLocally(o: AssessorOptions, req: ChatRequest, principalId: string): Local {
  try {
    const full = classifyInputOf(req, { includeToolResults: true });
    // Identifiers are looked for in everything the model will read, tool results included (bulk
    // collection often arrives as tool output), and masked before classification: the classifier
    // judges what the request asks for, not how many addresses it carries. How many people a
    // principal touches is the bulk tracker's job.
    const findings: PiiFinding[] = [];
    const masked = (t: string) => {
      const f = detectPii(t, { country: o.pii.country, protectedCidrs: o.pii.protectedCidrs });
      findings.push(...f);
      return maskFindings(t, f);
    };
    const system = full.system !== undefined ? masked(full.system) : undefined;
    const user = full.user.map(masked);
    const toolResults = (full.toolResults ?? []).map(masked);
    const input: ClassifyInput = { ...(system !== undefined && { system }), user, ...(o.includeToolResults && { toolResults }) };
    const classification = o.classifier.classify(input);
    const bulkDistinct = o.bulk.observe(principalId, findings).distinct;
    return { input, classification, findings, bulkDistinct };
  } catch (err) {
    throw new RedlineError('CLASSIFIER_FAILED', 'The request could not be classified, so it is refused (fail closed).', { cause: err, details: { stage: 'classifier' } });
  }
}

/** The second stage: the guard model's verdict raises the scores of the labels it maps onto. */
async function withGuard(o: AssessorOptions, stage: GuardStage, local: Local, signal: AbortSignal): Promise<Assessment> {
  const guard = await stage.check(local.input, signal); // throws CLASSIFIER_FAILED on timeout or garbage
  let { classification } = local;
  if (guard.unsafe) {
    const scores = { ...classification.scores };
    for (const c of guard.categories) {
      const label = GUARD_LABELS[c];
      if (label) scores[label] = Math.max(scores[label], 0.99);
    }
    classification = { ...classification, scores };
  }
  return finish(o, { ...local, classification }, guard);
}

function finish(o: AssessorOptions, l: Local, guard?: Assessment['guard']): Assessment {
  // A label is present when its probability reaches the threshold; a red-line label is also present
  // when it is the most likely label at all. That is the rule the classifier's eval scores
  // (data/classify/README.md): it keeps short red-line asks ("Kill him.") from slipping under 0.5.
  const { classification } = l;
  const top = classification.top;
  const labels = USE_LABELS.filter((x) => classification.scores[x] >= o.threshold || (x === top && isRedLine(x)));
  return { classification, labels, pii: countPii(l.findings), bulkDistinct: l.bulkDistinct, ...(guard && { guard }) };
}

/** Replaces each identifier with its kind in brackets, e.g. "[email]". Findings are sorted and disjoint. */
export function maskFindings(text: string, findings: readonly PiiFinding[]): string {
  if (findings.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of findings) {
    out += text.slice(at, f.start) + `[${f.kind}]`;
    at = f.end;
  }
  return out + text.slice(at);
}
