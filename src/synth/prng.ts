// Seeded randomness for the synthetic data generator. Every random choice goes through a `Prng`
// built from (dataset seed, purpose, indices), so any clip can be regenerated on its own, in any
// order, in any process: the data set is a pure function of its seed. No Math.random anywhere.

/** 32-bit FNV-1a over a string: turns a purpose name ("clip", "balance:meter") into a salt. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Mixes 32-bit words into one well-spread 32-bit seed (murmur3's finalizer after each word). */
export function mixSeed(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = (h ^ (w >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    h = (h + 0x6d2b79f5) >>> 0;
  }
  return h >>> 0;
}

/** sfc32 (Chris Doty-Humphrey's small fast counting generator): 128-bit state, passes PractRand. */
export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = mixSeed(seed, 1);
    this.b = mixSeed(seed, 2);
    this.c = mixSeed(seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** A generator for one purpose: `Prng.for(seed, 'clip', split, index)`. */
  static for(seed: number, purpose: string, ...ints: number[]): Prng {
    return new Prng(mixSeed(seed, hashString(purpose), ...ints));
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** Uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('pick from an empty list');
    return xs[Math.floor(this.float() * xs.length)];
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(xs: readonly T[]): T[] {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

/**
 * Class `k` of `numClasses` for item `index` of a stream, balanced in blocks: items
 * [b·K, (b+1)·K) take each class exactly once, in an order shuffled per block. So any prefix
 * of the stream has every class within one of its share, and item i's class depends only on
 * (seed, purpose, i): adding items never changes earlier ones.
 */
export function balancedClass(seed: number, purpose: string, index: number, numClasses: number): number {
  const block = Math.floor(index / numClasses);
  const order = Prng.for(seed, `balance:${purpose}`, block).shuffle([...Array(numClasses).keys()]);
  return order[index % numClasses];
}
