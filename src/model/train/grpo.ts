// GRPO (Group Relative Policy Optimization) on the training runner, as MuFun refines
// MuFun-Instruct with TRL's GRPOTrainer. Per optimizer step:
//   1. rollouts: every prompt of the step (audio + question; the last gpt turn is the ground
//      truth) gets G sampled completions from the current policy (the weights being trained,
//      overlaid on the checkpoint), each group decoded as one batch (generateGroup: one prefill,
//      G rows per step);
//   2. rewards (rewards.ts), combined with weights; advantages normalised within each group;
//   3. the rollout policy's log-probs ("old") and the frozen reference model's (the starting
//      weights; for LoRA the base without adapters) from forward-only graphs, once per rollout;
//   4. micro-batches of completions through the GRPO step graph (grpo-graph.ts): loss and
//      gradients in one ONNX Runtime run; AdamW updates the fp32 master weights.
// A rollout batch serves `numIterations` optimizer steps (TRL's μ); on its first pass the ratio
// is exactly 1 and the gradient is A·∇logp (+ the KL term), as in TRL.
//
// Loss reduction: MuFun ran the TRL it vendors (trl-main/), whose GRPOConfig defaults to
// loss_type "bnpo" (Σ masked per-token loss / Σ mask over the micro-batch), and train_grpo.py
// does not set it; "grpo" (mean over sequences of Σ masked loss / completion length) and
// "dr_grpo" (Σ masked loss / (B · max_completion_length)) are there too. Default: bnpo.
//
// Bad rewards: a reward that throws or returns a non-finite value is reported (event + a
// `reward_failure` line in metrics.jsonl, with sample id, generation and reward name); that
// prompt's whole group is left out of the step (no advantage, zero token weights, not in the
// reward statistics). A step whose groups all failed makes no update (it still counts).
// With logCompletions every rollout goes to completions.jsonl: the reward curve says how much
// the policy earns, these lines say what it answers.
import { appendFileSync, mkdirSync } from 'node:fs';
import type { TrainingAnswer } from '../../shared/api-training.js';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Checkpoint } from '../checkpoint.js';
import { generateGroup } from '../generate.js';
import { loraAttachment } from '../lora.js';
import { MufunModel } from '../mufun.js';
import { type RuntimeOptions, createSession } from '../runtime.js';
import { loadAudio } from '../audio/load.js';
import { planSplice } from '../splice.js';
import { encodeConversation, getTemplate, trailingSpaceOf } from '../template.js';
import { Tokenizer } from '../tokenizer.js';
import { AudioFeatureCache, makeBatch } from './batches.js';
import { type EncodedSample, type PreparedSample, type SampleProblem, loadDataset, shuffled } from './data.js';
import { audioInputFor } from './graph.js';
import { buildGrpoGraph } from './grpo-graph.js';
import { OverlayWeights } from './overlay.js';
import { type Reward, type RewardContext, type RewardFailure, groupAdvantages, meanStd, scoreCompletions } from './rewards.js';
import { lrAt, schedule } from './schedule.js';
import {
  type TrainerConfig, finishRun, latestCheckpoint, mergedLinears, pruneCheckpoints, restoreOrStart, resumeTarget, saveCheckpoint, trainablePredicate,
} from './trainer.js';

export type GrpoLossType = 'grpo' | 'bnpo' | 'dr_grpo';
export const GRPO_LOSS_TYPES: readonly GrpoLossType[] = ['grpo', 'bnpo', 'dr_grpo'];

export interface GrpoConfig extends TrainerConfig {
  /** completions per prompt (G) */
  numGenerations: number;
  /** KL coefficient; 0 skips the reference model */
  beta: number;
  epsilon: number;
  /** upper clip bound (DAPO's clip-higher); default epsilon */
  epsilonHigh?: number;
  temperature: number;
  topP: number;
  topK: number;
  maxCompletionLength: number;
  /** optimizer steps per rollout batch (TRL's num_iterations, μ) */
  numIterations: number;
  lossType: GrpoLossType;
  /** divide by the group's std (TRL's scale_rewards) */
  scaleRewards: boolean;
  rewards: Reward[];
  /** write every rollout (text, rewards, advantage) to completions.jsonl (TRL's log_completions) */
  logCompletions?: boolean;
}

