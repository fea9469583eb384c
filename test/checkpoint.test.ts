// Loading Hugging Face MuFun folders: both config styles, shards, bf16/f16 weights, and
// broken checkpoints that fail with a message naming the problem.
import { appendFileSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/model/registry.js';
import { MufunModel } from '../src/model/mufun.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import { planSplice } from '../src/model/splice.js';
import { CHECKPOINT, FIXTURE, copyCheckpoint, f32ToBf16, toTransformers4, writeVariant } from './helpers/checkpoints.js';

const expected = SafetensorsFile.open(join(FIXTURE, 'expected.safetensors'));
const inputs = SafetensorsFile.open(join(FIXTURE, 'inputs.safetensors'));

async function textLogits(dir: string): Promise<Float32Array> {
  const model = MufunModel.load(dir, { noCache: true });
  try {
    const ids = Array.from(inputs.int64('text.input_ids'), Number);
    const T = ids.length / 2;
    const plan = planSplice([{ ids: ids.slice(0, T) }, { ids: ids.slice(T) }], [], model.tokensPerClip);
    return (await model.forward(plan, null)).logits.data as Float32Array;
  } finally {
    await model.release();
  }
}

function relErr(a: Float32Array, b: Float32Array): number {
  let n = 0, d = 0;
  for (let i = 0; i < b.length; i++) {
    n += (a[i] - b[i]) ** 2;
    d += b[i] ** 2;
  }
  return Math.sqrt(n / d);
}

const rawConfig = () => JSON.parse(readFileSync(join(CHECKPOINT, 'config.json'), 'utf8'));

describe('config.json', () => {
  it('reads RoPE θ from transformers-5 rope_parameters and transformers-4 rope_theta alike', () => {
    const v5 = resolveConfig(rawConfig());
    const c4 = rawConfig();
    toTransformers4(c4);
    c4.text_config.rope_theta = 5e5;
    expect(v5.llm.ropeTheta).toBe(1e6);
    expect(resolveConfig(c4).llm.ropeTheta).toBe(5e5);
  });

  it("uses MuFun's hard-coded feature layers [0,7,15,32] and pool 5 when the config has none", () => {
    const c = rawConfig();
    delete c.audio_feature_layers;
    delete c.audio_pool_stride;
    c.vision_config.encoder_layers = 32;
    const cfg = resolveConfig(c);
    expect(cfg.audioFeatureLayers).toEqual([0, 7, 15, 32]);
    expect(cfg.audioPoolStride).toBe(5);
  });

  it('takes the clip length from max_source_positions', async () => {
    const c = rawConfig();
    c.vision_config.max_source_positions = 750;
    const { clipSamples } = await import('../src/model/config.js');
    expect(clipSamples(resolveConfig(c).audioTower)).toBe(240000); // 15 s
  });

  it('names an unknown architecture, connector or bad feature layer', () => {
    const llm = rawConfig();
    llm.text_config.model_type = 'qwen9';
    expect(() => resolveConfig(llm)).toThrow(/unknown LLM architecture "qwen9"/);
    const tower = rawConfig();
    tower.vision_config.model_type = 'clap';
    expect(() => resolveConfig(tower)).toThrow(/unknown audio tower "clap"/);
    const conn = rawConfig();
    conn.connector_type = 'qformer';
    expect(() => resolveConfig(conn)).toThrow(/connector/);
    const layers = rawConfig();
    layers.audio_feature_layers = [0, 9];
    expect(() => resolveConfig(layers)).toThrow(/audio_feature_layers has 9/);
  });
});

describe('weights', () => {
  it('sharded checkpoints with model.safetensors.index.json and a transformers-4 config give the same logits', async () => {
    const dir = writeVariant({ shards: 3, config: toTransformers4 });
    expect(relErr(await textLogits(dir), expected.float32('text.logits'))).toBeLessThan(1e-4);
  });

  it('widens bf16 exactly (the top half of the f32 bits)', () => {
    const x = Float32Array.of(1, -2.5, 3.14159, 1e-3, 65504);
    const dir = writeVariant({ dtype: 'BF16' });
    const f = SafetensorsFile.open(join(dir, 'model.safetensors'));
    const name = 'language_model.model.norm.weight';
    const orig = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors')).float32(name);
    const want = new Float32Array(new Uint32Array(Array.from(f32ToBf16(orig), (h) => h << 16)).buffer);
    expect(Array.from(f.float32(name))).toEqual(Array.from(want));
    expect(f32ToBf16(x).length).toBe(5);
  });

  it('runs bf16 and f16 checkpoints in float32 sessions, close to the f32 model', async () => {
    for (const dtype of ['BF16', 'F16'] as const) {
      const err = relErr(await textLogits(writeVariant({ dtype })), expected.float32('text.logits'));
      expect(err, dtype).toBeGreaterThan(0); // really the rounded weights…
      expect(err, dtype).toBeLessThan(dtype === 'BF16' ? 3e-2 : 3e-3); // …and still the same model
    }
  });
});

describe('broken checkpoints fail with a message that names the problem', () => {
  it('a missing tensor', () => {
    const dir = writeVariant({ drop: ['language_model.model.layers.1.mlp.up_proj.weight'] });
    expect(() => MufunModel.load(dir)).toThrow(/missing tensor language_model\.model\.layers\.1\.mlp\.up_proj\.weight/);
  });

  it('a tensor of the wrong shape', () => {
    const dir = writeVariant({ reshape: { 'connector._connector.linear2.bias': [2, 32] } });
    expect(() => MufunModel.load(dir)).toThrow(/connector\._connector\.linear2\.bias has shape \[2,32\], expected \[64\]/);
  });

  it('a truncated safetensors file', () => {
    const dir = copyCheckpoint();
    const f = join(dir, 'model.safetensors');
    truncateSync(f, statSync(f).size - 1000);
    expect(() => MufunModel.load(dir)).toThrow(/truncated: tensor .* ends at byte \d+ but the file has \d+/);
  });

  it('a file that is not safetensors, malformed config.json, or no config at all', () => {
    const dir = copyCheckpoint();
    writeFileSync(join(dir, 'model.safetensors'), 'this is not a tensor file at all');
    expect(() => MufunModel.load(dir)).toThrow(/model\.safetensors: header length .* truncated or not safetensors/);
    const cfg = copyCheckpoint();
    appendFileSync(join(cfg, 'config.json'), '}}');
    expect(() => MufunModel.load(cfg)).toThrow(/config\.json: malformed JSON/);
    expect(() => MufunModel.load('/nonexistent/model')).toThrow(/does not exist/);
  });

  it('a shard listed in the index that is missing', () => {
    const dir = writeVariant({ shards: 2 });
    const idx = JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8'));
    idx.weight_map['language_model.model.norm.weight'] = 'model-00009-of-00009.safetensors';
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify(idx));
    expect(() => MufunModel.load(dir)).toThrow(/shard model-00009-of-00009\.safetensors listed in the index is missing/);
  });
});
