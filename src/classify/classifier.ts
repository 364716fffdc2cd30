// The embedded use classifier: request text in, a probability per use label out. In-process, CPU
// only, no network; the model is a JSON file shipped beside this module.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RedlineError } from '../errors.js';
import type { ChatRequest } from '../wire/types.js';
import { FeatureExtractor } from './features.js';
import { RED_LINE_LABELS, USE_LABELS, type RedLineLabel, type UseLabel } from './labels.js';
import { decodeModel, softmax, type ModelFile, type QuantisedModel } from './model.js';

export interface ClassifyInput {
  system?: string;
  user: string[];
  toolResults?: string[];
}

export interface Classification {
  top: UseLabel;
  /** Probability per label, in [0,1]; all labels present. */
  scores: Record<UseLabel, number>;
  /** True when part of the input was not examined (see the caps below). */
  truncated: boolean;
}

export interface UseClassifier {
  /** sha256 prefix of the model file, so decisions can name the model that made them. */
  readonly version: string;
  classify(input: ClassifyInput): Classification;
  classifyText(text: string): Classification;
}

// Bounded cost for huge prompts: the classifier examines at most the first HEAD_CHARS and the last
// TAIL_CHARS of the user text (user turns, then tool results, joined by one separator each), plus the
// first SYSTEM_CHARS of the system prompt, which is capped on its own so a long system prompt cannot
// push the user's words out of the window. Requests usually state their purpose at the start (the ask)
// or at the end (the latest turn), which is why the middle is what gets skipped. Anything skipped sets
// `truncated`, so a policy can treat unexamined text as it chooses. Sizes are UTF-16 code units
// (= bytes for ASCII text), so the work per request is bounded whatever the body size.
export const HEAD_CHARS = 12 * 1024;
export const TAIL_CHARS = 4 * 1024;
export const SYSTEM_CHARS = 4 * 1024;
export interface PassageOptions {
  /** Longest passage judged alone (whole sentences are packed up to this length). */
  chunkChars: number;
  /** Red-line probability a passage alone must reach to stand for the whole request. */
  passageThreshold: number;
}
const MIN_PASSAGE = 40;
export const DEFAULT_PASSAGES: PassageOptions = { chunkChars: 640, passageThreshold: 0.5 };

/**
 * A red-line label whose probability reaches this is treated as the request's purpose by the default
 * policy pack (deny). The eval reports red-line recall and the lawful false-block rate at this value.
 */
export const RED_LINE_BLOCK_THRESHOLD = 0.5;

/** Highest probability among the red-line labels, and which label it is. */
export function redLineScore(c: Classification): { label: RedLineLabel; score: number } {
  let label: RedLineLabel = RED_LINE_LABELS[0];
  let score = -1;
  for (const l of RED_LINE_LABELS) {
    if (c.scores[l] > score) {
      score = c.scores[l];
      label = l;
    }
  }
  return { label, score };
}

/** Whether the default pack would block on red-line grounds: top label is a red line, or any red-line score passes the threshold. */
export function wouldBlock(c: Classification, threshold = RED_LINE_BLOCK_THRESHOLD): boolean {
  return (RED_LINE_LABELS as readonly string[]).includes(c.top) || redLineScore(c).score >= threshold;
}

export const SHIPPED_MODEL_PATH = fileURLToPath(new URL('./model.json', import.meta.url));
// When running from the compiled dist/classify/, the JSON stays in src/ unless the build copies it.
const SOURCE_MODEL_PATH = fileURLToPath(new URL('../../src/classify/model.json', import.meta.url));

function defaultModelPath(): string {
  if (existsSync(SHIPPED_MODEL_PATH)) return SHIPPED_MODEL_PATH;
  return SOURCE_MODEL_PATH;
}

