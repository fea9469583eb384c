// Architecture variants chosen by config.json: an mlp<N>x_gelu connector and a tied LM head.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { MufunModel } from '../src/model/mufun.js';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../src/model/safetensors.js';
import { planSplice } from '../src/model/splice.js';
import { CHECKPOINT, FIXTURE, writeVariant } from './helpers/checkpoints.js';

const inputs = SafetensorsFile.open(join(FIXTURE, 'inputs.safetensors'));
const base = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors'));

/** y = x Wᵀ + b, row by row (the reference the graph must agree with). */
function linearRef(x: Float32Array, rows: number, w: Float32Array, b: Float32Array, inF: number, outF: number): Float32Array {
  const y = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let s = b[o];
      for (let i = 0; i < inF; i++) s += x[r * inF + i] * w[o * inF + i];
      y[r * outF + o] = s;
    }
  return y;
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, ample for a 1e-5 comparison). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return Math.sign(x) * y;
}
const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

function relErr(a: Float32Array, b: Float32Array): number {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) { n += (a[i] - b[i]) ** 2; d += b[i] ** 2; }
  return Math.sqrt(n / d);
}

describe('connector_type mlp2x_gelu', () => {
  it('computes Linear → GELU → Linear on the pooled features (nn.Sequential names 0 and 2)', async () => {
    const D = 64, inF = 128;
    const rnd = (n: number, s: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s) * 0.05);
    const w0 = rnd(D * inF, 1), b0 = rnd(D, 2), w2 = rnd(D * D, 3), b2 = rnd(D, 4);
    const dir = writeVariant({ config: (c) => (c.connector_type = 'mlp2x_gelu') });
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, e] of base.tensors) if (!name.startsWith('connector.')) tensors[name] = { dtype: 'F32', shape: e.shape, data: base.float32(name) };
    Object.assign(tensors, {
      'connector._connector.0.weight': { dtype: 'F32', shape: [D, inF], data: w0 },
      'connector._connector.0.bias': { dtype: 'F32', shape: [D], data: b0 },
      'connector._connector.2.weight': { dtype: 'F32', shape: [D, D], data: w2 },
      'connector._connector.2.bias': { dtype: 'F32', shape: [D], data: b2 },
    });
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    const model = MufunModel.load(dir, { noCache: true });
    const s = await model.audioEncoder(true);
    const feats = inputs.float32('tower.input_features');
    const r = await s.run({ input_features: new ort.Tensor('float32', feats, [1, 128, 3000]) });
    const pooled = r.pooled.data as Float32Array;
    const rows = 300;
    const want = linearRef(linearRef(pooled, rows, w0, b0, inF, D).map(gelu), rows, w2, b2, D, D);
    expect(r.audio_embeds.dims).toEqual([1, rows, D]);
    expect(relErr(r.audio_embeds.data as Float32Array, want)).toBeLessThan(1e-5);
    await model.release();
  });
});

describe('tie_word_embeddings', () => {
  it('a tied head projects onto embed_tokens: same logits as an untied copy of it', async () => {
    const ids = Array.from(inputs.int64('text.input_ids'), Number).slice(0, 12);
    const logits = async (dir: string) => {
      const m = MufunModel.load(dir, { noCache: true });
      const out = (await m.forward(planSplice([{ ids }], [], m.tokensPerClip), null)).logits.data as Float32Array;
      await m.release();
      return out;
    };
    const tied = writeVariant({ drop: ['language_model.lm_head.weight'], config: (c) => (c.text_config.tie_word_embeddings = true) });
    const untied = mkdtempSync(join(tmpdir(), 'mufun-untied-'));
    copyFileSync(join(tied, 'config.json'), join(untied, 'config.json'));
    const tensors: Record<string, TensorToWrite> = {};
    for (const [name, e] of base.tensors) tensors[name] = { dtype: 'F32', shape: e.shape, data: base.float32(name) };
    tensors['language_model.lm_head.weight'] = tensors['language_model.model.embed_tokens.weight'];
    writeSafetensors(join(untied, 'model.safetensors'), tensors);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const cfg = JSON.parse(readFileSync(join(untied, 'config.json'), 'utf8'));
    cfg.text_config.tie_word_embeddings = false;
    writeFileSync(join(untied, 'config.json'), JSON.stringify(cfg));
    expect(Array.from(await logits(tied))).toEqual(Array.from(await logits(untied)));
  });
});
