// Training options, defined once for `mufun train`, `mufun export-job` and the studio: the
// names of MuFun's (TinyLLaVA Factory's) train.py arguments, its recipes as presets, and the
// checks. CLI flags use MuFun's underscore names (--learning_rate, --tune_type_llm, …) so a
// line from MuFun's scripts/finetune.sh works here as it is.
import { dirname } from 'node:path';
import { type Command, Option } from 'commander';
import { ALL_LINEAR_QWEN3 } from '../lora.js';
import type { TemplateName } from '../template.js';
import { SCHEDULERS, type SchedulerType } from './schedule.js';

export type TrainPreset = 'warmup' | 'full' | 'finetune' | 'lora';
export const TRAIN_PRESETS: readonly TrainPreset[] = ['warmup', 'full', 'finetune', 'lora'];
/** frozen: stays an initializer; full: every tensor trains; lora: PEFT adapters (LLM only). */
export type TuneType = 'frozen' | 'full' | 'lora';
/** partially-tune: the tower's layers from `tuneVisionTowerFromLayer` on train (MuFun's recipe). */
export type TowerTuneType = 'frozen' | 'full' | 'partially-tune';
export type ConnectorTuneType = 'frozen' | 'full';
export type IntervalStrategy = 'no' | 'steps' | 'epoch';
export type TrainTemplate = Extract<TemplateName, 'qwen2_instruct' | 'qwen2_base' | 'pretrain'>;

export interface TrainOptions {
  /** the recipe whose defaults were applied (--preset) */
  preset: TrainPreset;
  /** training set in MuFun's JSON format (--data_path, alias --data) */
  dataPath: string;
  /** eval set in the same format, or null (--eval_data_path) */
  evalDataPath: string | null;
  /** root that relative audio paths are resolved against (--image_folder, alias --audio-folder); default: the data file's folder */
  imageFolder: string;
  /** starting MuFun checkpoint: a Hugging Face folder (or HF id in export-job) (--pretrained_model_path, alias --model) */
  pretrainedModelPath: string | null;
  /** LLM / audio tower / connector a from-scratch MuFun build names (MuFun's --model_name_or_path, --vision_tower, --connector_type) */
  modelNameOrPath: string;
  visionTower: string;
  connectorType: string;
  /** where checkpoints and metrics go (--output_dir) */
  outputDir: string;
  /** prompt template (--conv_version) */
  convVersion: TrainTemplate;
  tuneTypeLlm: TuneType;
  tuneTypeVisionTower: TowerTuneType;
  /** with tuneTypeVisionTower 'partially-tune': tower layers ≥ this train (--tune_vision_tower_from_layer) */
  tuneVisionTowerFromLayer: number;
  tuneTypeConnector: ConnectorTuneType;
  learningRate: number;
  weightDecay: number;
  numTrainEpochs: number;
  /** > 0: stop after this many optimizer steps, overriding epochs (as transformers' max_steps); -1 = off */
  maxSteps: number;
  perDeviceTrainBatchSize: number;
  perDeviceEvalBatchSize: number;
  gradientAccumulationSteps: number;
  warmupRatio: number;
  lrSchedulerType: SchedulerType;
  /** clip gradients to this global norm; 0 = off (transformers' default 1.0) */
  maxGradNorm: number;
  /** sequences are cut to this many positions (audio included) */
  modelMaxLength: number;
  evalStrategy: IntervalStrategy;
  evalSteps: number;
  saveStrategy: IntervalStrategy;
  saveSteps: number;
  /** keep at most this many checkpoints (null = all) */
  saveTotalLimit: number | null;
  loggingSteps: number;
  seed: number;
  loraR: number;
  loraAlpha: number;
  loraDropout: number;
  /** linear layers (last name component) that get adapters; MuFun's recipe: every linear layer of the LLM */
  loraTargetModules: string[];
  /** per eval, multiple-choice eval samples answered by greedy generation for accuracy (0 = off) */
  evalAccuracySamples: number;
  /** a bad sample (missing audio, broken turns) is reported by id, then skipped or fails the run */
  onBadSample: 'skip' | 'fail';
  /** a checkpoint folder to resume from, 'last' (the newest under outputDir), or null */
  resumeFromCheckpoint: string | null;
}

