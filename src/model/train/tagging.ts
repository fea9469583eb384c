// Audio tagging: the tower and connector learn to hear before the LLM learns to answer.
//
// MuFun starts from Whisper's encoder, pretrained on 680k hours of speech. A tower trained from
// scratch (MuFun-nano) has no such start, and in MuFun's own stages its only teacher is the
// answer token, through an LLM that is itself still learning: it hears next to nothing (a probe
// on nano v1's audio tokens read the instrument worse than on the raw log-mel). Tagging gives
// the tower a direct signal: the mean of a clip's audio tokens (what the LLM will read) → one
// linear head per task → cross-entropy on the data set's labels, every task of every clip in
// one pass. With frame tasks, a second head reads every audio token on its own and learns labels
// local in time (which pitch classes sound in this 0.1 s, is a beat here: src/synth/frames.ts),
// far more signal per clip than one label per task. The heads are dropped afterwards; the model
// folder keeps MuFun's layout.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadAudio } from '../audio/load.js';
import { HOP, SAMPLE_RATE } from '../audio/mel.js';
import { Checkpoint, type WeightSource } from '../checkpoint.js';
import type { MufunConfig } from '../config.js';
import { CONNECTOR_PREFIX, TOWER_PREFIX, audioEncoder, tokensPerClip } from '../graphs.js';
import { gradients } from '../ir/autodiff.js';
import { Graph, type Signature, type Value, int } from '../ir/graph.js';
import { add, linear, mul, mulScalar, reduceMean, reshape, slice, sub, transpose } from '../ir/ops.js';
import { pruneDeadNodes } from '../ir/prune.js';
import { Params } from '../arch/params.js';
import { MufunModel } from '../mufun.js';
import { type RuntimeOptions, createSession } from '../runtime.js';
import { rng } from '../sampling.js';
import { AdamW } from './adamw.js';
import { shuffled } from './data.js';
import { promoteTrainable } from './graph.js';
import { ParamStore } from './params.js';
import { type SchedulerType, lrAt, schedule } from './schedule.js';
import { TrainError, type TrainerConfig, saveCheckpoint } from './trainer.js';

/** One task: its name and classes (a clip's label is an index into them, or none). */
export interface TagTask {
  task: string;
  classes: readonly string[];
}

/** A clip and its label index per task (−100: the task does not apply to this clip). */
export interface TaggedClip {
  id: string;
  audio: string;
  labels: number[];
  /** its number per value task (NaN: none for this clip), e.g. log2 of its tempo */
  values?: number[];
}

/** Labels per audio token: the tasks, and a clip's labels [tokens × tasks] (−100: none there). */
export interface FrameTargets {
  tasks: TagTask[];
  of: (clip: TaggedClip, tokens: number, tokenSeconds: number) => Int32Array;
}

const IGNORE = -100;
const PAD_LOGIT = -1e4; // classes a task does not have (heads are padded to the widest task)

/** A linear head per task over rows x [N, D], padded to the widest task → logits [N·tasks, widest]. */
function taskHeads(x: Value, prefix: string, tasks: readonly TagTask[], D: number): Value {
  const g = x.graph;
  const T = tasks.length, K = widest(tasks);
  const W = g.input(`${prefix}.weight`, 'float32', [T * K, D]);
  const b = g.input(`${prefix}.bias`, 'float32', [T * K]);
  const pad = new Float32Array(T * K);
  tasks.forEach((t, i) => pad.fill(PAD_LOGIT, i * K + t.classes.length, (i + 1) * K));
  return reshape(add(linear(x, W, b, D, T * K), g.constant(pad, 'float32', [T * K])), [-1, K]);
}

