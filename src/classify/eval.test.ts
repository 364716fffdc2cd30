import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Classification, ClassifyInput, UseClassifier } from './classifier.js';
import { evaluate, evaluateInContext, formatReport } from './eval.js';
import { USE_LABELS, type UseLabel } from './labels.js';
import type { Example } from './train.js';

/** A classifier that answers from a lookup table: text -> [top label, its probability]. */
function stub(table: Record<string, [UseLabel, number]>): UseClassifier {
  const classify = (input: ClassifyInput): Classification => {
    const text = input.user.join(' ');
    const [top, p] = table[text] ?? ['general', 1];
    const scores = {} as Record<UseLabel, number>;
    for (const l of USE_LABELS) scores[l] = l === top ? p : (1 - p) / (USE_LABELS.length - 1);
    return { top, scores, truncated: false };
  };
  return { version: 'stub', classify, classifyText: (text) => classify({ user: [text] }) };
}

const ex = (text: string, label: UseLabel): Example => ({ text, labels: [label] });

test('precision, recall, red-line recall and lawful false blocks are counted as defined', () => {
  const dev = [
    ex('a', 'mass_casualty_weapons'), ex('b', 'mass_casualty_weapons'), ex('c', 'domestic_mass_surveillance'),
    ex('d', 'logistics'), ex('e', 'logistics'), ex('f', 'general'), ex('g', 'targeting_support'),
  ];
  const c = stub({
    a: ['mass_casualty_weapons', 0.9],
    b: ['general', 0.6], // missed red line
    c: ['targeted_investigation', 0.9], // missed, and not blocked
    d: ['logistics', 0.9],
    e: ['mass_casualty_weapons', 0.4], // lawful, blocked by top label
    f: ['general', 0.9],
    g: ['autonomous_lethal_action', 0.7], // restricted, blocked
  });
  const r = evaluate(c, dev, 'sha');
  assert.equal(r.examples, 7);
  assert.equal(r.perLabel.mass_casualty_weapons.support, 2);
  assert.equal(r.perLabel.mass_casualty_weapons.predicted, 2);
  assert.equal(r.perLabel.mass_casualty_weapons.precision, 0.5);
  assert.equal(r.perLabel.mass_casualty_weapons.recall, 0.5);
  assert.equal(r.perLabel.logistics.recall, 0.5);
  assert.equal(r.perLabel.logistics.precision, 1);
  assert.equal(r.perLabel.general.precision, 0.5);
  assert.equal(r.redLine.examples, 3);
  assert.equal(r.redLine.recall, 0.3333);
  assert.equal(r.redLine.perLabelRecall.domestic_mass_surveillance, 0);
  assert.equal(r.lawful.examples, 3);
  assert.equal(r.lawful.falseBlocks, 1);
  assert.equal(r.lawful.falseBlockRate, 0.3333);
  assert.equal(r.restricted.falseBlockRate, 1);
  assert.equal(r.accuracy, 0.4286);
  assert.equal(r.confusion.logistics.mass_casualty_weapons, 1);
  const text = formatReport(r);
  assert.match(text, /red-line recall \(blocked\)\s+33\.3%/);
  assert.match(text, /lawful false-block rate\s+33\.3%/);
});

test('a red-line probability at the threshold blocks even when another label is on top', () => {
  const c: UseClassifier = {
    version: 'x',
    classifyText: () => c.classify({ user: [] }),
    classify: () => {
      const scores = {} as Record<UseLabel, number>;
      for (const l of USE_LABELS) scores[l] = 0;
      scores.general = 0.5;
      scores.autonomous_lethal_action = 0.5;
      return { top: 'general', scores, truncated: false };
    },
  };
  const r = evaluate(c, [ex('x', 'logistics')]);
  assert.equal(r.lawful.falseBlockRate, 1);
});

test('context figures are reproducible', () => {
  const dev = [ex('a', 'mass_casualty_weapons'), ex('d', 'logistics'), ex('f', 'general')];
  const c = stub({ a: ['mass_casualty_weapons', 0.9] });
  const x = evaluateInContext(c, dev, ['sys one', 'sys two'], 3);
  assert.deepEqual(x, evaluateInContext(c, dev, ['sys one', 'sys two'], 3));
  // The stub reads only the user turns: a system prompt does not hide the red line, extra turns do.
  assert.equal(x.longSystem.redLineRecall, 1);
  assert.equal(x.conversation.redLineRecall, 0);
  assert.equal(x.conversation.lawfulFalseBlockRate, 0);
});
