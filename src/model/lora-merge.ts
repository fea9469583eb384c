// Merging a PEFT LoRA adapter into its base model: W' = W + (alpha / r) · B·A for every adapted
// linear layer, written as a Hugging Face MuFun folder that any MuFun loader opens without PEFT.
// Each B·A product runs in ONNX Runtime (one small MatMul graph, reused); tensors stream one at
// a time from the base safetensors into shards of at most 2 GB, so memory stays at one tensor.
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { isConverted } from './converted.js';
import { Graph, numel } from './ir/graph.js';
import { exportOnnx } from './ir/onnx.js';
import { add, matmul, mul } from './ir/ops.js';
import { LoraError, readAdapterConfig } from './lora.js';
import { SafetensorsFile, type StDType, f32ToF16, toFloat32 } from './safetensors.js';

export const DEFAULT_MAX_SHARD_BYTES = 2 * 1024 ** 3;

const ST_BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const FLOAT_TYPES = new Set<StDType>(['F32', 'F16', 'BF16', 'F64']);

export interface MergeOptions {
  /** shard size limit in bytes (default 2 GB); one shard is written as model.safetensors */
  maxShardBytes?: number;
  /** dtype of the merged (float) tensors: as stored in the base (default), or one for all */
  dtype?: 'keep' | 'F32' | 'F16' | 'BF16';
  /** tokenizer files from here when the model folder has none */
  tokenizerDir?: string;
  /** CPU threads for the MatMul session */
  threads?: number;
  /** write into a folder that already has files */
  force?: boolean;
  onTensor?: (name: string, done: number, total: number, merged: boolean) => void;
}

export interface MergeResult {
  /** base tensors that received an update */
  merged: string[];
  tensors: number;
  shards: string[];
  bytes: number;
  scale: number;
}

interface Pair {
  base: string;
  a: string;
  b: string;
}

/** Base weights by name across model.safetensors or the shards of model.safetensors.index.json. */
function openBase(dir: string): { files: SafetensorsFile[]; where: Map<string, SafetensorsFile> } {
  if (!existsSync(join(dir, 'config.json'))) throw new LoraError(`${dir}: no config.json (is this a MuFun model folder?)`);
  if (isConverted(dir)) throw new LoraError(`${dir} is a converted model (mufun convert); merge into the Hugging Face folder it came from`);
  const index = join(dir, 'model.safetensors.index.json');
  let shards: string[];
  if (existsSync(index)) {
    const map = JSON.parse(readFileSync(index, 'utf8')).weight_map as Record<string, string> | undefined;
    if (!map) throw new LoraError(`${index}: no weight_map`);
    shards = [...new Set(Object.values(map))];
  } else if (existsSync(join(dir, 'model.safetensors'))) {
    shards = ['model.safetensors'];
  } else {
    throw new LoraError(`${dir}: no model.safetensors or model.safetensors.index.json`);
  }
  const files = shards.map((s) => SafetensorsFile.open(join(dir, s)));
  const where = new Map<string, SafetensorsFile>();
  for (const f of files) for (const n of f.tensors.keys()) where.set(n, f);
  return { files, where };
}

/**
 * Adapter tensors → the base weights they update. PEFT names the adapter of a module M as
 * base_model.model.M.lora_A[.default].weight, with M relative to the model PEFT wrapped: the
 * LLM (what this engine saves: M = model.layers.…, base key language_model.M.weight) or the whole
 * TinyLLaVA model (MuFun's PyTorch LoRA recipe: M = language_model.model.layers.…).
 */
export function adapterPairs(adapterNames: readonly string[], hasBase: (name: string) => boolean): Pair[] {
  const pairs = new Map<string, Partial<Pair>>();
  const unknown: string[] = [];
  for (const n of adapterNames) {
    const m = /^base_model\.model\.(.+)\.(lora_A|lora_B)(?:\.default)?\.weight$/.exec(n);
    if (!m) {
      unknown.push(n);
      continue;
    }
    const candidates = [`language_model.${m[1]}.weight`, `${m[1]}.weight`].filter(hasBase);
    if (!candidates.length) throw new LoraError(`adapter tensor ${n} adapts ${m[1]}, which the base model does not have (neither language_model.${m[1]}.weight nor ${m[1]}.weight)`);
    const base = candidates[0];
    const p = pairs.get(base) ?? { base };
    if (m[2] === 'lora_A') p.a = n;
    else p.b = n;
    pairs.set(base, p);
  }
  if (unknown.length) {
    throw new LoraError(`adapter tensors that are not LoRA A/B matrices (modules_to_save, biases, DoRA magnitudes are not supported): ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}`);
  }
  const out: Pair[] = [];
  for (const p of pairs.values()) {
    if (!p.a || !p.b) throw new LoraError(`adapter for ${p.base} has lora_${p.a ? 'B' : 'A'} missing`);
    out.push(p as Pair);
  }
  return out;
}

