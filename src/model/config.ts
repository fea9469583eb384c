// MuFun's config.json (TinyLLaVA style) read into typed configs. Both transformers-4
// (`rope_theta`) and transformers-5 (`rope_parameters.rope_theta`) layouts are accepted.

export interface LlmConfig {
  type: string; // registry name, e.g. "qwen3"
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ropeTheta: number;
  rmsEps: number;
  tieWordEmbeddings: boolean;
  maxPositions: number;
}

export interface AudioTowerConfig {
  type: string; // "whisper"
  dModel: number;
  layers: number;
  heads: number;
  ffnDim: number;
  melBins: number;
  maxSourcePositions: number;
  layerNormEps: number;
}

export interface MufunConfig {
  modelType: string;
  connectorType: string;
  llm: LlmConfig;
  audioTower: AudioTowerConfig;
  /** hidden_states indices concatenated as audio features (MuFun: [0, 7, 15, 32]). */
  audioFeatureLayers: number[];
  /** AvgPool1d kernel = stride over time (MuFun: 5). */
  audioPoolStride: number;
  audioTokenIndex: number; // -200
  ignoreIndex: number; // -100
  maxLength: number;
  raw: Record<string, any>;
}

export class ConfigError extends Error {}

/** What an architecture module contributes to config parsing (see registry.ts). */
export interface ConfigTables {
  llms: Record<string, { parseConfig(t: Record<string, any>): LlmConfig }>;
  audioTowers: Record<string, { parseConfig(v: Record<string, any>): AudioTowerConfig }>;
}

export const MUFUN_FEATURE_LAYERS = [0, 7, 15, 32];
export const MUFUN_POOL_STRIDE = 5;

function need(obj: Record<string, any>, key: string, where: string): any {
  const v = obj[key];
  if (v === undefined || v === null) throw new ConfigError(`config.json: ${where}.${key} is missing`);
  return v;
}

export function parseQwenLike(t: Record<string, any>): LlmConfig {
  const where = 'text_config';
  const hidden = need(t, 'hidden_size', where);
  const heads = need(t, 'num_attention_heads', where);
  const theta = t.rope_parameters?.rope_theta ?? t.rope_theta ?? 1e6;
  const ropeType = t.rope_parameters?.rope_type ?? t.rope_scaling?.rope_type ?? t.rope_scaling?.type ?? 'default';
  if (ropeType !== 'default') throw new ConfigError(`config.json: text_config rope type "${ropeType}" is not supported (only default RoPE)`);
  return {
    type: t.model_type,
    vocabSize: need(t, 'vocab_size', where),
    hiddenSize: hidden,
    intermediateSize: need(t, 'intermediate_size', where),
    layers: need(t, 'num_hidden_layers', where),
    heads,
    kvHeads: t.num_key_value_heads ?? heads,
    headDim: t.head_dim ?? hidden / heads,
    ropeTheta: theta,
    rmsEps: t.rms_norm_eps ?? 1e-6,
    tieWordEmbeddings: t.tie_word_embeddings ?? false,
    maxPositions: t.max_position_embeddings ?? 32768,
  };
}

export function parseWhisper(v: Record<string, any>): AudioTowerConfig {
  const where = 'vision_config';
  return {
    type: v.model_type,
    dModel: need(v, 'd_model', where),
    layers: need(v, 'encoder_layers', where),
    heads: need(v, 'encoder_attention_heads', where),
    ffnDim: need(v, 'encoder_ffn_dim', where),
    melBins: v.num_mel_bins ?? 80,
    maxSourcePositions: v.max_source_positions ?? 1500,
    layerNormEps: 1e-5,
  };
}

export function parseConfig(raw: Record<string, any>, tables: ConfigTables): MufunConfig {
  if (!raw || typeof raw !== 'object') throw new ConfigError('config.json is not a JSON object');
  const text = raw.text_config;
  const vision = raw.vision_config ?? raw.audio_config;
  if (!text || typeof text !== 'object') throw new ConfigError('config.json: text_config is missing (not a MuFun/TinyLLaVA checkpoint?)');
  if (!vision || typeof vision !== 'object') throw new ConfigError('config.json: vision_config is missing (not a MuFun/TinyLLaVA checkpoint?)');
  if (!text.model_type) throw new ConfigError('config.json: text_config.model_type is missing');
  if (!vision.model_type) throw new ConfigError('config.json: vision_config.model_type is missing');
  const llm = tables.llms[text.model_type];
  if (!llm) {
    throw new ConfigError(`config.json: unknown LLM architecture "${text.model_type}" (known: ${Object.keys(tables.llms).join(', ')})`);
  }
  const tower = tables.audioTowers[vision.model_type];
  if (!tower) {
    throw new ConfigError(`config.json: unknown audio tower "${vision.model_type}" (known: ${Object.keys(tables.audioTowers).join(', ')})`);
  }
  const audioTower = tower.parseConfig(vision);
  const layers: number[] = raw.audio_feature_layers ?? MUFUN_FEATURE_LAYERS;
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l > audioTower.layers) {
      throw new ConfigError(`config.json: audio_feature_layers has ${l}, but the tower has hidden states 0..${audioTower.layers}`);
    }
  }
  const pool = raw.audio_pool_stride ?? MUFUN_POOL_STRIDE;
  if (!Number.isInteger(pool) || pool < 1) throw new ConfigError(`config.json: audio_pool_stride must be a positive integer, got ${pool}`);
  return {
    modelType: raw.model_type ?? 'tinyllava',
    connectorType: need(raw, 'connector_type', 'config'),
    llm: llm.parseConfig(text),
    audioTower,
    audioFeatureLayers: layers,
    audioPoolStride: pool,
    audioTokenIndex: raw.image_token_index ?? -200,
    ignoreIndex: raw.ignore_index ?? -100,
    maxLength: raw.tokenizer_model_max_length ?? text.max_position_embeddings ?? 4096,
    raw,
  };
}

/** Samples in one clip: positions × 2 mel frames (conv2 has stride 2) × hop 160. */
export function clipSamples(t: AudioTowerConfig): number {
  return t.maxSourcePositions * 2 * 160;
}
