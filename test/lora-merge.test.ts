// mufun lora merge: the fixture's PEFT adapter merged into the fixture checkpoint gives the same
// text logits as the base model with the adapter attached (Params + loraAttachment), as one
// file or as shards with an index, in the base's dtype; MuFun's PyTorch (whole-model) adapter
// names map to the same weights; bad adapters fail with what is wrong.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loraCommand } from '../src/cli/commands/lora.js';
import { Params } from '../src/model/arch/params.js';
import { Checkpoint } from '../src/model/checkpoint.js';
import { LLM_PREFIX, batchInputs, languageModel } from '../src/model/graphs.js';
import { Graph } from '../src/model/ir/graph.js';
import { loraAttachment, openAdapter } from '../src/model/lora.js';
import { adapterPairs, f32ToBf16, mergeLora } from '../src/model/lora-merge.js';
import { MufunModel } from '../src/model/mufun.js';
import { createSession } from '../src/model/runtime.js';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../src/model/safetensors.js';
import { planSplice } from '../src/model/splice.js';
import { CHECKPOINT, f32ToBf16 as refBf16, writeVariant } from './helpers/checkpoints.js';

const ADAPTER = join(CHECKPOINT, 'lora');
const IDS = [3, 17, 250, 9, 77, 401, 12, 5, 300, 42, 128, 7];
const tmp = () => mkdtempSync(join(tmpdir(), 'lora-merge-'));

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Text logits of the base model with the adapter attached to its linear layers. */
async function attachedLogits(baseDir: string, adapterDir: string): Promise<Float32Array> {
  const ck = Checkpoint.open(baseDir);
  const model = MufunModel.load(baseDir, { noCache: true });
  const { spec, weights } = openAdapter(adapterDir);
  const cfg = model.config;
  const g = new Graph('llm_lora_attached');
  const root = Params.root(g, ck, 'float32', null, loraAttachment(spec, weights));
  const b = batchInputs(g);
  const audio = g.input('audio_embeds', 'float32', ['audio_rows', cfg.llm.hiddenSize]);
  const { logits } = languageModel(root.sub(LLM_PREFIX), cfg, b, audio, { past: null, rows: null });
  root.check('attached');
  g.output(logits, 'logits', 'float32', ['batch', 'seq', cfg.llm.vocabSize]);
  const s = await createSession(g, `${ck.sourceId()}|${weights.sourceId()}`, { noCache: true });
  const plan = planSplice([{ ids: IDS }], [], model.tokensPerClip);
  const out = await s.run(model.feeds(plan, null));
  await s.release();
  await model.release();
  ck.close();
  weights.close();
  return out.logits.data as Float32Array;
}

async function mergedLogits(dir: string): Promise<Float32Array> {
  const model = MufunModel.load(dir, { noCache: true });
  const { logits } = await model.forward(planSplice([{ ids: IDS }], [], model.tokensPerClip), null);
  await model.release();
  return logits.data as Float32Array;
}

let reference: Float32Array;
let baseLogits: Float32Array;
beforeAll(async () => {
  reference = await attachedLogits(CHECKPOINT, ADAPTER);
  baseLogits = await mergedLogits(CHECKPOINT);
});

