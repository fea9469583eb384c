// The screened LM head (arch/head-screen.ts) makes the float32 model's choices: the int8 copy's
// logits stay within their stated bound of the float32 ones on the real kernel, the logits it
// keeps are the float32 logits, nothing that could be chosen is left out, and decoding through
// it gives the full head's tokens (greedy, sampled, with a repetition penalty, in groups).
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approximateLogits } from '../src/model/arch/head-screen.js';
import { Params } from '../src/model/arch/params.js';
import type { WeightSource } from '../src/model/checkpoint.js';
import { generateGroup, generateTokens, screenFeeds } from '../src/model/generate.js';
import { Graph } from '../src/model/ir/graph.js';
import { exportOnnx } from '../src/model/ir/onnx.js';
import { linear } from '../src/model/ir/ops.js';
import { MufunModel } from '../src/model/mufun.js';
import { Sampler, type SamplingOptions } from '../src/model/sampling.js';
import { planSplice } from '../src/model/splice.js';
import { CHECKPOINT } from './helpers/checkpoints.js';

function randn(n: number, seed: number, std = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const r = () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * std);
}

describe('the int8 copy of the head', () => {
  it('stays within its bound of the float32 logits, for hidden states of every shape', async () => {
    const V = 3000, D = 512, rows = 6;
    const w = randn(V * D, 1, 0.02);
    for (let v = 0; v < V; v += 97) for (let k = 0; k < D; k += 61) w[v * D + k] *= 25; // outlier weights
    const x = randn(rows * D, 2);
    for (let k = 0; k < D; k++) {
      x[D + k] = Math.abs(x[D + k]); // all positive: errors cannot cancel
      x[2 * D + k] *= 1e-3; // tiny
      x[3 * D + k] = k % 50 === 0 ? 300 : x[3 * D + k]; // a few huge activations
      x[4 * D + k] = 1; // constant
    }
    const src: WeightSource = {
      has: (n) => n === 'head.weight', shape: () => [V, D], float32: () => w, names: () => ['head.weight'], sourceId: () => 'memory',
    };
    const g = new Graph('screen_bound');
    const p = Params.root(g, src);
    const xv = g.input('x', 'float32', [rows, D]);
    const { approx, bound } = approximateLogits(xv, p.screenCopy('head.weight', V, D), D, V);
    g.output(approx, 'approx', 'float32', [rows, V]);
    g.output(bound, 'bound', 'float32', [rows, V]);
    g.output(linear(xv, p.get('head.weight', [V, D]), null, D, V), 'exact', 'float32', [rows, V]);
    const s = await ort.InferenceSession.create(await exportOnnx(g), { intraOpNumThreads: 2 });
    const out = await s.run({ x: new ort.Tensor('float32', x, [rows, D]) });
    await s.release();
    const [a, b, e] = (['approx', 'bound', 'exact'] as const).map((n) => out[n].data as Float32Array);
    let worst = 0;
    for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(e[i] - a[i]) / b[i]);
    expect(worst).toBeLessThanOrEqual(1);
    expect(worst).toBeGreaterThan(0.01); // a bound, not a blanket
  });
});

describe('decoding through the screened head', () => {
  let full: MufunModel, screened: MufunModel;
  beforeAll(() => {
    full = MufunModel.load(CHECKPOINT, { noCache: true, threads: 2, headScreen: false });
    screened = MufunModel.load(CHECKPOINT, { noCache: true, threads: 2 });
  });
  afterAll(async () => {
    await full.release();
    await screened.release();
  });
  const ids = [5, 17, 99, 3, 250, 41, 7, 300, 12];
  const plan = () => planSplice([{ ids }], [], full.tokensPerClip);

  it('is the default on the CPU and gives the float32 logits of every token within the window', async () => {
    expect(screened.headScreen).toBe(true);
    const V = full.config.llm.vocabSize;
    const s = await screened.llm('generate'), f = await full.llm('generate');
    expect(s.inputNames).toEqual(expect.arrayContaining(['logits_window', 'always_ids']));
    const feeds = { ...screened.feeds(plan(), null), ...screened.newCache().feeds(), logits_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(ids.length - 1)), [1]) };
    const want = (await f.run(feeds)).logits.data as Float32Array;
    const top = want.indexOf(Math.max(...want));
    // the tokens lowered after the head (penalized, or stop tokens held back) may include the best
    // one: what must be kept is everything within the window of the best of the others
    for (const [o, always] of [[{}, []], [{ temperature: 0.1 }, []], [{ temperature: 0.5, repetitionPenalty: 1.2 }, [top, 42]], [{}, [top]]] as [SamplingOptions, number[]][]) {
      const sampler = new Sampler(o);
      const row = o.repetitionPenalty ? { sampler, generated: always } : { sampler, generated: [], held: always };
      const got = (await s.run({ ...feeds, ...screenFeeds(s, [row]) })).logits.data as Float32Array;
      const window = sampler.window;
      const best = Math.max(...Array.from(want).filter((_, v) => !always.includes(v)));
      let kept = 0;
      for (let v = 0; v < V; v++) {
        if (got[v] === -Infinity) {
          expect(want[v], `token ${v} left out`).toBeLessThan(best - window);
          expect(always).not.toContain(v);
        } else {
          kept++;
          expect(Math.abs(got[v] - want[v])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[v])));
        }
      }
      if (!o.temperature) expect(kept).toBeLessThan(V / 4); // greedy leaves most of the vocabulary out
    }
  });

  async function tokens(model: MufunModel, o: SamplingOptions & { maxNewTokens: number; minNewTokens?: number; stopTokens?: number[] }): Promise<number[]> {
    const out: number[] = [];
    for await (const t of generateTokens(model, plan(), null, model.newCache(), o)) out.push(t);
    return out;
  }

  it('decodes the same tokens as the full head: greedy, sampled, with a repetition penalty', async () => {
    for (const o of [
      { maxNewTokens: 24 },
      { maxNewTokens: 24, temperature: 0.8, topP: 0.95, seed: 3 },
      { maxNewTokens: 24, temperature: 1.2, topK: 40, repetitionPenalty: 1.5, seed: 9 },
      { maxNewTokens: 24, repetitionPenalty: 2 },
    ]) {
      expect(await tokens(screened, o), JSON.stringify(o)).toEqual(await tokens(full, o));
    }
  });

  it('holds stop tokens back (minNewTokens) exactly as the full head does, even when one is the best token', async () => {
    const best = (await tokens(full, { maxNewTokens: 4 }))[0];
    const third = (await tokens(full, { maxNewTokens: 4 }))[2];
    for (const o of [
      { maxNewTokens: 16, minNewTokens: 8, stopTokens: [best, third] },
      { maxNewTokens: 16, minNewTokens: 8, stopTokens: [best], temperature: 0.7, seed: 5 },
    ]) {
      const want = await tokens(full, o);
      expect(want.slice(0, 8)).not.toContain(best);
      expect(await tokens(screened, o), JSON.stringify(o)).toEqual(want);
    }
    const group = { maxNewTokens: 10, minNewTokens: 6, stopTokens: [best], temperature: 0.9 };
    expect(await generateGroup(screened, plan(), null, [4, 5], group)).toEqual(await generateGroup(full, plan(), null, [4, 5], group));
  });

  it('decodes the same GRPO groups as the full head', async () => {
    const o = { maxNewTokens: 12, temperature: 1, repetitionPenalty: 1.1 };
    expect(await generateGroup(screened, plan(), null, [1, 2, 3], o)).toEqual(await generateGroup(full, plan(), null, [1, 2, 3], o));
  });
});