export type GrpoEvent =
  | { type: 'start'; totalSteps: number; prompts: number; promptsPerStep: number; trainable: number; audioInput: string; resumedFrom: number; skipped: SampleProblem[] }
  | { type: 'reward_failure'; step: number; failure: RewardFailure }
  | ({ type: 'step' } & GrpoStepMetrics)
  | { type: 'save'; step: number; dir: string }
  | { type: 'done'; step: number; outputDir: string; finalDir: string };

export interface GrpoStepMetrics {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** mean combined reward over the completions that scored */
  reward: number;
  /** mean over groups of the group's reward std */
  rewardStd: number;
  /** per reward: mean and std over completions */
  rewards: Record<string, { mean: number; std: number }>;
  /** share of groups whose rewards were all equal (no signal) */
  fracRewardZeroStd: number;
  kl: number;
  clipRatio: number;
  completionLength: { mean: number; min: number; max: number };
  /** groups left out because a reward failed */
  skippedGroups: number;
  /** per prompt of the step: its first sampled answer, that answer's reward and its group's mean */
  answers: GrpoAnswer[];
  elapsedSec: number;
  etaSec: number;
}

/** One prompt of a step: its first sampled answer and rewards (the studio's type: it shows them as they come). */
export type GrpoAnswer = TrainingAnswer;

export class GrpoError extends Error {}

interface Rollout {
  sample: PreparedSample;
  promptIds: number[];
  completion: number[];
  text: string;
  stopped: boolean;
  group: number;
}

/** The token weights of a micro-batch for a loss type: mask × the reduction's factor. */
export function grpoTokenWeights(mask: Uint8Array, batch: number, length: number, lossType: GrpoLossType, maxCompletionLength: number, rowValid: readonly boolean[]): Float32Array {
  const w = new Float32Array(batch * length);
  const lens = Array.from({ length: batch }, (_, b) => {
    let n = 0;
    for (let t = 0; t < length; t++) n += mask[b * length + t];
    return n;
  });
  const rows = rowValid.filter(Boolean).length;
  const total = lens.reduce((s, n, b) => s + (rowValid[b] ? n : 0), 0);
  for (let b = 0; b < batch; b++) {
    if (!rowValid[b] || !lens[b]) continue;
    const f = lossType === 'grpo' ? 1 / (lens[b] * rows) : lossType === 'bnpo' ? 1 / total : 1 / (rows * maxCompletionLength);
    for (let t = 0; t < length; t++) if (mask[b * length + t]) w[b * length + t] = f;
  }
  return w;
}

/** A stable 32-bit seed from the run's seed and a position in it. */
function seedOf(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0;
  return h;
}

