// AdamW as PyTorch defines it (decoupled weight decay, bias correction) with global-norm
// clipping, checked against a direct transcription of the update.
import { describe, expect, it } from 'vitest';
import { AdamW } from '../src/model/train/adamw.js';
import { lrAt, schedule } from '../src/model/train/schedule.js';

function reference(p: number[], grads: number[][], lr: number, o: { wd: number; clip: number }) {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const m = p.map(() => 0), v = p.map(() => 0);
  grads.forEach((g0, i) => {
    const t = i + 1;
    const norm = Math.sqrt(g0.reduce((a, x) => a + x * x, 0));
    const c = o.clip > 0 ? Math.min(1, o.clip / (norm + 1e-6)) : 1;
    p.forEach((_, j) => {
      const g = g0[j] * c;
      m[j] = b1 * m[j] + (1 - b1) * g;
      v[j] = b2 * v[j] + (1 - b2) * g * g;
      p[j] *= 1 - lr * o.wd;
      p[j] -= (lr * (m[j] / (1 - b1 ** t))) / (Math.sqrt(v[j] / (1 - b2 ** t)) + eps);
    });
  });
  return p;
}

describe('AdamW', () => {
  it('matches the PyTorch update over several steps, with weight decay and clipping', async () => {
    const p0 = [0.5, -1, 2, 0.1];
    const grads = [[0.3, -2, 5, 0], [1, 1, -1, 0.5], [-0.2, 0.1, 3, 2]];
    const want = reference([...p0], grads, 0.01, { wd: 0.1, clip: 1 });
    const opt = await AdamW.create(4, { weightDecay: 0.1, maxGradNorm: 1 });
    const p = Float32Array.from(p0);
    let norm = 0;
    for (const g of grads) norm = await opt.step(p, Float32Array.from(g), 0.01);
    Array.from(p).forEach((x, i) => expect(x).toBeCloseTo(want[i], 5));
    expect(norm).toBeCloseTo(Math.sqrt(0.04 + 0.01 + 9 + 4), 4);
  });
});

describe('learning-rate schedules', () => {
  it('warm up linearly over ceil(ratio · total) steps, then decay', () => {
    const s = schedule('cosine', 1e-3, 100, 0.03);
    expect(s.warmupSteps).toBe(3);
    expect(lrAt(s, 0)).toBe(0);
    expect(lrAt(s, 3)).toBeCloseTo(1e-3);
    expect(lrAt(s, 100)).toBeCloseTo(0);
    expect(lrAt(schedule('linear', 1, 10, 0), 5)).toBeCloseTo(0.5);
    expect(lrAt(schedule('constant', 1, 10, 0.5), 9)).toBe(1);
  });
});
