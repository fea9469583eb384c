// A new MuFun checkpoint with freshly initialised weights, as transformers initialises its
// modules: linear and embedding weights N(0, 0.02), biases 0, norm weights 1, and Whisper's
// sinusoidal position table. For models trained from scratch (MuFun-nano). One departure: the
// tower's two convolutions keep their input's scale (std 1/√fan_in). With transformers' 0.02
// their output is ~20× smaller than the position table, so a fresh tower says almost the same
// thing for every sound (embeddings of different clips 1.7 % apart), and training must first
// dig the sound out of the noise.
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightSource } from './checkpoint.js';
import { buildAudioEncoderGraph, buildLlmGraph } from './graphs.js';
import { resolveConfig } from './registry.js';
import { rng } from './sampling.js';
import { type TensorToWrite, writeSafetensors } from './safetensors.js';

/** Records every tensor the graphs ask for (name and shape) without reading anything. */
class ShapeRecorder implements WeightSource {
  readonly shapes = new Map<string, number[]>();
  has = () => true;
  shape(name: string): number[] {
    return this.shapes.get(name)!;
  }
  float32(): Float32Array {
    throw new Error('shape recorder holds no values');
  }
  names = () => [...this.shapes.keys()];
  sourceId = () => 'shape-recorder';
  synthesize(name: string, shape: number[]): Float32Array {
    return new Float32Array(shape.reduce((a, b) => a * b, 1));
  }
}

/** Whisper's fixed position table: sin then cos of positions × geometric timescales (in float32, as torch). */
export function whisperSinusoids(length: number, channels: number): Float32Array {
  const half = channels / 2;
  const inc = Math.log(10000) / (half - 1);
  const f = Math.fround;
  const inv = Array.from({ length: half }, (_, i) => f(Math.exp(f(-inc * i))));
  const out = new Float32Array(length * channels);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const x = f(t * inv[i]);
      out[t * channels + i] = Math.sin(x);
      out[t * channels + half + i] = Math.cos(x);
    }
  }
  return out;
}

export function initialWeights(rawConfig: Record<string, any>, seed = 0): Record<string, TensorToWrite> {
  const cfg = resolveConfig(rawConfig);
  const rec = new ShapeRecorder();
  for (const g of [buildAudioEncoderGraph(cfg, rec), buildLlmGraph(cfg, rec, { kvCache: false, logits: 'all', loss: false })]) {
    for (const [name, shape] of g.checkpointTensors) rec.shapes.set(name, shape);
  }
  const rnd = rng(seed);
  const normal = (n: number, std: number) => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i += 2) {
      const r = Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * std;
      const t = 2 * Math.PI * rnd();
      out[i] = r * Math.cos(t);
      if (i + 1 < n) out[i + 1] = r * Math.sin(t);
    }
    return out;
  };
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, shape] of [...rec.shapes].sort(([a], [b]) => a.localeCompare(b))) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (name.endsWith('embed_positions.weight')) data = whisperSinusoids(shape[0], shape[1]);
    else if (name.endsWith('.bias')) data = new Float32Array(n);
    else if (/norm\.weight$|layernorm\.weight$/.test(name)) data = new Float32Array(n).fill(1);
    else if (/conv\d\.weight$/.test(name) && shape.length === 3) data = normal(n, 1 / Math.sqrt(shape[1] * shape[2]));
    else data = normal(n, 0.02);
    tensors[name] = { dtype: 'F32', shape, data };
  }
  return tensors;
}

/** Writes config.json, model.safetensors and the tokenizer files (copied from tokenizerDir). */
export function initCheckpoint(rawConfig: Record<string, any>, outDir: string, tokenizerDir: string | null, seed = 0): { parameters: number } {
  if (existsSync(join(outDir, 'model.safetensors'))) throw new Error(`${outDir} already has a model.safetensors`);
  const tensors = initialWeights(rawConfig, seed);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(rawConfig, null, 1));
  writeSafetensors(join(outDir, 'model.safetensors'), tensors, { format: 'pt' });
  if (tokenizerDir) {
    for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'chat_template.jinja']) {
      if (existsSync(join(tokenizerDir, f))) copyFileSync(join(tokenizerDir, f), join(outDir, f));
    }
  }
  return { parameters: Object.values(tensors).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0) };
}
