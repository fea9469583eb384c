// Random weights for a config alone (benchmarks: speed does not depend on the values).
// Norm weights are ones and everything else N(0, 0.02), like torch_mufun.py's bench.
import type { WeightSource } from './checkpoint.js';

export class SyntheticWeights implements WeightSource {
  constructor(private seed = 0) {}

  has(): boolean {
    return true;
  }

  shape(name: string): number[] {
    throw new Error(`synthetic weights have no stored shape for ${name}`);
  }

  float32(name: string): Float32Array {
    throw new Error(`synthetic weights are made by synthesize(), not read (${name})`);
  }

  names(): string[] {
    return [];
  }

  sourceId(): string {
    return `synthetic:${this.seed}`;
  }

  synthesize(name: string, shape: number[]): Float32Array {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (/norm\.weight$|layernorm\.weight$/.test(name)) return out.fill(1);
    // xorshift32 + Box-Muller: fast and deterministic per tensor name.
    let s = this.seed ^ 0x9e3779b9;
    for (let i = 0; i < name.length; i++) s = Math.imul(s ^ name.charCodeAt(i), 0x01000193) >>> 0;
    s ||= 1;
    const next = () => {
      s ^= s << 13; s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5; s >>>= 0;
      return (s + 1) / 4294967297;
    };
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(next())) * 0.02;
      const t = 2 * Math.PI * next();
      out[i] = r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = r * Math.sin(t);
    }
    return out;
  }
}