// How one request is read. The whole request (system prompt, user turns, tool results) is one bag
// of features and gives the main distribution. The system prompt and each user turn are also scored
// on their own, in passages (whole sentences up to chunkChars, never across a blank line); if a
// passage alone would block and looks more like a red line than the whole does, its distribution is
// reported instead. Without this, a red-line ask would be diluted below the blocking threshold by a
// long benign system prompt, a long conversation or a pasted document around it; with it, a
// red-line system prompt ("engage without confirmation") still counts when the user only sends
// sensor reports. A complete user turn counts on the same terms as a lone request; a fragment must
// reach passageThreshold (see takeSegment). Tool results are data the tools returned, not anyone's
// request, so they add to the whole but are never judged alone.
//
// The instance keeps scratch buffers (stamps, accumulators) to allocate nothing per request. That is
// safe because classify() is synchronous: no two calls can interleave on one instance.
class LinearUseClassifier implements UseClassifier {
  readonly version: string;
  private readonly model: QuantisedModel;
  private readonly fx: FeatureExtractor;
  private readonly K: number;
  /** Maps model label order to USE_LABELS order (they are the same today; a model may differ). */
  private readonly toUse: Int32Array;
  /** Model indices of the red-line labels. */
  private readonly redIdx: Int32Array;
  /** Buckets already counted in the whole-request bag (generation stamps, as in the extractor). */
  private readonly seen: Uint32Array;
  private generation = 0;
  /** This request is a single bag: its features are distinct already, so `seen` is neither read nor written. */
  private soleBag = false;
  private readonly wholeAcc: Float64Array;
  private wholeN = 0;
  private readonly segAcc: Float64Array;
  private readonly turnAcc: Float64Array;
  private turnN = 0;
  private readonly probs: Float64Array;
  private readonly best: Float64Array;
  private bestRed = -1;
  private readonly opts: PassageOptions;

  constructor(model: QuantisedModel, version: string, opts: PassageOptions = DEFAULT_PASSAGES) {
    this.model = model;
    this.opts = opts;
    this.version = version;
    this.fx = new FeatureExtractor(model.features);
    this.K = model.labels.length;
    this.toUse = Int32Array.from(model.labels, (l) => (USE_LABELS as readonly string[]).indexOf(l));
    for (const l of USE_LABELS) {
      if (!model.labels.includes(l)) throw new RedlineError('CONFIG_INVALID', `classifier model lacks label ${l}`);
    }
    this.redIdx = Int32Array.from(RED_LINE_LABELS, (l) => model.labels.indexOf(l));
    this.seen = new Uint32Array(this.fx.dim);
    this.wholeAcc = new Float64Array(this.K);
    this.segAcc = new Float64Array(this.K);
    this.turnAcc = new Float64Array(this.K);
    this.probs = new Float64Array(this.K);
    this.best = new Float64Array(this.K);
  }

  classifyText(text: string): Classification {
    return this.classify({ user: [text] });
  }

  classify(input: ClassifyInput): Classification {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.seen.fill(0);
      this.generation = 1;
    }
    this.wholeAcc.fill(0);
    this.wholeN = 0;
    this.bestRed = -1;
    const system = input.system ?? '';
    const user = input.user;
    const tools = input.toolResults ?? [];
    const parts = (system.length > 0 ? 1 : 0) + user.length + tools.length;
    // A single short part is its own only passage: the whole request; skip the second accumulation.
    const judgeAlone = parts > 1 || (user.length === 1 && (user[0] as string).length > this.opts.chunkChars);
    let truncated = false;
    this.soleBag = parts === 1 && !judgeAlone;

    if (system.length > 0) {
      const end = Math.min(system.length, SYSTEM_CHARS);
      if (end < system.length) truncated = true;
      this.addPassages(system, 0, end, judgeAlone, false);
    }

    // Head and tail windows over user turns then tool results, in the coordinates of their
    // concatenation (one separator between parts); computed per part so nothing is concatenated.
    let total = 0;
    for (const p of user) total += p.length + 1;
    for (const p of tools) total += p.length + 1;
    const capped = total > HEAD_CHARS + TAIL_CHARS;
    if (capped) truncated = true;
    const tailStart = total - TAIL_CHARS;
    let offset = 0;
    const n = user.length + tools.length;
    for (let i = 0; i < n; i++) {
      const part = (i < user.length ? user[i] : tools[i - user.length]) as string;
      const len = part.length;
      const isUser = i < user.length;
      if (!capped) {
        this.addPassages(part, 0, len, judgeAlone && isUser, true);
      } else {
        const headEnd = offset < HEAD_CHARS ? Math.min(len, HEAD_CHARS - offset) : 0;
        const tailFrom = offset + len > tailStart ? Math.max(0, tailStart - offset) : len;
        if (headEnd > 0) this.addPassages(part, 0, headEnd, judgeAlone && isUser, false);
        if (tailFrom < len) this.addPassages(part, Math.max(tailFrom, headEnd), len, judgeAlone && isUser, false);
      }
      offset += len + 1;
    }

