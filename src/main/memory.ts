// How much memory a model takes to load for chat, estimated from its folder alone (config.json,
// the safetensors headers or a converted folder's weight files): nothing is loaded.
//
// The formula, kept simple on purpose (it is a guide before loading, not a measurement):
//
//   total   = weights + kvCache + audio
//   weights = Hugging Face folder: Σ numel(tensor) × 4 — the engine's sessions hold float32
//             weights whatever the file stores (bf16/f16 are widened when the graph is built);
//             converted folder: the size of each graph's .onnx.data — the weights exactly as
//             exported (float32, float16, or int8/int4 blocks with their scales)
//   kvCache = 2 (K and V) × layers × kvHeads × headDim × context × b
//             context = min(max_position_embeddings, 2048): a 30 s clip's audio tokens and a
//             conversation around it
//   audio   = b × (melBins × 2T                      the log-mel input of one clip
//                  + heads × T²                     one layer's attention scores
//                  + T × ffnDim                     one layer's feed-forward hidden
//                  + (featureLayers + 3) × T × dModel)  the hidden states kept for the connector,
//                                                   plus the layer's own working copies
//             T = the tower's max_source_positions (frames of one clip after the conv stem)
//   b       = 4 bytes (float32 sessions) or 2 (float16 sessions)
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { MemoryEstimate } from '../shared/api-models.js';
import { Checkpoint } from '../model/checkpoint.js';
import type { MufunConfig } from '../model/config.js';
import { isConverted, readManifest } from '../model/converted.js';
import { resolveConfig } from '../model/registry.js';

/** The context the KV cache figure is for, at most. */
export const TYPICAL_CONTEXT = 2048;

export interface ActivationBytes {
  kvCacheBytes: number;
  audioBytes: number;
  contextTokens: number;
}

/** The KV cache and audio tower terms of the formula above, for a session float type of `b` bytes. */
export function activationBytes(cfg: MufunConfig, b: 2 | 4): ActivationBytes {
  const { llm, audioTower: a } = cfg;
  const contextTokens = Math.min(llm.maxPositions, TYPICAL_CONTEXT);
  const kvCacheBytes = 2 * llm.layers * llm.kvHeads * llm.headDim * contextTokens * b;
  const T = a.maxSourcePositions;
  const audioBytes = b * (a.melBins * 2 * T + a.heads * T * T + T * a.ffnDim + (cfg.audioFeatureLayers.length + 3) * T * a.dModel);
  return { kvCacheBytes, audioBytes, contextTokens };
}

/** config.json of a model folder, resolved by the architecture registry. */
export function readConfig(dir: string): MufunConfig {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) throw new Error(`${dir}: no config.json (is this a MuFun model folder?)`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: malformed JSON (${(e as Error).message})`);
  }
  return resolveConfig(raw);
}

/** The estimate for a Hugging Face MuFun folder or a `mufun convert` folder. */
export function estimateMemory(dir: string): MemoryEstimate {
  if (isConverted(dir)) {
    const m = readManifest(dir);
    const cfg = readConfig(dir);
    const b = m.session_dtype === 'float16' ? 2 : 4;
    let weightsBytes = 0, diskBytes = 0;
    for (const file of Object.values(m.graphs)) {
      const data = statSync(join(dir, `${file}.data`)).size;
      weightsBytes += data;
      diskBytes += data + statSync(join(dir, file)).size;
    }
    const act = activationBytes(cfg, b);
    return { weightsBytes, ...act, totalBytes: weightsBytes + act.kvCacheBytes + act.audioBytes, dtype: m.dtype, diskBytes };
  }
  const ck = Checkpoint.open(dir);
  try {
    const cfg = resolveConfig(ck.rawConfig);
    const weightsBytes = ck.names().reduce((n, name) => n + ck.shape(name).reduce((a, x) => a * x, 1), 0) * 4;
    const act = activationBytes(cfg, 4);
    return { weightsBytes, ...act, totalBytes: weightsBytes + act.kvCacheBytes + act.audioBytes, dtype: 'float32', diskBytes: ck.storedBytes() };
  } finally {
    ck.close();
  }
}
