// Scores the shipped model on the dev set and writes data/classify/eval-report.json.
//
//   npm run eval      (node --import tsx src/classify/eval.ts [--model PATH] [--dev FILE] [--out FILE]
//                      [--everyday FILE] [--everyday-redline FILE] [--probe FILE] [--no-write] [--errors])
//
// Figures are judged in pairs: red-line recall (red-line dev examples the default pack would block)
// against the false-block rate on lawful work (lawful dev examples it would block). A second, held-out
// pair covers short inputs, which the dev set hardly has: the false-block rate on everyday.jsonl (chat
// turns, software and business words shared with force, idioms, medicine, chemistry homework) against
// the recall on everyday-redline.jsonl (short red-line asks). Neither file is trained on. "Would block"
// means the top label is a red line or a red-line probability reaches RED_LINE_BLOCK_THRESHOLD.
// A third held-out pair comes from probe.jsonl, written blind to the training data in styles it lacked
// (tasking orders, JSON payloads, code comments, euphemism, jargon, long lawful military prose); it is
// the closest stand-in here for prompts from another writer.
// Output is deterministic (no timestamps, fixed rounding, fixed label order) so reports diff cleanly
// from one release to the next.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RED_LINE_BLOCK_THRESHOLD, loadClassifier, wouldBlock, type UseClassifier } from './classifier.js';
import { LAWFUL_LABELS, RED_LINE_LABELS, RESTRICTED_LABELS, USE_LABELS, type UseLabel } from './labels.js';
import { mulberry32 } from './model.js';
import { readJsonl, type Example } from './train.js';

export interface LabelMetrics { support: number; predicted: number; precision: number; recall: number; f1: number }

export interface EvalReport {
  model: string;
  devSha256: string;
  examples: number;
  threshold: number;
  accuracy: number;
  macroF1: number;
  perLabel: Record<UseLabel, LabelMetrics>;
  redLine: { examples: number; recall: number; perLabelRecall: Record<string, number> };
  lawful: { examples: number; falseBlockRate: number; falseBlocks: number };
  restricted: { examples: number; falseBlockRate: number };
  confusion: Record<UseLabel, Partial<Record<UseLabel, number>>>;
  context?: ContextReport;
  everyday?: EverydayReport;
  probe?: ProbeReport;
}

/** The blind probe set (data/classify/probe.jsonl), all labels, held out of training. */
export interface ProbeReport {
  examples: number;
  accuracy: number;
  redLine: { examples: number; recall: number };
  lawful: { examples: number; falseBlocks: number; falseBlockRate: number };
  restricted: { examples: number; falseBlockRate: number };
  sha256: string;
}

/** Short inputs, held out of training (data/classify/everyday.jsonl and everyday-redline.jsonl). */
export interface EverydayReport {
  lawful: { examples: number; falseBlocks: number; falseBlockRate: number; accuracy: number; sha256: string };
  redLine: { examples: number; recall: number; sha256: string };
}

export interface ContextFigures { redLineRecall: number; lawfulFalseBlockRate: number }
export interface ContextReport {
  /** Each dev request sent with one of the long lawful system prompts of dev-contexts.json. */
  longSystem: ContextFigures;
  /** Each dev request as the last or a middle turn of a conversation whose other turns are lawful dev requests. */
  conversation: ContextFigures;
  /** Each dev request before or after about 6 KB of pasted lawful text in the same user turn (a blank line between them two times in three). */
  document: ContextFigures;
}

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;