/** What every preset shares: MuFun's scripts' settings (scripts/finetune.sh, warmup_qwen.sh). */
const COMMON: Omit<TrainOptions, 'preset' | 'dataPath' | 'imageFolder'> = {
  evalDataPath: null,
  pretrainedModelPath: null,
  modelNameOrPath: 'Qwen/Qwen3-8B-Base',
  visionTower: 'openai/whisper-large-v3',
  connectorType: 'blp_4i_2x',
  outputDir: 'checkpoints/mufun-finetune',
  convVersion: 'qwen2_instruct',
  tuneTypeLlm: 'full',
  tuneTypeVisionTower: 'full',
  tuneVisionTowerFromLayer: 0,
  tuneTypeConnector: 'full',
  learningRate: 2e-5,
  weightDecay: 0,
  numTrainEpochs: 1,
  maxSteps: -1,
  perDeviceTrainBatchSize: 2,
  perDeviceEvalBatchSize: 2,
  gradientAccumulationSteps: 12,
  warmupRatio: 0.03,
  lrSchedulerType: 'cosine',
  maxGradNorm: 1,
  modelMaxLength: 4096,
  evalStrategy: 'steps',
  evalSteps: 20,
  saveStrategy: 'steps',
  saveSteps: 30,
  saveTotalLimit: 1,
  loggingSteps: 1,
  seed: 42,
  loraR: 64,
  loraAlpha: 16,
  loraDropout: 0.05,
  loraTargetModules: [...ALL_LINEAR_QWEN3],
  evalAccuracySamples: 64,
  onBadSample: 'fail',
  resumeFromCheckpoint: null,
};

/** MuFun's recipes (MUFUN.md): what each preset changes from COMMON. */
export const PRESET_DEFAULTS: Readonly<Record<TrainPreset, Partial<TrainOptions>>> = {
  // warm-up from scratch: connector only, pretrain template, short sequences
  warmup: {
    outputDir: 'checkpoints/mufun-warmup', convVersion: 'pretrain', tuneTypeLlm: 'frozen', tuneTypeVisionTower: 'frozen',
    tuneTypeConnector: 'full', modelMaxLength: 768, evalSteps: 50, saveSteps: 100,
  },
  // full training from the warm-up checkpoint: everything trains, same schedule
  full: { outputDir: 'checkpoints/mufun-full', modelMaxLength: 768 },
  // finetune from MuFun-Base (or any MuFun checkpoint): everything trains
  finetune: {},
  // the LoRA recipe: adapters on every linear layer of the LLM; the tower and connector stay frozen
  lora: { outputDir: 'checkpoints/mufun-lora-finetune', tuneTypeLlm: 'lora', tuneTypeVisionTower: 'frozen', tuneTypeConnector: 'frozen' },
};

/** The defaults of a preset (without the data paths, which have none). */
export function trainDefaults(preset: TrainPreset = 'finetune'): Omit<TrainOptions, 'dataPath' | 'imageFolder'> {
  return { ...COMMON, loraTargetModules: [...COMMON.loraTargetModules], ...PRESET_DEFAULTS[preset], preset };
}

type Kind = 'string' | 'path?' | 'number' | 'int' | 'int?' | 'list' | { oneOf: readonly string[] };

interface OptionSpec {
  key: keyof TrainOptions;
  /** MuFun's argument name (the CLI flag is --<flag>) */
  flag: string;
  /** extra flag names (our own spellings) */
  aliases?: string[];
  kind: Kind;
  help: string;
  /** false: our own option, not one of MuFun's train.py arguments */
  mufun?: boolean;
}

