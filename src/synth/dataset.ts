// A synthetic data set on disk:
//   <dir>/audio/<id>.wav     16 kHz mono clips rendered by FluidSynth
//   <dir>/midi/<id>.mid      the MIDI each clip was rendered from
//   <dir>/train.json, val.json, test.json   MuFun-format samples (audio relative to <dir>/audio);
//                            val/test hold multiple choice only, their captions are in *-captions.json
//   <dir>/train-binding.json, train-with-binding.json   text-only binding questions, alone and
//                            after train.json's samples (only with bindingQuestions)
//   <dir>/train-orders.json  further option orders of the train clips' questions (only with
//                            optionOrders; instrument, key and chord unless optionOrderTasks)
//   <dir>/labels.jsonl       all ground truth, one clip a line
//   <dir>/dataset.json       tasks, classes, counts, chance and majority baselines, settings
// Splits are disjoint seed streams (clip i of split s is drawn from (seed, s, i)), so a data set
// is a pure function of its settings, a larger --count keeps every earlier clip of each split,
// and re-running renders only the clips whose WAV is missing.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { type ClipSpec, SPLITS, type Split, clipSpec, compose } from './compose.js';
import { writeMidi } from './midi.js';
import {
  CHORD_TASKS, MC_ANSWERS, type McAnswers, PIECE_TASKS, type Sample, TASKS, TASK_CLASSES, type Task, PARTIAL_OPTION_TASKS, bindingQuestion, optionOrderQuestions,
  questionsFor,
} from './questions.js';
import { type Renderer, pool, renderMidi, setupRenderer } from './render.js';

/** Bumped whenever the same settings would give different music or labels. */
export const GENERATOR_VERSION = 1;

export interface SynthDataOptions {
  out: string;
  count: number;
  seed: number;
  seconds: number;
  splits: [number, number, number];
  tasks: Task[];
  /** Share of held-chord clips when chord and piece tasks are both asked (default 0.25). */
  chordShare?: number;
  /** Share of train questions asked open instead of multiple choice (val/test: all multiple choice). */
  openShare?: number;
  /** Train questions per task and clip, each in its own words and option order (val/test: 1). */
  questionsPerClip?: number;
  /** Further multiple-choice questions per train clip for each of optionOrderTasks, each its own options and order, in train-orders.json (see optionOrderQuestions). */
  optionOrders?: number;
  /** The tasks those are asked for (default PARTIAL_OPTION_TASKS: instrument, key, chord). */
  optionOrderTasks?: Exclude<Task, 'caption'>[];
  /** Text-only questions that teach the letter binding, added to train (see bindingQuestion). */
  bindingQuestions?: number;
  /** Share of the binding questions whose options come from every task's labels (see anyLabelQuestion). */
  bindingAnyLabelShare?: number;
  /** How multiple-choice answers are written, in every file (default letter-first: MuCUE's "B. y"). */
  mcAnswers?: McAnswers;
  /** Major/minor questions about a clip answered through its key: "In D major, so major." (see AnswerStyle). */
  modeViaKey?: boolean;
  jobs?: number;
  soundfont?: string;
  /** Write specs, MIDI and JSON only, no audio (tests, dry runs, other questions about clips rendered elsewhere). */
  noRender?: boolean;
  onProgress?: (p: Progress) => void;
  /** Stops before the next clip (clips already rendered stay: a re-run with the same settings resumes). */
  signal?: AbortSignal;
}

export interface Progress {
  done: number; // clips finished (rendered or found already there)
  total: number;
  rendered: number; // of them, rendered in this run
  elapsedSec: number;
}

export interface SplitCounts {
  train: number;
  val: number;
  test: number;
}

export function splitCounts(count: number, fr: readonly [number, number, number]): SplitCounts {
  const sum = fr[0] + fr[1] + fr[2];
  if (!(sum > 0) || fr.some((f) => !(f >= 0))) throw new Error('split fractions must be non-negative and not all zero');
  const val = Math.round((count * fr[1]) / sum), test = Math.round((count * fr[2]) / sum);
  return { train: Math.max(0, count - val - test), val, test };
}

/** Share of chord clips for a task list: all when only chord-clip tasks are asked, none without chord. */
export function effectiveChordShare(tasks: readonly Task[], requested = 0.25): number {
  if (!tasks.includes('chord')) return 0;
  const pieceOnly = tasks.filter((t) => PIECE_TASKS.includes(t) && !CHORD_TASKS.includes(t));
  return pieceOnly.length === 0 ? 1 : requested;
}

export interface ClipPlan {
  spec: ClipSpec;
  midi: Uint8Array;
  musicSeconds: number;
  samples: Sample[];
  /** optionOrderQuestions (train only; train-orders.json) */
  orders: Sample[];
}

