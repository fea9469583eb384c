// Fused kernels (the default for inference graphs): RMSNorm as onnxruntime's
// SimplifiedLayerNormalization and RoPE as com.microsoft.RotaryEmbedding. The fixture tests run
// the fused graphs; here the plain ones (RuntimeOptions.fused: false) meet the same tolerances.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareFixture, runFixture } from '../src/model/fixture.js';
import { buildLlmGraph } from '../src/model/graphs.js';
import { LLM_VARIANTS, MufunModel } from '../src/model/mufun.js';

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
});
