// GRPO's graphs, built from the training graph's pieces (train/graph.ts):
//   logps: the forward pass → per-token log-probabilities of the completion tokens
//          (logits / temperature → LogSoftmax → GatherElements at each next token);
//          with every weight an initializer it is the frozen reference model, with the
//          trainable tensors as inputs it gives the rollout policy's ("old") log-probs.
//   step:  the same log-probs → TRL's per-token GRPO loss → gradients of the trainable tensors.
//
// Per token (TRL's GRPOTrainer._compute_loss, loss_type picked by the token weights):
//   ratio = exp(logp − old)         clipped = clip(ratio, 1 − ε_low, 1 + ε_high)
//   pg    = −min(ratio·A, clipped·A)
//   kl    = exp(ref − logp) − (ref − logp) − 1     (the k3 estimator)
//   loss  = Σ_{b,t} (pg + β·kl) · w[b,t]
// where w carries the mask and the reduction (see grpoTokenWeights in grpo.ts): grpo =
// mask / (len_b · B), bnpo = mask / Σ mask, dr_grpo = mask / (B · max_completion_length).
import type { WeightSource } from '../checkpoint.js';
import type { MufunConfig } from '../config.js';
import { gradients } from '../ir/autodiff.js';
import { Graph, int, type Signature, type Value } from '../ir/graph.js';
import { add, div, mul, neg, sub, unsqueeze, where } from '../ir/ops.js';
import { pruneDeadNodes } from '../ir/prune.js';
import type { LoraAttachment } from '../lora.js';
import { type AudioInput, promoteTrainable, trainForward } from './graph.js';

export interface GrpoGraphOptions {
  /** tensors that train (become inputs); () => false for the frozen reference */
  trainable: (name: string) => boolean;
  audioInput: AudioInput;
  lora?: LoraAttachment | null;
  /** 'logps': forward only; 'step': loss and gradients too */
  mode: 'logps' | 'step';
}

export interface GrpoGraph {
  graph: Graph;
  params: Signature[];
}

/**
 * logps[b, t] = log softmax(logits[b, t] / temperature)[targets[b, t]], for every position
 * (targets is the token at t + 1 where that is a completion token; anything elsewhere).
 */
export function tokenLogps(logits: Value, targets: Value, temperature: Value): Value {
  const g = logits.graph;
  const scaled = div(logits, temperature);
  const logp = g.annotate(g.op('LogSoftmax', [scaled], { axis: int(-1) }), logits.shape);
  const picked = g.annotate(g.op('GatherElements', [logp, unsqueeze(targets, [2])], { axis: int(2) }), ['batch', 'seq', 1]);
  return g.annotate(g.op('Squeeze', [picked, g.ints([2])]), ['batch', 'seq']);
}

export interface GrpoLossInputs {
  /** bool [B, T]: completion positions */
  mask: Value;
  /** float [B, T]: the rollout policy's and the reference model's log-probs */
  oldLogps: Value;
  refLogps: Value;
  /** float [B]: one advantage per sequence */
  advantages: Value;
  /** float [B, T]: the mask times the reduction's weight (0 off the completion) */
  weights: Value;
  /** float scalars */
  beta: Value;
  epsilonLow: Value;
  epsilonHigh: Value;
}

/** TRL's GRPO loss over per-token log-probs `logps` [B, T] (see the header). */
export function grpoLoss(logps: Value, i: GrpoLossInputs): Value {
  const g = logps.graph;
  const shape = logps.shape;
  const zero = g.scalar(0);
  const one = g.scalar(1);
  // Off the completion the differences are 0, so nothing there can overflow exp (0·inf = NaN).
  const dOld = g.annotate(where(i.mask, sub(logps, i.oldLogps), zero), shape);
  const ratio = g.annotate(g.op('Exp', [dOld]), shape);
  const clipped = g.annotate(g.op('Clip', [ratio, sub(one, i.epsilonLow), add(one, i.epsilonHigh)]), shape);
  const A = g.annotate(unsqueeze(i.advantages, [1]), ['batch', 1]);
  const pg = neg(g.op('Min', [mul(ratio, A), mul(clipped, A)]));
  const dRef = g.annotate(where(i.mask, sub(i.refLogps, logps), zero), shape);
  const kl = sub(sub(g.op('Exp', [dRef]), dRef), one);
  const perToken = add(pg, mul(i.beta, kl));
  return g.annotate(g.op('ReduceSum', [mul(perToken, i.weights)], { keepdims: int(0) }), []);
}

/**
 * Inputs: the training graph's (audio input, input_ids, audio_index, is_audio, attention_mask,
 * position_ids), targets int64 [B,T], temperature []; step mode adds completion_mask bool [B,T],
 * old_logps, ref_logps, token_weights [B,T], advantages [B], beta, epsilon_low, epsilon_high.
 * Outputs: logps [B,T]; step mode adds loss and grad.<name> per trainable tensor.
 */
export function buildGrpoGraph(cfg: MufunConfig, src: WeightSource, o: GrpoGraphOptions): GrpoGraph {
  const g = new Graph(`grpo_${o.mode}_${o.audioInput}`);
  const logits = g.annotate(trainForward(g, cfg, src, o.audioInput, o.lora ?? null), ['batch', 'seq', cfg.llm.vocabSize]);
  const targets = g.input('targets', 'int64', ['batch', 'seq']);
  const temperature = g.input('temperature', 'float32', []);
  const logps = tokenLogps(logits, targets, temperature);
  let loss: Value | null = null;
  if (o.mode === 'step') {
    const f = (name: string) => g.input(name, 'float32', ['batch', 'seq']);
    const s = (name: string) => g.input(name, 'float32', []);
    loss = grpoLoss(logps, {
      mask: g.input('completion_mask', 'bool', ['batch', 'seq']), oldLogps: f('old_logps'), refLogps: f('ref_logps'),
      weights: f('token_weights'), advantages: g.input('advantages', 'float32', ['batch']),
      beta: s('beta'), epsilonLow: s('epsilon_low'), epsilonHigh: s('epsilon_high'),
    });
  }
  const params = promoteTrainable(g, o.trainable);
  if (o.mode === 'step' && !params.length) throw new Error('nothing to train: every tensor is frozen');
  g.output(logps, 'logps', 'float32', ['batch', 'seq']);
  if (loss) {
    g.output(loss, 'loss', 'float32', []);
    const grads = gradients(g, loss, params.map((p) => g.values.get(p.name)!));
    for (const p of params) g.output(grads.get(p.name)!, `grad.${p.name}`, p.dtype, p.shape);
  }
  pruneDeadNodes(g);
  return { graph: g, params };
}
