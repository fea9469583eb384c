// Fused kernels (the default for inference graphs): RMSNorm as onnxruntime's
// SimplifiedLayerNormalization and RoPE as com.microsoft.RotaryEmbedding, and on the CPU the
// decode graph's attention as com.microsoft.GroupQueryAttention. The fixture tests run the fused
// graphs; here the plain ones (RuntimeOptions.fused: false) meet the same tolerances, and the
// GroupQueryAttention graph computes what the plain attention does, cache reuse included.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { compareFixture, runFixture } from '../src/model/fixture.js';
import { buildLlmGraph } from '../src/model/graphs.js';
import { LLM_VARIANTS, MufunModel } from '../src/model/mufun.js';
import type { RuntimeOptions } from '../src/model/runtime.js';
import { planSplice } from '../src/model/splice.js';

const DIR = join(import.meta.dirname, 'fixtures', 'public-a');

describe('fused kernels', () => {
  it('the fused generate graph has one node per RMSNorm and per rotation', () => {
    const m = MufunModel.load(join(DIR, 'checkpoint'), { noCache: true });
    const count = (fused: boolean) => {
      const g = buildLlmGraph(m.config, m.weights, { ...LLM_VARIANTS.generate, fused });
      const n = (op: string) => g.nodes.filter((x) => x.op === op).length;
      return { nodes: g.nodes.length, norms: n('SimplifiedLayerNormalization'), rotations: n('RotaryEmbedding') };
    };
    const plain = count(false), fused = count(true);
    expect(plain.norms + plain.rotations).toBe(0);
    expect(fused.norms).toBe(4 * m.config.llm.layers + 1); // input, post-attention, q and k norms; the final norm
    expect(fused.rotations).toBe(2 * m.config.llm.layers); // queries and keys
    expect(fused.nodes).toBeLessThan(plain.nodes - 4 * fused.norms - 4 * fused.rotations);
  });

  it('the training graph (loss) stays unfused: autodiff knows only standard ops', () => {
    const m = MufunModel.load(join(DIR, 'checkpoint'), { noCache: true });
    const g = buildLlmGraph(m.config, m.weights, { ...LLM_VARIANTS.loss, fused: true });
    expect(g.nodes.some((n) => n.op === 'SimplifiedLayerNormalization')).toBe(false);
  });

  it('text logits and greedy tokens match transformers with the plain graphs too', async () => {
    const report = compareFixture(await runFixture(DIR, { noCache: true, fused: false }), join(DIR, 'expected.safetensors'));
    const names = Object.keys(report.cases).filter((n) => /^(text|gen)\./.test(n));
    expect(names).toEqual(expect.arrayContaining(['text.logits', 'gen.tokens']));
    for (const n of names) expect(report.cases[n].ok, `${n}: ${report.cases[n].error}`).toBe(true);
  });

  it('GroupQueryAttention (CPU decode graph) gives the plain attention\'s logits: prefill, decode, a prompt on top of the cache', async () => {
    const run = async (fused: boolean) => {
      const m = MufunModel.load(join(DIR, 'checkpoint'), { noCache: true, fused, headScreen: false, threads: 2 });
      const s = await m.llm('generate');
      const cache = m.newCache();
      const logits: Float32Array[] = [];
      let past = 0;
      for (const ids of [[5, 17, 99, 3, 250, 41, 7], [12], [300, 2, 77, 9], [1]]) {
        const plan = planSplice([{ ids }], [], m.tokensPerClip);
        const feeds = m.feeds(plan, null);
        feeds.position_ids = new ort.Tensor('int64', plan.positionIds.map((p) => p + BigInt(past)), [1, ids.length]);
        feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(past + ids.length).fill(1n), [1, past + ids.length]);
        const out = await s.run({ ...feeds, ...cache.feeds(), logits_rows: new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [ids.length]) });
        cache.update(out);
        logits.push(Float32Array.from(out.logits.data as Float32Array));
        past += ids.length;
      }
      await m.release();
      return logits;
    };
    const [gqa, plain] = [await run(true), await run(false)];
    for (const [step, l] of gqa.entries()) {
      let worst = 0;
      for (let i = 0; i < l.length; i++) worst = Math.max(worst, Math.abs(l[i] - plain[step][i]));
      expect(worst, `step ${step}`).toBeLessThan(2e-5);
    }
  });

  it('the generation graph uses GroupQueryAttention on every provider unless turned off', () => {
    const layers = (o: RuntimeOptions) => {
      const m = MufunModel.load(join(DIR, 'checkpoint'), { noCache: true, ...o });
      return buildLlmGraph(m.config, m.weights, m.llmGraphOptions('generate')).nodes.filter((n) => n.op === 'GroupQueryAttention').length;
    };
    expect(layers({})).toBe(2);
    expect(layers({ ep: 'webgpu' })).toBe(2);
    expect(layers({ ep: 'webgpu', dtype: 'float16' })).toBe(2);
    expect(layers({ gqa: false })).toBe(0);
    expect(layers({ fused: false })).toBe(0);
  });

  it('inference graphs run each linear layer as one MatMul on a transposed weight; training graphs keep the checkpoint\'s layout', () => {
    const m = MufunModel.load(join(DIR, 'checkpoint'), { noCache: true });
    const gen = buildLlmGraph(m.config, m.weights, { ...LLM_VARIANTS.generate, fused: true });
    const loss = buildLlmGraph(m.config, m.weights, { ...LLM_VARIANTS.loss, fused: true });
    const has = (g: typeof gen, suffix: string) => [...g.initializers.keys()].some((n) => n.endsWith(suffix));
    const q = 'layers.0.self_attn.q_proj.weight';
    expect(has(gen, `${q}.T`) && !has(gen, q)).toBe(true);
    expect(has(loss, q) && !has(loss, `${q}.T`)).toBe(true);
    expect(has(gen, 'lm_head.weight.T')).toBe(true); // this model's head is its own tensor
    expect(gen.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(0);
    // a tied head reads the embedding table as it is (a transposed copy would double the largest tensor)
    const tied = MufunModel.fromConfig({ ...m.config.raw, text_config: { ...m.config.raw.text_config, tie_word_embeddings: true } }, m.weights);
    const tg = buildLlmGraph(tied.config, tied.weights, { ...LLM_VARIANTS.generate, fused: true });
    expect(has(tg, 'embed_tokens.weight.T')).toBe(false);
    expect(tg.nodes.filter((n) => n.op === 'Gemm')).toHaveLength(1);
  });
});