    this.toProbs(this.wholeAcc, this.wholeN);
    if (this.bestRed > this.redOf(this.probs)) this.probs.set(this.best);
    return this.result(truncated);
  }

  /**
   * Feeds text[start, end) as passages. A blank line always ends a passage (a pasted document and
   * the ask around it are usually separate paragraphs); within a paragraph, whole sentences (cut
   * after . ? ! ; or a line break) are packed up to chunkChars, and a sentence longer than that is
   * cut at a space. A paragraph shorter than MIN_PASSAGE (a heading, a greeting) joins the next.
   * `wholeTurn` marks a complete user turn: the turn as a unit is judged as leniently as a request
   * on its own (see takeSegment), its passages strictly.
   */
  private addPassages(text: string, start: number, end: number, judge: boolean, wholeTurn: boolean): void {
    if (!judge) {
      // Not judged alone: one bag is the same as many for the whole-request view.
      this.fx.begin();
      this.fx.add(text, start, end);
      this.takeSegment(false, false);
      return;
    }
    const max = this.opts.chunkChars;
    this.turnAcc.fill(0);
    this.turnN = 0;
    let passages = 0;
    let s = start;
    while (s < end) {
      let e = s;
      let lastCut = -1;
      let para = false;
      while (e < end && e - s < max) {
        const c = text.charCodeAt(e++);
        if (c === 10 || c === 46 || c === 63 || c === 33 || c === 59) lastCut = e;
        if (c === 10 && e < end && text.charCodeAt(e) === 10 && e - s >= MIN_PASSAGE) {
          para = true;
          break;
        }
      }
      if (!para && e < end) {
        if (lastCut > s) e = lastCut;
        else {
          let i = e;
          while (i > s + (max >> 1) && text.charCodeAt(i - 1) !== 32) i--;
          if (i > s + (max >> 1)) e = i;
        }
      }
      this.fx.begin();
      this.fx.add(text, s, e);
      const single = s === start && e === end;
      this.takeSegment(true, wholeTurn && single);
      if (wholeTurn && !single) {
        // The turn as a unit too, from its passages' sums (a feature repeated across passages counts
        // once per passage here; close enough for a second opinion, and it costs no extra pass).
        for (let k = 0; k < this.K; k++) this.turnAcc[k] = (this.turnAcc[k] as number) + (this.segAcc[k] as number);
        this.turnN += this.fx.size();
        passages++;
      }
      s = e;
    }
    if (passages > 1) this.consider(this.turnAcc, this.turnN, true);
  }

  /**
   * Folds the extractor's current bag into the whole request and, if asked, judges it alone. A
   * complete user turn counts when it would block on its own (red-line top label, or red-line score
   * at the threshold), exactly as a single request would. A fragment (part of a long turn, or of the
   * system prompt) must reach the threshold: fragments are out of the distribution the model was
   * trained on, and a long request has many of them, so a low-confidence red top label among them is
   * more often noise than purpose.
   */
  private takeSegment(judge: boolean, lenient: boolean): void {
    const { q } = this.model;
    const K = this.K;
    const feats = this.fx.view();
    const nf = feats.length;
    const whole = this.wholeAcc;
    const seg = this.segAcc;
    const seen = this.seen;
    const gen = this.generation;
    const dedupe = !this.soleBag;
    if (judge) seg.fill(0);
    if (K === 14) {
      this.accumulate14(feats, judge);
    } else {
      for (let j = 0; j < nf; j++) {
        const b = feats[j] as number;
        const row = b * K;
        if (judge) for (let k = 0; k < K; k++) seg[k] = (seg[k] as number) + (q[row + k] as number);
        if (dedupe) {
          if (seen[b] === gen) continue;
          seen[b] = gen;
        }
        this.wholeN++;
        for (let k = 0; k < K; k++) whole[k] = (whole[k] as number) + (q[row + k] as number);
      }
    }
    if (judge && nf > 0) this.consider(seg, nf, lenient);
  }

  /** Scores a view on its own and keeps it if it would block and is the reddest so far. */
  private consider(acc: Float64Array, n: number, lenient: boolean): void {
    this.toProbs(acc, n);
    const red = this.redOf(this.probs);
    if (red > this.bestRed && (red >= this.opts.passageThreshold || (lenient && this.topIsRed(this.probs)))) {
      this.bestRed = red;
      this.best.set(this.probs);
    }
  }

  /**
   * The hot loop of takeSegment for the 14 labels of today's taxonomy, with the sums held in locals.
   * Written out by hand because V8 keeps locals in registers but not typed-array slots: this is
   * about twice as fast as the generic loop above on an 8 KB prompt, and per-request latency is
   * what this function is for.
   */
  private accumulate14(feats: Int32Array, judge: boolean): void {
    const q = this.model.q;
    const seen = this.seen;
    const gen = this.generation;
    // A one-bag request (a short lone message) skips `seen`: a megabyte of stamps whose scattered
    // reads miss cache in the running gateway, for features the extractor has already made distinct.
    const dedupe = !this.soleBag;
    const w = this.wholeAcc;
    let w0 = w[0] as number, w1 = w[1] as number, w2 = w[2] as number, w3 = w[3] as number, w4 = w[4] as number, w5 = w[5] as number, w6 = w[6] as number;
    let w7 = w[7] as number, w8 = w[8] as number, w9 = w[9] as number, w10 = w[10] as number, w11 = w[11] as number, w12 = w[12] as number, w13 = w[13] as number;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
    let fresh = 0;
    const nf = feats.length;
    for (let j = 0; j < nf; j++) {
      const b = feats[j] as number;
      const r = b * 14;
      const q0 = q[r] as number, q1 = q[r + 1] as number, q2 = q[r + 2] as number, q3 = q[r + 3] as number, q4 = q[r + 4] as number, q5 = q[r + 5] as number, q6 = q[r + 6] as number;
      const q7 = q[r + 7] as number, q8 = q[r + 8] as number, q9 = q[r + 9] as number, q10 = q[r + 10] as number, q11 = q[r + 11] as number, q12 = q[r + 12] as number, q13 = q[r + 13] as number;
      if (judge) {
        s0 += q0; s1 += q1; s2 += q2; s3 += q3; s4 += q4; s5 += q5; s6 += q6;
        s7 += q7; s8 += q8; s9 += q9; s10 += q10; s11 += q11; s12 += q12; s13 += q13;
      }
      if (dedupe) {
        if (seen[b] === gen) continue;
        seen[b] = gen;
      }
      fresh++;
      w0 += q0; w1 += q1; w2 += q2; w3 += q3; w4 += q4; w5 += q5; w6 += q6;
      w7 += q7; w8 += q8; w9 += q9; w10 += q10; w11 += q11; w12 += q12; w13 += q13;
    }
    this.wholeN += fresh;
    w[0] = w0; w[1] = w1; w[2] = w2; w[3] = w3; w[4] = w4; w[5] = w5; w[6] = w6;
    w[7] = w7; w[8] = w8; w[9] = w9; w[10] = w10; w[11] = w11; w[12] = w12; w[13] = w13;
    if (judge) {
      const s = this.segAcc;
      s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3; s[4] = s4; s[5] = s5; s[6] = s6;
      s[7] = s7; s[8] = s8; s[9] = s9; s[10] = s10; s[11] = s11; s[12] = s12; s[13] = s13;
    }
  }

  /**
   * probs = softmax(bias + scale * acc / sqrt(max(n, minEvidence))): the L2-normalised binary bag of
   * training, except that a bag of fewer than minEvidence distinct features is normalised as if the
   * missing features were there with zero weight. Plain L2 gives a one-word bag the same norm as a
   * paragraph, so the handful of character n-grams of "shoot" or "wait", learnt as small parts of long
   * requests, carried a whole request's confidence (0.87 autonomous_lethal_action for "shoot"). The
   * floor shrinks short inputs towards the bias, i.e. the prior, which favours `general`, and leaves
   * anything of normal length alone. It is applied only here, not in training: training with it let
   * the model grow larger weights to fit its short examples and undid most of the effect. The value
   * is chosen on dev plus the everyday held-out set (data/classify/README.md).
   */
  private toProbs(acc: Float64Array, n: number): void {
    const { scale, bias } = this.model;
    const z = this.probs;
    const x = n > 0 ? 1 / Math.sqrt(Math.max(n, this.model.minEvidence)) : 0;
    for (let k = 0; k < this.K; k++) z[k] = (bias[k] as number) + (acc[k] as number) * (scale[k] as number) * x;
    softmax(z);
  }

  private redOf(p: Float64Array): number {
    let m = 0;
    for (let i = 0; i < this.redIdx.length; i++) {
      const k = this.redIdx[i] as number;
      if (k >= 0 && (p[k] as number) > m) m = p[k] as number;
    }
    return m;
  }

  private topIsRed(p: Float64Array): boolean {
    let top = 0;
    for (let k = 1; k < this.K; k++) if ((p[k] as number) > (p[top] as number)) top = k;
    for (let i = 0; i < this.redIdx.length; i++) if (this.redIdx[i] === top) return true;
    return false;
  }

  private result(truncated: boolean): Classification {
    const scores = {} as Record<UseLabel, number>;
    let top: UseLabel = 'general';
    let best = -1;
    for (let k = 0; k < this.K; k++) {
      const u = this.toUse[k] as number;
      if (u < 0) continue;
      const label = USE_LABELS[u] as UseLabel;
      const p = this.probs[k] as number;
      scores[label] = p;
      if (p > best) {
        best = p;
        top = label;
      }
    }
    return { top, scores, truncated };
  }
}

