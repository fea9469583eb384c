// The two graphs MuFun runs as: the audio encoder (log-mel clips → tower → pool →
// connector → audio embeddings) and the LLM (splice → Qwen3 decoder → logits, with an
// optional KV cache and an optional shifted cross-entropy loss).
import { connectorFor } from './arch/connector.js';
import { Params } from './arch/params.js';
import type { ScreenInputs } from './arch/head-screen.js';
import type { KvPair } from './arch/qwen3.js';
import { poolFeatures } from './arch/whisper.js';
import type { WeightSource } from './checkpoint.js';
import type { MufunConfig } from './config.js';
import { Graph, int, type Value } from './ir/graph.js';
import { reshape, slice, toDtype } from './ir/ops.js';
import { pruneDeadNodes } from './ir/prune.js';
import { type QuantSpec, specTag } from './quant.js';
import { audioTowerArch, llmArch } from './registry.js';
import { spliceEmbeds } from './splice.js';

export const TOWER_PREFIX = 'vision_tower._vision_tower.';
export const CONNECTOR_PREFIX = 'connector._connector.';
export const LLM_PREFIX = 'language_model.';

/** Audio embeddings per 30 s clip (MuFun: 1500 positions / 5 = 300). */
export function tokensPerClip(cfg: MufunConfig): number {
  return Math.floor(cfg.audioTower.maxSourcePositions / cfg.audioPoolStride);
}

export interface AudioEncoding {
  hidden: Map<number, Value>;
  concat: Value;
  pooled: Value;
  embeds: Value; // [clips, tokensPerClip, hidden]
}

/** Log-mel features [clips, melBins, frames] → tower → feature concat + pooling → connector. */
export function audioEncoder(root: Params, cfg: MufunConfig, features: Value): AudioEncoding {
  const hidden = audioTowerArch(cfg).audioTower(features, root.sub(TOWER_PREFIX), cfg.audioTower, cfg.audioFeatureLayers);
  const { concat, pooled } = poolFeatures(hidden, cfg.audioFeatureLayers, cfg.audioPoolStride);
  return { hidden, concat, pooled, embeds: audioConnector(root, cfg, pooled) };
}

/** Pooled tower features [clips, tokensPerClip, k·d] → audio embeddings in the LLM's space. */
export function audioConnector(root: Params, cfg: MufunConfig, pooled: Value): Value {
  const width = cfg.audioFeatureLayers.length * cfg.audioTower.dModel;
  const connector = connectorFor(cfg.connectorType, { inFeatures: width, hidden: cfg.llm.hiddenSize });
  return pooled.graph.scope('connector', () => connector(pooled, root.sub(CONNECTOR_PREFIX)));
}

/**
 * input_features [B, melBins, frames] → audio_embeds [B, tokensPerClip, hidden].
 * With `debug`, also outputs hidden.<i> for each feature layer, concat and pooled.
 */
export function buildAudioEncoderGraph(
  cfg: MufunConfig, src: WeightSource, debug = false, dtype: FloatType = 'float32', quant: QuantSpec | null = null,
): Graph {
  const t = cfg.audioTower;
  const g = new Graph(`audio_encoder_${dtype}${quant ? `_${specTag(quant)}` : ''}`);
  g.constantWeights = true;
  const root = Params.root(g, src, dtype, quant);
  const x = g.input('input_features', 'float32', ['clips', t.melBins, t.maxSourcePositions * 2]);
  const { hidden, concat, pooled, embeds } = audioEncoder(root, cfg, x);
  root.check('audio encoder');
  const width = cfg.audioFeatureLayers.length * t.dModel;
  const f32 = (v: Value) => toDtype(v, 'float32');
  g.output(f32(embeds), 'audio_embeds', 'float32', ['clips', tokensPerClip(cfg), cfg.llm.hiddenSize]);
  if (debug) {
    for (const l of new Set(cfg.audioFeatureLayers)) g.output(f32(hidden.get(l)!), `hidden.${l}`, 'float32', ['clips', t.maxSourcePositions, t.dModel]);
    g.output(f32(concat), 'concat', 'float32', ['clips', t.maxSourcePositions, width]);
    g.output(f32(pooled), 'pooled', 'float32', ['clips', tokensPerClip(cfg), width]);
  }
  return g;
}

