// The training runner: MuFun's recipes (connector warm-up, full finetune, LoRA) on the
// engine's graphs. Each micro-batch is one ONNX Runtime run returning the loss and the
// gradients of the trainable tensors; AdamW updates the fp32 master copy; checkpoints in the
// Hugging Face MuFun layout (plus optimizer state) let a killed run resume where it saved.
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Checkpoint } from '../checkpoint.js';
import { type LoraSpec, loraAttachment, loraInit, peftName, saveAdapter } from '../lora.js';
import type { Signature } from '../ir/graph.js';
import { MufunModel } from '../mufun.js';
import { type RuntimeOptions, createSession } from '../runtime.js';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../safetensors.js';
import type { TemplateName } from '../template.js';
import { Tokenizer } from '../tokenizer.js';
import { AdamW } from './adamw.js';
import { AudioFeatureCache, type Batch, makeBatch } from './batches.js';
import { type EncodedSample, type SampleProblem, encodeSample, loadDataset, shuffled } from './data.js';
import { type AudioInput, audioInputFor, buildTrainGraph } from './graph.js';
import { evaluate, loadEvalSet } from '../eval.js';
import { OverlayWeights } from './overlay.js';
import { ParamStore } from './params.js';
import { type TowerTuneType, type TrainOptions, type TuneType, loraSpecOf } from './options.js';
import { type SchedulerType, lrAt, schedule } from './schedule.js';


export interface TrainerConfig {
  modelDir: string;
  tokenizerDir?: string;
  dataPath: string;
  audioRoot: string;
  evalDataPath?: string;
  template: TemplateName;
  tuneLlm: TuneType;
  tuneTower: Exclude<TowerTuneType, 'partially-tune'>;
  tuneConnector: 'frozen' | 'full';
  /** train the tower's layers from this index on (MuFun's tune_vision_tower_from_layer) */
  towerFromLayer?: number;
  lora: LoraSpec;
  learningRate: number;
  epochs: number;
  batchSize: number;
  gradAccum: number;
  warmupRatio: number;
  scheduler: SchedulerType;
  weightDecay: number;
  maxGradNorm: number;
  maxLength: number;
  evalSteps: number; // 0 = only at the end, −1 = every epoch
  saveSteps: number; // 0 = only at the end, −1 = every epoch
  saveTotalLimit?: number;
  outputDir: string;
  seed: number;
  onBadSample: 'skip' | 'fail';
  /** stop after this many optimizer steps (for smoke runs); the schedule still spans the full run */
  /** optimizer steps in all, instead of the epochs (transformers' max_steps) */
  maxSteps?: number;
  /** at each eval, answer this many eval samples by greedy generation and report accuracy (0 = off) */
  evalAccuracySamples?: number;
  /** 'last': continue from the newest checkpoint in outputDir; a folder: from that one; null: start (refusing to mix with old checkpoints) */
  resumeFrom?: string | null;
  runtime?: RuntimeOptions;
}

export type TrainEvent =
  | { type: 'start'; totalSteps: number; trainSamples: number; evalSamples: number; trainable: number; audioInput: AudioInput; resumedFrom: number; skipped: SampleProblem[] }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number; tokensPerSecond: number; elapsedSec: number; etaSec: number }
  | { type: 'eval'; step: number; evalLoss: number; evalAccuracy?: number; evalTasks?: Record<string, number> }
  | { type: 'save'; step: number; dir: string }
  | { type: 'done'; step: number; outputDir: string; finalDir: string };

export class TrainError extends Error {}

export const STATE = 'trainer_state.json';

/** Which checkpoint tensors train, from the tune types (embed_positions is a fixed table in Whisper). */
export function trainablePredicate(c: TrainerConfig): (name: string) => boolean {
  return (name) => {
    if (name.includes('.lora_')) return c.tuneLlm === 'lora';
    if (name.startsWith('language_model.')) return c.tuneLlm === 'full';
    if (name.startsWith('connector.')) return c.tuneConnector === 'full';
    if (name.startsWith('vision_tower.')) {
      if (c.tuneTower !== 'full' || name.endsWith('embed_positions.weight')) return false;
      const m = /\.layers\.(\d+)\./.exec(name);
      const from = c.towerFromLayer ?? 0;
      if (m) return Number(m[1]) >= from;
      return from <= 0 || name.includes('layer_norm'); // convs train with the whole tower; the final norm always
    }
    return false;
  };
}