const widest = (tasks: readonly TagTask[]) => Math.max(...tasks.map((x) => x.classes.length));
/**
 * Rows x [clips·N, D] (audio token i of each clip) → the mean squared error of a linear head's
 * guess at the log-mel that token covers (its 2·poolStride frames averaged): the tokens are asked
 * to keep the whole spectrum, not only what the heads name. On MuFun-nano's set it changed
 * nothing measurable: two epochs with and without it hear alike (bench/results/nano-v4.2-*).
 */
function spectrumLoss(x: Value, features: Value, cfg: MufunConfig): Value {
  const g = x.graph, M = cfg.audioTower.melBins, D = cfg.llm.hiddenSize, N = tokensPerClip(cfg), per = 2 * cfg.audioPoolStride;
  const spans = reshape(slice(features, [0], [N * per], [2]), [-1, M, N, per]);
  const target = reshape(transpose(reshape(reduceMean(spans, [3]), [-1, M, N]), [0, 2, 1]), [-1, M]); // [clips·N, M]
  const guess = linear(x, g.input('spectrum.weight', 'float32', [M, D]), g.input('spectrum.bias', 'float32', [M]), D, M);
  const err = sub(guess, target);
  return reshape(reduceMean(mul(err, err), [0, 1]), []);
}

/**
 * The mean audio token [clips, D] → a linear guess at each clip's numbers, values [clips, V]; the
 * squared error where value_weights [clips, V] is not 0 (each weight is (clips·V)/(numbers
 * given), so the mean below is the mean over the numbers given). A class says only which side of
 * a boundary a clip's tempo falls; its number says how far, and a guess at half or double time
 * costs a whole octave. With tokens [clips·N, D], the same head also guesses from every token on
 * its own (tokenLoss): that error is the mean token's plus the spread of the tokens' guesses, so
 * it asks each token to carry the number, whatever mix of them the LLM's attention reads.
 */
function valueLoss(clip: Value, V: number, D: number, tokens?: { x: Value; N: number }): { guess: Value; loss: Value; tokenLoss?: Value } {
  const g = clip.graph;
  const W = g.input('valuer.weight', 'float32', [V, D]), b = g.input('valuer.bias', 'float32', [V]);
  const values = g.input('values', 'float32', ['clips', V]), weights = g.input('value_weights', 'float32', ['clips', V]);
  const weightedSquaredError = (guess: Value, target: Value, w: Value, axes: number[]) => {
    const err = sub(guess, target);
    return reshape(reduceMean(mul(w, mul(err, err)), axes), []);
  };
  const guess = linear(clip, W, b, D, V);
  const loss = weightedSquaredError(guess, values, weights, [0, 1]);
  if (!tokens) return { guess, loss };
  const perToken = reshape(linear(tokens.x, W, b, D, V), [-1, tokens.N, V]); // [clips, N, V]
  const tokenLoss = weightedSquaredError(perToken, reshape(values, [-1, 1, V]), reshape(weights, [-1, 1, V]), [0, 1, 2]);
  return { guess, loss, tokenLoss };
}

const crossEntropy = (logits: Value, labels: Value) => logits.graph.op('SoftmaxCrossEntropyLoss', [logits, reshape(labels, [-1])], {
  ignore_index: int(IGNORE), reduction: { kind: 'string', v: 'mean' },
});

/** The losses added to the clip tasks' loss, and their weights. */
export interface TaggingLosses {
  /** labels per audio token, learnt by a second head on every token */
  frameTasks?: readonly TagTask[];
  /** weight of the frame tasks' loss against the clip tasks' (default 1) */
  frameWeight?: number;
  /** weight of the tokens' log-mel regression (spectrumLoss; default 0: none) */
  spectrumWeight?: number;
  /** numbers per clip (TaggedClip.values) a third head regresses from the mean audio token */
  valueTasks?: readonly string[];
  /** weight of their squared error against the clip tasks' loss (default 1) */
  valueWeight?: number;
  /** weight of the same head's squared error on every audio token on its own (default 0: none) */
  tokenValueWeight?: number;
}