function readModelFile(path: string): { file: ModelFile; version: string } {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    throw new RedlineError('CONFIG_INVALID', 'classifier model file cannot be read', { cause: e, details: { path } });
  }
  const version = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  try {
    return { file: JSON.parse(raw.toString('utf8')) as ModelFile, version };
  } catch (e) {
    throw new RedlineError('CONFIG_INVALID', 'classifier model file is not valid JSON', { cause: e, details: { path } });
  }
}

/** Loads a model file (default: the shipped one). Version = first 16 hex digits of its sha256. */
export function loadClassifier(modelPath?: string): UseClassifier {
  const path = modelPath ?? defaultModelPath();
  const { file, version } = readModelFile(path);
  let model: QuantisedModel;
  try {
    model = decodeModel(file);
  } catch (e) {
    throw new RedlineError('CONFIG_INVALID', 'classifier model file is malformed', { cause: e, details: { path } });
  }
  return new LinearUseClassifier(model, version);
}

/** Builds a classifier from an in-memory model (tests, tools); version is the hash of its JSON. */
export function classifierFromModel(file: ModelFile, opts: PassageOptions = DEFAULT_PASSAGES): UseClassifier {
  const version = createHash('sha256').update(JSON.stringify(file) + '\n').digest('hex').slice(0, 16);
  return new LinearUseClassifier(decodeModel(file), version, opts);
}

