// `mufun convert`: a Hugging Face MuFun folder → a self-contained folder of exported ONNX
// graphs (float32, float16, or the LLM's linear layers int8/int4 weight-only quantized) that
// MufunModel.load opens without safetensors and without re-exporting (see converted.ts).
import { copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Checkpoint } from './checkpoint.js';
import { type ConvertDtype, type ConvertedGraph, type ConvertedManifest, MANIFEST, MANIFEST_FORMAT } from './converted.js';
import { buildAudioEncoderGraph, buildLlmGraph } from './graphs.js';
import type { Graph } from './ir/graph.js';
import { exportOnnx } from './ir/onnx.js';
import { LLM_VARIANTS } from './mufun.js';
import { DEFAULT_BLOCK_SIZE, quantSpec } from './quant.js';
import { resolveConfig } from './registry.js';
import { weightBytes } from './runtime.js';

/** Files copied next to the graphs when the source folder has them. */
export const TOKENIZER_FILES = [
  'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt',
  'added_tokens.json', 'generation_config.json', 'chat_template.jinja', 'chat_template.json', 'preprocessor_config.json',
];

export interface ConvertProgress {
  tensors: number;
  totalTensors: number;
  bytes: number;
  totalBytes: number;
  /** the tensor just written */
  name: string;
}

export interface ConvertOptions {
  dtype: ConvertDtype;
  /** quantization block size (int8/int4), a power of two ≥ 16 */
  blockSize?: number;
  onProgress?: (p: ConvertProgress) => void;
}

export class ConvertError extends Error {}

const GRAPH_FILES: Record<ConvertedGraph, string> = { audio: 'audio_encoder.onnx', llm_generate: 'llm_generate.onnx' };

export async function convertModel(srcDir: string, outDir: string, o: ConvertOptions): Promise<ConvertedManifest> {
  if (existsSync(outDir) && resolve(realpathSync(outDir)) === resolve(realpathSync(srcDir))) {
    throw new ConvertError('the output folder must differ from the source folder');
  }
  if (existsSync(outDir) && readdirSync(outDir).length) {
    throw new ConvertError(`${outDir} exists and is not empty: choose a new or empty folder`);
  }
  const existed = existsSync(outDir);
  const ck = Checkpoint.open(srcDir);
  try {
    const cfg = resolveConfig(ck.rawConfig);
    const quantized = o.dtype === 'int8' || o.dtype === 'int4';
    const blockSize = o.blockSize ?? DEFAULT_BLOCK_SIZE;
    const quant = quantized ? quantSpec(o.dtype as 'int8' | 'int4', blockSize) : null;
    const dtype = o.dtype === 'float16' ? 'float16' : 'float32';
    // Building the graphs checks every tensor's name and shape before anything is written.
    const graphs: Record<ConvertedGraph, Graph> = {
      audio: buildAudioEncoderGraph(cfg, ck, false, dtype),
      // the fused kernels and GroupQueryAttention run on every provider (each one's default); the
      // screened head is CPU-only and needs the float32 head, so a converted folder keeps the full head
      llm_generate: buildLlmGraph(cfg, ck, { ...LLM_VARIANTS.generate, dtype, quant, fused: true, gqa: true }),
    };
    const all = Object.values(graphs);
    const progress: ConvertProgress = {
      tensors: 0,
      totalTensors: all.reduce((n, g) => n + g.initializers.size, 0),
      bytes: 0,
      totalBytes: all.reduce((n, g) => n + weightBytes(g), 0),
      name: '',
    };
    mkdirSync(outDir, { recursive: true });
    for (const [key, g] of Object.entries(graphs) as [ConvertedGraph, Graph][]) {
      const file = GRAPH_FILES[key];
      const bytes = await exportOnnx(g, {
        externalDataPath: join(outDir, `${file}.data`),
        onTensor: (name, n) => {
          progress.tensors++;
          progress.bytes += n;
          progress.name = name;
          o.onProgress?.({ ...progress });
        },
      });
      writeFileSync(join(outDir, `${file}.tmp`), bytes);
      renameSync(join(outDir, `${file}.tmp`), join(outDir, file));
    }
    const files = ['config.json', ...TOKENIZER_FILES].filter((f) => existsSync(join(srcDir, f)));
    for (const f of files) copyFileSync(join(srcDir, f), join(outDir, f));
    const manifest: ConvertedManifest = {
      format: MANIFEST_FORMAT,
      dtype: o.dtype,
      session_dtype: dtype,
      quant: quant ? { mode: o.dtype as 'int8' | 'int4', bits: quant.bits, block_size: quant.blockSize, accuracy_level: quant.accuracyLevel } : null,
      audio_quantized: false,
      graphs: Object.fromEntries(Object.keys(graphs).map((k) => [k, GRAPH_FILES[k as ConvertedGraph]])) as Record<ConvertedGraph, string>,
      source: { dir: realpathSync(srcDir), source_id: ck.sourceId() },
      files,
      created: new Date().toISOString(),
      producer: 'mufun-studio 0.1.0',
    };
    // The manifest goes last: a folder without it was never finished and is not loaded as converted.
    writeFileSync(join(outDir, MANIFEST), JSON.stringify(manifest, null, 1) + '\n');
    return manifest;
  } catch (e) {
    // Leave nothing half-written: our files, or the folder if we made it.
    if (!existed) rmSync(outDir, { recursive: true, force: true });
    else for (const f of Object.values(GRAPH_FILES).flatMap((f) => [f, `${f}.data`, `${f}.tmp`])) rmSync(join(outDir, f), { force: true });
    throw e;
  } finally {
    ck.close();
  }
}