/** Specs, MIDI and questions of every clip of a split (pure: nothing is written). */
export function planSplit(
  split: Split, n: number, o: Pick<SynthDataOptions, 'seed' | 'seconds' | 'tasks' | 'chordShare' | 'openShare' | 'questionsPerClip' | 'optionOrders' | 'optionOrderTasks' | 'mcAnswers' | 'modeViaKey'>,
): ClipPlan[] {
  const chordShare = effectiveChordShare(o.tasks, o.chordShare);
  const openShare = split === 'train' ? (o.openShare ?? 0.3) : 0;
  const perTask = split === 'train' ? (o.questionsPerClip ?? 1) : 1;
  const plans: ClipPlan[] = [];
  for (let i = 0; i < n; i++) {
    const spec = clipSpec(split, i, { seed: o.seed, seconds: o.seconds, chordShare });
    const { events, musicSeconds } = compose(spec, o.seed);
    const style = { answers: o.mcAnswers, modeViaKey: o.modeViaKey };
    const samples = questionsFor(spec, o.tasks, `${spec.id}.wav`, { seed: o.seed, openShare, perTask, ...style });
    const orders = split === 'train' ? optionOrderQuestions(spec, o.tasks, `${spec.id}.wav`, o.seed, o.optionOrders ?? 0, o.optionOrderTasks, style) : [];
    plans.push({ spec, midi: writeMidi(events), musicSeconds, samples, orders });
  }
  return plans;
}

interface TaskStats {
  description: string;
  classes: readonly string[] | null;
  samples: Record<Split, number>;
  multipleChoice: Record<Split, number>;
  classCounts: Record<Split, Record<string, number>>; // over multiple-choice and open samples
  /** Expected accuracy of guessing an option at random, over the split's multiple-choice samples. */
  chance: Record<Split, number | null>;
  /** Accuracy of always answering train's most frequent label (0 where it is not an option). */
  majority: Record<Split, number | null>;
  majorityLabel: string | null;
}