export function evaluate(classifier: UseClassifier, dev: readonly Example[], devSha256 = ''): EvalReport {
  const tp: Record<string, number> = {};
  const predicted: Record<string, number> = {};
  const support: Record<string, number> = {};
  const confusion = {} as Record<UseLabel, Partial<Record<UseLabel, number>>>;
  for (const l of USE_LABELS) {
    tp[l] = 0; predicted[l] = 0; support[l] = 0; confusion[l] = {};
  }
  let correct = 0;
  let redN = 0, redBlocked = 0, lawfulN = 0, lawfulBlocked = 0, restrictedN = 0, restrictedBlocked = 0;
  const redPer: Record<string, [number, number]> = {};
  for (const l of RED_LINE_LABELS) redPer[l] = [0, 0];

  for (const e of dev) {
    const gold = e.labels[0] as UseLabel;
    const c = e.system ? classifier.classify({ system: e.system, user: [e.text] }) : classifier.classifyText(e.text);
    const blocked = wouldBlock(c);
    support[gold] = (support[gold] ?? 0) + 1;
    predicted[c.top] = (predicted[c.top] ?? 0) + 1;
    // An example with several gold labels counts as correct when the top label is any of them.
    if (e.labels.includes(c.top)) {
      correct++;
      tp[gold] = (tp[gold] ?? 0) + 1;
      if (c.top !== gold) predicted[c.top] = (predicted[c.top] ?? 0) - 1, predicted[gold] = (predicted[gold] ?? 0) + 1;
    }
    const row = confusion[gold];
    row[c.top] = (row[c.top] ?? 0) + 1;
    if ((RED_LINE_LABELS as readonly string[]).includes(gold)) {
      redN++;
      const per = redPer[gold] as [number, number];
      per[0]++;
      if (blocked) { redBlocked++; per[1]++; }
    } else if ((LAWFUL_LABELS as readonly string[]).includes(gold)) {
      lawfulN++;
      if (blocked) lawfulBlocked++;
    } else if ((RESTRICTED_LABELS as readonly string[]).includes(gold)) {
      restrictedN++;
      if (blocked) restrictedBlocked++;
    }
  }

  const perLabel = {} as Record<UseLabel, LabelMetrics>;
  let f1Sum = 0, f1N = 0;
  for (const l of USE_LABELS) {
    const s = support[l] ?? 0, p = predicted[l] ?? 0, t = tp[l] ?? 0;
    const precision = p ? t / p : 0;
    const recall = s ? t / s : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    perLabel[l] = { support: s, predicted: p, precision: r4(precision), recall: r4(recall), f1: r4(f1) };
    if (s) { f1Sum += f1; f1N++; }
  }
  const perLabelRecall: Record<string, number> = {};
  for (const l of RED_LINE_LABELS) {
    const [n, b] = redPer[l] as [number, number];
    perLabelRecall[l] = r4(n ? b / n : 0);
  }
  return {
    model: classifier.version,
    devSha256,
    examples: dev.length,
    threshold: RED_LINE_BLOCK_THRESHOLD,
    accuracy: r4(dev.length ? correct / dev.length : 0),
    macroF1: r4(f1N ? f1Sum / f1N : 0),
    perLabel,
    redLine: { examples: redN, recall: r4(redN ? redBlocked / redN : 0), perLabelRecall },
    lawful: { examples: lawfulN, falseBlockRate: r4(lawfulN ? lawfulBlocked / lawfulN : 0), falseBlocks: lawfulBlocked },
    restricted: { examples: restrictedN, falseBlockRate: r4(restrictedN ? restrictedBlocked / restrictedN : 0) },
    confusion,
  };
}

/**
 * The everyday pair: every row of `lawful` should pass (its gold label is lawful or restricted; a row
 * the default pack would block is a false block) and every row of `redLine` should be blocked.
 */
export function evaluateEveryday(
  classifier: UseClassifier, lawful: readonly Example[], redLine: readonly Example[], sha = { lawful: '', redLine: '' },
): EverydayReport {
  let blocked = 0, correct = 0, caught = 0;
  for (const e of lawful) {
    const c = e.system ? classifier.classify({ system: e.system, user: [e.text] }) : classifier.classifyText(e.text);
    if (wouldBlock(c)) blocked++;
    if (e.labels.includes(c.top)) correct++;
  }
  for (const e of redLine) {
    const c = e.system ? classifier.classify({ system: e.system, user: [e.text] }) : classifier.classifyText(e.text);
    if (wouldBlock(c)) caught++;
  }
  const n = lawful.length, m = redLine.length;
  return {
    lawful: { examples: n, falseBlocks: blocked, falseBlockRate: r4(n ? blocked / n : 0), accuracy: r4(n ? correct / n : 0), sha256: sha.lawful },
    redLine: { examples: m, recall: r4(m ? caught / m : 0), sha256: sha.redLine },
  };
}

/** The probe pair is figured exactly as dev is; only the summary kept differs. */
export function evaluateProbe(classifier: UseClassifier, probe: readonly Example[], sha256 = ''): ProbeReport {
  const r = evaluate(classifier, probe, sha256);
  return {
    examples: r.examples,
    accuracy: r.accuracy,
    redLine: { examples: r.redLine.examples, recall: r.redLine.recall },
    lawful: { examples: r.lawful.examples, falseBlocks: r.lawful.falseBlocks, falseBlockRate: r.lawful.falseBlockRate },
    restricted: r.restricted,
    sha256,
  };
}

const isRed = (l: string): boolean => (RED_LINE_LABELS as readonly string[]).includes(l);
const isLawful = (l: string): boolean => (LAWFUL_LABELS as readonly string[]).includes(l);

