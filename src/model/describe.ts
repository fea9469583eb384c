// A summary of a MuFun folder (for the Models page and `mufun info`), read from its
// config and safetensors headers only: no weights are loaded.
import type { ModelInfo } from '../shared/api.js';
import { Checkpoint } from './checkpoint.js';
import { clipSamples } from './config.js';
import { resolveConfig } from './registry.js';

export async function describeModel(dir: string): Promise<ModelInfo> {
  const ck = Checkpoint.open(dir);
  try {
    const cfg = resolveConfig(ck.rawConfig);
    const parameters = ck.names().reduce((n, name) => n + ck.shape(name).reduce((a, b) => a * b, 1), 0);
    return {
      dir,
      modelType: cfg.modelType,
      llm: {
        type: cfg.llm.type,
        hiddenSize: cfg.llm.hiddenSize,
        layers: cfg.llm.layers,
        heads: cfg.llm.heads,
        kvHeads: cfg.llm.kvHeads,
        vocabSize: cfg.llm.vocabSize,
      },
      audioTower: {
        type: cfg.audioTower.type,
        dModel: cfg.audioTower.dModel,
        layers: cfg.audioTower.layers,
        melBins: cfg.audioTower.melBins,
        clipSeconds: clipSamples(cfg.audioTower) / 16000,
      },
      connector: cfg.connectorType,
      parameters,
    };
  } finally {
    ck.close();
  }
}