/** TrainOptions (the CLI's and studio's, MuFun's argument names) → the runner's config. */
export function trainerConfigFrom(o: TrainOptions, extra: { tokenizerDir?: string; runtime?: RuntimeOptions } = {}): TrainerConfig {
  if (!o.pretrainedModelPath) {
    throw new TrainError('--pretrained_model_path (--model) is required: building a MuFun from Hugging Face ids needs downloads; start from a MuFun folder (e.g. the embedded model)');
  }
  const every = (strategy: string, steps: number) => (strategy === 'no' ? 0 : strategy === 'epoch' ? -1 : steps);
  return {
    modelDir: o.pretrainedModelPath, tokenizerDir: extra.tokenizerDir, runtime: extra.runtime,
    dataPath: o.dataPath, audioRoot: o.imageFolder, evalDataPath: o.evalStrategy === 'no' ? undefined : o.evalDataPath ?? undefined,
    template: o.convVersion, tuneLlm: o.tuneTypeLlm, tuneConnector: o.tuneTypeConnector,
    tuneTower: o.tuneTypeVisionTower === 'partially-tune' ? 'full' : o.tuneTypeVisionTower,
    towerFromLayer: o.tuneTypeVisionTower === 'partially-tune' ? o.tuneVisionTowerFromLayer : 0,
    lora: loraSpecOf(o), learningRate: o.learningRate, epochs: o.numTrainEpochs, batchSize: o.perDeviceTrainBatchSize,
    gradAccum: o.gradientAccumulationSteps, warmupRatio: o.warmupRatio, scheduler: o.lrSchedulerType, weightDecay: o.weightDecay,
    maxGradNorm: o.maxGradNorm, maxLength: o.modelMaxLength, evalSteps: every(o.evalStrategy, o.evalSteps),
    saveSteps: every(o.saveStrategy, o.saveSteps), saveTotalLimit: o.saveTotalLimit ?? undefined, outputDir: o.outputDir, seed: o.seed,
    onBadSample: o.onBadSample, maxSteps: o.maxSteps > 0 ? o.maxSteps : undefined, evalAccuracySamples: o.evalAccuracySamples,
    resumeFrom: o.resumeFromCheckpoint,
  };
}