function describe(plans: Record<Split, ClipPlan[]>, tasks: readonly Task[]): Record<string, TaskStats> {
  const out: Record<string, TaskStats> = {};
  for (const task of tasks) {
    const info = task === 'caption' ? null : TASK_CLASSES[task];
    const st: TaskStats = {
      description: info?.description ?? 'one-line caption naming tempo, meter, key, instrument family, drums, dynamics and melodic direction (chord clips: the chord and the instrument)',
      classes: info?.classes ?? null,
      samples: { train: 0, val: 0, test: 0 }, multipleChoice: { train: 0, val: 0, test: 0 },
      classCounts: { train: {}, val: {}, test: {} }, chance: { train: null, val: null, test: null }, majority: { train: null, val: null, test: null },
      majorityLabel: null,
    };
    const all = (s: Split) => plans[s].flatMap((p) => p.samples.filter((x) => x.task === task));
    if (info) {
      const trainCounts: Record<string, number> = {};
      for (const x of all('train')) trainCounts[x.label] = (trainCounts[x.label] ?? 0) + 1;
      st.majorityLabel = Object.entries(trainCounts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0] ?? null;
    }
    for (const s of SPLITS) {
      const xs = all(s);
      st.samples[s] = xs.length;
      if (!info) continue;
      for (const c of info.classes) st.classCounts[s][c] = 0;
      for (const x of xs) st.classCounts[s][x.label]++;
      const mc = xs.filter((x) => x.format === 'mc');
      st.multipleChoice[s] = mc.length;
      if (mc.length) {
        const options = (x: Sample) => (x.conversations[0].value.match(/(?:\(choose from: |, )[A-J]\. /g) ?? []).length;
        st.chance[s] = round4(mc.reduce((a, x) => a + 1 / options(x), 0) / mc.length);
        st.majority[s] = round4(mc.filter((x) => x.label === st.majorityLabel).length / mc.length);
      }
    }
    out[task] = st;
  }
  return out;
}

/** The train split's text-only binding questions (none unless asked for). */
function bindingQuestions(o: Pick<SynthDataOptions, 'seed' | 'tasks' | 'bindingQuestions' | 'bindingAnyLabelShare' | 'mcAnswers'>): Sample[] {
  return Array.from({ length: o.bindingQuestions ?? 0 }, (_, i) => bindingQuestion(o.seed, i, o.tasks, o.bindingAnyLabelShare ?? 0, o.mcAnswers));
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

export interface SynthDataResult {
  out: string;
  counts: SplitCounts;
  clips: number;
  rendered: number;
  skipped: number;
  seconds: number; // wall time
  samples: Record<Split, number>;
  /** Levels of the clips rendered in this run (linear full scale), null when none was. */
  rendering: { minRms: number; maxRms: number; maxPeak: number } | null;
}

/** Writes a whole data set (see the file comment); renders missing clips in parallel. */
export async function generateDataset(o: SynthDataOptions): Promise<SynthDataResult> {
  const t0 = performance.now();
  for (const t of o.tasks) if (!TASKS.includes(t)) throw new Error(`unknown task ${t} (tasks: ${TASKS.join(', ')})`);
  if (!(o.seconds > 0 && o.seconds <= 60)) throw new Error('--seconds must be in (0, 60]');
  if (o.mcAnswers !== undefined && !MC_ANSWERS.includes(o.mcAnswers)) throw new Error(`unknown answer form ${o.mcAnswers} (forms: ${MC_ANSWERS.join(', ')})`);
  const renderer: Renderer | null = o.noRender ? null : setupRenderer({ soundfont: o.soundfont });
  const counts = splitCounts(o.count, o.splits);
  const chordShare = effectiveChordShare(o.tasks, o.chordShare);
  const settings = {
    generatorVersion: GENERATOR_VERSION, seed: o.seed, seconds: o.seconds, chordShare,
    openShareTrain: o.openShare ?? 0.3, questionsPerClipTrain: o.questionsPerClip ?? 1, optionOrdersTrain: o.optionOrders ?? 0, optionOrderTasks: o.optionOrderTasks ?? PARTIAL_OPTION_TASKS, bindingQuestionsTrain: o.bindingQuestions ?? 0,
    bindingAnyLabelShare: o.bindingAnyLabelShare ?? 0, mcAnswers: o.mcAnswers ?? 'letter-first', modeViaKey: o.modeViaKey ?? false, soundfont: renderer?.soundfont ?? null, fluidsynth: renderer?.version ?? null,
  };
  const audioDir = join(o.out, 'audio'), midiDir = join(o.out, 'midi');
  // Clips already on disk must come from the same settings, or "resuming" would mix two data sets.
  const metaPath = join(o.out, 'dataset.json');
  if (existsSync(metaPath)) {
    const prev = JSON.parse(readFileSync(metaPath, 'utf8')).settings ?? {};
    for (const k of ['generatorVersion', 'seed', 'seconds', 'chordShare'] as const) {
      if (prev[k] !== settings[k]) {
        throw new Error(`${o.out} holds a data set made with ${k} = ${JSON.stringify(prev[k])}, not ${JSON.stringify(settings[k])}: use another --out or delete it`);
      }
    }
  }
  mkdirSync(audioDir, { recursive: true });
  mkdirSync(midiDir, { recursive: true });

  const plans = {} as Record<Split, ClipPlan[]>;
  for (const s of SPLITS) plans[s] = planSplit(s, counts[s], { ...o, chordShare: o.chordShare });
  const all = SPLITS.flatMap((s) => plans[s]);
  for (const p of all) writeFileSync(join(midiDir, `${p.spec.id}.mid`), p.midi);

  let done = 0, rendered = 0;
  const report = () => o.onProgress?.({ done, total: all.length, rendered, elapsedSec: (performance.now() - t0) / 1000 });
  const stats = await pool(o.jobs ?? 2 * availableParallelism(), all.length, async (i) => {
    o.signal?.throwIfAborted();
    const p = all[i];
    const wav = join(audioDir, `${p.spec.id}.wav`);
    let r: { rms: number; peak: number } | null = null;
    if (renderer && !existsSync(wav)) {
      r = await renderMidi(renderer, join(midiDir, `${p.spec.id}.mid`), wav, { seconds: p.spec.seconds, rmsDb: p.spec.levelDb });
      rendered++;
    }
    done++;
    report();
    return r;
  });

  // One sample a line: diffable and greppable, still one JSON array.
  const writeSamples = (file: string, xs: readonly Sample[]) =>
    writeFileSync(join(o.out, file), xs.length ? `[\n${xs.map((x) => JSON.stringify(x)).join(',\n')}\n]\n` : '[]\n');
  for (const s of SPLITS) {
    const xs = plans[s].flatMap((p) => p.samples);
    if (s === 'train') {
      writeSamples('train.json', xs);
      // the binding questions alone (a stage that learns the letter binding on text) and with
      // the clips' questions (a stage that carries it over to audio)
      const binding = bindingQuestions(o);
      const orders = plans[s].flatMap((p) => p.orders);
      for (const [file, samples] of [['train-binding.json', binding], ['train-with-binding.json', binding.length ? [...xs, ...binding] : []], ['train-orders.json', orders]] as const) {
        if (samples.length) writeSamples(file, samples);
        else rmSync(join(o.out, file), { force: true }); // not left from an earlier run with them
      }
    }
    else {
      // val/test.json hold multiple choice only, so `mufun eval --data test.json` scores every sample.
      writeSamples(`${s}.json`, xs.filter((x) => x.format === 'mc'));
      if (o.tasks.includes('caption')) writeSamples(`${s}-captions.json`, xs.filter((x) => x.format !== 'mc'));
    }
  }
  writeFileSync(
    join(o.out, 'labels.jsonl'),
    all.map((p) => JSON.stringify({ ...p.spec, audio: `${p.spec.id}.wav`, midi: `midi/${p.spec.id}.mid`, musicSeconds: round4(p.musicSeconds) })).join('\n') + '\n',
  );
  const samples = { train: 0, val: 0, test: 0 };
  for (const s of SPLITS) samples[s] = plans[s].reduce((a, p) => a + p.samples.length, 0);
  const meta = {
    name: 'MuFun Studio synthetic music (FluidSynth + General MIDI soundfont)',
    description:
      'Short clips rendered from generated note events with real instrument samples, each with ground truth for what a listener can tell. ' +
      'Samples are in MuFun\'s JSON format with audio paths relative to audio/; extra fields: task, format (mc: multiple choice as in MuCUE, ' +
      'answer "B. label"; open: short sentence; caption: one line), label. val.json and test.json hold multiple-choice questions only ' +
      '(scored by mufun eval); their clips\' captions are in val-captions.json and test-captions.json.',
    layout: {
      'audio/': '16 kHz mono 16-bit WAV clips', 'midi/': 'the MIDI each clip was rendered from',
      'train.json': 'MuFun-format samples: multiple choice, open questions and captions',
      'train-binding.json, train-with-binding.json': 'with --binding-questions: the text-only binding questions (ids binding-*; binding-*-any: options from every task\'s labels) alone, and after train.json\'s samples',
      'train-orders.json': 'with --option-orders-per-clip: further multiple-choice questions of the train clips for the --option-order-tasks (default instrument, key and chord), each its own options and order (ids *-orders-k)',
      'val.json, test.json': 'MuFun-format multiple-choice samples (for mufun eval)',
      'val-captions.json, test-captions.json': 'captions of the val and test clips',
      'labels.jsonl': 'all ground truth, one clip per line',
    },
    clipKinds: {
      piece: 'melody and chordal accompaniment on one instrument family, bass, drums or not; labels: instrument, tempo, mode, key, meter, drums, direction, dynamics',
      chord: 'one chord held (re-struck on piano and guitar) on one instrument family; labels: instrument, chord',
    },
    settings: { ...settings, splits: o.splits, tasks: o.tasks, count: o.count },
    counts: { clips: counts, samples },
    tasks: describe(plans, o.tasks),
    command: `mufun synth-data --out <dir> --count ${o.count} --seed ${o.seed} --seconds ${o.seconds} --splits ${o.splits.join(',')} --tasks ${o.tasks.join(',')}` +
      (o.chordShare !== undefined ? ` --chord-share ${o.chordShare}` : '') + (o.openShare !== undefined ? ` --open-share ${o.openShare}` : '') +
      (o.questionsPerClip !== undefined ? ` --questions-per-clip ${o.questionsPerClip}` : '') +
      (o.optionOrders ? ` --option-orders-per-clip ${o.optionOrders}` : '') +
      (o.optionOrders && o.optionOrderTasks ? ` --option-order-tasks ${o.optionOrderTasks.join(',')}` : '') +
      (o.bindingQuestions ? ` --binding-questions ${o.bindingQuestions}` : '') +
      (o.bindingQuestions && o.bindingAnyLabelShare ? ` --binding-any-label-share ${o.bindingAnyLabelShare}` : '') +
      (o.mcAnswers && o.mcAnswers !== 'letter-first' ? ` --mc-answers ${o.mcAnswers}` : '') + (o.modeViaKey ? ' --mode-via-key' : '') +
      (o.noRender ? ' --no-render' : ''),
  };
  writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`);
  const levels = stats.filter((x): x is { rms: number; peak: number } => x !== null);
  return {
    out: o.out, counts, clips: all.length, rendered, skipped: all.length - rendered, seconds: (performance.now() - t0) / 1000, samples,
    rendering: levels.length
      ? { minRms: round4(Math.min(...levels.map((x) => x.rms))), maxRms: round4(Math.max(...levels.map((x) => x.rms))), maxPeak: round4(Math.max(...levels.map((x) => x.peak))) }
      : null,
  };
}
