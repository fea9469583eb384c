// A job's settings (MuFun's flag names → values, as the studio saves them) → the runner's config.
// The runner's own table (src/model/train/options.ts) does the checking, so `mufun train`, `mufun
// grpo` and the studio accept and refuse the same things; GRPO's extra options are TRL's names,
// as `mufun grpo` takes them; a tagging job's are `mufun tag-train`'s. Every problem is reported
// at once, by flag name.
import { dirname } from 'node:path';
import { TRAIN_OPTION_SPECS, TrainOptionsError, type TrainOptions, parseTrainOptions, trainDefaults } from '../../model/train/options.js';
import { BUILTIN_REWARDS, parseRewardSpec } from '../../model/train/rewards.js';
import { GRPO_LOSS_TYPES, type GrpoConfig, type GrpoLossType } from '../../model/train/grpo.js';
import { TAGGING_DEFAULTS as ENGINE_TAGGING_DEFAULTS } from '../../model/train/tagging.js';
import { type TrainerConfig, trainerConfigFrom } from '../../model/train/trainer.js';
import type { TrainingKind, TrainingSettingValue, TrainingSettings } from '../../shared/api-training.js';
import { TAG_TASKS, TEMPO_TOKEN_WEIGHT_DEFAULT, TEMPO_WEIGHT_DEFAULT } from '../../synth/tags.js';

/** Set by the job itself (its source, base model and folder), never by its settings. */
export const JOB_SET = new Set(['preset', 'data_path', 'data', 'eval_data_path', 'image_folder', 'audio-folder', 'pretrained_model_path', 'model', 'output_dir', 'resume_from_checkpoint']);

/** MuFun's scripts/grpo.sh settings (the same table as `mufun grpo`'s GRPO_SH_DEFAULTS; a test keeps them equal). */
export const GRPO_SH_DEFAULTS: Record<string, TrainingSettingValue> = {
  tune_type_llm: 'full', tune_type_vision_tower: 'frozen', tune_type_connector: 'full', conv_version: 'qwen2_instruct',
  learning_rate: 2e-6, weight_decay: 0, num_train_epochs: 1, per_device_train_batch_size: 8, gradient_accumulation_steps: 5,
  warmup_ratio: 0.02, lr_scheduler_type: 'cosine', save_strategy: 'steps', save_steps: 10, save_total_limit: 1,
  model_max_length: 8192, eval_strategy: 'no', output_dir: 'checkpoints/mufun-grpo',
};

/** GRPO's own settings as the runner takes them, with rewards still by name (`mufun grpo --reward`). */
export type GrpoSettings = Omit<GrpoConfig, keyof TrainerConfig | 'rewards'> & {
  /** name:weight, as `mufun grpo --reward` */
  rewards: string[];
};

type GrpoSpec = { flag: string; key: keyof GrpoSettings; parse: (v: TrainingSettingValue) => unknown };

const num = (what: string, ok: (n: number) => boolean) => (v: TrainingSettingValue) => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || !ok(n)) throw new Error(`must be ${what} (got ${JSON.stringify(v)})`);
  return n;
};
const int = (n: number) => Number.isInteger(n);
const bool = (v: TrainingSettingValue) => {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new Error(`must be true or false (got ${JSON.stringify(v)})`);
};

