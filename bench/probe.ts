// What a model's ears keep: linear probes on every stage of its audio path, next to the same
// probe on the log-mel it starts from (the baseline, in the same run).
//
// For each clip of a synth-data folder, the mean and standard deviation over time of: the log-mel
// frames, each feature layer the connector reads (hidden.<l>), and the audio tokens the LLM reads.
// A softmax regression per tagging task is fit on the train clips and scored on the test clips.
// "mode, from the key probe" reads the mode off the key probe's guess: the key is linear in the
// spectrum, the mode (which of two relative keys' shared notes is home) is not.
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadAudio } from '../src/model/audio/load.js';
import { MufunModel } from '../src/model/mufun.js';
import { shuffled } from '../src/model/train/data.js';
import type { TagTask, TaggedClip } from '../src/model/train/tagging.js';
import { synthTagSet } from '../src/synth/tags.js';

export interface ProbeOptions {
  models: string[];
  data: string;
  threads: number;
  /** train clips to fit on (the first n; default all) */
  trainClips?: number;
  epochs?: number;
}

type Stats = Float32Array[]; // per clip: [mean over time ‖ std over time]

/** Mean and std over the rows of x [T, D]. */
export function meanStd(x: Float32Array, T: number, D: number): Float32Array {
  const v = new Float32Array(2 * D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) v[d] += x[t * D + d] / T;
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) v[D + d] += (x[t * D + d] - v[d]) ** 2 / T;
  for (let d = 0; d < D; d++) v[D + d] = Math.sqrt(v[D + d]);
  return v;
}

/** Every stage's per-clip statistics for one model: log-mel, hidden.<l>, tokens. */
async function stageStats(modelDir: string, clips: TaggedClip[], audioRoot: string, threads: number): Promise<Map<string, Stats>> {
  const model = MufunModel.load(modelDir, { threads });
  const t = model.config.audioTower, frames = t.maxSourcePositions * 2, D = model.config.llm.hiddenSize;
  const layers = [...new Set(model.config.audioFeatureLayers)];
  const out = new Map<string, Stats>([['log-mel', []], ...layers.map((l) => [`hidden.${l}`, []] as [string, Stats]), ['audio tokens', []]]);
  const s = await model.audioEncoder(true);
  try {
    for (const clip of clips) {
      const { pcm } = await loadAudio(join(audioRoot, clip.audio));
      const mel = (await model.melClips(pcm))[0]; // [melBins, frames]
      const byFrame = new Float32Array(mel.length);
      for (let b = 0; b < t.melBins; b++) for (let f = 0; f < frames; f++) byFrame[f * t.melBins + b] = mel[b * frames + f];
      out.get('log-mel')!.push(meanStd(byFrame, frames, t.melBins));
      const r = await s.run({ input_features: new ort.Tensor('float32', mel, [1, t.melBins, frames]) });
      for (const l of layers) out.get(`hidden.${l}`)!.push(meanStd(r[`hidden.${l}`].data as Float32Array, t.maxSourcePositions, t.dModel));
      const e = r.audio_embeds.data as Float32Array;
      out.get('audio tokens')!.push(meanStd(e, e.length / D, D));
    }
  } finally {
    await model.release();
  }
  return out;
}

/**
 * Softmax regression on standardized features, Adam on batches of 256 with a little weight
 * decay: returns the predicted class of each of `test`.
 */