/**
 * input_features [clips, mel, frames], labels [clips, tasks] → loss (mean over the clips' labels),
 * logits [clips, tasks, widest]; with frame tasks also frame_labels [clips, tokens, frameTasks] →
 * frame_loss (mean over the tokens' labels, added to loss × frameWeight) and frame_logits; with a
 * spectrumWeight > 0 also spectrum_loss (added × spectrumWeight); with value tasks also values and
 * value_weights [clips, V] → value_loss (added × valueWeight) and value_guess, and with a
 * tokenValueWeight > 0 token_value_loss, the same head on every token (added × tokenValueWeight). With gradients,
 * grad.<name> for the tower, connector and heads.
 */
export function buildTaggingGraph(
  cfg: MufunConfig, src: WeightSource, tasks: readonly TagTask[], withGradients = true, losses: TaggingLosses = {},
): { graph: Graph; params: Signature[] } {
  const { frameTasks = [], frameWeight = 1, spectrumWeight = 0, valueTasks = [], valueWeight = 1, tokenValueWeight = 0 } = losses;
  const g = new Graph(withGradients ? 'tagging_train' : 'tagging_eval');
  const root = Params.root(g, src, 'float32', null, null);
  const t = cfg.audioTower;
  const D = cfg.llm.hiddenSize, T = tasks.length, K = widest(tasks);
  const features = g.input('input_features', 'float32', ['clips', t.melBins, t.maxSourcePositions * 2]);
  const embeds = audioEncoder(root, cfg, features).embeds;
  root.check('tagging graph');
  const clip = reshape(reduceMean(embeds, [1]), [-1, D]); // [clips, D]: what attention over the audio tokens can read at the least
  const logits = taskHeads(clip, 'tagger', tasks, D);
  let loss = crossEntropy(logits, g.input('labels', 'int64', ['clips', T]));
  g.output(reshape(logits, [-1, T, K]), 'logits', 'float32', ['clips', T, K]);
  const heads = [['tagger', T * K]] as [string, number][];
  if (frameTasks.length) {
    const FT = frameTasks.length, FK = widest(frameTasks), N = tokensPerClip(cfg);
    const frameLogits = taskHeads(reshape(embeds, [-1, D]), 'framer', frameTasks, D); // every token on its own
    const frameLoss = crossEntropy(frameLogits, g.input('frame_labels', 'int64', ['clips', N, FT]));
    g.output(frameLoss, 'frame_loss', 'float32', []);
    g.output(reshape(frameLogits, [-1, N, FT, FK]), 'frame_logits', 'float32', ['clips', N, FT, FK]);
    loss = add(loss, frameWeight === 1 ? frameLoss : mulScalar(frameLoss, frameWeight));
    heads.push(['framer', FT * FK]);
  }
  if (spectrumWeight > 0) {
    const spectrum = spectrumLoss(reshape(embeds, [-1, D]), features, cfg);
    g.output(spectrum, 'spectrum_loss', 'float32', []);
    loss = add(loss, mulScalar(spectrum, spectrumWeight));
    heads.push(['spectrum', t.melBins]);
  }
  if (valueTasks.length) {
    const V = valueTasks.length, v = valueLoss(clip, V, D, tokenValueWeight > 0 ? { x: reshape(embeds, [-1, D]), N: tokensPerClip(cfg) } : undefined);
    g.output(v.loss, 'value_loss', 'float32', []);
    g.output(v.guess, 'value_guess', 'float32', ['clips', V]);
    if (valueWeight > 0) loss = add(loss, valueWeight === 1 ? v.loss : mulScalar(v.loss, valueWeight));
    if (v.tokenLoss) {
      g.output(v.tokenLoss, 'token_value_loss', 'float32', []);
      loss = add(loss, tokenValueWeight === 1 ? v.tokenLoss : mulScalar(v.tokenLoss, tokenValueWeight));
    }
    heads.push(['valuer', V]);
  }
  g.output(loss, 'loss', 'float32', []);
  const params = [
    ...promoteTrainable(g, (n) => n.startsWith(TOWER_PREFIX) || n.startsWith(CONNECTOR_PREFIX)),
    ...heads.flatMap(([h, rows]) => [
      { name: `${h}.weight`, dtype: 'float32' as const, shape: [rows, D] },
      { name: `${h}.bias`, dtype: 'float32' as const, shape: [rows] },
    ]),
  ];
  if (withGradients) {
    const grads = gradients(g, loss, params.map((p) => g.values.get(p.name)!));
    for (const p of params) g.output(grads.get(p.name)!, `grad.${p.name}`, p.dtype, p.shape);
  }
  pruneDeadNodes(g);
  return { graph: g, params };
}

