// The memory estimate before loading (src/main/memory.ts), against models whose shapes we know:
// the fixture checkpoint, its bf16 copy, a float16 conversion of it, and the embedded MuFun-nano.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertModel } from '../src/model/convert.js';
import { describeModel } from '../src/model/describe.js';
import { estimateMemory } from '../src/main/memory.js';
import { describeFolder } from '../src/main/models.js';
import { CHECKPOINT, writeVariant } from './helpers/checkpoints.js';

const NANO = join(import.meta.dirname, '..', 'resources', 'mufun-nano');

describe('estimateMemory', () => {
  it('the fixture checkpoint: float32 weights, KV cache for 2048 positions, one clip through the tower', async () => {
    const { parameters } = await describeModel(CHECKPOINT);
    const e = estimateMemory(CHECKPOINT);
    // qwen3: 2 layers × 2 KV heads × head_dim 16; max_position_embeddings 2048
    const kv = 2 * 2 * 2 * 16 * 2048 * 4;
    // whisper: T = 1500 frames, 128 mel bins, 4 heads, ffn 64, d_model 32, 4 feature layers
    const audio = 4 * (128 * 2 * 1500 + 4 * 1500 * 1500 + 1500 * 64 + (4 + 3) * 1500 * 32);
    expect(e).toEqual({
      weightsBytes: parameters * 4, kvCacheBytes: kv, audioBytes: audio, totalBytes: parameters * 4 + kv + audio,
      contextTokens: 2048, dtype: 'float32', diskBytes: expect.any(Number),
    });
    expect(kv).toBe(1_048_576);
    expect(audio).toBe(39_264_000);
    // the file holds float32 weights plus its header
    expect(e.diskBytes).toBe(parameters * 4);
    expect(statSync(join(CHECKPOINT, 'model.safetensors')).size).toBeGreaterThan(e.diskBytes);
  });

  it('a bf16 checkpoint loads at float32: same weights in memory, half on disk', () => {
    const bf16 = writeVariant({ dtype: 'BF16' });
    const a = estimateMemory(CHECKPOINT), b = estimateMemory(bf16);
    expect(b.weightsBytes).toBe(a.weightsBytes);
    expect(b.diskBytes).toBe(a.diskBytes / 2);
    expect(b.totalBytes).toBe(a.totalBytes);
  });

  it('MuFun-nano, the embedded model: 7.3 M parameters, a 1024-position context', async () => {
    const { parameters } = await describeModel(NANO);
    const e = estimateMemory(NANO);
    expect(parameters).toBeGreaterThan(7e6);
    expect(parameters).toBeLessThan(7.5e6);
    // 4 layers × 2 KV heads × head_dim 64, context = max_position_embeddings 1024
    expect(e.kvCacheBytes).toBe(2 * 4 * 2 * 64 * 1024 * 4);
    expect(e.contextTokens).toBe(1024);
    // T = 500, 80 mel bins, 4 heads, ffn 768, d_model 192, 4 feature layers
    expect(e.audioBytes).toBe(4 * (80 * 1000 + 4 * 500 * 500 + 500 * 768 + 7 * 500 * 192));
    expect(e.audioBytes).toBe(8_544_000);
    expect(e.weightsBytes).toBe(parameters * 4);
    expect(e.totalBytes).toBe(parameters * 4 + 4_194_304 + 8_544_000);
  });

  it('a converted folder: the weights as exported (float16), a float16 KV cache and tower', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mufun-mem-')), 'f16');
    const m = await convertModel(CHECKPOINT, out, { dtype: 'float16' });
    const e = estimateMemory(out);
    const data = Object.values(m.graphs).reduce((n, f) => n + statSync(join(out, `${f}.data`)).size, 0);
    expect(e.weightsBytes).toBe(data);
    expect(e.dtype).toBe('float16');
    const f32 = estimateMemory(CHECKPOINT);
    expect(e.kvCacheBytes).toBe(f32.kvCacheBytes / 2);
    expect(e.audioBytes).toBe(f32.audioBytes / 2);
    // roughly half the float32 weights (the graphs hold a few extra constants: the RoPE tables of the fused kernels)
    expect(e.weightsBytes).toBeLessThan(f32.weightsBytes * 0.6);
    // and the converted folder describes itself (parameters from the folder it came from)
    const info = await describeFolder(out);
    expect(info.parameters).toBe((await describeModel(CHECKPOINT)).parameters);
    expect(info.llm.layers).toBe(2);
  });

  it('a folder that is not a model says why', () => {
    expect(() => estimateMemory(mkdtempSync(join(tmpdir(), 'mufun-mem-empty-')))).toThrow(/no config\.json/);
  });
});
