// Weight-only int8/int4 quantization (MatMulNBits) and `mufun convert`: the block format
// round-trips within half a step, a quantized linear equals the float math on the
// dequantized weights, the fixture model stays close to float, and a converted folder
// loads and generates the same tokens as the in-memory quantized model, without re-export.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Params } from '../src/model/arch/params.js';
import type { WeightSource } from '../src/model/checkpoint.js';
import { ConvertError, convertModel } from '../src/model/convert.js';
import { ConvertedModelError, MANIFEST } from '../src/model/converted.js';
import { greedyTokens } from '../src/model/generate.js';
import { Graph } from '../src/model/ir/graph.js';
import { decodeOnnx, exportOnnx } from '../src/model/ir/onnx.js';
import { MufunModel } from '../src/model/mufun.js';
import { type QuantSpec, dequantize, quantSpec, quantize } from '../src/model/quant.js';
import type { RuntimeOptions } from '../src/model/runtime.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import { type SplicePlan, planSplice } from '../src/model/splice.js';
import { CHECKPOINT, FIXTURE } from './helpers/checkpoints.js';

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

function randn(n: number, seed: number, std = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * std);
}

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) (num += (a[i] - b[i]) ** 2), (den += b[i] ** 2);
  return Math.sqrt(num / den);
};

describe('blockwise quantization', () => {
  for (const bits of [4, 8] as const) {
    for (const [N, K, block] of [[5, 64, 32], [3, 50, 16], [4, 40, 32], [2, 20, 32]] as const) {
      it(`int${bits} [${N}, ${K}] blocks of ${block}: every element within half a step; padding decodes to 0`, () => {
        const w = randn(N * K, N * K + bits);
        w[3] = 0; // zero stays exact
        const q = quantize(w, N, K, bits, block);
        const blocks = Math.ceil(K / block);
        expect(q.data.length).toBe(N * blocks * (block * bits) / 8);
        expect(q.scales.length).toBe(N * blocks);
        expect(q.zeroPoints.length).toBe(N * Math.ceil((blocks * bits) / 8));
        const d = dequantize(q);
        expect(d[3]).toBe(0);
        for (let n = 0; n < N; n++) {
          for (let b = 0; b < blocks; b++) {
            const scale = q.scales[n * blocks + b];
            let worst = 0;
            for (let k = b * block; k < Math.min(K, (b + 1) * block); k++) worst = Math.max(worst, Math.abs(d[n * K + k] - w[n * K + k]));
            expect(worst, `row ${n} block ${b}`).toBeLessThanOrEqual(scale / 2 + 1e-7);
          }
        }
        // Padding past K holds the block's zero point (it stands for 0 in MatMulNBits).
        if (K % block) {
          const blob = (block * bits) / 8;
          const last = (blocks - 1) * blob;
          const zp = bits === 8 ? q.zeroPoints[blocks - 1] : (q.zeroPoints[(blocks - 1) >> 1] >> (4 * ((blocks - 1) & 1))) & 15;
          const code = (i: number) => (bits === 8 ? q.data[last + i] : (q.data[last + (i >> 1)] >> (4 * (i & 1))) & 15);
          for (let i = K % block; i < block; i++) expect(code(i)).toBe(zp);
        }
      });
    }
  }

  it('rejects block sizes MatMulNBits does not take', () => {
    expect(() => quantize(new Float32Array(48), 1, 48, 4, 24)).toThrow(/power of two/);
    expect(() => quantSpec('int4', 8)).toThrow(/≥ 16/);
  });
});

/** A WeightSource over in-memory tensors. */
function memorySource(tensors: Record<string, { shape: number[]; data: Float32Array }>): WeightSource {
  return {
    has: (n) => n in tensors,
    shape: (n) => tensors[n].shape,
    float32: (n) => tensors[n].data,
    names: () => Object.keys(tensors),
    sourceId: () => 'memory',
  };
}