/** A tagging run; its frame tasks come with their labels (frames), the other losses as buildTaggingGraph takes them. */
export interface TaggingConfig extends Omit<TaggingLosses, 'frameTasks'> {
  modelDir: string;
  tasks: TagTask[];
  train: TaggedClip[];
  /** clips to report per-task accuracy on after each epoch */
  eval: TaggedClip[];
  /** labels per audio token, learnt by a second head on every token */
  frames?: FrameTargets;
  audioRoot: string;
  outputDir: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  warmupRatio?: number;
  scheduler?: SchedulerType;
  weightDecay?: number;
  seed?: number;
  runtime?: RuntimeOptions;
}

/** `mufun tag-train`'s and the studio's defaults. */
export const TAGGING_DEFAULTS = { epochs: 10, learningRate: 1e-3, batchSize: 16, seed: 0, frameWeight: 1, spectrumWeight: 0 } as const;

export type TaggingEvent =
  | { type: 'start'; totalSteps: number; trainClips: number; evalClips: number; tasks: string[] }
  | { type: 'step'; step: number; totalSteps: number; epoch: number; loss: number; lr: number; gradNorm: number; elapsedSec: number; etaSec: number }
  | { type: 'eval'; step: number; evalLoss: number; evalAccuracy: number; evalTasks: Record<string, number>; evalFrameTasks?: Record<string, number>; evalSpectrumLoss?: number; evalValueRmse?: Record<string, number> }
  | { type: 'done'; step: number; finalDir: string };

