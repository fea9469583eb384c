// LoRA in PEFT's format: each targeted nn.Linear of the LLM gains
//   y = W x + (alpha / r) · B (A (dropout(x)))      A: [r, in], B: [out, r]
// Adapters load from and save to adapter_config.json + adapter_model.safetensors with PEFT's
// names (base_model.model.<module>.lora_A.weight), so they move to and from PyTorch.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WeightSource } from './checkpoint.js';
import type { Value } from './ir/graph.js';
import { linear, mulScalar } from './ir/ops.js';
import { rng } from './sampling.js';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from './safetensors.js';

export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  /** module names (last path component) that get adapters, e.g. q_proj, down_proj */
  targetModules: string[];
}

export const ALL_LINEAR_QWEN3 = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

/** What Params needs to add adapters to linear layers. */
export interface LoraAttachment {
  targets(key: string): boolean;
  update(x: Value, key: string, inF: number, outF: number): Value;
}

const LLM_PREFIX = 'language_model.';

/** PEFT's parameter name for the adapter of the linear layer `key` (a MuFun checkpoint name). */
export function peftName(key: string, part: 'lora_A' | 'lora_B'): string {
  return `base_model.model.${key.slice(LLM_PREFIX.length)}.${part}.weight`;
}

export class LoraError extends Error {}

export function readAdapterConfig(dir: string): LoraSpec {
  const p = join(dir, 'adapter_config.json');
  if (!existsSync(p)) throw new LoraError(`${dir}: no adapter_config.json (not a PEFT LoRA adapter)`);
  let c: Record<string, any>;
  try {
    c = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new LoraError(`${p}: malformed JSON (${(e as Error).message})`);
  }
  if (c.peft_type && c.peft_type !== 'LORA') throw new LoraError(`${p}: peft_type ${c.peft_type} is not LORA`);
  if (c.use_dora || c.use_rslora) throw new LoraError(`${p}: DoRA and rsLoRA adapters are not supported`);
  const targets = typeof c.target_modules === 'string' ? [c.target_modules] : c.target_modules;
  if (!Array.isArray(targets) || !targets.length) throw new LoraError(`${p}: target_modules is missing`);
  return { r: c.r, alpha: c.lora_alpha, dropout: c.lora_dropout ?? 0, targetModules: targets };
}

/**
 * Adapters on the LLM's targeted linear layers, their weights from `source` (an adapter's
 * safetensors) or initialised as PEFT does (A: kaiming-uniform, B: zeros; the update starts at 0).
 */
export function loraAttachment(spec: LoraSpec, source: WeightSource | null, seed = 0): LoraAttachment {
  const init = (name: string, shape: number[]) => loraInit(name, shape, seed);
  const tensor = (x: Value, name: string, shape: number[]) => {
    if (source && !source.has(name)) throw new LoraError(`adapter has no tensor ${name}`);
    if (source && source.shape(name).join() !== shape.join()) {
      throw new LoraError(`adapter tensor ${name} has shape [${source.shape(name)}], expected [${shape}] (r = ${spec.r})`);
    }
    return x.graph.weight(name, 'float32', shape, () => (source ? source.float32(name) : init(name, shape)));
  };
  return {
    targets: (key) => key.startsWith(LLM_PREFIX) && spec.targetModules.includes(key.slice(key.lastIndexOf('.') + 1)),
    update(x, key, inF, outF) {
      const A = tensor(x, peftName(key, 'lora_A'), [spec.r, inF]);
      const B = tensor(x, peftName(key, 'lora_B'), [outF, spec.r]);
      const dropped = spec.dropout > 0 ? dropout(x, spec.dropout) : x;
      return mulScalar(linear(linear(dropped, A, null, inF, spec.r), B, null, spec.r, outF), spec.alpha / spec.r);
    },
  };
}

/** PEFT's initialisation: A kaiming-uniform (a = √5) on fan_in, B zeros, so training starts from the base model. */
export function loraInit(name: string, shape: number[], seed: number): Float32Array {
  const n = shape[0] * shape[1];
  if (name.includes('lora_B')) return new Float32Array(n);
  const bound = 1 / Math.sqrt(shape[1]);
  const rnd = rng(seed ^ hash(name));
  return Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * bound);
}

/** Training-mode dropout (ONNX Dropout with its mask output, so autodiff can route the gradient). */
function dropout(x: Value, ratio: number): Value {
  const g = x.graph;
  const [y] = g.opN('Dropout', [x, g.scalar(ratio), g.constant([1], 'bool', [])], {}, 2);
  return g.annotate(y, x.shape);
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** A PEFT adapter folder as a weight source (names as stored: base_model.model.….lora_A.weight). */
export function openAdapter(dir: string): { spec: LoraSpec; weights: SafetensorsFile } {
  const spec = readAdapterConfig(dir);
  const p = join(dir, 'adapter_model.safetensors');
  if (!existsSync(p)) throw new LoraError(`${dir}: no adapter_model.safetensors`);
  return { spec, weights: SafetensorsFile.open(p) };
}

/** Writes a PEFT adapter folder from trained tensors named as peftName gives them. */
export function saveAdapter(dir: string, spec: LoraSpec, tensors: Record<string, { shape: number[]; data: Float32Array }>): void {
  mkdirSync(dir, { recursive: true });
  const config = {
    peft_type: 'LORA', task_type: 'CAUSAL_LM', r: spec.r, lora_alpha: spec.alpha, lora_dropout: spec.dropout,
    target_modules: spec.targetModules, bias: 'none', fan_in_fan_out: false, inference_mode: true,
    init_lora_weights: true, use_dora: false, use_rslora: false, modules_to_save: null,
    base_model_name_or_path: null, revision: null,
  };
  writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(config, null, 2));
  const out: Record<string, TensorToWrite> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = { dtype: 'F32', shape: t.shape, data: t.data };
  writeSafetensors(join(dir, 'adapter_model.safetensors'), out, { format: 'pt' });
}