/**
 * The text the classifier reads from a neutral chat request: the system prompt and the text parts of
 * user turns. Assistant turns are the model's words, not the requester's purpose, so they are left
 * out. Tool results are data the tools returned; they are included only when asked, because they can
 * be long and attacker-supplied (a fetched web page can say anything).
 */
export function classifyInputOf(req: ChatRequest, opts: { includeToolResults?: boolean } = {}): ClassifyInput {
  const user: string[] = [];
  const toolResults: string[] = [];
  for (const m of req.messages) {
    if (m.role !== 'user') continue;
    const texts: string[] = [];
    for (const part of m.content) {
      if (part.type === 'text') texts.push(part.text);
      else if (part.type === 'tool_result' && opts.includeToolResults) {
        for (const c of part.content) if (c.type === 'text') toolResults.push(c.text);
      }
    }
    if (texts.length) user.push(texts.join('\n'));
  }
  const input: ClassifyInput = { user };
  if (req.system !== undefined && req.system !== '') input.system = req.system;
  if (opts.includeToolResults) input.toolResults = toolResults;
  return input;
}

/** Times classifyText over `iterations` runs (after a short warm-up) and returns p50/p99 in ms. */
export function benchClassifier(classifier: UseClassifier, text: string, iterations: number): { p50Ms: number; p99Ms: number } {
  const n = Math.max(1, Math.floor(iterations));
  const warm = Math.min(200, n);
  for (let i = 0; i < warm; i++) classifier.classifyText(text);
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    classifier.classifyText(text);
    times[i] = Number(process.hrtime.bigint() - t0) / 1e6;
  }
  times.sort();
  const at = (q: number): number => times[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}
