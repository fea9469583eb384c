// Next-token choice: greedy is argmax; sampling is seeded and respects top-k, top-p,
// temperature and the repetition penalty.
import { describe, expect, it } from 'vitest';
import { Sampler } from '../src/model/sampling.js';

const logits = () => Float32Array.of(1, 3, 2, 0.5, 2.9);

function histogram(s: Sampler, n: number): number[] {
  const h = [0, 0, 0, 0, 0];
  for (let i = 0; i < n; i++) h[s.next(logits(), [])]++;
  return h;
}

describe('Sampler', () => {
  it('is greedy (argmax) at temperature 0', () => {
    expect(new Sampler().next(logits(), [])).toBe(1);
  });

  it('repeats exactly with the same seed and differs with another', () => {
    const a = histogram(new Sampler({ temperature: 1, seed: 7 }), 200);
    expect(histogram(new Sampler({ temperature: 1, seed: 7 }), 200)).toEqual(a);
    expect(histogram(new Sampler({ temperature: 1, seed: 8 }), 200)).not.toEqual(a);
  });

  it('follows softmax(logits / T) when unrestricted', () => {
    const n = 20000;
    const h = histogram(new Sampler({ temperature: 1, seed: 1 }), n);
    const z = Array.from(logits(), Math.exp);
    const sum = z.reduce((a, b) => a + b, 0);
    z.forEach((p, i) => expect(h[i] / n).toBeCloseTo(p / sum, 1));
  });

  it('top-k keeps only the k most likely tokens', () => {
    const h = histogram(new Sampler({ temperature: 1, topK: 2, seed: 3 }), 2000);
    expect(h[0] + h[2] + h[3]).toBe(0);
    expect(h[1]).toBeGreaterThan(0);
    expect(h[4]).toBeGreaterThan(0);
  });

  it('top-p keeps the smallest set reaching p', () => {
    // p(1) ≈ 0.41, p(4) ≈ 0.37: together 0.78 ≥ 0.7, so only those two remain
    const h = histogram(new Sampler({ temperature: 1, topP: 0.7, seed: 4 }), 2000);
    expect(h[0] + h[2] + h[3]).toBe(0);
  });

  it('the repetition penalty divides positive and multiplies negative logits of generated tokens', () => {
    const x = Float32Array.of(2, -1, 1.9);
    expect(new Sampler({ repetitionPenalty: 1.2 }).next(x, [0, 1])).toBe(2);
    expect(x[0]).toBeCloseTo(2 / 1.2);
    expect(x[1]).toBeCloseTo(-1.2);
  });

  it('rejects nonsense settings', () => {
    expect(() => new Sampler({ temperature: -1 })).toThrow(/temperature/);
    expect(() => new Sampler({ topP: 0 })).toThrow(/top-p/);
    expect(() => new Sampler({ topK: 1.5 })).toThrow(/top-k/);
  });
});