describe('a quantized linear layer (MatMulNBits)', () => {
  for (const [bits, K, block] of [[8, 64, 32], [4, 64, 32], [4, 40, 32], [8, 50, 16], [4, 32, 64]] as const) {
    it(`int${bits}, K=${K}, blocks of ${block}: equals x·dequant(W)ᵀ + b (accuracy level 0) within 1e-5`, async () => {
      const M = 3, N = 24;
      const w = randn(N * K, 7 + K, 0.1);
      const b = randn(N, 9, 0.1);
      const x = randn(M * K, 11 + bits);
      const g = new Graph('qlinear');
      const spec: QuantSpec = { ...quantSpec(bits === 8 ? 'int8' : 'int4', block), accuracyLevel: 0 };
      const p = Params.root(g, memorySource({ 'fc.weight': { shape: [N, K], data: w }, 'fc.bias': { shape: [N], data: b } }), 'float32', spec);
      const y = p.linear(g.input('x', 'float32', [1, M, K]), 'fc', K, N, { bias: true });
      g.output(y, 'y', 'float32', [1, M, N]);
      p.check('qlinear');
      const bytes = await exportOnnx(g);
      const model = decodeOnnx(bytes);
      expect(model.opsetImport).toContainEqual({ domain: 'com.microsoft', version: 1 });
      expect(model.graph.node.some((n: any) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft')).toBe(true);

      const s = await ort.InferenceSession.create(bytes);
      const got = (await s.run({ x: new ort.Tensor('float32', x, [1, M, K]) })).y.data as Float32Array;
      await s.release();
      const wd = dequantize(quantize(w, N, K, bits, block));
      const ref = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let acc = b[n];
          for (let k = 0; k < K; k++) acc += x[m * K + k] * wd[n * K + k];
          ref[m * N + n] = acc;
        }
      }
      expect(relErr(got, ref)).toBeLessThanOrEqual(1e-5);
    });
  }
});

// --- the fixture model -------------------------------------------------------------

interface Run {
  logits: Float32Array;
  tokens: number[];
}

function textRows(): number[][] {
  const inputs = SafetensorsFile.open(join(FIXTURE, 'inputs.safetensors'));
  const [B, T] = inputs.entry('text.input_ids').shape;
  const ids = Array.from(inputs.int64('text.input_ids'), Number);
  inputs.close();
  return Array.from({ length: B }, (_, b) => ids.slice(b * T, (b + 1) * T));
}

async function runFixtureModel(runtime: RuntimeOptions): Promise<Run> {
  const model = MufunModel.load(CHECKPOINT, { noCache: true, threads: 2, ...runtime });
  try {
    const rows = textRows();
    const r = await model.forward(planSplice(rows.map((ids) => ({ ids })), [], model.tokensPerClip), null);
    const tokens = await greedyTokens(model, planSplice([{ ids: rows[0] }], [], model.tokensPerClip), null, 12);
    return { logits: r.logits.data as Float32Array, tokens };
  } finally {
    await model.release();
  }
}

describe('the fixture model, LLM weight-only quantized', () => {
  const runs: Record<string, Run> = {};
  beforeAll(async () => {
    runs.float32 = await runFixtureModel({});
    runs.int8 = await runFixtureModel({ quant: 'int8' });
    runs.int4 = await runFixtureModel({ quant: 'int4' });
    runs.int8_b128 = await runFixtureModel({ quant: 'int8', quantBlockSize: 128 });
  });

  it('int8: logits within 3e-2 of float32, greedy tokens identical', () => {
    const e = relErr(runs.int8.logits, runs.float32.logits);
    console.log(`fixture logits rel err: int8 ${e.toExponential(2)}`);
    expect(e).toBeLessThan(3e-2);
    expect(e).toBeGreaterThan(0); // it really ran quantized
    expect(runs.int8.tokens).toEqual(runs.float32.tokens);
  });

  it('int4: logits within 0.4 of float32 (random tiny weights: 4 bits lose far more), tokens reported', () => {
    const e = relErr(runs.int4.logits, runs.float32.logits);
    const same = runs.int4.tokens.filter((t, i) => t === runs.float32.tokens[i]).length;
    console.log(`fixture logits rel err: int4 ${e.toExponential(2)}; greedy tokens equal to float32: ${same}/${runs.int4.tokens.length}`);
    expect(e).toBeLessThan(0.4);
    expect(runs.int4.tokens.every((t) => Number.isInteger(t) && t >= 0 && t < 512)).toBe(true);
  });

  it('a block larger than K (K=64, 128-wide blocks, padded) still works', () => {
    const e = relErr(runs.int8_b128.logits, runs.float32.logits);
    console.log(`fixture logits rel err: int8, block 128 ${e.toExponential(2)}`);
    expect(e).toBeLessThan(5e-2);
  });
});

// --- mufun convert ------------------------------------------------------------------

/** A prompt with one <audio> (one 30 s clip) inside the fixture's text. */
function audioPlan(model: MufunModel): SplicePlan {
  const rows = textRows();
  const ids = [...rows[0].slice(0, 4), -200, ...rows[0].slice(4, 10)];
  return planSplice([{ ids }], [1], model.tokensPerClip);
}

