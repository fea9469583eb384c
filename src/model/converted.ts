// A converted model folder (`mufun convert`): the exported ONNX graphs with their external
// weights, the original config.json, the tokenizer files, and mufun_converted.json naming
// what is where. It opens without safetensors and without re-exporting; what needs float
// weights (training, debug graphs, other graph variants) is refused with a clear message.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError, type WeightSource } from './checkpoint.js';
import type { QuantMode } from './quant.js';

export const MANIFEST = 'mufun_converted.json';
export const MANIFEST_FORMAT = 'mufun-converted-1';

export type ConvertDtype = 'float32' | 'float16' | QuantMode;
export const CONVERT_DTYPES: ConvertDtype[] = ['float32', 'float16', 'int8', 'int4'];

/** The graphs a converted folder holds, by MufunModel's session names. */
export type ConvertedGraph = 'audio' | 'llm_generate';

export interface ConvertedManifest {
  format: typeof MANIFEST_FORMAT;
  /** what was asked for: float32, float16, int8 or int4 */
  dtype: ConvertDtype;
  /** the sessions' float type (activations, KV cache, float weights) */
  session_dtype: 'float32' | 'float16';
  /** weight-only quantization of the LLM's linear layers and head; null for float models */
  quant: { mode: QuantMode; bits: 4 | 8; block_size: number; accuracy_level: number } | null;
  /** whether the audio tower and connector are quantized too (they are kept float) */
  audio_quantized: boolean;
  /** graph → .onnx file in this folder (each with its .onnx.data) */
  graphs: Record<ConvertedGraph, string>;
  source: { dir: string; source_id: string };
  files: string[];
  created: string;
  producer: string;
}

export function isConverted(dir: string): boolean {
  return existsSync(join(dir, MANIFEST));
}

export function readManifest(dir: string): ConvertedManifest {
  const path = join(dir, MANIFEST);
  let m: ConvertedManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`${path}: malformed JSON (${(e as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new CheckpointError(`${path}: unknown format ${JSON.stringify(m.format)} (expected ${MANIFEST_FORMAT})`);
  for (const [name, file] of Object.entries(m.graphs ?? {})) {
    for (const f of [file, `${file}.data`]) {
      if (!existsSync(join(dir, f))) throw new CheckpointError(`${dir}: converted model is incomplete: ${f} (graph ${name}) is missing`);
    }
  }
  if (!m.graphs?.audio || !m.graphs?.llm_generate) throw new CheckpointError(`${path}: lists no audio or llm_generate graph`);
  return m;
}

export class ConvertedModelError extends Error {}

/** What a converted folder cannot do, said once. */
export function needsFloatWeights(dir: string, what: string): ConvertedModelError {
  return new ConvertedModelError(
    `${dir} is a converted model (${MANIFEST}): it holds only the exported audio encoder and generation graphs, ` +
      `so ${what} needs the original Hugging Face folder with its float weights`,
  );
}

/** The weight source of a converted folder: it has none; every read says why. */
export class ConvertedWeights implements WeightSource {
  constructor(readonly dir: string) {}

  has(name: string): boolean {
    throw needsFloatWeights(this.dir, `reading tensor ${name}`);
  }

  shape(name: string): number[] {
    throw needsFloatWeights(this.dir, `reading tensor ${name}`);
  }

  float32(name: string): Float32Array {
    throw needsFloatWeights(this.dir, `reading tensor ${name}`);
  }

  names(): string[] {
    return [];
  }

  sourceId(): string {
    return `converted:${realpathSync(this.dir)}`;
  }
}