/** TRL's GRPO options as `mufun grpo` takes them, with its defaults and checks. */
const GRPO_SPECS: readonly GrpoSpec[] = [
  { flag: 'num_generations', key: 'numGenerations', parse: num('an integer ≥ 2', (n) => int(n) && n >= 2) },
  { flag: 'beta', key: 'beta', parse: num('a number ≥ 0', (n) => n >= 0) },
  { flag: 'epsilon', key: 'epsilon', parse: num('a number in (0, 1)', (n) => n > 0 && n < 1) },
  { flag: 'epsilon_high', key: 'epsilonHigh', parse: num('a number > 0', (n) => n > 0) },
  { flag: 'temperature', key: 'temperature', parse: num('a number > 0', (n) => n > 0) },
  { flag: 'top_p', key: 'topP', parse: num('a number in (0, 1]', (n) => n > 0 && n <= 1) },
  { flag: 'top_k', key: 'topK', parse: num('an integer ≥ 0', (n) => int(n) && n >= 0) },
  { flag: 'max_completion_length', key: 'maxCompletionLength', parse: num('a positive integer', (n) => int(n) && n >= 1) },
  { flag: 'num_iterations', key: 'numIterations', parse: num('a positive integer', (n) => int(n) && n >= 1) },
  {
    flag: 'loss_type', key: 'lossType', parse: (v) => {
      if (typeof v !== 'string' || !(GRPO_LOSS_TYPES as readonly string[]).includes(v)) throw new Error(`must be one of ${GRPO_LOSS_TYPES.join(', ')} (got ${JSON.stringify(v)})`);
      return v;
    },
  },
  { flag: 'scale_rewards', key: 'scaleRewards', parse: bool },
  { flag: 'log_completions', key: 'logCompletions', parse: bool },
  {
    flag: 'reward', key: 'rewards', parse: (v) => {
      const specs = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : null;
      const builtins = Object.keys(BUILTIN_REWARDS).join(', ');
      if (!specs || !specs.length) throw new Error(`must be one or more name:weight (${builtins})`);
      for (const s of specs) {
        const { name } = parseRewardSpec(s);
        // Only built-ins: the API may be reached over the network (mufun serve), and a module
        // path would run that file's code; `mufun grpo --reward file.mjs` runs user modules.
        if (!BUILTIN_REWARDS[name]) throw new Error(`unknown reward ${name}: studio jobs use the built-in rewards (${builtins}); run a reward module with mufun grpo --reward <file.mjs>`);
      }
      return specs;
    },
  },
];

export const GRPO_DEFAULTS: GrpoSettings = {
  numGenerations: 8, beta: 0.04, epsilon: 0.2, temperature: 1, topP: 1, topK: 0, maxCompletionLength: 256, numIterations: 1,
  lossType: 'bnpo', scaleRewards: true, logCompletions: false, rewards: ['answer:1'],
};

/** A tagging job's settings (`mufun tag-train`'s flags) as its run takes them. */
export interface TaggingSettings {
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
  /** also learn the frame tasks (what sounds in each audio token, from the clips' MIDI) */
  frames: boolean;
  frameWeight: number;
  /** weight of the tokens' log-mel regression (0: none) */
  spectrumWeight: number;
  /** weight of each piece's log2 tempo regressed from the mean audio token (0: none) */
  tempoWeight: number;
  /** weight of the same regression from every audio token on its own (0: none) */
  tempoTokenWeight: number;
  tasks: string[];
}

const TAGGING_DEFAULTS: TaggingSettings = { ...ENGINE_TAGGING_DEFAULTS, frames: false, tempoWeight: TEMPO_WEIGHT_DEFAULT, tempoTokenWeight: TEMPO_TOKEN_WEIGHT_DEFAULT, tasks: [...TAG_TASKS] };

type TaggingSpec = { flag: string; key: keyof TaggingSettings; parse: (v: TrainingSettingValue) => unknown };