async function tokensWithAudio(model: MufunModel): Promise<number[]> {
  const plan = audioPlan(model);
  const wave = Float32Array.from({ length: model.clipSamples }, (_, i) => 0.3 * Math.sin(i * 0.05) + 0.05 * Math.sin(i * 0.9));
  const audio = await model.encodeClips(await model.melClips(wave));
  return greedyTokens(model, plan, audio, 10);
}

describe('mufun convert', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mufun-convert-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('int4: a self-contained folder that loads without re-export and generates the in-memory tokens', async () => {
    const out = join(tmp, 'int4');
    const seen: number[] = [];
    const manifest = await convertModel(CHECKPOINT, out, { dtype: 'int4', onProgress: (p) => seen.push(p.tensors / p.totalTensors) });
    expect(seen.at(-1)).toBe(1);
    expect(manifest.quant).toMatchObject({ bits: 4, block_size: 32 });
    for (const f of ['audio_encoder.onnx', 'audio_encoder.onnx.data', 'llm_generate.onnx', 'llm_generate.onnx.data', 'config.json', MANIFEST]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readdirSync(out).some((f) => f.endsWith('.safetensors'))).toBe(false);

    const reference = MufunModel.load(CHECKPOINT, { noCache: true, threads: 2, quant: 'int4' });
    const cacheDir = join(tmp, 'cache');
    const converted = MufunModel.load(out, { threads: 2, cacheDir });
    try {
      expect(converted.converted?.manifest.dtype).toBe('int4');
      expect(converted.quant?.bits).toBe(4);
      const t0 = performance.now();
      const got = await tokensWithAudio(converted);
      const ms = performance.now() - t0;
      expect(got).toEqual(await tokensWithAudio(reference));
      console.log(`converted int4: tokens ${got.join(',')} in ${ms.toFixed(0)} ms (sessions opened from the folder)`);
      expect(existsSync(cacheDir), 'no exported-model cache written').toBe(false);

      // What needs float weights is refused, clearly.
      await expect(converted.forward(audioPlan(converted), null)).rejects.toThrow(ConvertedModelError);
      await expect(converted.audioEncoder(true)).rejects.toThrow(/converted model.*original Hugging Face folder/);
      expect(() => converted.weights.float32('language_model.lm_head.weight')).toThrow(ConvertedModelError);
    } finally {
      await converted.release();
      await reference.release();
    }
    expect(() => MufunModel.load(out, { quant: 'int8' })).toThrow(/converted to int4/);
  });

  it('float32: the converted folder matches the checkpoint exactly, tokenizer files travel along', async () => {
    // A source folder with tokenizer files next to the checkpoint.
    const src = join(tmp, 'src');
    cpSync(CHECKPOINT, src, { recursive: true });
    writeFileSync(join(src, 'tokenizer_config.json'), '{"chat_template": "x"}');
    writeFileSync(join(src, 'generation_config.json'), '{}');
    const out = join(tmp, 'f32');
    const m = await convertModel(src, out, { dtype: 'float32' });
    expect(m.quant).toBeNull();
    expect(m.files).toEqual(['config.json', 'tokenizer_config.json', 'generation_config.json']);
    expect(readFileSync(join(out, 'tokenizer_config.json'), 'utf8')).toContain('chat_template');
    const a = MufunModel.load(out, { threads: 2 });
    const b = MufunModel.load(CHECKPOINT, { noCache: true, threads: 2 });
    try {
      expect(await tokensWithAudio(a)).toEqual(await tokensWithAudio(b));
    } finally {
      await a.release();
      await b.release();
    }
  });

  it('float16: session dtype float16, float16 KV cache', async () => {
    const m = await convertModel(CHECKPOINT, join(tmp, 'f16'), { dtype: 'float16' });
    expect(m).toMatchObject({ dtype: 'float16', session_dtype: 'float16', quant: null });
    const model = MufunModel.load(join(tmp, 'f16'));
    expect(model.dtype).toBe('float16');
    await model.release();
  });

  it('refuses a non-empty output folder and a broken source, leaving nothing behind', async () => {
    await expect(convertModel(CHECKPOINT, join(tmp, 'int4'), { dtype: 'int8' })).rejects.toThrow(ConvertError);
    await expect(convertModel(join(tmp, 'nowhere'), join(tmp, 'x'), { dtype: 'int8' })).rejects.toThrow(/does not exist/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    await expect(convertModel(CHECKPOINT, join(tmp, 'y'), { dtype: 'int4', blockSize: 24 })).rejects.toThrow(/power of two/);
    expect(existsSync(join(tmp, 'y'))).toBe(false);
  });
});