describe('mergeLora', () => {
  it('gives the logits of the attached adapter (rel. err ≤ 1e-5), and they differ from the base model\'s', async () => {
    const out = join(tmp(), 'merged');
    const r = await mergeLora(CHECKPOINT, ADAPTER, out);
    expect(r.merged.length).toBe(14); // 2 layers × 7 linear layers
    expect(r.shards).toEqual(['model.safetensors']);
    expect(r.scale).toBe(8 / 4);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
    expect(existsSync(join(out, 'model.safetensors.index.json'))).toBe(false);
    const logits = await mergedLogits(out);
    expect(relErr(logits, reference)).toBeLessThanOrEqual(1e-5);
    expect(relErr(baseLogits, reference)).toBeGreaterThan(1e-3); // the adapter does change the model
  });

  it('computes W + (alpha/r)·B·A exactly as a float64 product does, and copies every other tensor bit for bit', async () => {
    const out = join(tmp(), 'merged');
    await mergeLora(CHECKPOINT, ADAPTER, out);
    const base = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors'));
    const merged = SafetensorsFile.open(join(out, 'model.safetensors'));
    const { weights } = openAdapter(ADAPTER);
    const name = 'language_model.model.layers.1.mlp.down_proj.weight';
    const [O, I] = base.shape(name);
    const W = base.float32(name), A = weights.float32('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight');
    const B = weights.float32('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    const r = A.length / I;
    const want = new Float32Array(O * I);
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * I + i];
        want[o * I + i] = W[o * I + i] + 2 * s;
      }
    }
    expect(relErr(merged.float32(name), want)).toBeLessThan(1e-6);
    expect(merged.names().sort()).toEqual(base.names().sort());
    const untouched = 'vision_tower._vision_tower.layers.0.fc1.weight';
    expect(Buffer.compare(merged.raw(untouched), base.raw(untouched))).toBe(0);
    [base, merged, weights].forEach((f) => f.close());
  });

  it('writes shards with an index when the weights exceed --max-shard-size, with the same logits', async () => {
    const out = join(tmp(), 'sharded');
    const r = await mergeLora(CHECKPOINT, ADAPTER, out, { maxShardBytes: 400_000 });
    expect(r.shards.length).toBeGreaterThan(2);
    expect(r.shards[0]).toBe(`model-00001-of-${String(r.shards.length).padStart(5, '0')}.safetensors`);
    const index = JSON.parse(readFileSync(join(out, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(r.bytes);
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(r.shards));
    for (const s of r.shards) {
      const f = SafetensorsFile.open(join(out, s));
      const bytes = [...f.tensors.values()].reduce((n, t) => n + t.end - t.begin, 0);
      // each shard within the limit unless it holds a single larger tensor
      expect(bytes <= 400_000 || f.tensors.size === 1).toBe(true);
      f.close();
    }
    expect(relErr(await mergedLogits(out), reference)).toBeLessThanOrEqual(1e-5);
  });

  it('keeps a bf16 base in bf16 (merged tensors rounded to nearest even), copying config and tokenizer files', async () => {
    const dir = writeVariant({ dtype: 'BF16' });
    writeFileSync(join(dir, 'tokenizer.json'), '{}');
    writeFileSync(join(dir, 'tokenizer_config.json'), '{}');
    const out = join(tmp(), 'bf16');
    await mergeLora(dir, ADAPTER, out);
    const f = SafetensorsFile.open(join(out, 'model.safetensors'));
    expect(new Set([...f.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    f.close();
    expect(existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'tokenizer_config.json'))).toBe(true);
    const x = Float32Array.from([1, -2.5, 1 + 2 ** -8, 1 + 3 * 2 ** -9, 3.14159, -1e-20, 65504.7]);
    expect(Array.from(f32ToBf16(x))).toEqual(Array.from(refBf16(x)));
    const out32 = join(tmp(), 'f32');
    await mergeLora(dir, ADAPTER, out32, { dtype: 'F32' });
    const g = SafetensorsFile.open(join(out32, 'model.safetensors'));
    expect(g.entry('language_model.model.layers.0.self_attn.q_proj.weight').dtype).toBe('F32');
    expect(g.entry('language_model.model.embed_tokens.weight').dtype).toBe('BF16');
    g.close();
  });

  it('maps the adapter names of MuFun\'s PyTorch LoRA recipe (PEFT over the whole TinyLLaVA model) to the same weights', async () => {
    const src = SafetensorsFile.open(join(ADAPTER, 'adapter_model.safetensors'));
    const renamed: Record<string, TensorToWrite> = {};
    for (const n of src.names()) {
      renamed[n.replace('base_model.model.', 'base_model.model.language_model.').replace('.weight', '.default.weight')] = { dtype: 'F32', shape: src.shape(n), data: src.float32(n) };
    }
    src.close();
    const dir = tmp();
    writeSafetensors(join(dir, 'adapter_model.safetensors'), renamed);
    copyFileSync(join(ADAPTER, 'adapter_config.json'), join(dir, 'adapter_config.json'));
    const out = join(tmp(), 'merged');
    const r = await mergeLora(CHECKPOINT, dir, out);
    expect(r.merged.length).toBe(14);
    expect(relErr(await mergedLogits(out), reference)).toBeLessThanOrEqual(1e-5);
  });

  it('refuses adapters that do not fit, unknown tensors, and a non-empty output folder', async () => {
    const has = (n: string) => n === 'language_model.model.layers.0.mlp.up_proj.weight';
    expect(() => adapterPairs(['base_model.model.model.layers.0.mlp.up_proj.lora_A.weight'], has)).toThrow(/lora_B missing/);
    expect(() => adapterPairs(['base_model.model.model.layers.9.mlp.up_proj.lora_A.weight'], has)).toThrow(/base model does not have/);
    expect(() => adapterPairs(['base_model.model.lm_head.modules_to_save.weight'], has)).toThrow(/not LoRA A\/B/);
    const wrongR = tmp();
    copyFileSync(join(ADAPTER, 'adapter_model.safetensors'), join(wrongR, 'adapter_model.safetensors'));
    const cfg = JSON.parse(readFileSync(join(ADAPTER, 'adapter_config.json'), 'utf8'));
    writeFileSync(join(wrongR, 'adapter_config.json'), JSON.stringify({ ...cfg, r: 8 }));
    await expect(mergeLora(CHECKPOINT, wrongR, join(tmp(), 'x'))).rejects.toThrow(/has A \[4,.*\(r = 8\)/);
    await expect(mergeLora(CHECKPOINT, tmp(), join(tmp(), 'x'))).rejects.toThrow(/no adapter_config.json/);
    const full = tmp();
    mkdirSync(join(full, 'x'));
    await expect(mergeLora(CHECKPOINT, ADAPTER, full)).rejects.toThrow(/not empty/);
    await expect(mergeLora(CHECKPOINT, ADAPTER, CHECKPOINT)).rejects.toThrow(/new folder/);
  });
});

describe('mufun lora merge', () => {
  it('merges and prints a JSON summary', async () => {
    const out = join(tmp(), 'cli');
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
    try {
      await loraCommand().exitOverride().parseAsync(['merge', '--model', CHECKPOINT, '--adapter', ADAPTER, '--out', out, '--max-shard-size', '1MB'], { from: 'user' });
    } finally {
      spy.mockRestore();
    }
    const j = JSON.parse(lines.join('\n'));
    expect(j).toMatchObject({ out, mergedTensors: 14, scale: 2 });
    expect(j.shards.length).toBeGreaterThan(1);
    expect(relErr(await mergedLogits(out), reference)).toBeLessThanOrEqual(1e-5);
  });
});