/** Every training option, in the order help lists them. The one table the CLI, export-job and checks use. */
export const TRAIN_OPTION_SPECS: readonly OptionSpec[] = [
  { key: 'preset', flag: 'preset', kind: { oneOf: TRAIN_PRESETS }, mufun: false, help: `recipe whose defaults apply: ${TRAIN_PRESETS.join(', ')} (default finetune)` },
  { key: 'dataPath', flag: 'data_path', aliases: ['data'], kind: 'string', help: 'training set, a JSON array of samples in MuFun\'s format' },
  { key: 'evalDataPath', flag: 'eval_data_path', kind: 'path?', help: 'eval set in the same format' },
  { key: 'imageFolder', flag: 'image_folder', aliases: ['audio-folder'], kind: 'string', help: 'audio root for relative paths (default: the data file\'s folder)' },
  { key: 'pretrainedModelPath', flag: 'pretrained_model_path', aliases: ['model'], kind: 'path?', help: 'starting MuFun checkpoint (Hugging Face folder)' },
  { key: 'modelNameOrPath', flag: 'model_name_or_path', kind: 'string', help: 'LLM of a from-scratch build (default Qwen/Qwen3-8B-Base)' },
  { key: 'visionTower', flag: 'vision_tower', kind: 'string', help: 'audio tower of a from-scratch build (default openai/whisper-large-v3)' },
  { key: 'connectorType', flag: 'connector_type', kind: 'string', help: 'connector of a from-scratch build (default blp_4i_2x)' },
  { key: 'outputDir', flag: 'output_dir', kind: 'string', help: 'checkpoints and metrics folder (default checkpoints/mufun-<preset>)' },
  { key: 'convVersion', flag: 'conv_version', kind: { oneOf: ['qwen2_instruct', 'qwen2_base', 'pretrain'] }, help: 'prompt template (warmup: pretrain; else qwen2_instruct)' },
  { key: 'tuneTypeLlm', flag: 'tune_type_llm', kind: { oneOf: ['frozen', 'full', 'lora'] }, help: 'LLM: frozen, full or lora' },
  { key: 'tuneTypeVisionTower', flag: 'tune_type_vision_tower', kind: { oneOf: ['frozen', 'full', 'partially-tune'] }, help: 'audio tower: frozen, full or partially-tune' },
  { key: 'tuneVisionTowerFromLayer', flag: 'tune_vision_tower_from_layer', kind: 'int', help: 'partially-tune: tower layers from this one on train (default 0)' },
  { key: 'tuneTypeConnector', flag: 'tune_type_connector', kind: { oneOf: ['frozen', 'full'] }, help: 'connector: frozen or full' },
  { key: 'learningRate', flag: 'learning_rate', kind: 'number', help: 'peak learning rate (default 2e-5)' },
  { key: 'weightDecay', flag: 'weight_decay', kind: 'number', help: 'AdamW weight decay (default 0)' },
  { key: 'numTrainEpochs', flag: 'num_train_epochs', kind: 'number', help: 'epochs (default 1)' },
  { key: 'maxSteps', flag: 'max_steps', kind: 'int', help: 'optimizer steps in all, instead of the epochs (the data repeats as needed; the schedule spans them) (default -1: off)' },
  { key: 'perDeviceTrainBatchSize', flag: 'per_device_train_batch_size', kind: 'int', help: 'samples per micro-batch (default 2)' },
  { key: 'perDeviceEvalBatchSize', flag: 'per_device_eval_batch_size', kind: 'int', help: 'samples per eval batch (default 2)' },
  { key: 'gradientAccumulationSteps', flag: 'gradient_accumulation_steps', kind: 'int', help: 'micro-batches per optimizer step (default 12)' },
  { key: 'warmupRatio', flag: 'warmup_ratio', kind: 'number', help: 'share of steps with linear warm-up (default 0.03)' },
  { key: 'lrSchedulerType', flag: 'lr_scheduler_type', kind: { oneOf: SCHEDULERS }, help: `${SCHEDULERS.join(', ')} (default cosine)` },
  { key: 'maxGradNorm', flag: 'max_grad_norm', kind: 'number', help: 'clip gradients to this global norm, 0 = off (default 1)' },
  { key: 'modelMaxLength', flag: 'model_max_length', kind: 'int', help: 'positions per sample, audio included (warmup/full 768, finetune 4096)' },
  { key: 'evalStrategy', flag: 'eval_strategy', kind: { oneOf: ['no', 'steps', 'epoch'] }, help: 'when to evaluate: no, steps, epoch (default steps with an eval set)' },
  { key: 'evalSteps', flag: 'eval_steps', kind: 'int', help: 'evaluate every n optimizer steps (finetune 20, warmup 50)' },
  { key: 'saveStrategy', flag: 'save_strategy', kind: { oneOf: ['no', 'steps', 'epoch'] }, help: 'when to save checkpoints: no, steps, epoch (default steps)' },
  { key: 'saveSteps', flag: 'save_steps', kind: 'int', help: 'save every n optimizer steps (finetune 30, warmup 100)' },
  { key: 'saveTotalLimit', flag: 'save_total_limit', kind: 'int?', help: 'keep at most n checkpoints (default 1; "none" keeps all)' },
  { key: 'loggingSteps', flag: 'logging_steps', kind: 'int', help: 'log metrics every n optimizer steps (default 1)' },
  { key: 'seed', flag: 'seed', kind: 'int', help: 'seed for shuffling, dropout and LoRA init (default 42)' },
  { key: 'loraR', flag: 'lora_r', kind: 'int', help: 'LoRA rank (default 64)' },
  { key: 'loraAlpha', flag: 'lora_alpha', kind: 'number', help: 'LoRA alpha; the update is scaled by alpha/r (default 16)' },
  { key: 'loraDropout', flag: 'lora_dropout', kind: 'number', help: 'LoRA dropout (default 0.05)' },
  { key: 'loraTargetModules', flag: 'lora_target_modules', kind: 'list', mufun: false, help: `comma-separated linear layers with adapters (default ${ALL_LINEAR_QWEN3.join(',')})` },
  { key: 'evalAccuracySamples', flag: 'eval_accuracy_samples', kind: 'int', mufun: false, help: 'multiple-choice eval samples answered by generation per eval, 0 = off (default 64)' },
  { key: 'onBadSample', flag: 'bad_samples', kind: { oneOf: ['skip', 'fail'] }, mufun: false, help: 'a bad sample is reported by id, then: skip or fail (default fail)' },
  { key: 'resumeFromCheckpoint', flag: 'resume_from_checkpoint', kind: 'path?', help: 'checkpoint folder to resume from, or "last"' },
];

