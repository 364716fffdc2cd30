// Hashed n-gram features for the use classifier.
//
// Text is scanned once, code unit by code unit. Each word (a run of letters/digits) yields a unigram,
// a bigram with the previous word and the character 3- and 4-grams of the word padded with boundary
// marks; every feature is hashed straight into one of 2^bits buckets (the hashing trick), so there is
// no vocabulary to ship and unseen words still land somewhere. Char n-grams let inflections and typos
// ("surveil", "surveilling", "survellance") share weight with the forms seen in training.
//
// Hashing is a hand-written FNV-1a over UTF-16 code units, finished with murmur3's fmix32: we hash
// substrings in place while scanning, and no library hash does that without first slicing a string
// (which is the allocation we are avoiding on the request path). FNV-1a alone mixes its low bits
// poorly, hence the murmur finaliser before masking.
//
// The extractor owns two preallocated buffers (the feature list and a "seen in this text" stamp per
// bucket), so extraction allocates nothing per call. Features are binary (present or not) and the
// model scales their sum by 1/sqrt(count), i.e. an L2-normalised binary bag.

export interface FeatureConfig {
  /** log2 of the number of hash buckets. */
  bits: number;
  /** Smallest and largest character n-gram length; 0 disables char n-grams. */
  charMin: number;
  charMax: number;
  /** Word bigrams on or off. */
  bigrams: boolean;
}

export const DEFAULT_FEATURES: FeatureConfig = { bits: 18, charMin: 3, charMax: 4, bigrams: true };

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Distinct seeds keep a unigram "fire" apart from the char n-gram "fire" and from bigrams.
const NS_WORD = 0x9e3779b1;
const NS_BIGRAM = 0x85ebca6b;
const NS_CHAR = 0xc2b2ae35;
/** Longest word whose char n-grams we take; longer runs (base64, hashes) only give a unigram. */
const MAX_WORD = 24;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Lower-cased, folded code unit, or -1 for a separator. Digits all fold to '0' so warrant numbers,
 * grid references and dates share features instead of each being a rare word. Non-ASCII code units
 * count as word characters (Cyrillic capitals are folded; other scripts are left as they are).
 */
function fold(c: number): number {
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c + 32;
  if (c >= 48 && c <= 57) return 48;
  if (c < 128) return c === 39 ? -2 : -1; // apostrophe: dropped inside a word ("don't" -> "dont")
  if (c >= 0x410 && c <= 0x42f) return c + 32;
  if (c === 0x2019) return -2; // typographic apostrophe
  if (c >= 0x2000 && c <= 0x206f) return -1; // general punctuation (dashes, quotes, spaces)
  if (c === 0xa0 || c === 0x3000 || (c >= 0x3001 && c <= 0x303f) || (c >= 0xff01 && c <= 0xff0f)) return -1;
  return c;
}

export class FeatureExtractor {
  readonly config: FeatureConfig;
  readonly dim: number;
  private readonly mask: number;
  private readonly stamp: Uint32Array;
  private generation = 0;
  private feats: Int32Array;
  private count = 0;
  private readonly word = new Uint16Array(MAX_WORD + 2);

  constructor(config: FeatureConfig = DEFAULT_FEATURES) {
    this.config = config;
    this.dim = 1 << config.bits;
    this.mask = this.dim - 1;
    this.stamp = new Uint32Array(this.dim);
    this.feats = new Int32Array(4096);
  }

  /** Starts a new bag; features added from here on are deduplicated against each other only. */
  begin(): void {
    this.generation = (this.generation + 1) >>> 0;
    if (this.generation === 0) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    this.count = 0;
  }

  /** Adds the features of text[start, end) to the current bag. Separate calls do not form bigrams across. */
  add(text: string, start = 0, end = text.length): void {
    const cfg = this.config;
    const word = this.word;
    let prev = 0;
    let havePrev = false;
    let h = FNV_OFFSET;
    let len = 0;
    for (let i = start; i <= end; i++) {
      const c = i < end ? fold(text.charCodeAt(i)) : -1;
      if (c === -2) continue;
      if (c >= 0) {
        h = Math.imul(h ^ c, FNV_PRIME);
        if (len < MAX_WORD) word[len + 1] = c;
        len++;
        continue;
      }
      if (len === 0) continue;
      const wh = h >>> 0;
      this.push(fmix32(wh ^ NS_WORD));
      if (cfg.bigrams && havePrev) this.push(fmix32(Math.imul(prev, 0x2c1b3c6d) ^ wh ^ NS_BIGRAM));
      if (cfg.charMin > 0 && len <= MAX_WORD && len >= 2) this.charGrams(len);
      prev = wh;
      havePrev = true;
      h = FNV_OFFSET;
      len = 0;
    }
  }

  private charGrams(len: number): void {
    const w = this.word;
    w[0] = 60; // '<'
    w[len + 1] = 62; // '>'
    const total = len + 2;
    const { charMin, charMax } = this.config;
    // One FNV run per start position, emitting at each length from charMin to charMax, so the cost
    // is charMax steps per position rather than charMin + ... + charMax. A gram as long as the whole
    // padded word would repeat the unigram, so it is skipped.
    for (let s = 0; s + charMin <= total; s++) {
      let g = FNV_OFFSET;
      const stop = Math.min(s + charMax, total);
      for (let j = s; j < stop; j++) {
        g = Math.imul(g ^ (w[j] as number), FNV_PRIME);
        const n = j - s + 1;
        if (n >= charMin && n < total) this.push(fmix32(g ^ NS_CHAR));
      }
    }
  }

  private push(hash: number): void {
    const b = hash & this.mask;
    if (this.stamp[b] === this.generation) return;
    this.stamp[b] = this.generation;
    if (this.count === this.feats.length) {
      const grown = new Int32Array(this.feats.length * 2);
      grown.set(this.feats);
      this.feats = grown;
    }
    this.feats[this.count++] = b;
  }

  /** Number of distinct buckets in the current bag. */
  size(): number {
    return this.count;
  }

  /** The current bag's buckets; a view over the internal buffer, valid until the next begin(). */
  view(): Int32Array {
    return this.feats.subarray(0, this.count);
  }

  /** One-shot: the distinct buckets of a text, copied out (for training). */
  extract(text: string): Int32Array {
    this.begin();
    this.add(text);
    return this.view().slice();
  }
}