export async function grpo(c: GrpoConfig, onEvent: (e: GrpoEvent) => void = () => {}, signal?: AbortSignal): Promise<{ finalDir: string; step: number }> {
  const G = c.numGenerations;
  if (!(Number.isInteger(G) && G >= 2)) throw new GrpoError(`--num_generations must be an integer ≥ 2 (got ${G}): advantages compare completions within a group`);
  const perStep = c.batchSize * c.gradAccum;
  if (perStep % G) {
    throw new GrpoError(`per_device_train_batch_size × gradient_accumulation_steps (${perStep}) must be a multiple of --num_generations (${G}): each step takes whole groups`);
  }
  const promptsPerStep = perStep / G;
  const model = MufunModel.load(c.modelDir, c.runtime ?? {});
  if (!(model.weights instanceof Checkpoint)) throw new GrpoError(`${c.modelDir} is a converted model; train from the Hugging Face folder it came from`);
  const ck = model.weights;
  const runtime: RuntimeOptions = c.runtime ?? {};
  const tokenizer = Tokenizer.fromDir(c.tokenizerDir ?? c.modelDir);
  const trainable = trainablePredicate(c);
  const lora = c.tuneLlm === 'lora' ? loraAttachment(c.lora, null, c.seed) : null;
  const audioInput = audioInputFor(trainable, ck.names());

  const { samples, problems } = loadDataset(c.dataPath, { audioRoot: c.audioRoot, onBadSample: c.onBadSample });
  const prompts = samples.map((s) => {
    const last = s.turns[s.turns.length - 1];
    // the prompt as chat and eval ask it (a lone trailing space would garble a model trained without it)
    const enc = encodeConversation(tokenizer, c.template, s.turns.slice(0, -1), { generation: true, trailingSpace: trailingSpaceOf(model.config.raw) });
    return { sample: s, ids: enc.ids, spaceDropped: enc.spaceDropped, reference: last.value, question: s.turns[s.turns.length - 2].value };
  });
  const rolloutsPerEpoch = Math.floor(prompts.length / promptsPerStep);
  if (!rolloutsPerEpoch) throw new GrpoError(`${prompts.length} prompts but each step needs ${promptsPerStep} (batch × accumulation / num_generations)`);
  const stepsPerEpoch = rolloutsPerEpoch * c.numIterations;
  const totalSteps = c.maxSteps ?? Math.ceil(stepsPerEpoch * c.epochs); // max_steps replaces the epochs, as in training
  const stopAt = totalSteps;

  const stepGraph = buildGrpoGraph(model.config, ck, { trainable, audioInput, lora, mode: 'step' });
  const policyGraph = buildGrpoGraph(model.config, ck, { trainable, audioInput, lora, mode: 'logps' });
  const stepSession = await createSession(stepGraph.graph, ck.sourceId(), runtime);
  const policySession = await createSession(policyGraph.graph, ck.sourceId(), runtime);
  const refSession = c.beta !== 0
    ? await createSession(buildGrpoGraph(model.config, ck, { trainable: () => false, audioInput, mode: 'logps' }).graph, ck.sourceId(), runtime)
    : null;

  const { store, opt, step: resumedStep } = await restoreOrStart(resumeTarget(c, latestCheckpoint(c.outputDir)), stepGraph.params, ck, c, runtime.threads);
  let step = resumedStep;

  const cache = new AudioFeatureCache(model, audioInput);
  const mels = new Map<string, Float32Array[]>();
  const sched = schedule(c.scheduler, c.learningRate, totalSteps, c.warmupRatio);
  onEvent({ type: 'start', totalSteps, prompts: prompts.length, promptsPerStep, trainable: store.size, audioInput, resumedFrom: step, skipped: problems });
  mkdirSync(c.outputDir, { recursive: true });
  const metrics = (rec: Record<string, unknown>) => appendFileSync(join(c.outputDir, 'metrics.jsonl'), JSON.stringify(rec) + '\n');

  const t = getTemplate(c.template, tokenizer);
  const stops = new Set<number>();
  const endId = t.kind === 'mufun' && t.end ? tokenizer.tokenToId(t.end) : undefined;
  if (endId !== undefined) stops.add(endId);
  if (tokenizer.eosTokenId !== undefined) stops.add(tokenizer.eosTokenId);

  /** The policy as it is now: the trained tensors overlaid on the checkpoint (LoRA merged in). */
  const policyModel = () => {
    const trained = new Map(store.slots.map((s) => [s.name, store.view(s.name).slice()]));
    const over = c.tuneLlm === 'lora' ? new Map([...trained, ...mergedLinears(c.lora, ck, trained)]) : trained;
    return MufunModel.fromConfig(ck.rawConfig, new OverlayWeights(ck, over), { ...runtime, noCache: true });
  };

  const rolloutBatch = async (rolloutIndex: number) => {
    const epoch = Math.floor(rolloutIndex / rolloutsPerEpoch);
    const order = shuffled(prompts, c.seed + epoch);
    const first = (rolloutIndex % rolloutsPerEpoch) * promptsPerStep;
    const chosen = order.slice(first, first + promptsPerStep);
    const policy = policyModel();
    const rollouts: Rollout[] = [];
    try {
      for (const [gi, p] of chosen.entries()) {
        const embeds: Float32Array[] = [];
        const clips: number[] = [];
        for (const a of p.sample.audios) {
          const key = `${a.path}|${a.seg ? a.seg.join(',') : ''}`;
          let m = mels.get(key);
          if (!m) {
            m = await model.melClips((await loadAudio(a.path, { segment: a.seg })).pcm);
            mels.set(key, m);
          }
          clips.push(m.length);
          embeds.push(await policy.encodeClips(m));
        }
        const audio = embeds.length ? concatF32(embeds) : null;
        // the group's G answers decoded together: one prefill, G rows per step
        const plan = planSplice([{ ids: p.ids }], clips, model.tokensPerClip);
        const room = Math.max(1, Math.min(c.maxCompletionLength, c.maxLength - plan.length));
        const seeds = Array.from({ length: G }, (_, k) => seedOf(c.seed, rolloutIndex, first + gi, k));
        const group = await generateGroup(policy, plan, audio, seeds, {
          temperature: c.temperature, topP: c.topP, topK: c.topK, maxNewTokens: room, stopTokens: [...stops],
        });
        for (const { tokens, stopped } of group) {
          const decoded = tokenizer.decode(stopped ? tokens.slice(0, -1) : tokens, { skipSpecialTokens: true });
          const text = p.spaceDropped ? decoded.trimStart() : decoded; // the answer as chat shows it
          rollouts.push({ sample: p.sample, promptIds: p.ids, completion: tokens, text, stopped, group: gi });
        }
      }
    } finally {
      await policy.release();
    }
    // Rewards, then advantages within each group of G; a group with a failed reward is out.
    const contexts: RewardContext[] = rollouts.map((r, i) => ({
      id: r.sample.id, prompt: chosen[r.group].question, reference: chosen[r.group].reference, completion: r.text,
      generation: i % G, completionTokens: r.completion.length, stopped: r.stopped,
    }));
    const scores = await scoreCompletions(c.rewards, contexts);
    const groupOk = chosen.map((_, gi) => scores.total.slice(gi * G, gi * G + G).every(Number.isFinite));
    const adv = groupAdvantages(scores.total.map((r) => (Number.isFinite(r) ? r : 0)), G, c.scaleRewards);
    const valid = rollouts.map((r) => groupOk[r.group]);
    // Micro-batches with the rollout policy's and the reference model's log-probs.
    const micro: MicroBatch[] = [];
    for (let i = 0; i < rollouts.length; i += c.batchSize) {
      const part = rollouts.slice(i, i + c.batchSize);
      const mb = await microBatch(part, adv.slice(i, i + c.batchSize), valid.slice(i, i + c.batchSize));
      const oldOut = await policySession.run({ ...mb.feeds, ...store.feeds() });
      mb.old = (oldOut.logps.data as Float32Array).slice();
      mb.ref = refSession ? ((await refSession.run(mb.feeds)).logps.data as Float32Array).slice() : mb.old;
      micro.push(mb);
    }
    const groupStd = chosen.map((_, gi) => meanStd(scores.total.slice(gi * G, gi * G + G)).std).filter((_, gi) => groupOk[gi]);
    return {
      micro, rollouts, scores, groupOk, adv,
      stats: {
        reward: meanStd(scores.total.filter((_, i) => valid[i])).mean,
        rewardStd: groupStd.length ? groupStd.reduce((a, b) => a + b, 0) / groupStd.length : NaN,
        fracRewardZeroStd: groupStd.length ? groupStd.filter((s) => Math.abs(s) < 1e-8).length / groupStd.length : NaN,
        rewards: Object.fromEntries(c.rewards.map((r, k) => [r.name, meanStd(scores.perReward[k].filter((_, i) => valid[i]))])),
        lengths: rollouts.filter((_, i) => valid[i]).map((r) => r.completion.length),
        skippedGroups: groupOk.filter((ok) => !ok).length,
        answers: chosen.map((p, gi): GrpoAnswer => ({
          id: p.sample.id, question: p.question, reference: p.reference, completion: rollouts[gi * G].text,
          reward: groupOk[gi] ? scores.total[gi * G] : null,
          groupReward: groupOk[gi] ? meanStd(scores.total.slice(gi * G, gi * G + G)).mean : null,
        })),
      },
    };
  };

  interface MicroBatch {
    feeds: Record<string, ort.Tensor>;
    mask: Uint8Array;
    advantages: Float32Array;
    weights: Float32Array;
    batch: number;
    length: number;
    old?: Float32Array;
    ref?: Float32Array;
  }

  const microBatch = async (part: Rollout[], adv: number[], valid: boolean[]): Promise<MicroBatch> => {
    const enc: EncodedSample[] = part.map((r) => ({
      ...r.sample, ids: [...r.promptIds, ...r.completion],
      labels: [...r.promptIds.map(() => -100), ...r.completion], truncated: false,
    }));
    const b = await makeBatch(enc, cache, model, c.maxLength);
    const { batch: B, length: T, labels } = b.plan;
    const targets = new BigInt64Array(B * T);
    const mask = new Uint8Array(B * T);
    for (let r = 0; r < B; r++) {
      for (let i = 0; i + 1 < T; i++) {
        const next = labels[r * T + i + 1];
        if (next === -100n) continue;
        targets[r * T + i] = next;
        mask[r * T + i] = 1;
      }
    }
    const feeds = { ...b.feeds };
    delete feeds.labels;
    feeds.targets = new ort.Tensor('int64', targets, [B, T]);
    feeds.temperature = new ort.Tensor('float32', Float32Array.of(c.temperature > 0 ? c.temperature : 1), []);
    const weights = grpoTokenWeights(mask, B, T, c.lossType, c.maxCompletionLength, valid);
    return { feeds, mask, advantages: Float32Array.from(adv.map((a, i) => (valid[i] ? a : 0))), weights, batch: B, length: T };
  };

  const logCompletions = (forStep: number, b: Awaited<ReturnType<typeof rolloutBatch>>) => {
    const lines = b.rollouts.map((r, i) => JSON.stringify({
      step: forStep, id: r.sample.id, generation: i % G, completion: r.text, stopped: r.stopped, tokens: r.completion.length,
      reward: b.scores.total[i], rewards: Object.fromEntries(c.rewards.map((w, k) => [w.name, b.scores.perReward[k][i]])),
      advantage: b.groupOk[r.group] ? b.adv[i] : null,
    }));
    appendFileSync(join(c.outputDir, 'completions.jsonl'), lines.join('\n') + '\n');
  };

  const save = (dir: string, final: boolean) => saveCheckpoint(c, ck, store, opt, step, dir, final);
  const t0 = performance.now();
  const startStep = step;
  let buffer: Awaited<ReturnType<typeof rolloutBatch>> | null = null;
  const epsHigh = c.epsilonHigh ?? c.epsilon;
  const scalar = (x: number) => new ort.Tensor('float32', Float32Array.of(x), []);
  try {
    while (step < stopAt) {
      if (signal?.aborted) break;
      const rolloutIndex = Math.floor(step / c.numIterations);
      if (!buffer || step % c.numIterations === 0) {
        buffer = await rolloutBatch(rolloutIndex);
        for (const f of buffer.scores.failures) {
          onEvent({ type: 'reward_failure', step: step + 1, failure: f });
          metrics({ type: 'reward_failure', step: step + 1, ...f });
        }
        if (c.logCompletions) logCompletions(step + 1, buffer);
      }
      let lossSum = 0, klSum = 0, clipped = 0, tokens = 0;
      const anyValid = buffer.groupOk.some(Boolean);
      for (const [i, mb] of buffer.micro.entries()) {
        const r = await stepSession.run({
          ...mb.feeds, ...store.feeds(),
          completion_mask: new ort.Tensor('bool', mb.mask, [mb.batch, mb.length]),
          old_logps: new ort.Tensor('float32', mb.old!, [mb.batch, mb.length]),
          ref_logps: new ort.Tensor('float32', mb.ref!, [mb.batch, mb.length]),
          token_weights: new ort.Tensor('float32', mb.weights, [mb.batch, mb.length]),
          advantages: new ort.Tensor('float32', mb.advantages, [mb.batch]),
          beta: scalar(c.beta), epsilon_low: scalar(c.epsilon), epsilon_high: scalar(epsHigh),
        });
        const loss = (r.loss.data as Float32Array)[0];
        if (!Number.isFinite(loss)) throw new GrpoError(`GRPO loss is ${loss} at step ${step + 1}; lower the learning rate`);
        store.accumulate(r, i === 0);
        lossSum += loss;
        // KL to the reference and the clipped share, over the completion tokens of valid groups.
        const logps = r.logps.data as Float32Array;
        for (let j = 0; j < logps.length; j++) {
          if (!mb.mask[j] || !mb.weights[j]) continue;
          const d = mb.ref![j] - logps[j];
          klSum += Math.exp(d) - d - 1;
          const ratio = Math.exp(logps[j] - mb.old![j]);
          const A = mb.advantages[Math.floor(j / mb.length)];
          if ((ratio < 1 - c.epsilon && A < 0) || (ratio > 1 + epsHigh && A > 0)) clipped++;
          tokens++;
        }
      }
      const lr = lrAt(sched, step);
      const gradNorm = anyValid ? await opt.step(store.values, store.grad, lr, 1 / buffer.micro.length) : 0;
      step++;
      const elapsed = (performance.now() - t0) / 1000;
      const s = buffer.stats;
      const ev: GrpoStepMetrics = {
        step, totalSteps, epoch: step / stepsPerEpoch, loss: lossSum / buffer.micro.length, lr, gradNorm,
        reward: s.reward, rewardStd: s.rewardStd, rewards: s.rewards, fracRewardZeroStd: s.fracRewardZeroStd,
        kl: tokens ? klSum / tokens : NaN, clipRatio: tokens ? clipped / tokens : NaN,
        completionLength: {
          mean: s.lengths.length ? s.lengths.reduce((a, b) => a + b, 0) / s.lengths.length : NaN,
          min: s.lengths.length ? Math.min(...s.lengths) : NaN, max: s.lengths.length ? Math.max(...s.lengths) : NaN,
        },
        skippedGroups: s.skippedGroups, answers: s.answers, elapsedSec: elapsed, etaSec: (elapsed / (step - startStep)) * (stopAt - step),
      };
      onEvent({ type: 'step', ...ev });
      metrics({ type: 'step', ...ev, time: new Date().toISOString() });
      const epochEnd = step % stepsPerEpoch === 0;
      if (((c.saveSteps > 0 && step % c.saveSteps === 0) || (c.saveSteps < 0 && epochEnd)) && step < stopAt) {
        const dir = join(c.outputDir, `checkpoint-${step}`);
        save(dir, false);
        pruneCheckpoints(c.outputDir, c.saveTotalLimit);
        onEvent({ type: 'save', step, dir });
      }
    }
    return { finalDir: finishRun(c, save, step, onEvent, signal), step };
  } finally {
    await cache.release();
    await stepSession.release();
    await policySession.release();
    await refSession?.release();
    await opt.release();
    await model.release();
  }
}

function concatF32(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