const SPEC_BY_KEY = new Map(TRAIN_OPTION_SPECS.map((s) => [s.key, s]));

export class TrainOptionsError extends Error {}

/**
 * Registers every training flag on `cmd` (MuFun's underscore names; --data, --audio-folder and
 * --model as aliases). No commander defaults: parseTrainOptions applies the preset's.
 * `skip` leaves out flags the command defines itself.
 */
export function addTrainOptions(cmd: Command, skip: readonly (keyof TrainOptions)[] = []): Command {
  for (const s of TRAIN_OPTION_SPECS) {
    if (skip.includes(s.key)) continue;
    const names = [...(s.aliases ?? []), s.flag].map((n) => `--${n}`).join(', ');
    const arg = s.kind === 'list' ? '<names>' : s.kind === 'number' || s.kind === 'int' || s.kind === 'int?' ? '<n>' : '<value>';
    cmd.addOption(new Option(`${names} ${arg}`, s.help));
  }
  return cmd;
}

/** Commander's attribute for a spec: the last long flag as written. */
const attr = (s: OptionSpec) => s.flag;

/**
 * Raw options (commander's, keyed by MuFun's names such as `learning_rate`; values as strings
 * or already typed) → checked TrainOptions with the preset's defaults. Also takes camelCase keys
 * (`learningRate`), so the studio can pass a Partial<TrainOptions>. Every problem is reported at once.
 */
export function parseTrainOptions(raw: Record<string, unknown>): TrainOptions {
  const errors: string[] = [];
  const given: Partial<Record<keyof TrainOptions, unknown>> = {};
  for (const s of TRAIN_OPTION_SPECS) {
    const v = raw[attr(s)] ?? raw[s.key];
    if (v === undefined) continue;
    try {
      given[s.key] = convert(s, v);
    } catch (e) {
      errors.push(`--${s.flag}: ${(e as Error).message}`);
    }
  }
  const preset = (given.preset as TrainPreset | undefined) ?? 'finetune';
  const base = trainDefaults(preset);
  if (typeof given.dataPath !== 'string' || !given.dataPath) errors.push('--data_path: the training set is required (a MuFun JSON file)');
  const dataPath = (given.dataPath as string | undefined) ?? '';
  const o = { ...base, imageFolder: dataPath ? dirname(dataPath) : '.', ...given, dataPath } as TrainOptions;
  if (given.evalStrategy === undefined && !o.evalDataPath) o.evalStrategy = 'no';
  errors.push(...checkTrainOptions(o));
  if (errors.length) throw new TrainOptionsError(`bad training options:\n  ${errors.join('\n  ')}`);
  return o;
}