export function latestCheckpoint(out: string): { dir: string; step: number } | null {
  if (!existsSync(out)) return null;
  const steps = readdirSync(out)
    .map((d) => /^checkpoint-(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m && existsSync(join(out, m[0], STATE)))
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? { dir: join(out, `checkpoint-${steps[0]}`), step: steps[0] } : null;
}

export async function train(c: TrainerConfig, onEvent: (e: TrainEvent) => void = () => {}, signal?: AbortSignal): Promise<{ finalDir: string; step: number }> {
  const model = MufunModel.load(c.modelDir, c.runtime ?? {});
  if (!(model.weights instanceof Checkpoint)) throw new TrainError(`${c.modelDir} is a converted model; train from the Hugging Face folder it came from`);
  const ck = model.weights;
  const tokenizer = Tokenizer.fromDir(c.tokenizerDir ?? c.modelDir);
  const trainable = trainablePredicate(c);
  const lora = c.tuneLlm === 'lora' ? loraAttachment(c.lora, null, c.seed) : null;
  const audioInput = audioInputFor(trainable, ck.names());

  // Data: bad samples reported by id (skipped or failing), then encoded once.
  const encode = (path: string) => {
    const { samples, problems } = loadDataset(path, { audioRoot: c.audioRoot, onBadSample: c.onBadSample });
    return { samples: samples.map((s) => encodeSample(s, tokenizer, c.template, c.maxLength)), problems };
  };
  const trainSet = encode(c.dataPath);
  const evalSet = c.evalDataPath ? encode(c.evalDataPath).samples : [];

  const { graph, params } = buildTrainGraph(model.config, ck, { trainable, audioInput, lora });
  const runtime = c.runtime ?? {};
  const step1 = await createSession(graph, ck.sourceId(), runtime);
  const evalGraph = evalSet.length ? buildTrainGraph(model.config, ck, { trainable, audioInput, lora, gradients: false }).graph : null;
  const evalSession = evalGraph ? await createSession(evalGraph, ck.sourceId(), runtime) : null;

  // Resume from a checkpoint, else start from the model (LoRA: PEFT's init).
  const { store, opt, step: resumedStep } = await restoreOrStart(resumeTarget(c, latestCheckpoint(c.outputDir)), params, ck, c, runtime.threads);
  let step = resumedStep;

  const cache = new AudioFeatureCache(model, audioInput);
  const microPerEpoch = Math.ceil(trainSet.samples.length / c.batchSize);
  const stepsPerEpoch = Math.ceil(microPerEpoch / c.gradAccum);
  // transformers' max_steps: it replaces the epochs (the data repeats as needed) and the schedule spans it
  const totalSteps = c.maxSteps ?? stepsPerEpoch * c.epochs;
  const sched = schedule(c.scheduler, c.learningRate, totalSteps, c.warmupRatio);
  const stopAt = totalSteps;
  onEvent({ type: 'start', totalSteps, trainSamples: trainSet.samples.length, evalSamples: evalSet.length, trainable: store.size, audioInput, resumedFrom: step, skipped: trainSet.problems });
  mkdirSync(c.outputDir, { recursive: true });
  const metrics = (rec: Record<string, unknown>) => appendFileSync(join(c.outputDir, 'metrics.jsonl'), JSON.stringify(rec) + '\n');

  const microBatches = (epoch: number): EncodedSample[][] => {
    const order = shuffled(trainSet.samples, c.seed + epoch);
    return Array.from({ length: microPerEpoch }, (_, i) => order.slice(i * c.batchSize, (i + 1) * c.batchSize));
  };

  const runEval = async (): Promise<TrainEvent & { type: 'eval' }> => {
    let sum = 0, tokens = 0;
    for (let i = 0; i < evalSet.length; i += c.batchSize) {
      const b = await makeBatch(evalSet.slice(i, i + c.batchSize), cache, model, c.maxLength);
      if (!b.tokens) continue;
      const r = await evalSession!.run({ ...b.feeds, ...store.feeds() });
      sum += (r.loss.data as Float32Array)[0] * b.tokens;
      tokens += b.tokens;
    }
    const ev: TrainEvent & { type: 'eval' } = { type: 'eval', step, evalLoss: tokens ? sum / tokens : NaN };
    if (c.evalAccuracySamples && c.evalDataPath) {
      // Answer by generation with the weights as they are now (LoRA merged in).
      const trained = new Map(store.slots.map((s) => [s.name, store.view(s.name)]));
      const over = c.tuneLlm === 'lora' ? new Map([...trained, ...mergedLinears(c.lora, ck, trained)]) : trained;
      const now = MufunModel.fromConfig(ck.rawConfig, new OverlayWeights(ck, over), { ...runtime, noCache: true });
      try {
        const { samples } = loadEvalSet(c.evalDataPath, { audioRoot: c.audioRoot, onBadSample: 'skip' });
        const report = await evaluate(now, tokenizer, samples, { template: c.template, limit: c.evalAccuracySamples, signal });
        ev.evalAccuracy = report.overall.accuracy;
        ev.evalTasks = Object.fromEntries(report.tasks.map((t) => [t.task, t.accuracy]));
      } finally {
        await now.release();
      }
    }
    return ev;
  };

  const save = (dir: string, final: boolean) => saveCheckpoint(c, ck, store, opt, step, dir, final);
  const t0 = performance.now();
  const startStep = step;
  let tokensSeen = 0;
  try {
    while (step < stopAt) {
      if (signal?.aborted) break;
      const epoch = Math.floor(step / stepsPerEpoch);
      const batches = microBatches(epoch);
      const first = (step % stepsPerEpoch) * c.gradAccum;
      const group = batches.slice(first, first + c.gradAccum);
      let lossSum = 0, lossCount = 0, stepTokens = 0;
      for (const [i, samples] of group.entries()) {
        const b: Batch = await makeBatch(samples, cache, model, c.maxLength);
        const r = await step1.run({ ...b.feeds, ...store.feeds() });
        const loss = (r.loss.data as Float32Array)[0];
        if (!Number.isFinite(loss)) throw new TrainError(`loss is ${loss} at step ${step + 1} (samples ${b.ids.join(', ')}); lower the learning rate`);
        store.accumulate(r, i === 0);
        lossSum += loss;
        lossCount++;
        stepTokens += b.tokens;
      }
      const lr = lrAt(sched, step);
      const gradNorm = await opt.step(store.values, store.grad, lr, 1 / group.length);
      step++;
      tokensSeen += stepTokens;
      const elapsed = (performance.now() - t0) / 1000;
      const perStep = elapsed / (step - startStep);
      const ev = {
        type: 'step' as const, step, totalSteps, epoch: step / stepsPerEpoch, loss: lossSum / lossCount, lr, gradNorm,
        tokensPerSecond: tokensSeen / elapsed, elapsedSec: elapsed, etaSec: perStep * (stopAt - step),
      };
      onEvent(ev);
      metrics({ ...ev, time: new Date().toISOString() });
      const epochEnd = step % stepsPerEpoch === 0;
      if (evalSession && ((c.evalSteps > 0 && step % c.evalSteps === 0) || (c.evalSteps < 0 && epochEnd))) {
        const ev = await runEval();
        onEvent(ev);
        metrics(ev);
      }
      if (((c.saveSteps > 0 && step % c.saveSteps === 0) || (c.saveSteps < 0 && epochEnd)) && step < stopAt) {
        const dir = join(c.outputDir, `checkpoint-${step}`);
        save(dir, false);
        pruneCheckpoints(c.outputDir, c.saveTotalLimit);
        onEvent({ type: 'save', step, dir });
      }
    }
    const evaluatedLast = (c.evalSteps > 0 && step % c.evalSteps === 0) || (c.evalSteps < 0 && step % stepsPerEpoch === 0);
    if (evalSession && !evaluatedLast) {
      const ev = await runEval();
      onEvent(ev);
      metrics(ev);
    }
    return { finalDir: finishRun(c, save, step, onEvent, signal), step };
  } finally {
    await cache.release();
    await step1.release();
    await evalSession?.release();
    await opt.release();
    await model.release();
  }
}

/**
 * The run's trainable values and optimizer: from a checkpoint's trainable.safetensors,
 * optimizer.safetensors and trainer_state.json, else from the model (LoRA: PEFT's init).
 */
export async function restoreOrStart(
  resume: { dir: string } | null, params: Signature[], ck: Checkpoint,
  c: Pick<TrainerConfig, 'seed' | 'weightDecay' | 'maxGradNorm'>, threads?: number,
): Promise<{ store: ParamStore; opt: AdamW; step: number }> {
  let saved: { values: SafetensorsFile | null; optimizer: SafetensorsFile; state: Record<string, any> } | null = null;
  if (resume) {
    const state = JSON.parse(readFileSync(join(resume.dir, STATE), 'utf8'));
    const weightsFile = join(resume.dir, 'trainable.safetensors');
    saved = { values: existsSync(weightsFile) ? SafetensorsFile.open(weightsFile) : null, optimizer: SafetensorsFile.open(join(resume.dir, 'optimizer.safetensors')), state };
  }
  const store = new ParamStore(params, (name, shape) => {
    if (saved?.values?.has(name)) return saved.values.float32(name);
    if (name.includes('.lora_')) return loraInit(name, shape, c.seed);
    return ck.float32(name);
  });
  const opt = await AdamW.create(store.size, { weightDecay: c.weightDecay, maxGradNorm: c.maxGradNorm }, threads);
  let step = 0;
  if (saved) {
    opt.m.set(saved.optimizer.float32('exp_avg'));
    opt.v.set(saved.optimizer.float32('exp_avg_sq'));
    opt.t = saved.state.optimizer_step;
    step = saved.state.global_step;
    saved.values?.close();
    saved.optimizer.close();
  }
  return { store, opt, step };
}

/**
 * The end of a run: unless it was stopped, a last resumable checkpoint, then the final model
 * folder (LoRA merged). Returns where the final folder is (or would be).
 */
export function finishRun(
  c: Pick<TrainerConfig, 'outputDir' | 'saveTotalLimit'>, save: (dir: string, final: boolean) => void, step: number,
  onEvent: (e: { type: 'done'; step: number; outputDir: string; finalDir: string }) => void, signal?: AbortSignal,
): string {
  const finalDir = join(c.outputDir, 'final');
  if (!signal?.aborted) {
    save(join(c.outputDir, `checkpoint-${step}`), false);
    pruneCheckpoints(c.outputDir, c.saveTotalLimit);
    save(finalDir, true);
    onEvent({ type: 'done', step, outputDir: c.outputDir, finalDir });
  }
  return finalDir;
}

export function resumeTarget(c: TrainerConfig, latest: { dir: string; step: number } | null): { dir: string } | null {
  if (c.resumeFrom === 'last') return latest;
  if (c.resumeFrom) {
    if (!existsSync(join(c.resumeFrom, STATE))) throw new TrainError(`${c.resumeFrom} is not a complete checkpoint (no ${STATE})`);
    return { dir: c.resumeFrom };
  }
  if (latest) {
    throw new TrainError(`${c.outputDir} already holds ${latest.dir}: continue it with --resume_from_checkpoint last, or choose another --output_dir`);
  }
  return null;
}

export function pruneCheckpoints(out: string, limit?: number): void {
  if (!limit) return;
  const dirs = readdirSync(out).map((d) => /^checkpoint-(\d+)$/.exec(d)).filter((m): m is RegExpExecArray => !!m).sort((a, b) => Number(b[1]) - Number(a[1]));
  for (const m of dirs.slice(limit)) rmSync(join(out, m[0]), { recursive: true, force: true });
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'chat_template.jinja', 'generation_config.json'];

/**
 * Writes a checkpoint folder atomically (a temporary folder renamed into place):
 *   config.json, model.safetensors (every weight, trained ones updated; LoRA merged when final),
 *   tokenizer files, adapter/ (LoRA, PEFT format), trainable.safetensors + optimizer.safetensors
 *   + trainer_state.json (what resuming needs).
 */
export function saveCheckpoint(c: TrainerConfig, ck: Checkpoint, store: ParamStore, opt: AdamW, step: number, dir: string, final: boolean): void {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(ck.rawConfig, null, 1));
  const tokDir = c.tokenizerDir ?? c.modelDir;
  for (const f of TOKENIZER_FILES) if (existsSync(join(tokDir, f))) copyFileSync(join(tokDir, f), join(tmp, f));

  const trained = new Map(store.slots.map((s) => [s.name, store.view(s.name)]));
  const lora = c.tuneLlm === 'lora';
  if (!lora || final) {
    // Full weights: trained tensors replace the checkpoint's; a final LoRA run is merged in.
    const merged = lora ? mergedLinears(c.lora, ck, trained) : new Map<string, Float32Array>();
    const tensors: Record<string, TensorToWrite> = {};
    for (const name of ck.names()) {
      const data = trained.get(name) ?? merged.get(name) ?? ck.float32(name);
      tensors[name] = { dtype: 'F32', shape: ck.shape(name), data };
    }
    writeSafetensors(join(tmp, 'model.safetensors'), tensors, { format: 'pt' });
  }
  if (lora) {
    const adapter: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const s of store.slots) if (s.name.includes('.lora_')) adapter[s.name] = { shape: s.shape, data: store.view(s.name) };
    saveAdapter(join(tmp, 'adapter'), c.lora, adapter);
  }
  if (!final) {
    const t: Record<string, TensorToWrite> = {};
    for (const s of store.slots) t[s.name] = { dtype: 'F32', shape: s.shape, data: store.view(s.name) };
    writeSafetensors(join(tmp, 'trainable.safetensors'), t);
    writeSafetensors(join(tmp, 'optimizer.safetensors'), {
      exp_avg: { dtype: 'F32', shape: [opt.m.length], data: opt.m },
      exp_avg_sq: { dtype: 'F32', shape: [opt.v.length], data: opt.v },
    });
    writeFileSync(join(tmp, STATE), JSON.stringify({ global_step: step, optimizer_step: opt.t, trainable: store.slots.map((s) => s.name), config: c }, null, 1));
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}

/** W + (alpha/r)·B·A for each adapted linear layer (a final LoRA run's merged weights). */
export function mergedLinears(spec: LoraSpec, ck: Checkpoint, trained: Map<string, Float32Array>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const scale = spec.alpha / spec.r;
  for (const name of ck.names()) {
    if (!name.endsWith('.weight')) continue;
    const key = name.slice(0, -'.weight'.length);
    const A = trained.get(peftName(key, 'lora_A'));
    const B = trained.get(peftName(key, 'lora_B'));
    if (!A || !B) continue;
    const [outF, inF] = ck.shape(name);
    const W = ck.float32(name);
    const r = spec.r;
    // One rank-r update per layer, done once at the end of training (not on a hot path).
    for (let o = 0; o < outF; o++) {
      for (let k = 0; k < r; k++) {
        const b = B[o * r + k] * scale;
        if (b === 0) continue;
        const row = o * inF, arow = k * inF;
        for (let i = 0; i < inF; i++) W[row + i] += b * A[arow + i];
      }
    }
    out.set(name, W);
  }
  return out;
}
