// Variants of the fixture checkpoint, written to temp folders: other dtypes, shards,
// config styles, and broken ones.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SafetensorsFile, type StDType, type TensorToWrite, f32ToF16, writeSafetensors } from '../../src/model/safetensors.js';

export const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'public-a');
export const CHECKPOINT = join(FIXTURE, 'checkpoint');

/** f32 → bf16 bits, round to nearest even (as torch's .to(torch.bfloat16)). */
export function f32ToBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  return Uint16Array.from(u, (b) => (b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
}

export interface Variant {
  dtype?: 'F32' | 'F16' | 'BF16';
  shards?: number;
  drop?: string[];
  reshape?: Record<string, number[]>;
  config?: (c: Record<string, any>) => void;
}

export function writeVariant(v: Variant): string {
  const dir = mkdtempSync(join(tmpdir(), 'mufun-ckpt-'));
  const src = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors'));
  const tensors: Record<string, TensorToWrite> = {};
  for (const [name, e] of src.tensors) {
    if (v.drop?.includes(name)) continue;
    const x = src.float32(name);
    const shape = v.reshape?.[name] ?? e.shape;
    const dtype: StDType = v.dtype ?? 'F32';
    const data = dtype === 'F32' ? x : dtype === 'F16' ? f32ToF16(x) : f32ToBf16(x);
    tensors[name] = { dtype, shape, data };
  }
  src.close();
  const names = Object.keys(tensors);
  const n = v.shards ?? 1;
  if (n === 1) {
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
  } else {
    const weightMap: Record<string, string> = {};
    for (let s = 0; s < n; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
      const part: Record<string, TensorToWrite> = {};
      names.filter((_, i) => i % n === s).forEach((k) => ((part[k] = tensors[k]), (weightMap[k] = file)));
      writeSafetensors(join(dir, file), part);
    }
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  }
  const config = JSON.parse(readFileSync(join(CHECKPOINT, 'config.json'), 'utf8'));
  v.config?.(config);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 1));
  return dir;
}

export function copyCheckpoint(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mufun-ckpt-'));
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(CHECKPOINT, f), join(dir, f));
  return dir;
}

/** transformers-4 layout, as MuFun's published config: rope_theta directly in text_config. */
export function toTransformers4(c: Record<string, any>): void {
  c.text_config.rope_theta = c.text_config.rope_parameters.rope_theta;
  delete c.text_config.rope_parameters;
}