/** The checks alone, for options built in code; returns one message per problem (empty = fine). */
export function checkTrainOptions(o: TrainOptions): string[] {
  const e: string[] = [];
  const f = (k: keyof TrainOptions) => `--${SPEC_BY_KEY.get(k)!.flag}`;
  const positive = (k: keyof TrainOptions, int = false) => {
    const v = o[k] as number;
    if (!(Number.isFinite(v) && v > 0 && (!int || Number.isInteger(v)))) e.push(`${f(k)}: must be a positive ${int ? 'integer' : 'number'} (got ${v})`);
  };
  const nonNegative = (k: keyof TrainOptions) => {
    const v = o[k] as number;
    if (!(Number.isFinite(v) && v >= 0)) e.push(`${f(k)}: must be ≥ 0 (got ${v})`);
  };
  positive('learningRate');
  positive('numTrainEpochs');
  for (const k of ['perDeviceTrainBatchSize', 'perDeviceEvalBatchSize', 'gradientAccumulationSteps', 'modelMaxLength', 'evalSteps', 'saveSteps', 'loggingSteps', 'loraR'] as const) positive(k, true);
  nonNegative('weightDecay');
  nonNegative('maxGradNorm');
  nonNegative('evalAccuracySamples');
  nonNegative('tuneVisionTowerFromLayer');
  positive('loraAlpha');
  if (!(o.warmupRatio >= 0 && o.warmupRatio < 1)) e.push(`${f('warmupRatio')}: must be in [0, 1) (got ${o.warmupRatio})`);
  if (!(o.loraDropout >= 0 && o.loraDropout < 1)) e.push(`${f('loraDropout')}: must be in [0, 1) (got ${o.loraDropout})`);
  if (!(o.maxSteps === -1 || (Number.isInteger(o.maxSteps) && o.maxSteps > 0))) e.push(`${f('maxSteps')}: must be a positive integer or -1 (got ${o.maxSteps})`);
  if (o.saveTotalLimit !== null && !(Number.isInteger(o.saveTotalLimit) && o.saveTotalLimit > 0)) e.push(`${f('saveTotalLimit')}: must be a positive integer or none`);
  if (o.tuneTypeLlm === 'frozen' && o.tuneTypeVisionTower === 'frozen' && o.tuneTypeConnector === 'frozen') {
    e.push('nothing to train: --tune_type_llm, --tune_type_vision_tower and --tune_type_connector are all frozen');
  }
  if (o.tuneTypeLlm === 'lora' && !o.loraTargetModules.length) e.push(`${f('loraTargetModules')}: LoRA needs at least one target module`);
  if (o.evalStrategy !== 'no' && !o.evalDataPath) e.push(`${f('evalStrategy')} ${o.evalStrategy} needs --eval_data_path`);
  return e;
}

function convert(s: OptionSpec, v: unknown): unknown {
  const k = s.kind;
  const str = typeof v === 'string' ? v.trim() : v;
  if (typeof k === 'object') {
    if (typeof str !== 'string' || !k.oneOf.includes(str)) throw new Error(`must be one of ${k.oneOf.join(', ')} (got ${JSON.stringify(v)})`);
    return str;
  }
  switch (k) {
    case 'string':
      if (typeof str !== 'string' || !str) throw new Error('must be a non-empty string');
      return str;
    case 'path?':
      if (str === null || str === '' || str === 'none') return null;
      if (typeof str !== 'string') throw new Error('must be a path');
      return str;
    case 'list': {
      const items = Array.isArray(str) ? str : typeof str === 'string' ? str.split(',') : null;
      if (!items || items.some((x) => typeof x !== 'string')) throw new Error('must be a comma-separated list');
      return items.map((x: string) => x.trim()).filter(Boolean);
    }
    case 'int?':
      if (str === null || str === 'none') return null;
      return toNumber(str, true);
    case 'int':
      return toNumber(str, true);
    case 'number':
      return toNumber(str, false);
  }
}

function toNumber(v: unknown, int: boolean): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`must be a number (got ${JSON.stringify(v)})`);
  if (int && !Number.isInteger(n)) throw new Error(`must be an integer (got ${JSON.stringify(v)})`);
  return n;
}

/** The LoRA settings as lora.ts's LoraSpec. */
export function loraSpecOf(o: TrainOptions): { r: number; alpha: number; dropout: number; targetModules: string[] } {
  return { r: o.loraR, alpha: o.loraAlpha, dropout: o.loraDropout, targetModules: [...o.loraTargetModules] };
}

/** MuFun's train.py arguments for these options (name → value), for launch scripts. Ours (preset, …) are left out. */
export function mufunTrainArgs(o: TrainOptions): [string, string][] {
  const out: [string, string][] = [];
  for (const s of TRAIN_OPTION_SPECS) {
    if (s.mufun === false) continue;
    const v = o[s.key];
    if (v === null || v === undefined) continue;
    out.push([s.flag, Array.isArray(v) ? v.join(',') : String(v)]);
  }
  return out;
}