export function fitProbe(xs: Stats, ys: number[], train: number[], test: number[], classes: number, epochs: number): number[] {
  const F = xs[0].length, K = classes, R = F + 1; // a row of W: F weights, then the bias
  const mu = new Float64Array(F), sd = new Float64Array(F);
  for (const i of train) for (let f = 0; f < F; f++) mu[f] += xs[i][f] / train.length;
  for (const i of train) for (let f = 0; f < F; f++) sd[f] += (xs[i][f] - mu[f]) ** 2 / train.length;
  for (let f = 0; f < F; f++) sd[f] = Math.sqrt(sd[f]) + 1e-6;
  const Z = new Map([...train, ...test].map((i) => [i, Float64Array.from(xs[i], (v, f) => (v - mu[f]) / sd[f])]));
  const W = new Float64Array(K * R), m = new Float64Array(W.length), v = new Float64Array(W.length);
  const logits = (x: Float64Array) => Array.from({ length: K }, (_, k) => {
    let s = W[k * R + F];
    for (let f = 0; f < F; f++) s += W[k * R + f] * x[f];
    return s;
  });
  const labelled = train.filter((i) => ys[i] >= 0);
  const lr = 3e-3, wd = 1e-3, b1 = 0.9, b2 = 0.999, B = 256;
  let step = 0;
  for (let e = 0; e < epochs; e++) {
    const order = shuffled(labelled, e + 1);
    for (let at = 0; at < order.length; at += B) {
      const batch = order.slice(at, at + B), g = new Float64Array(W.length);
      for (const i of batch) {
        const x = Z.get(i)!, l = logits(x), top = Math.max(...l);
        const p = l.map((a) => Math.exp(a - top)), sum = p.reduce((a, b) => a + b, 0);
        for (let k = 0; k < K; k++) {
          const d = (p[k] / sum - (k === ys[i] ? 1 : 0)) / batch.length;
          for (let f = 0; f < F; f++) g[k * R + f] += d * x[f];
          g[k * R + F] += d;
        }
      }
      step++;
      for (let j = 0; j < W.length; j++) {
        const gj = g[j] + wd * W[j];
        m[j] = b1 * m[j] + (1 - b1) * gj;
        v[j] = b2 * v[j] + (1 - b2) * gj * gj;
        W[j] -= (lr * (m[j] / (1 - b1 ** step))) / (Math.sqrt(v[j] / (1 - b2 ** step)) + 1e-8);
      }
    }
  }
  return test.map((i) => {
    const l = logits(Z.get(i)!);
    return l.indexOf(Math.max(...l));
  });
}

/** Test accuracy of a probe per task (and the mode read off the key probe) for each stage. */
function probeStages(stats: Map<string, Stats>, tasks: TagTask[], clips: TaggedClip[], train: number[], test: number[], epochs: number) {
  const out: Record<string, Record<string, number>> = {};
  const key = tasks.findIndex((t) => t.task === 'key'), mode = tasks.findIndex((t) => t.task === 'mode');
  for (const [stage, xs] of stats) {
    const acc: Record<string, number> = {};
    for (const [j, task] of tasks.entries()) {
      const ys = clips.map((c) => c.labels[j]);
      const seen = test.filter((i) => ys[i] >= 0);
      if (!seen.length) continue;
      const guess = fitProbe(xs, ys, train, seen, task.classes.length, epochs);
      acc[task.task] = round(guess.filter((k, n) => k === ys[seen[n]]).length / seen.length);
      if (j === key && mode >= 0) {
        const modeOf = (keyName: string) => keyName.split(' ').at(-1);
        const modes = tasks[mode].classes;
        acc['mode, from the key probe'] = round(guess.filter((k, n) => modeOf(task.classes[k]) === modes[clips[seen[n]].labels[mode]]).length / seen.length);
      }
    }
    out[stage] = acc;
  }
  return out;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export async function probeBench(o: ProbeOptions) {
  const t0 = performance.now();
  const set = synthTagSet(o.data);
  const train = set.splits.train.slice(0, o.trainClips ?? Infinity), test = set.splits.test;
  const clips = [...train, ...test];
  const trainIdx = train.map((_, i) => i), testIdx = test.map((_, i) => train.length + i);
  const epochs = o.epochs ?? 60;
  const models: Record<string, Record<string, Record<string, number>>> = {};
  for (const dir of o.models) {
    const stats = await stageStats(dir, clips, join(o.data, 'audio'), o.threads);
    if (Object.keys(models).length) stats.delete('log-mel'); // the same for every model: probed once
    models[dir] = probeStages(stats, set.tasks, clips, trainIdx, testIdx, epochs);
  }
  const majority = Object.fromEntries(set.tasks.map((task, j) => {
    const counts = new Map<number, number>();
    for (const c of train) if (c.labels[j] >= 0) counts.set(c.labels[j], (counts.get(c.labels[j]) ?? 0) + 1);
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    const seen = test.filter((c) => c.labels[j] >= 0);
    return [task.task, round(seen.filter((c) => c.labels[j] === top).length / Math.max(1, seen.length))];
  }));
  return {
    bench: 'probe',
    setup: `softmax regression on the mean and std over time of each stage, standardized, ${epochs} epochs of Adam on batches of 256 (lr 3e-3, weight decay 1e-3); fit on ${train.length} train clips, scored on ${test.length} test clips of ${o.data}`,
    baseline: 'log-mel: the same probe on the model\'s input, listed under the first model',
    models, majority, seconds: Math.round((performance.now() - t0) / 1000),
  };
}