/**
 * The same dev requests in the contexts a gateway sees: behind a long system prompt, and inside a
 * conversation. A red line must not be diluted away and lawful work must not be tipped over. The
 * filler turns are drawn with a fixed seed so the figures are reproducible.
 */
export function evaluateInContext(classifier: UseClassifier, dev: readonly Example[], systems: readonly string[], seed = 7): ContextReport {
  const rng = mulberry32(seed);
  const lawful = dev.filter((e) => isLawful(e.labels[0] as string) && !e.system).map((e) => e.text);
  const figures = (run: (e: Example, i: number) => boolean): ContextFigures => {
    let red = 0, redHit = 0, law = 0, lawHit = 0;
    dev.forEach((e, i) => {
      if (e.system) return;
      const gold = e.labels[0] as string;
      const blocked = run(e, i);
      if (isRed(gold)) { red++; if (blocked) redHit++; }
      else if (isLawful(gold)) { law++; if (blocked) lawHit++; }
    });
    return { redLineRecall: r4(red ? redHit / red : 0), lawfulFalseBlockRate: r4(law ? lawHit / law : 0) };
  };
  const longSystem = figures((e, i) => wouldBlock(classifier.classify({ system: systems[i % systems.length] as string, user: [e.text] })));
  const conversation = figures((e, i) => {
    const a = lawful[Math.floor(rng() * lawful.length)] as string;
    const b = lawful[Math.floor(rng() * lawful.length)] as string;
    const user = i % 2 === 0 ? [a, b, e.text] : [a, e.text, b];
    return wouldBlock(classifier.classify({ system: systems[(i + 1) % systems.length] as string, user }));
  });
  const document = figures((e, i) => {
    let doc = '';
    while (doc.length < 6000) doc += (lawful[Math.floor(rng() * lawful.length)] as string) + (rng() < 0.3 ? '\n\n' : ' ');
    // A blank line between the paste and the ask two times in three, a plain space otherwise.
    const sep = i % 3 === 0 ? ' ' : '\n\n';
    const text = i % 2 === 0 ? `${doc}${sep}${e.text}` : `${e.text}${sep}${doc}`;
    return wouldBlock(classifier.classify({ user: [text] }));
  });
  return { longSystem, conversation, document };
}

