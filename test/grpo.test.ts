// GRPO: the loss graph against TRL's formula on a hand-computed case (2 prompts × 2
// generations × 3 tokens), and a real run on a learnable task (tones, "high" or "low").
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/model/ir/autodiff.js';
import { Graph } from '../src/model/ir/graph.js';
import { exportOnnx } from '../src/model/ir/onnx.js';
import { pruneDeadNodes } from '../src/model/ir/prune.js';
import { grpoLoss } from '../src/model/train/grpo-graph.js';
import { grpoTokenWeights } from '../src/model/train/grpo.js';
import { groupAdvantages } from '../src/model/train/rewards.js';

const B = 4, T = 3;

async function lossAndGrad(logps: number[], old: number[], ref: number[], mask: number[], adv: number[], weights: Float32Array, beta: number, eps: number) {
  const g = new Graph('grpo_loss');
  const lp = g.input('logps', 'float32', [B, T]);
  const f = (n: string) => g.input(n, 'float32', [B, T]);
  const s = (n: string) => g.input(n, 'float32', []);
  const loss = grpoLoss(lp, {
    mask: g.input('mask', 'bool', [B, T]), oldLogps: f('old'), refLogps: f('ref'), weights: f('w'),
    advantages: g.input('adv', 'float32', [B]), beta: s('beta'), epsilonLow: s('el'), epsilonHigh: s('eh'),
  });
  g.output(loss, 'loss', 'float32', []);
  g.output(gradients(g, loss, [lp]).get('logps')!, 'grad', 'float32', [B, T]);
  pruneDeadNodes(g);
  const sess = await ort.InferenceSession.create(await exportOnnx(g));
  const t = (x: number[] | Float32Array) => new ort.Tensor('float32', Float32Array.from(x), [B, T]);
  const sc = (x: number) => new ort.Tensor('float32', Float32Array.of(x), []);
  const out = await sess.run({
    logps: t(logps), old: t(old), ref: t(ref), w: t(weights), mask: new ort.Tensor('bool', Uint8Array.from(mask), [B, T]),
    adv: new ort.Tensor('float32', Float32Array.from(adv), [B]), beta: sc(beta), el: sc(eps), eh: sc(eps),
  });
  return { loss: (out.loss.data as Float32Array)[0], grad: Array.from(out.grad.data as Float32Array) };
}

describe('GRPO loss', () => {
  // 2 prompts × 2 generations; row 1 has 2 completion tokens, row 2 one, the others three.
  const mask = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1];
  const logps = [-0.5, -1.2, -0.1, -2.0, -0.3, -7.0, -0.9, -50, -60, -1.5, -0.05, -0.7];
  const ref = [-0.6, -1.0, -0.2, -1.7, -0.4, 0, -1.1, 0, 0, -1.2, -0.1, -0.9];
  // old: ratios 1.5 (clipped up), 0.7 (clipped down), 1 and 1.1 (inside)
  const old = logps.map((l, i) => l - [Math.log(1.5), Math.log(0.7), 0, Math.log(1.1)][i % 4]);
  const rewards = [1, 0, 0.2, 1];
  const beta = 0.04, eps = 0.2;

  it('advantages: (r − mean) / (std + 1e-4) within each group', () => {
    const a = groupAdvantages(rewards, 2);
    const s1 = Math.sqrt(0.5 ** 2 * 2), s2 = Math.sqrt(0.4 ** 2 * 2);
    expect(a[0]).toBeCloseTo(0.5 / (s1 + 1e-4), 6);
    expect(a[1]).toBeCloseTo(-0.5 / (s1 + 1e-4), 6);
    expect(a[2]).toBeCloseTo(-0.4 / (s2 + 1e-4), 6);
    expect(a[3]).toBeCloseTo(0.4 / (s2 + 1e-4), 6);
  });

  for (const lossType of ['grpo', 'bnpo', 'dr_grpo'] as const) {
    it(`loss and gradient equal TRL's formula by hand (${lossType})`, async () => {
      const A = groupAdvantages(rewards, 2);
      const w = grpoTokenWeights(Uint8Array.from(mask), B, T, lossType, 5, [true, true, true, true]);
      const lens = [3, 2, 1, 3];
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
        const want = !mask[b * T + t] ? 0 : lossType === 'grpo' ? 1 / (lens[b] * B) : lossType === 'bnpo' ? 1 / 9 : 1 / (B * 5);
        expect(w[b * T + t]).toBeCloseTo(want, 7);
      }
      let loss = 0;
      const grad: number[] = [];
      for (let i = 0; i < B * T; i++) {
        const b = Math.floor(i / T);
        if (!mask[i]) {
          grad.push(0);
          continue;
        }
        const r = Math.exp(logps[i] - old[i]);
        const rc = Math.min(Math.max(r, 1 - eps), 1 + eps);
        const inside = r >= 1 - eps && r <= 1 + eps ? 1 : 0;
        const u = r * A[b], c = rc * A[b];
        const k = Math.exp(ref[i] - logps[i]) - (ref[i] - logps[i]) - 1;
        loss += w[i] * (-Math.min(u, c) + beta * k);
        // d/dlogp: ratio' = ratio; the smaller term carries it (the clipped one only inside the bounds)
        const dpg = u < c ? -A[b] * r : c < u ? -A[b] * r * inside : -0.5 * A[b] * r * (1 + inside);
        grad.push(w[i] * (dpg + beta * (1 - Math.exp(ref[i] - logps[i]))));
      }
      const got = await lossAndGrad(logps, old, ref, mask, A, w, beta, eps);
      expect(got.loss).toBeCloseTo(loss, 5);
      got.grad.forEach((v, i) => expect(v, `grad[${i}]`).toBeCloseTo(grad[i], 5));
    });
  }

  it('first pass over a batch (old = current): the gradient is −A·w (+ the KL term)', async () => {
    const A = groupAdvantages(rewards, 2);
    const w = grpoTokenWeights(Uint8Array.from(mask), B, T, 'grpo', 5, [true, true, true, true]);
    const got = await lossAndGrad(logps, logps, ref, mask, A, w, 0, eps);
    got.grad.forEach((v, i) => expect(v).toBeCloseTo(mask[i] ? -A[Math.floor(i / T)] * w[i] : 0, 6));
    // with equal old and current log-probs the policy term is −Σ A·w = −mean over sequences of A
    expect(got.loss).toBeCloseTo(-A.reduce((s, a) => s + a, 0) / B, 5);
  });

  it('a group left out (zero weights) contributes nothing', async () => {
    const A = groupAdvantages(rewards, 2);
    const w = grpoTokenWeights(Uint8Array.from(mask), B, T, 'grpo', 5, [false, false, true, true]);
    expect(Array.from(w.slice(0, 2 * T)).every((x) => x === 0)).toBe(true);
    expect(w[2 * T]).toBeCloseTo(1 / (1 * 2), 7);
    const got = await lossAndGrad(logps, old, ref, mask, A, w, beta, eps);
    expect(got.grad.slice(0, 2 * T).every((x) => x === 0)).toBe(true);
  });
});