const TAGGING_SPECS: readonly TaggingSpec[] = [
  { flag: 'num_train_epochs', key: 'epochs', parse: num('a positive integer', (n) => int(n) && n >= 1) },
  { flag: 'learning_rate', key: 'learningRate', parse: num('a number > 0', (n) => n > 0) },
  { flag: 'per_device_train_batch_size', key: 'batchSize', parse: num('a positive integer', (n) => int(n) && n >= 1) },
  { flag: 'seed', key: 'seed', parse: num('an integer ≥ 0', (n) => int(n) && n >= 0) },
  { flag: 'frames', key: 'frames', parse: bool },
  { flag: 'frame_weight', key: 'frameWeight', parse: num('a number > 0', (n) => n > 0) },
  { flag: 'spectrum_weight', key: 'spectrumWeight', parse: num('a number ≥ 0', (n) => n >= 0) },
  { flag: 'tempo_weight', key: 'tempoWeight', parse: num('a number ≥ 0', (n) => n >= 0) },
  { flag: 'tempo_token_weight', key: 'tempoTokenWeight', parse: num('a number ≥ 0', (n) => n >= 0) },
  {
    flag: 'tasks', key: 'tasks', parse: (v) => {
      const names = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((x) => x.trim()).filter(Boolean) : null;
      if (!names?.length) throw new Error(`must be one or more of ${TAG_TASKS.join(', ')}`);
      const unknown = names.filter((n) => !TAG_TASKS.includes(n));
      if (unknown.length) throw new Error(`${unknown.join(', ')}: not a tagging task (tasks: ${TAG_TASKS.join(', ')})`);
      return names;
    },
  },
];

const PRESET: Record<Exclude<TrainingKind, 'tagging'>, TrainOptions['preset']> = { warmup: 'warmup', finetune: 'finetune', lora: 'lora', grpo: 'finetune' };

const TRAIN_FLAGS = new Map(TRAIN_OPTION_SPECS.map((s) => [s.flag, s]));

/** The recipe's settings for a kind, by flag name (what the form starts from). */
export function defaultSettings(kind: TrainingKind): TrainingSettings {
  if (kind === 'tagging') return Object.fromEntries(TAGGING_SPECS.map((s) => [s.flag, TAGGING_DEFAULTS[s.key]])) as TrainingSettings;
  const d = trainDefaults(PRESET[kind]) as unknown as Record<string, unknown>;
  const out: TrainingSettings = {};
  for (const s of TRAIN_OPTION_SPECS) {
    if (JOB_SET.has(s.flag)) continue;
    const v = d[s.key];
    if (v === null || v === undefined) continue;
    out[s.flag] = v as TrainingSettingValue;
  }
  if (kind === 'grpo') {
    for (const [k, v] of Object.entries(GRPO_SH_DEFAULTS)) if (!JOB_SET.has(k)) out[k] = v;
    for (const s of GRPO_SPECS) {
      const v = GRPO_DEFAULTS[s.key];
      if (v !== undefined) out[s.flag] = v as TrainingSettingValue;
    }
  }
  return out;
}

export interface JobInputs {
  dataPath: string;
  evalDataPath: string | null;
  audioFolder: string;
  baseModel: string;
  outputDir: string;
}

/** What a tagging run reads and writes: its settings and the job's paths. */
export interface TaggingRun extends TaggingSettings {
  /** the synth-data folder (labels.jsonl, audio/, midi/) */
  dataDir: string;
  audioFolder: string;
  modelDir: string;
  outputDir: string;
}

export type RunPlan =
  | { mode: 'sft' | 'grpo'; config: TrainerConfig; grpo: GrpoSettings | null; tagging: null }
  | { mode: 'tagging'; config: null; grpo: null; tagging: TaggingRun };

export class SettingsError extends Error {}

/**
 * Checks a job's settings against the runner's table and builds its config. Throws SettingsError
 * listing every problem (unknown names, values out of range, studio-set names).
 */