/** Trains the tower and connector on the tags; writes outputDir/final, a model folder with the heads left out. */
export async function trainTagging(c: TaggingConfig, onEvent: (e: TaggingEvent) => void = () => {}, signal?: AbortSignal): Promise<{ finalDir: string }> {
  if (!c.train.length) throw new TrainError('tagging: no training clips');
  const valueTasks = c.valueTasks ?? [], V = valueTasks.length;
  for (const x of [...c.train, ...c.eval]) {
    if (V && x.values?.length !== V) throw new TrainError(`tagging: clip ${x.id} has ${x.values?.length ?? 0} values, not one per value task (${valueTasks.join(', ')})`);
  }
  const model = MufunModel.load(c.modelDir, c.runtime ?? {});
  if (!(model.weights instanceof Checkpoint)) throw new TrainError(`${c.modelDir} is a converted model; train from the Hugging Face folder it came from`);
  const ck = model.weights;
  const cfg = model.config;
  const t = cfg.audioTower, frames = t.maxSourcePositions * 2, per = t.melBins * frames;
  const T = c.tasks.length, K = widest(c.tasks);
  const frameTasks = c.frames?.tasks ?? [];
  const FT = frameTasks.length, FK = FT ? widest(frameTasks) : 0;
  // an audio token averages audioPoolStride tower positions of 2 mel frames each
  const N = tokensPerClip(cfg), tokenSeconds = (cfg.audioPoolStride * 2 * HOP) / SAMPLE_RATE;
  const seed = c.seed ?? 0;

  const losses: TaggingLosses = { frameTasks, frameWeight: c.frameWeight, spectrumWeight: c.spectrumWeight, valueTasks, valueWeight: c.valueWeight, tokenValueWeight: c.tokenValueWeight };
  const { graph, params } = buildTaggingGraph(cfg, ck, c.tasks, true, losses);
  const step1 = await createSession(graph, ck.sourceId(), c.runtime ?? {});
  const evalSession = c.eval.length ? await createSession(buildTaggingGraph(cfg, ck, c.tasks, false, losses).graph, ck.sourceId(), c.runtime ?? {}) : null;
  // The heads start small and seeded (smaller than Linear's ±1/√D keeps the first steps calm).
  const rand = rng(seed);
  const isHead = (name: string) => ['tagger.', 'framer.', 'spectrum.', 'valuer.'].some((h) => name.startsWith(h));
  const store = new ParamStore(params, (name, shape) =>
    !isHead(name) ? ck.float32(name) : name.endsWith('.weight') ? Float32Array.from({ length: shape[0] * shape[1] }, () => (rand() * 2 - 1) * 0.02) : new Float32Array(shape[0]));
  const opt = await AdamW.create(store.size, { weightDecay: c.weightDecay ?? 0 }, c.runtime?.threads);

  // Log-mel of each clip, once (the first 30 s / clip-length window: tags describe the whole clip).
  const mels = new Map<string, Float32Array>();
  const melOf = async (x: TaggedClip) => {
    let m = mels.get(x.id);
    if (!m) {
      const { pcm } = await loadAudio(join(c.audioRoot, x.audio));
      m = (await model.melClips(pcm))[0];
      mels.set(x.id, m);
    }
    return m;
  };
  const frameLabels = new Map<string, Int32Array>();
  const framesOf = (x: TaggedClip) => {
    let f = frameLabels.get(x.id);
    if (!f) {
      f = c.frames!.of(x, N, tokenSeconds);
      if (f.length !== N * FT) throw new TrainError(`tagging: clip ${x.id} has ${f.length} frame labels, not ${N} tokens × ${FT} tasks`);
      frameLabels.set(x.id, f);
    }
    return f;
  };
  const feeds = async (xs: TaggedClip[]) => {
    const data = new Float32Array(xs.length * per);
    const labels = new BigInt64Array(xs.length * T);
    const fl = new BigInt64Array(xs.length * N * FT);
    const values = new Float32Array(xs.length * V), valueWeights = new Float32Array(xs.length * V);
    for (const [i, x] of xs.entries()) {
      data.set(await melOf(x), i * per);
      x.labels.forEach((l, j) => (labels[i * T + j] = BigInt(l)));
      if (FT) framesOf(x).forEach((l, j) => (fl[i * N * FT + j] = BigInt(l)));
      x.values?.forEach((v, j) => Number.isFinite(v) && ((values[i * V + j] = v), (valueWeights[i * V + j] = 1)));
    }
    const given = valueWeights.reduce((a, b) => a + b, 0);
    if (given) valueWeights.forEach((w, j) => (valueWeights[j] = (w * values.length) / given));
    return {
      input_features: new ort.Tensor('float32', data, [xs.length, t.melBins, frames]),
      labels: new ort.Tensor('int64', labels, [xs.length, T]),
      ...(FT ? { frame_labels: new ort.Tensor('int64', fl, [xs.length, N, FT]) } : {}),
      ...(V ? { values: new ort.Tensor('float32', values, [xs.length, V]), value_weights: new ort.Tensor('float32', valueWeights, [xs.length, V]) } : {}),
    };
  };
  const argmax = (row: Float32Array) => {
    let best = 0;
    for (let k = 1; k < row.length; k++) if (row[k] > row[best]) best = k;
    return best;
  };

  const stepsPerEpoch = Math.ceil(c.train.length / c.batchSize);
  const totalSteps = stepsPerEpoch * c.epochs;
  const sched = schedule(c.scheduler ?? 'cosine', c.learningRate, totalSteps, c.warmupRatio ?? 0.03);
  mkdirSync(c.outputDir, { recursive: true });
  writeFileSync(join(c.outputDir, 'metrics.jsonl'), ''); // a run starts over (it keeps no checkpoints to resume from)
  const metrics = (rec: object) => appendFileSync(join(c.outputDir, 'metrics.jsonl'), JSON.stringify({ ...rec, time: new Date().toISOString() }) + '\n');
  onEvent({ type: 'start', totalSteps, trainClips: c.train.length, evalClips: c.eval.length, tasks: c.tasks.map((x) => x.task) });

  const runEval = async (step: number): Promise<TaggingEvent & { type: 'eval' }> => {
    const right = new Array(T).fill(0), seen = new Array(T).fill(0);
    const fRight = new Array(FT).fill(0), fSeen = new Array(FT).fill(0);
    let lossSum = 0, spectrumSum = 0, batches = 0;
    const valueErr = new Array(V).fill(0), valueSeen = new Array(V).fill(0);
    for (let i = 0; i < c.eval.length; i += c.batchSize) {
      const xs = c.eval.slice(i, i + c.batchSize);
      const r = await evalSession!.run({ ...(await feeds(xs)), ...store.feeds() });
      lossSum += (r.loss.data as Float32Array)[0];
      if (r.spectrum_loss) spectrumSum += (r.spectrum_loss.data as Float32Array)[0];
      batches++;
      const L = r.logits.data as Float32Array;
      xs.forEach((x, ci) => x.labels.forEach((l, j) => {
        if (l === IGNORE) return;
        seen[j]++;
        if (argmax(L.subarray((ci * T + j) * K, (ci * T + j + 1) * K)) === l) right[j]++;
      }));
      const guess = r.value_guess?.data as Float32Array | undefined;
      if (guess) xs.forEach((x, ci) => x.values!.forEach((v, j) => Number.isFinite(v) && ((valueErr[j] += (guess[ci * V + j] - v) ** 2), valueSeen[j]++)));
      if (!FT) continue;
      const FL = r.frame_logits.data as Float32Array;
      xs.forEach((x, ci) => framesOf(x).forEach((l, j) => {
        if (l === IGNORE) return;
        const at = (ci * N * FT + j) * FK;
        fSeen[j % FT]++;
        if (argmax(FL.subarray(at, at + FK)) === l) fRight[j % FT]++;
      }));
    }
    const evalTasks = Object.fromEntries(c.tasks.map((x, j) => [x.task, seen[j] ? right[j] / seen[j] : NaN]));
    const total = seen.reduce((a, b) => a + b, 0);
    return {
      type: 'eval', step, evalLoss: lossSum / Math.max(1, batches), evalAccuracy: total ? right.reduce((a, b) => a + b, 0) / total : NaN, evalTasks,
      ...(FT ? { evalFrameTasks: Object.fromEntries(frameTasks.map((x, j) => [x.task, fSeen[j] ? fRight[j] / fSeen[j] : NaN])) } : {}),
      ...(c.spectrumWeight ? { evalSpectrumLoss: spectrumSum / Math.max(1, batches) } : {}),
      ...(V ? { evalValueRmse: Object.fromEntries(valueTasks.map((n, j) => [n, valueSeen[j] ? Math.sqrt(valueErr[j] / valueSeen[j]) : NaN])) } : {}),
    };
  };

  const t0 = performance.now();
  let step = 0;
  try {
    for (let epoch = 0; epoch < c.epochs && !signal?.aborted; epoch++) {
      const order = shuffled(c.train, seed + epoch);
      for (let i = 0; i < order.length && !signal?.aborted; i += c.batchSize) {
        const r = await step1.run({ ...(await feeds(order.slice(i, i + c.batchSize))), ...store.feeds() });
        const loss = (r.loss.data as Float32Array)[0];
        if (!Number.isFinite(loss)) throw new TrainError(`tagging: loss is ${loss} at step ${step + 1}; lower the learning rate`);
        store.accumulate(r, true);
        const lr = lrAt(sched, step);
        const gradNorm = await opt.step(store.values, store.grad, lr);
        step++;
        const elapsed = (performance.now() - t0) / 1000;
        const ev = { type: 'step' as const, step, totalSteps, epoch: step / stepsPerEpoch, loss, lr, gradNorm, elapsedSec: elapsed, etaSec: (elapsed / step) * (totalSteps - step) };
        onEvent(ev);
        metrics(ev);
      }
      if (evalSession && !signal?.aborted) {
        const ev = await runEval(step);
        onEvent(ev);
        metrics(ev);
      }
    }
    const finalDir = join(c.outputDir, 'final');
    if (!signal?.aborted) {
      // The model folder as the trainer writes it (the heads are not MuFun tensors: left out).
      const asTrainer = { modelDir: c.modelDir, tuneLlm: 'full' } as TrainerConfig;
      saveCheckpoint(asTrainer, ck, store, opt, step, finalDir, true);
      onEvent({ type: 'done', step, finalDir });
    }
    return { finalDir };
  } finally {
    await step1.release();
    await evalSession?.release();
    await opt.release();
    await model.release();
  }
}

