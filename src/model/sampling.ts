// Choosing the next token from logits, in transformers' order: repetition penalty →
// temperature → top-k → top-p → sample (or argmax when greedy). Seeded, so runs repeat.

export interface SamplingOptions {
  /** 0 (default) = greedy. */
  temperature?: number;
  /** keep the k most likely tokens (0 = all). */
  topK?: number;
  /** keep the smallest set whose probability reaches p (1 = all). */
  topP?: number;
  /** > 1 discourages tokens already generated (transformers' CTRL-style penalty). */
  repetitionPenalty?: number;
  seed?: number;
}

export class SamplingError extends Error {}

/**
 * Tokens more than this many nats (times the temperature) below the best carry < 4e-18 of the
 * mass at any top-p we accept: sampling never considers them (and the screened LM head need not
 * compute them exactly).
 */
export const FLOOR_NATS = 40;

export function checkSampling(o: SamplingOptions): void {
  const bad = (what: string) => {
    throw new SamplingError(what);
  };
  if (o.temperature !== undefined && !(o.temperature >= 0 && Number.isFinite(o.temperature))) bad(`temperature must be ≥ 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) bad(`top-k must be a whole number ≥ 0, got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad(`top-p must be in (0, 1], got ${o.topP}`);
  if (o.repetitionPenalty !== undefined && !(o.repetitionPenalty > 0 && Number.isFinite(o.repetitionPenalty))) {
    bad(`repetition penalty must be > 0, got ${o.repetitionPenalty}`);
  }
}

/** mulberry32: a small, fast PRNG with a 32-bit seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(x: Float32Array, offset = 0, n = x.length - offset): number {
  let best = offset;
  for (let i = offset + 1; i < offset + n; i++) if (x[i] > x[best]) best = i;
  return best - offset;
}

export class Sampler {
  private random: () => number;

  constructor(readonly o: SamplingOptions = {}) {
    checkSampling(o);
    this.random = rng(o.seed ?? (Math.random() * 2 ** 32) >>> 0);
  }

  get greedy(): boolean {
    return !this.o.temperature;
  }

  /** How far below the best logit a token can still be chosen: 0 when greedy. */
  get window(): number {
    return this.greedy ? 0 : FLOOR_NATS * this.o.temperature!;
  }

  /** The tokens whose logits the repetition penalty changes before choosing. */
  penalized(generated: readonly number[]): number[] {
    return (this.o.repetitionPenalty ?? 1) === 1 ? [] : [...new Set(generated)];
  }

  /** logits: one row of vocabulary scores (modified in place); generated: tokens so far. */
  next(logits: Float32Array, generated: readonly number[]): number {
    const penalty = this.o.repetitionPenalty ?? 1;
    if (penalty !== 1) {
      for (const t of new Set(generated)) logits[t] = logits[t] > 0 ? logits[t] / penalty : logits[t] * penalty;
    }
    if (this.greedy) return argmax(logits);
    const temp = this.o.temperature!;
    const candidates = this.candidates(logits);
    const max = logits[candidates[0]];
    const probs = candidates.map((i) => Math.exp((logits[i] - max) / temp));
    let total = probs.reduce((a, b) => a + b, 0);
    const topP = this.o.topP ?? 1;
    let keep = probs.length;
    if (topP < 1) {
      // candidates are sorted by logit: keep the shortest prefix reaching topP
      let acc = 0;
      for (let i = 0; i < probs.length; i++) {
        acc += probs[i] / total;
        if (acc >= topP) {
          keep = i + 1;
          break;
        }
      }
      total = probs.slice(0, keep).reduce((a, b) => a + b, 0);
    }
    let r = this.random() * total;
    for (let i = 0; i < keep; i++) {
      r -= probs[i];
      if (r <= 0) return candidates[i];
    }
    return candidates[keep - 1];
  }

  /** Token ids worth considering, most likely first. */
  private candidates(logits: Float32Array): number[] {
    const k = this.o.topK ?? 0;
    const max = logits[argmax(logits)];
    const temp = this.o.temperature!;
    // Tokens below the window are dropped before sorting (sorting all 151k logits per token would dominate).
    const floor = max - FLOOR_NATS * temp;
    let ids: number[] = [];
    for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
    ids.sort((a, b) => logits[b] - logits[a]);
    if (k > 0 && ids.length > k) ids = ids.slice(0, k);
    return ids;
  }
}