export function planRun(kind: TrainingKind, settings: TrainingSettings, inputs: JobInputs, resume: boolean): RunPlan {
  if (kind === 'tagging') return { mode: 'tagging', config: null, grpo: null, tagging: planTagging(settings, inputs) };
  const errors: string[] = [];
  const raw: Record<string, unknown> = kind === 'grpo' ? { ...GRPO_SH_DEFAULTS } : {};
  const grpo: GrpoSettings = { ...GRPO_DEFAULTS, rewards: [...GRPO_DEFAULTS.rewards] };
  const grpoFlags = new Map(GRPO_SPECS.map((s) => [s.flag, s]));
  for (const [name, value] of Object.entries(settings)) {
    if (JOB_SET.has(name)) {
      errors.push(`${name}: set by the job (its source, base model and output folder), not in its settings`);
    } else if (TRAIN_FLAGS.has(name)) {
      raw[name] = value;
    } else if (grpoFlags.has(name)) {
      if (kind !== 'grpo') {
        errors.push(`${name}: a GRPO setting; this is a ${kind} job`);
        continue;
      }
      try {
        (grpo as unknown as Record<string, unknown>)[grpoFlags.get(name)!.key] = grpoFlags.get(name)!.parse(value);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    } else {
      errors.push(`${name}: not a training setting (MuFun's train.py names, e.g. learning_rate, num_train_epochs, lora_r${kind === 'grpo' ? '; GRPO: num_generations, beta, reward' : ''})`);
    }
  }
  // Evaluation needs an eval set: without one, the job does not evaluate (whatever the recipe says).
  if (!inputs.evalDataPath) raw.eval_strategy = 'no';
  else if (raw.eval_strategy === undefined) raw.eval_strategy = 'steps';
  let options: TrainOptions | null = null;
  try {
    options = parseTrainOptions({
      ...raw, preset: PRESET[kind], data_path: inputs.dataPath, eval_data_path: inputs.evalDataPath, image_folder: inputs.audioFolder,
      pretrained_model_path: inputs.baseModel, output_dir: inputs.outputDir, resume_from_checkpoint: resume ? 'last' : null,
    });
  } catch (e) {
    if (!(e instanceof TrainOptionsError)) throw e;
    errors.push(...e.message.split('\n').slice(1).map((l) => l.trim().replace(/^--/, '')));
  }
  if (options && kind === 'grpo') {
    const perStep = options.perDeviceTrainBatchSize * options.gradientAccumulationSteps;
    if (perStep % grpo.numGenerations) {
      errors.push(`per_device_train_batch_size × gradient_accumulation_steps (${perStep}) must be a multiple of num_generations (${grpo.numGenerations}): each step takes whole groups`);
    }
  }
  if (errors.length || !options) throw new SettingsError(`bad training settings:\n  ${errors.join('\n  ')}`);
  return { mode: kind === 'grpo' ? 'grpo' : 'sft', config: trainerConfigFrom(options), grpo: kind === 'grpo' ? grpo : null, tagging: null };
}

/**
 * A tagging job (`mufun tag-train` in the studio): its settings checked by the same names, its data
 * the synth-data folder holding the job's labels.jsonl. It keeps no checkpoints: a resumed job
 * starts over.
 */
function planTagging(settings: TrainingSettings, inputs: JobInputs): TaggingRun {
  const errors: string[] = [];
  const out: TaggingSettings = { ...TAGGING_DEFAULTS, tasks: [...TAGGING_DEFAULTS.tasks] };
  const specs = new Map(TAGGING_SPECS.map((s) => [s.flag, s]));
  for (const [name, value] of Object.entries(settings)) {
    const spec = specs.get(name);
    if (JOB_SET.has(name)) errors.push(`${name}: set by the job (its source, base model and output folder), not in its settings`);
    else if (!spec) errors.push(`${name}: not a tagging setting (${[...specs.keys()].join(', ')})`);
    else {
      try {
        (out as unknown as Record<string, unknown>)[spec.key] = spec.parse(value);
      } catch (e) {
        errors.push(`${name}: ${(e as Error).message}`);
      }
    }
  }
  if (errors.length) throw new SettingsError(`bad tagging settings:\n  ${errors.join('\n  ')}`);
  return { ...out, dataDir: dirname(inputs.dataPath), audioFolder: inputs.audioFolder, modelDir: inputs.baseModel, outputDir: inputs.outputDir };
}
