// Architectures by the names in config.json (as TinyLLaVA Factory does): adding an LLM
// family or an audio tower is one module here. Connectors are parsed from their names.
import * as qwen3 from './arch/qwen3.js';
import * as whisper from './arch/whisper.js';
import { type MufunConfig, parseConfig } from './config.js';
import { checkConnector } from './arch/connector.js';

export const LLMS = { qwen3 } as const;
export const AUDIO_TOWERS = { whisper } as const;

export type LlmArch = (typeof LLMS)[keyof typeof LLMS];
export type AudioTowerArch = (typeof AUDIO_TOWERS)[keyof typeof AUDIO_TOWERS];

/** Reads a MuFun config.json object, resolving every architecture name it mentions. */
export function resolveConfig(raw: Record<string, any>): MufunConfig {
  const cfg = parseConfig(raw, { llms: LLMS, audioTowers: AUDIO_TOWERS });
  checkConnector(cfg.connectorType, cfg.audioFeatureLayers.length);
  return cfg;
}

export function llmArch(cfg: MufunConfig): LlmArch {
  return LLMS[cfg.llm.type as keyof typeof LLMS];
}

export function audioTowerArch(cfg: MufunConfig): AudioTowerArch {
  return AUDIO_TOWERS[cfg.audioTower.type as keyof typeof AUDIO_TOWERS];
}