/** What a training run caches per clip: the pooled tower features, or the connector's embeddings. */
export function buildAudioFeaturesGraph(cfg: MufunConfig, src: WeightSource, stage: 'pooled' | 'embeds'): Graph {
  const t = cfg.audioTower;
  const g = new Graph(`audio_${stage}`);
  g.constantWeights = true;
  const root = Params.root(g, src);
  const x = g.input('input_features', 'float32', ['clips', t.melBins, t.maxSourcePositions * 2]);
  const enc = audioEncoder(root, cfg, x);
  root.check('audio encoder');
  const width = stage === 'pooled' ? cfg.audioFeatureLayers.length * t.dModel : cfg.llm.hiddenSize;
  g.output(stage === 'pooled' ? enc.pooled : enc.embeds, stage, 'float32', ['clips', tokensPerClip(cfg), width]);
  pruneDeadNodes(g);
  return g;
}

/** The spliced-batch inputs every LLM graph takes (see SplicePlan). */
export interface BatchInputs {
  ids: Value;
  audioIndex: Value;
  isAudio: Value;
  attentionMask: Value;
  positionIds: Value;
}

export function batchInputs(g: Graph): BatchInputs {
  return {
    ids: g.input('input_ids', 'int64', ['batch', 'seq']),
    audioIndex: g.input('audio_index', 'int64', ['batch', 'seq']),
    isAudio: g.input('is_audio', 'bool', ['batch', 'seq']),
    attentionMask: g.input('attention_mask', 'int64', ['batch', 'total']),
    positionIds: g.input('position_ids', 'int64', ['batch', 'seq']),
  };
}