export function formatReport(r: EvalReport): string {
  const pct = (x: number): string => (x * 100).toFixed(1).padStart(5) + '%';
  const lines: string[] = [];
  lines.push(`model ${r.model}  dev ${r.devSha256.slice(0, 16)}  examples ${r.examples}  threshold ${r.threshold}`);
  lines.push('');
  lines.push(`${'label'.padEnd(28)}${'n'.padStart(5)}${'prec'.padStart(9)}${'recall'.padStart(9)}${'f1'.padStart(9)}`);
  for (const l of USE_LABELS) {
    const m = r.perLabel[l];
    lines.push(`${l.padEnd(28)}${String(m.support).padStart(5)}${pct(m.precision).padStart(9)}${pct(m.recall).padStart(9)}${pct(m.f1).padStart(9)}`);
  }
  lines.push('');
  lines.push(`accuracy                    ${pct(r.accuracy)}`);
  lines.push(`macro F1                    ${pct(r.macroF1)}`);
  lines.push(`red-line recall (blocked)   ${pct(r.redLine.recall)}  of ${r.redLine.examples}`);
  for (const l of RED_LINE_LABELS) lines.push(`  ${l.padEnd(27)}${pct(r.redLine.perLabelRecall[l] ?? 0)}`);
  lines.push(`lawful false-block rate     ${pct(r.lawful.falseBlockRate)}  (${r.lawful.falseBlocks} of ${r.lawful.examples})`);
  lines.push(`restricted blocked as red   ${pct(r.restricted.falseBlockRate)}  of ${r.restricted.examples}`);
  if (r.context) {
    lines.push('');
    lines.push(`in context                  red-line recall  lawful false-block`);
    lines.push(`  long system prompt        ${pct(r.context.longSystem.redLineRecall).padStart(15)}  ${pct(r.context.longSystem.lawfulFalseBlockRate).padStart(18)}`);
    lines.push(`  inside a conversation     ${pct(r.context.conversation.redLineRecall).padStart(15)}  ${pct(r.context.conversation.lawfulFalseBlockRate).padStart(18)}`);
    lines.push(`  with a pasted document    ${pct(r.context.document.redLineRecall).padStart(15)}  ${pct(r.context.document.lawfulFalseBlockRate).padStart(18)}`);
  }
  if (r.everyday) {
    const e = r.everyday;
    lines.push('');
    lines.push(`everyday (held out)`);
    lines.push(`  lawful false-block rate   ${pct(e.lawful.falseBlockRate)}  (${e.lawful.falseBlocks} of ${e.lawful.examples}; top label right ${pct(e.lawful.accuracy).trim()})`);
    lines.push(`  short red-line recall     ${pct(e.redLine.recall)}  of ${e.redLine.examples}`);
  }
  if (r.probe) {
    const p = r.probe;
    lines.push('');
    lines.push(`probe (held out, blind)     ${p.examples} examples; top label right ${pct(p.accuracy).trim()}`);
    lines.push(`  red-line recall           ${pct(p.redLine.recall)}  of ${p.redLine.examples}`);
    lines.push(`  lawful false-block rate   ${pct(p.lawful.falseBlockRate)}  (${p.lawful.falseBlocks} of ${p.lawful.examples})`);
    lines.push(`  restricted blocked as red ${pct(p.restricted.falseBlockRate)}  of ${p.restricted.examples}`);
  }
  return lines.join('\n') + '\n';
}

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const devPath = argValue('--dev') ?? fileURLToPath(new URL('../../data/classify/dev.jsonl', import.meta.url));
  const out = argValue('--out') ?? fileURLToPath(new URL('../../data/classify/eval-report.json', import.meta.url));
  const classifier = loadClassifier(argValue('--model'));
  const devSha = createHash('sha256').update(readFileSync(devPath)).digest('hex');
  const dev = readJsonl(devPath);
  const report = evaluate(classifier, dev, devSha);
  const contextsPath = argValue('--contexts') ?? fileURLToPath(new URL('../../data/classify/dev-contexts.json', import.meta.url));
  const { systems } = JSON.parse(readFileSync(contextsPath, 'utf8')) as { systems: string[] };
  report.context = evaluateInContext(classifier, dev, systems);
  const everydayPath = argValue('--everyday') ?? fileURLToPath(new URL('../../data/classify/everyday.jsonl', import.meta.url));
  const everydayRedPath = argValue('--everyday-redline') ?? fileURLToPath(new URL('../../data/classify/everyday-redline.jsonl', import.meta.url));
  const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
  report.everyday = evaluateEveryday(classifier, readJsonl(everydayPath), readJsonl(everydayRedPath), { lawful: sha(everydayPath), redLine: sha(everydayRedPath) });
  const probePath = argValue('--probe') ?? fileURLToPath(new URL('../../data/classify/probe.jsonl', import.meta.url));
  report.probe = evaluateProbe(classifier, readJsonl(probePath), sha(probePath));
  process.stdout.write(formatReport(report));
  if (!process.argv.includes('--no-write')) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  if (process.argv.includes('--errors')) {
    for (const e of readJsonl(devPath)) {
      const c = e.system ? classifier.classify({ system: e.system, user: [e.text] }) : classifier.classifyText(e.text);
      if (!e.labels.includes(c.top) || (wouldBlock(c) && !(RED_LINE_LABELS as readonly string[]).includes(e.labels[0] as string))) {
        process.stdout.write(`${(e.labels[0] as string).padEnd(26)} -> ${c.top.padEnd(26)} ${c.scores[c.top].toFixed(2)}  ${e.text.slice(0, 140).replace(/\n/g, ' ')}\n`);
      }
    }
    for (const e of [...readJsonl(everydayPath), ...readJsonl(everydayRedPath)]) {
      const c = classifier.classifyText(e.text);
      if (wouldBlock(c) !== (RED_LINE_LABELS as readonly string[]).includes(e.labels[0] as string)) {
        process.stdout.write(`everyday ${(e.labels[0] as string).padEnd(26)} -> ${c.top.padEnd(26)} ${c.scores[c.top].toFixed(2)}  ${e.text.slice(0, 140)}\n`);
      }
    }
    for (const e of readJsonl(probePath)) {
      const c = classifier.classifyText(e.text);
      const gold = e.labels[0] as string;
      if (!e.labels.includes(c.top) || wouldBlock(c) !== isRed(gold)) {
        const mark = wouldBlock(c) === isRed(gold) ? '' : isRed(gold) ? ' MISSED' : ' BLOCKED';
        process.stdout.write(`probe ${gold.padEnd(26)} -> ${c.top.padEnd(26)} ${c.scores[c.top].toFixed(2)}${mark}  ${e.text.slice(0, 140).replace(/\n/g, ' ')}\n`);
      }
    }
  }
}