/** W + scale · B·A as one ONNX graph with dynamic [out, in] and rank. */
async function mergeSession(threads?: number): Promise<ort.InferenceSession> {
  const g = new Graph('lora_merge');
  const w = g.input('w', 'float32', ['out', 'in']);
  const b = g.input('b', 'float32', ['out', 'r']);
  const a = g.input('a', 'float32', ['r', 'in']);
  const s = g.input('scale', 'float32', []);
  g.output(add(w, mul(matmul(b, a), s)), 'merged', 'float32', ['out', 'in']);
  const so: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' };
  if (threads) so.intraOpNumThreads = threads;
  return ort.InferenceSession.create(await exportOnnx(g), so);
}

/** f32 → bf16 bits, round to nearest even (as torch's .to(torch.bfloat16)); NaN stays NaN. */
export function f32ToBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < u.length; i++) {
    const v = u[i];
    out[i] = (v & 0x7fffffff) > 0x7f800000 ? (v >>> 16) | 0x40 : (v + 0x7fff + ((v >>> 16) & 1)) >>> 16;
  }
  return out;
}

function encode(x: Float32Array, dtype: StDType): Uint8Array {
  const t = dtype === 'F32' ? x : dtype === 'F16' ? f32ToF16(x) : dtype === 'BF16' ? f32ToBf16(x) : dtype === 'F64' ? Float64Array.from(x) : null;
  if (!t) throw new LoraError(`cannot write a merged tensor as ${dtype}`);
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

interface Planned {
  name: string;
  dtype: StDType;
  shape: number[];
  bytes: number;
}

/** Writes one safetensors file whose tensors are produced one at a time, in order. */
function writeShard(path: string, tensors: readonly Planned[], produce: (t: Planned) => Promise<Uint8Array>, metadata: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.bytes] };
    off += t.bytes;
  }
  const json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8;
  const hdr = Buffer.from(json + ' '.repeat(pad), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hdr.length));
  const fd = openSync(path, 'w');
  const writeAll = (b: Uint8Array) => {
    let done = 0;
    while (done < b.byteLength) done += writeSync(fd, b, done, b.byteLength - done);
  };
  return (async () => {
    try {
      writeAll(len);
      writeAll(hdr);
      for (const t of tensors) {
        const data = await produce(t);
        if (data.byteLength !== t.bytes) throw new LoraError(`internal: ${t.name} produced ${data.byteLength} bytes, planned ${t.bytes}`);
        writeAll(data);
      }
    } finally {
      closeSync(fd);
    }
  })();
}

const WEIGHT_FILE = /^(model.*\.safetensors|model\.safetensors\.index\.json|pytorch_model.*\.bin|pytorch_model\.bin\.index\.json|adapter_.*|mufun_converted\.json)$/;
const TOKENIZER_FILE = /^(tokenizer.*|vocab\.json|merges\.txt|special_tokens_map\.json|added_tokens\.json|chat_template\.(jinja|json))$/;

/**
 * Merges the PEFT adapter in `adapterDir` into the Hugging Face MuFun folder `modelDir`, writing
 * a new folder `outDir` (config, tokenizer and other files copied; weights merged and sharded).
 */
