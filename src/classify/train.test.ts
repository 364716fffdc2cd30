import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { classifierFromModel } from './classifier.js';
import { LAWFUL_LABELS, USE_LABELS } from './labels.js';
import { decodeModel, encodeModel, mulberry32 } from './model.js';
import { DEFAULT_TRAIN, augmentConversations, parseExampleLine, readDataDir, trainModel, type Example, type TrainOptions } from './train.js';

// A small, fixed subset keeps this fast: every 12th training example, a narrow hash and few epochs.
const all = readDataDir(fileURLToPath(new URL('../../data/classify/train/', import.meta.url)));
const subset = all.filter((_e, i) => i % 12 === 0);
const small: TrainOptions = { ...DEFAULT_TRAIN, epochs: 3, conversations: 50, runs: 1, features: { ...DEFAULT_TRAIN.features, bits: 14 } };

test('the training data covers every label with at least 150 examples', () => {
  const counts = new Map<string, number>();
  for (const e of all) for (const l of e.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const l of USE_LABELS) assert.ok((counts.get(l) ?? 0) >= 150, `${l}: ${counts.get(l) ?? 0}`);
});

test('training twice with the same seed gives the same weights and the same model file', () => {
  const a = trainModel(subset, small);
  const b = trainModel(subset, small);
  assert.deepEqual(a.bias, b.bias);
  assert.equal(Buffer.compare(Buffer.from(a.weights.buffer), Buffer.from(b.weights.buffer)), 0);
  assert.equal(JSON.stringify(encodeModel(a, {})), JSON.stringify(encodeModel(b, {})));
  const c = trainModel(subset, { ...small, seed: small.seed + 1 });
  assert.notEqual(Buffer.compare(Buffer.from(a.weights.buffer), Buffer.from(c.weights.buffer)), 0);
});

test('a model survives encoding: quantised scores stay close to the float model\'s ranking', () => {
  const m = trainModel(subset, small);
  const file = encodeModel(m, { note: 'test' });
  const q = decodeModel(file);
  assert.equal(q.labels.length, USE_LABELS.length);
  assert.equal(file.rows > 0, true);
  // Every stored row decodes to the weights it was quantised from, within one step.
  const K = q.labels.length;
  let checked = 0;
  for (let b = 0; b < 1 << small.features.bits && checked < 200; b++) {
    for (let k = 0; k < K; k++) {
      const w = m.weights[b * K + k] as number;
      const back = (q.q[b * K + k] as number) * (q.scale[k] as number);
      if (Math.abs(w) < 127 * (q.scale[k] as number)) assert.ok(Math.abs(w - back) <= (q.scale[k] as number) / 2 + 1e-9);
    }
    checked++;
  }
  const c = classifierFromModel(file);
  let agree = 0;
  for (const e of subset.slice(0, 100)) if (e.labels.includes(c.classifyText(e.text).top)) agree++;
  assert.ok(agree >= 80, `fits its own training data: ${agree}/100`);
});

test('parseExampleLine accepts one or several labels and rejects the rest', () => {
  assert.deepEqual(parseExampleLine('{"text":"hi","label":"general"}'), { text: 'hi', labels: ['general'] });
  assert.deepEqual(parseExampleLine('{"text":"hi","system":"s","labels":["logistics","general","logistics"]}'), { text: 'hi', system: 's', labels: ['logistics', 'general'] });
  for (const bad of ['{"text":"hi","label":"nope"}', '{"label":"general"}', '{"text":"","label":"general"}', '[1]', '{"text":"x","labels":[]}', 'nope']) {
    assert.throws(() => parseExampleLine(bad), bad);
  }
});

test('augmented conversations are lawful only, deterministic, and carry their turns\' labels', () => {
  const ex: Example[] = [
    { text: 'fuel for the trucks', labels: ['logistics'] },
    { text: 'draft the memo', labels: ['administrative'] },
    { text: 'red line text', labels: ['mass_casualty_weapons'] },
  ];
  const a = augmentConversations(ex, 30, mulberry32(5));
  const b = augmentConversations(ex, 30, mulberry32(5));
  assert.deepEqual(a, b);
  assert.equal(a.length, 30);
  for (const c of a) {
    assert.ok(!c.text.includes('red line text'));
    assert.ok(c.labels.every((l) => (LAWFUL_LABELS as readonly string[]).includes(l)));
    for (const l of c.labels) assert.ok(c.text.includes(l === 'logistics' ? 'fuel for the trucks' : 'draft the memo'));
  }
});

test('the unrolled 14-label scoring path agrees with the generic path', () => {
  const m = trainModel(subset, small);
  const K = USE_LABELS.length;
  const dim = 1 << small.features.bits;
  // The same model with a 15th, never-chosen label takes the generic path in the classifier.
  const wide = new Float32Array(dim * (K + 1));
  for (let b = 0; b < dim; b++) for (let k = 0; k < K; k++) wide[b * (K + 1) + k] = m.weights[b * K + k] as number;
  const bias = Float32Array.from([...m.bias, -30]);
  const fast = classifierFromModel(encodeModel(m, {}));
  const generic = classifierFromModel(encodeModel({ labels: [...USE_LABELS, 'extra'], features: m.features, weights: wide, bias, minEvidence: m.minEvidence }, {}));
  const texts = [subset[0]!.text, subset[7]!.text, 'You are a helpful assistant.\n\n' + subset[3]!.text + '\n\n' + subset[9]!.text, 'x '.repeat(3000)];
  for (const t of texts) {
    const a = fast.classify({ system: 'Be brief.', user: [t, 'and one more turn'] });
    const b = generic.classify({ system: 'Be brief.', user: [t, 'and one more turn'] });
    assert.equal(a.top, b.top);
    for (const l of USE_LABELS) assert.ok(Math.abs(a.scores[l] - b.scores[l]) < 1e-3, `${l} ${a.scores[l]} ${b.scores[l]}`);
  }
});

test('several runs are averaged: the model of runs=2 is the mean of the runs with seed and seed+1', () => {
  const tiny = subset.slice(0, 120);
  const opts: TrainOptions = { ...small, epochs: 2, conversations: 10 };
  const a = trainModel(tiny, opts);
  const b = trainModel(tiny, { ...opts, seed: opts.seed + 1 });
  const avg = trainModel(tiny, { ...opts, runs: 2 });
  let differ = 0;
  for (let i = 0; i < avg.weights.length; i++) {
    const mean = ((a.weights[i] as number) + (b.weights[i] as number)) / 2;
    assert.ok(Math.abs((avg.weights[i] as number) - mean) < 1e-6, `weight ${i}`);
    if (a.weights[i] !== b.weights[i]) differ++;
  }
  assert.ok(differ > 0, 'the two seeds must give different runs, or the test shows nothing');
  for (let k = 0; k < avg.bias.length; k++) assert.ok(Math.abs((avg.bias[k] as number) - ((a.bias[k] as number) + (b.bias[k] as number)) / 2) < 1e-6);
});

test('minEvidence travels in the model file and must be a non-negative number', () => {
  const m = trainModel(subset.slice(0, 60), { ...small, epochs: 1, conversations: 0, minEvidence: 80 });
  const file = encodeModel(m, {});
  assert.equal(file.minEvidence, 80);
  assert.equal(decodeModel(file).minEvidence, 80);
  const { minEvidence: _dropped, ...old } = file;
  assert.equal(decodeModel(old).minEvidence, 0, 'files written before the floor existed mean plain L2');
  for (const bad of [-1, Number.NaN, '80' as unknown as number]) assert.throws(() => decodeModel({ ...file, minEvidence: bad }));
});
