// The training step as one graph: the forward pass from the audio input the run needs
// (log-mel features when the tower trains, cached tower features when only the connector
// and LLM train, cached audio embeddings when the connector is frozen too) through the
// splice and the LLM to MuFun's loss, then the backward pass to every trainable tensor.
// Frozen weights stay initializers; trainable ones become inputs, their gradients outputs.
import { Params } from '../arch/params.js';
import type { WeightSource } from '../checkpoint.js';
import type { MufunConfig } from '../config.js';
import {
  CONNECTOR_PREFIX, LLM_PREFIX, audioConnector, audioEncoder, batchInputs, languageModel, shiftedCrossEntropy, tokensPerClip,
} from '../graphs.js';
import { gradients } from '../ir/autodiff.js';
import { Graph, type Signature, type Value } from '../ir/graph.js';
import { reshape } from '../ir/ops.js';
import type { LoraAttachment } from '../lora.js';
import { pruneDeadNodes } from '../ir/prune.js';

/** Where the audio enters the step. */
export type AudioInput = 'features' | 'pooled' | 'embeds';

export interface TrainGraphOptions {
  /** true for tensors that train (checkpoint names, or PEFT names for LoRA); the rest stay frozen initializers */
  trainable: (name: string) => boolean;
  audioInput: AudioInput;
  /** LoRA adapters on the LLM's linear layers */
  lora?: LoraAttachment | null;
  /** false: the loss only (evaluation with the current trainable tensors) */
  gradients?: boolean;
}

export interface TrainGraph {
  graph: Graph;
  /** trainable tensors, in the order of the `grad.<name>` outputs */
  params: Signature[];
}

/** The audio input a run needs, from what trains: the tower needs features, the connector pooled ones. */
export function audioInputFor(trainable: (name: string) => boolean, names: string[]): AudioInput {
  if (names.some((n) => n.startsWith('vision_tower.') && trainable(n))) return 'features';
  if (names.some((n) => n.startsWith(CONNECTOR_PREFIX) && trainable(n))) return 'pooled';
  return 'embeds';
}

export function buildTrainGraph(cfg: MufunConfig, src: WeightSource, o: TrainGraphOptions): TrainGraph {
  const g = new Graph(`${o.gradients === false ? 'eval' : 'train'}_${o.audioInput}`);
  const logits = trainForward(g, cfg, src, o.audioInput, o.lora ?? null);
  const labels = g.input('labels', 'int64', ['batch', 'seq']);
  const loss = shiftedCrossEntropy(logits, labels, cfg.llm.vocabSize, cfg.ignoreIndex);

  const params = promoteTrainable(g, o.trainable);
  if (!params.length) throw new Error('nothing to train: every tensor is frozen');
  g.output(loss, 'loss', 'float32', []);
  if (o.gradients !== false) {
    const grads = gradients(g, loss, params.map((p) => g.values.get(p.name)!));
    for (const p of params) g.output(grads.get(p.name)!, `grad.${p.name}`, p.dtype, p.shape);
  }
  pruneDeadNodes(g);
  return { graph: g, params };
}

/**
 * The forward pass every training graph shares: the audio input `audioInput` names (a graph
 * input), the spliced batch inputs, the LLM, and the logits [B, T, V] at every position.
 * All weights are initializers here; promoteTrainable turns the trained ones into inputs.
 */
export function trainForward(g: Graph, cfg: MufunConfig, src: WeightSource, audioInput: AudioInput, lora: LoraAttachment | null): Value {
  const root = Params.root(g, src, 'float32', null, lora);
  const t = cfg.audioTower;
  const D = cfg.llm.hiddenSize;
  const tpc = tokensPerClip(cfg);
  let clipEmbeds: Value;
  if (audioInput === 'features') {
    clipEmbeds = audioEncoder(root, cfg, g.input('input_features', 'float32', ['clips', t.melBins, t.maxSourcePositions * 2])).embeds;
  } else if (audioInput === 'pooled') {
    const width = cfg.audioFeatureLayers.length * t.dModel;
    clipEmbeds = audioConnector(root, cfg, g.input('pooled_features', 'float32', ['clips', tpc, width]));
  } else {
    clipEmbeds = g.input('audio_embeds', 'float32', ['clips', tpc, D]);
  }
  const b = batchInputs(g);
  const { logits } = languageModel(root.sub(LLM_PREFIX), cfg, b, reshape(clipEmbeds, [-1, D]), { past: null, rows: null });
  root.check('training graph');
  return logits;
}

/** Turns every weight (not small constants) that `trainable` accepts into a graph input; returns them in order. */
export function promoteTrainable(g: Graph, trainable: (name: string) => boolean): Signature[] {
  return [...g.initializers.values()].filter((i) => !i.data && trainable(i.name)).map((i) => g.promoteToInput(i.name));
}