export async function mergeLora(modelDir: string, adapterDir: string, outDir: string, o: MergeOptions = {}): Promise<MergeResult> {
  if (resolve(modelDir) === resolve(outDir)) throw new LoraError('--out must be a new folder, not the base model folder');
  if (existsSync(outDir) && readdirSync(outDir).length && !o.force) throw new LoraError(`${outDir} exists and is not empty (use --force to write into it)`);
  const spec = readAdapterConfig(adapterDir); // checks the folder and the config first
  const rawConfig = JSON.parse(readFileSync(join(adapterDir, 'adapter_config.json'), 'utf8')) as Record<string, any>;
  if (rawConfig.fan_in_fan_out) throw new LoraError(`${adapterDir}: fan_in_fan_out adapters (GPT-2 Conv1D) are not supported`);
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (rawConfig[k] && Object.keys(rawConfig[k]).length) throw new LoraError(`${adapterDir}: per-module ${k} is not supported`);
  }
  if (!(spec.r > 0) || !(spec.alpha > 0)) throw new LoraError(`${adapterDir}: r and lora_alpha must be positive (got r ${spec.r}, alpha ${spec.alpha})`);
  const adapterPath = join(adapterDir, 'adapter_model.safetensors');
  if (!existsSync(adapterPath)) throw new LoraError(`${adapterDir}: no adapter_model.safetensors`);
  const adapter = SafetensorsFile.open(adapterPath);
  const base = openBase(modelDir);
  const scale = spec.alpha / spec.r;
  let session: ort.InferenceSession | null = null;
  try {
    const pairs = adapterPairs(adapter.names(), (n) => base.where.has(n));
    if (!pairs.length) throw new LoraError(`${adapterDir}: the adapter has no LoRA tensors`);
    const byBase = new Map(pairs.map((p) => [p.base, p]));
    for (const p of pairs) {
      const [out, inF] = base.where.get(p.base)!.shape(p.base);
      const a = adapter.shape(p.a);
      const b = adapter.shape(p.b);
      if (a.length !== 2 || b.length !== 2 || a[0] !== spec.r || b[1] !== spec.r || a[1] !== inF || b[0] !== out) {
        throw new LoraError(`${p.base} is [${out}, ${inF}] but its adapter has A [${a}] and B [${b}] (r = ${spec.r})`);
      }
    }
    session = await mergeSession(o.threads);

    // Plan: every base tensor in stored order, merged ones in the chosen dtype; shards by size.
    const planned: Planned[] = [];
    for (const f of base.files) {
      const entries = [...f.tensors.entries()].sort((x, y) => x[1].begin - y[1].begin);
      for (const [name, e] of entries) {
        const merged = byBase.has(name);
        const dtype = merged && o.dtype && o.dtype !== 'keep' ? o.dtype : merged && !FLOAT_TYPES.has(e.dtype) ? 'F32' : e.dtype;
        planned.push({ name, dtype, shape: e.shape, bytes: numel(e.shape) * ST_BYTES[dtype] });
      }
    }
    const limit = o.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
    const groups: Planned[][] = [];
    let cur: Planned[] = [];
    let size = 0;
    for (const t of planned) {
      if (cur.length && size + t.bytes > limit) {
        groups.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(t);
      size += t.bytes;
    }
    if (cur.length) groups.push(cur);

    mkdirSync(outDir, { recursive: true });
    const names = groups.length === 1 ? ['model.safetensors'] : groups.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(groups.length).padStart(5, '0')}.safetensors`);
    let done = 0;
    const mergedNames: string[] = [];
    const produce = async (t: Planned): Promise<Uint8Array> => {
      const f = base.where.get(t.name)!;
      const e = f.entry(t.name);
      const p = byBase.get(t.name);
      let data: Uint8Array;
      if (!p) {
        data = t.dtype === e.dtype ? f.raw(t.name) : encode(toFloat32(f.raw(t.name), e.dtype, t.name), t.dtype);
      } else {
        const [out, inF] = e.shape;
        const feeds = {
          w: new ort.Tensor('float32', f.float32(t.name), [out, inF]),
          b: new ort.Tensor('float32', adapter.float32(p.b), [out, spec.r]),
          a: new ort.Tensor('float32', adapter.float32(p.a), [spec.r, inF]),
          scale: new ort.Tensor('float32', Float32Array.of(scale), []),
        };
        const { merged } = await session!.run(feeds);
        data = encode(merged.data as Float32Array, t.dtype);
        merged.dispose?.();
        mergedNames.push(t.name);
      }
      o.onTensor?.(t.name, ++done, planned.length, !!p);
      return data;
    };
    const weightMap: Record<string, string> = {};
    for (const [i, group] of groups.entries()) {
      await writeShard(join(outDir, names[i]), group, produce, { format: 'pt' });
      for (const t of group) weightMap[t.name] = names[i];
    }
    const bytes = planned.reduce((n, t) => n + t.bytes, 0);
    if (groups.length > 1) {
      writeFileSync(join(outDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: bytes }, weight_map: weightMap }, null, 2));
    }

    // Everything else a loader needs: config, generation config, tokenizer, remote code.
    for (const f of readdirSync(modelDir)) {
      if (WEIGHT_FILE.test(f) || !statSync(join(modelDir, f)).isFile()) continue;
      copyFileSync(join(modelDir, f), join(outDir, f));
    }
    if (o.tokenizerDir) {
      for (const f of readdirSync(o.tokenizerDir)) if (TOKENIZER_FILE.test(f)) copyFileSync(join(o.tokenizerDir, f), join(outDir, f));
    }
    return { merged: mergedNames, tensors: planned.length, shards: names, bytes, scale };
  } finally {
    await session?.release();
    adapter.close();
    for (const f of base.files) f.close();
  }
}