/** splice → decoder → logits (all positions, or the flat rows asked for). p: the LLM's params. */
export function languageModel(
  p: Params, cfg: MufunConfig, b: BatchInputs, audioEmbeds: Value, io: { past: KvPair[] | null; rows: Value | null; screen?: ScreenInputs | null; gqa?: boolean },
): { logits: Value; present: KvPair[]; embeds: Value } {
  const c = cfg.llm;
  const embedTokens = p.get('model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]);
  const embeds = spliceEmbeds(embedTokens, b.ids, toDtype(audioEmbeds, p.dtype), b.audioIndex, b.isAudio, b.attentionMask);
  const out = llmArch(cfg).decoder(embeds, p, c, { attentionMask: b.attentionMask, positionIds: b.positionIds, past: io.past, rowsForLogits: io.rows, screen: io.screen, gqa: io.gqa });
  return { ...out, embeds };
}

export interface LlmGraphOptions {
  /** past_key.i / past_value.i inputs and present_key.i / present_value.i outputs. */
  kvCache: boolean;
  /** 'rows': logits only for the flat positions in `logits_rows` [N] (generation); 'all': [B,T,V]. */
  logits: 'rows' | 'all';
  /** labels [B,T] input and the mean shifted cross-entropy `loss` output (MuFun's SFT loss). */
  loss: boolean;
  /** also output the spliced inputs_embeds (conformance checks). */
  debug?: boolean;
  /** weights, activations and KV cache in this type; inputs and logits stay float32. */
  dtype?: FloatType;
  /** linear layers and the LM head weight-only quantized (MatMulNBits); norms and embeddings stay float. */
  quant?: QuantSpec | null;
  /** onnxruntime's fused kernels (see Graph.fused); part of the graph's name. */
  fused?: boolean;
  /**
   * 'rows' logits from the screened LM head (arch/head-screen.ts): inputs logits_window and
   * always_ids; logits exact where a choice can fall, −inf elsewhere. float32, unquantized.
   */
  screenHead?: boolean;
  /**
   * The KV-cache attention as onnxruntime's GroupQueryAttention (with `fused`; unpadded rows):
   * one kernel a layer instead of ~20 nodes. Decode is faster on every provider measured (CPU;
   * WebGPU on an H100: 43 vs 34 tokens/s for mufun-0.6b in fp16), though WebGPU's prefill is
   * ~20 % slower than with the plain attention.
   */
  gqa?: boolean;
}

export type FloatType = 'float32' | 'float16';

/**
 * Inputs: input_ids, audio_index, is_audio, position_ids [B,T]; audio_embeds [N, hidden];
 * attention_mask [B, Tpast+T]; (past_*). Outputs: logits, (present_*, loss, inputs_embeds).
 */
export function buildLlmGraph(cfg: MufunConfig, src: WeightSource, o: LlmGraphOptions): Graph {
  const c = cfg.llm;
  const dtype = o.dtype ?? 'float32';
  const q = o.quant ? `_${specTag(o.quant)}` : '';
  const screen = !!o.screenHead && o.logits === 'rows' && !o.loss;
  const gqa = !!o.gqa && !!o.fused && o.kvCache && !o.loss;
  const g = new Graph(`llm${o.kvCache ? '_kv' : ''}_${o.logits}${o.loss ? '_loss' : ''}_${dtype}${q}${o.fused ? '_fused' : ''}${screen ? '_screen' : ''}${gqa ? '_gqa' : ''}`);
  g.fused = !!o.fused && !o.loss;
  g.constantWeights = !o.loss;
  const p = Params.root(g, src, dtype, o.quant ?? null).sub(LLM_PREFIX);
  const b = batchInputs(g);
  const audioEmbeds = g.input('audio_embeds', 'float32', ['audio_rows', c.hiddenSize]);
  const past = o.kvCache
    ? Array.from({ length: c.layers }, (_, i) => ({
        key: g.input(`past_key.${i}`, dtype, ['batch', c.kvHeads, 'past', c.headDim]),
        value: g.input(`past_value.${i}`, dtype, ['batch', c.kvHeads, 'past', c.headDim]),
      }))
    : null;
  const rows = o.logits === 'rows' ? g.input('logits_rows', 'int64', ['rows']) : null;
  const screenInputs = screen
    ? { window: g.input('logits_window', 'float32', [1]), alwaysIds: g.input('always_ids', 'int64', ['rows', 'always']) }
    : null;

  const out = languageModel(p, cfg, b, audioEmbeds, { past, rows, screen: screenInputs, gqa });
  p.check('language model');

  g.output(out.logits, 'logits', 'float32', o.logits === 'rows' ? ['rows', c.vocabSize] : ['batch', 'seq', c.vocabSize]);
  if (o.kvCache) {
    out.present.forEach((kv, i) => {
      g.output(kv.key, `present_key.${i}`, dtype, ['batch', c.kvHeads, 'total', c.headDim]);
      g.output(kv.value, `present_value.${i}`, dtype, ['batch', c.kvHeads, 'total', c.headDim]);
    });
  }
  if (o.loss) {
    const labels = g.input('labels', 'int64', ['batch', 'seq']);
    g.output(shiftedCrossEntropy(out.logits, labels, c.vocabSize, cfg.ignoreIndex), 'loss', 'float32', []);
  }
  if (o.debug) g.output(toDtype(out.embeds, 'float32'), 'inputs_embeds', 'float32', ['batch', 'seq', c.hiddenSize]);
  return g;
}

/** mean over labels ≠ ignore of −log softmax(logits[:, t])[labels[:, t+1]]. */
export function shiftedCrossEntropy(logits: Value, labels: Value, vocab: number, ignoreIndex: number): Value {
  const g = logits.graph;
  const scores = reshape(slice(logits, [0], [-1], [1]), [-1, vocab]);
  const targets = reshape(slice(labels, [1], [Number.MAX_SAFE_INTEGER], [1]), [-1]);
  return g.op('SoftmaxCrossEntropyLoss', [scores, targets], { ignore_index: int(ignoreIndex), reduction: { kind: 'string', v: 'mean' } });
}
