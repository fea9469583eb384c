// A real training run, end to end through the CLI: does the runner teach a small model a
// property of sound it could not tell before? Tones whose pitch register (high or low) is the
// label, with waveform, loudness and length varied so that only the pitch decides; MuFun-nano
// (the embedded model) as the small model. Stages as MuFun's recipe: a connector warm-up on
// captions (pretrain template), then a full finetune (LLM and connector, tower frozen) on
// multiple-choice questions; `mufun eval` on held-out tones before and after each stage, and
// `mufun chat` on a few of them with the starting and the finished model. With --grpo N, GRPO
// for N steps after the finetune, as MuFun refines its instruct model, on tones of its own (each
// asked once: the reward can only rise by what carries over to tones it has not seen), with
// MuFun's answer reward (the label) or `choice` (the option, as mufun eval scores it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../src/model/audio/wav.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { answerReward } from '../src/model/train/rewards.js';
import { Prng } from '../src/synth/prng.js';

const CLI = join(import.meta.dirname, '..', '..', 'bin', 'mufun.js'); // dist/bench/ -> bin/
const RATE = 16000;
const QUESTION = 'Is this tone high or low?';
const GRPO_PROMPTS_PER_STEP = 4;

/** One tone: a sine, square or sawtooth at f Hz with 25 ms fades (no clicks to hear instead). */
function tone(f: number, wave: 'sine' | 'square' | 'sawtooth', amp: number, seconds: number): Float32Array {
  const x = new Float32Array(Math.round(seconds * RATE));
  const fade = RATE / 40;
  for (let t = 0; t < x.length; t++) {
    const ph = ((f * t) / RATE) % 1;
    const v = wave === 'sine' ? Math.sin(2 * Math.PI * ph) : wave === 'square' ? (ph < 0.5 ? 1 : -1) : 2 * ph - 1;
    x[t] = amp * Math.min(1, t / fade, (x.length - t) / fade) * v;
  }
  return x;
}

export interface ToneSet {
  dir: string;
  audio: string;
  /** multiple-choice questions, qwen2_instruct */
  train: string;
  eval: string;
  /** "A high square tone." per train clip, for the warm-up (pretrain template) */
  captions: string;
  /** questions on tones of their own for GRPO (none with grpoN 0): each asked once, so a reward can only rise by what generalizes */
  grpo: string | null;
}

/**
 * Writes `train` + `evalN` tones (low: 110–300 Hz, high: 900–2500 Hz; half each, seeded) as wav
 * files and MuFun JSON: "<audio>\nIs this tone high or low? (choose from: A. high, B. low)" with the
 * options in a seeded order, answered "B. low".
 */
export function toneSet(dir: string, train: number, evalN: number, seed: number, grpoN = 0): ToneSet {
  const audio = join(dir, 'audio');
  mkdirSync(audio, { recursive: true });
  const rng = new Prng(seed);
  const waves = ['sine', 'square', 'sawtooth'] as const;
  const write = (split: string, n: number) => {
    const qa = [], captions = [];
    for (let i = 0; i < n; i++) {
      const high = i % 2 === 0;
      const f = high ? rng.range(900, 2500) : rng.range(110, 300);
      const wave = rng.pick(waves);
      const file = `${split}-${String(i).padStart(4, '0')}.wav`;
      writeFileSync(join(audio, file), encodeWav([tone(f, wave, rng.range(0.1, 0.5), rng.range(2, 8))], RATE));
      const label = high ? 'high' : 'low';
      const options = rng.shuffle(['high', 'low']);
      qa.push({
        id: `${split}-pitch-${i}`, audio: file, task: 'pitch', label,
        conversations: [
          { from: 'human', value: `<audio>\n${QUESTION} (choose from: A. ${options[0]}, B. ${options[1]})` },
          { from: 'gpt', value: `${'AB'[options.indexOf(label)]}. ${label}` },
        ],
      });
      captions.push({ id: `${split}-caption-${i}`, audio: file, conversations: [{ from: 'human', value: '<audio>' }, { from: 'gpt', value: `A ${label} ${wave} tone.` }] });
    }
    writeFileSync(join(dir, `${split}.json`), JSON.stringify(rng.shuffle(qa)));
    writeFileSync(join(dir, `${split}-captions.json`), JSON.stringify(captions));
    return join(dir, `${split}.json`);
  };
  const sets = { train: write('train', train), eval: write('eval', evalN) };
  return { dir, audio, ...sets, captions: join(dir, 'train-captions.json'), grpo: grpoN ? write('grpo', grpoN) : null };
}