/**
 * The tagging tasks and clips of a `mufun synth-data` folder (its labels.jsonl), by split; the
 * generator's own labelOf and classes (and frame labels, given a clip's spec) come in from the
 * caller (the engine knows no generator).
 */
export function synthTags<Spec>(
  dataDir: string, taskNames: readonly string[] | null, labelOf: (spec: Spec, task: string) => string, classesOf: Record<string, readonly string[]>,
  frames?: { tasks: readonly TagTask[]; of: (spec: Spec, tokens: number, tokenSeconds: number) => Int32Array },
  values?: { tasks: readonly string[]; of: (spec: Spec) => number[] },
): { tasks: TagTask[]; splits: Record<'train' | 'val' | 'test', TaggedClip[]>; frames?: FrameTargets; valueTasks?: string[] } {
  const file = join(dataDir, 'labels.jsonl');
  if (!existsSync(file)) throw new TrainError(`${dataDir} has no labels.jsonl: make one with mufun synth-data`);
  const specs = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as Spec & { id: string; split: string; audio: string };
    } catch {
      throw new TrainError(`${file}: line ${i + 1} is not JSON`);
    }
  });
  const names = taskNames ?? Object.keys(classesOf);
  for (const n of names) if (!classesOf[n]) throw new TrainError(`unknown tagging task ${n} (tasks: ${Object.keys(classesOf).join(', ')})`);
  const tasks = names.map((task) => ({ task, classes: classesOf[task] }));
  const splits: Record<'train' | 'val' | 'test', TaggedClip[]> = { train: [], val: [], test: [] };
  for (const spec of specs) {
    const labels = tasks.map(({ task, classes }) => {
      let l: string;
      try {
        l = labelOf(spec, task);
      } catch {
        return IGNORE; // the task does not apply to this kind of clip
      }
      const k = classes.indexOf(l);
      if (k < 0) throw new TrainError(`${file}: clip ${spec.id} has ${task} "${l}", not one of its classes`);
      return k;
    });
    (splits[spec.split as 'train'] ??= []).push({ id: spec.id, audio: spec.audio, labels, ...(values ? { values: values.of(spec) } : {}) });
  }
  const valueTasks = values ? { valueTasks: [...values.tasks] } : {};
  if (!frames) return { tasks, splits, ...valueTasks };
  const byId = new Map(specs.map((s) => [s.id, s]));
  return { tasks, splits, frames: { tasks: [...frames.tasks], of: (clip, tokens, sec) => frames.of(byId.get(clip.id)!, tokens, sec) }, ...valueTasks };
}