function mufun(args: string[], threads: number): string {
  return execFileSync(process.execPath, [CLI, ...args, '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
}

function jsonLines(text: string): Record<string, any>[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

export interface LearnBenchOptions {
  threads: number;
  trainClips: number;
  evalClips: number;
  epochs: number;
  learningRate: number;
  seed: number;
  /** GRPO steps after the finetune (0 = none) */
  grpoSteps: number;
  grpoLearningRate: number;
  /** KL coefficient to the starting model */
  grpoBeta: number;
  /** GRPO reward spec: answer (MuFun's: the label), choice (the option as mufun eval scores it) */
  grpoReward: string;
  /** keep the run's folder (printed) instead of deleting it */
  keep: boolean;
}

export async function learnBench(o: LearnBenchOptions): Promise<Record<string, unknown>> {
  const work = mkdtempSync(join(tmpdir(), 'mufun-learn-'));
  const t0 = performance.now();
  const seconds: Record<string, number> = {};
  const timed = <T>(name: string, fn: () => T): T => {
    const t = performance.now();
    try {
      return fn();
    } finally {
      seconds[name] = Math.round((performance.now() - t) / 100) / 10;
    }
  };
  try {
    const data = timed('data', () => toneSet(join(work, 'data'), o.trainClips, o.evalClips, o.seed, o.grpoSteps * GRPO_PROMPTS_PER_STEP));
    // Greedy answers to the held-out questions, scored two ways: by the option they name (the
    // letter decides, as `mufun eval` does) and by MuFun's answer reward (the label text, once).
    const evaluate = (model: string) => {
      const r = JSON.parse(mufun(['eval', '--model', model, '--data', data.eval, '--audio-folder', data.audio, '--json'], o.threads));
      const results = r.results as { prediction: string; reference: string }[];
      const reward = results.reduce((n, x) => n + answerReward(x.prediction, x.reference), 0) / results.length;
      return { accuracy: r.overall.accuracy, answerReward: reward, chance: r.overall.chance, majority: r.overall.majority };
    };
    const start = defaultModelDir();
    const before = timed('eval_start', () => evaluate(start));

    const common = ['--audio-folder', data.audio, '--per_device_train_batch_size', '8', '--gradient_accumulation_steps', '1', '--save_steps', '1000', '--seed', String(o.seed), '--json'];
    const warmupDir = join(work, 'warmup');
    timed('warmup', () => mufun(['train', '--preset', 'warmup', '--model', start, '--data', data.captions, '--learning_rate', '1e-3', '--num_train_epochs', '1', '--output_dir', warmupDir, ...common], o.threads));
    const warmed = join(warmupDir, 'final');
    const afterWarmup = timed('eval_warmup', () => evaluate(warmed));

    const finetuneDir = join(work, 'finetune');
    const out = timed('finetune', () => mufun([
      'train', '--preset', 'full', '--model', warmed, '--data', data.train, '--eval_data_path', data.eval, '--conv_version', 'qwen2_instruct',
      '--tune_type_vision_tower', 'frozen', '--learning_rate', String(o.learningRate), '--num_train_epochs', String(o.epochs), '--eval_strategy', 'epoch',
      '--eval_accuracy_samples', String(o.evalClips), '--model_max_length', '512', '--output_dir', finetuneDir, ...common,
    ], o.threads));
    const curve = jsonLines(out).filter((e) => e.type === 'eval').map((e) => ({ step: e.step, evalLoss: e.evalLoss, evalAccuracy: e.evalAccuracy }));
    let grpo: Record<string, unknown> | null = null;
    let trained = join(finetuneDir, 'final');
    if (o.grpoSteps) {
      const afterFinetune = timed('eval_finetune', () => evaluate(trained));
      const grpoDir = join(work, 'grpo');
      const log = timed('grpo', () => mufun([
        'grpo', '--model', trained, '--data', data.grpo!, '--audio-folder', data.audio, '--output_dir', grpoDir, '--max_steps', String(o.grpoSteps),
        '--tune_type_vision_tower', 'frozen', '--learning_rate', String(o.grpoLearningRate), '--lr_scheduler_type', 'constant', '--warmup_ratio', '0',
        // GRPO_PROMPTS_PER_STEP prompts × 8 completions per step, every prompt a tone never seen before; answers are a few tokens
        '--num_generations', '8', '--per_device_train_batch_size', '8', '--gradient_accumulation_steps', String(GRPO_PROMPTS_PER_STEP), '--temperature', '1',
        '--max_completion_length', '8', '--beta', String(o.grpoBeta), '--reward', o.grpoReward, '--save_steps', String(o.grpoSteps),
        '--model_max_length', '512', '--seed', String(o.seed), '--json',
      ], o.threads));
      const steps = jsonLines(log).filter((e) => e.type === 'step');
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      const tenth = Math.max(1, Math.floor(steps.length / 10));
      grpo = {
        steps: steps.length, learning_rate: o.grpoLearningRate, beta: o.grpoBeta, reward: o.grpoReward, eval_before: { accuracy: afterFinetune.accuracy, answer_reward: afterFinetune.answerReward },
        reward_first_tenth: mean(steps.slice(0, tenth).map((e) => e.reward)), reward_last_tenth: mean(steps.slice(-tenth).map((e) => e.reward)),
        curve: steps.map((e) => ({ step: e.step, reward: e.reward, kl: e.kl })),
      };
      trained = join(grpoDir, 'final');
    }
    const after = timed('eval_final', () => evaluate(trained));

    // The same questions in `mufun chat`, asked of the starting and the finished model.
    const asked = (JSON.parse(readFileSync(data.eval, 'utf8')) as { audio: string; label: string; conversations: { value: string }[] }[]).slice(0, 6);
    const chat = timed('chat', () => asked.map((s) => {
      const ask = (model: string) => JSON.parse(mufun(['chat', '--model', model, '--audio', join(data.audio, s.audio), '--json', s.conversations[0].value.replace('<audio>\n', '')], o.threads)).text;
      return { audio: s.audio, question: s.conversations[0].value, reference: s.conversations[1].value, start: ask(start), trained: ask(trained) };
    }));
    return {
      bench: 'learn',
      task: 'pitch register of a tone (high: 900–2500 Hz, low: 110–300 Hz; sine/square/sawtooth, 2–8 s, random level)',
      model: 'MuFun-nano (resources/mufun-nano)',
      method: `connector warm-up, then ${o.epochs} epochs of full finetune (tower frozen)${o.grpoSteps ? `, then ${o.grpoSteps} GRPO steps (reward ${o.grpoReward})` : ''}`,
      threads: o.threads, train_clips: o.trainClips, eval_clips: o.evalClips, seed: o.seed, learning_rate: o.learningRate,
      eval_accuracy: { start: before.accuracy, after_warmup: afterWarmup.accuracy, final: after.accuracy, chance: before.chance, majority: before.majority },
      eval_answer_reward: { start: before.answerReward, after_warmup: afterWarmup.answerReward, final: after.answerReward },
      finetune_curve: curve,
      ...(grpo ? { grpo } : {}),
      chat,
      seconds: { ...seconds, total: Math.round((performance.now() - t0) / 100) / 10 },
      ...(o.keep ? { kept: work } : {}),
    };
  } finally {
    if (!o.keep) rmSync(work, { recursive: true, force: true });
  }
}
