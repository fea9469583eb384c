// The training part of the API contract (see api.ts): its calls with their argument checks,
// and its events. api.ts merges these tables into ApiCalls, argChecks and ApiEvents.
//
// A training job runs one of MuFun's recipes (warm-up, full finetune, LoRA finetune, GRPO) on a
// studio dataset or a MuFun JSON file + audio folder, or tags a synthetic set's clips (the audio
// tower learning to hear), in a worker off the UI. Jobs wait in one queue (one runs at a time); a
// cancelled or interrupted job resumes from its last checkpoint (tagging keeps none: it starts over).
import { type Check, CheckError, id, nullable, number, object, oneOf, optional, string } from './check.js';

// ── Data types ──────────────────────────────────────────────────────────────

export const TRAINING_KINDS = ['warmup', 'finetune', 'lora', 'grpo', 'tagging'] as const;
/**
 * warmup: connector only (pretrain template); finetune: everything (full); lora: PEFT adapters on
 * the LLM; grpo: rewards instead of labels; tagging: the audio tower and connector learn a
 * synthetic set's labels directly (`mufun tag-train`: how a from-scratch model learns to hear).
 */
export type TrainingKind = (typeof TRAINING_KINDS)[number];

export const TRAINING_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
/** interrupted: the studio stopped (closed or killed) while the job ran; it resumes from its last checkpoint. */
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];

/**
 * The runner's settings by MuFun's train.py names (`learning_rate`, `num_train_epochs`, `lora_r`,
 * …) and, for GRPO, TRL's (`num_generations`, `beta`, `reward`, …). What is not given takes the
 * recipe's default (see `training.defaults`). The data, model and output paths come from the job.
 */
export type TrainingSettings = Record<string, TrainingSettingValue>;
export type TrainingSettingValue = string | number | boolean | string[];

export type TrainingSource =
  /** A studio dataset, exported in MuFun's JSON format when the job is created. */
  | { type: 'dataset'; datasetId: number }
  /**
   * A MuFun JSON file; audio paths are relative to audioFolder (default: the file's folder). For
   * tagging: a synthetic set's labels.jsonl (or its folder), its audio in the folder's audio/.
   */
  | { type: 'file'; dataPath: string; evalDataPath?: string | null; audioFolder?: string | null };

export interface TrainingEvalResult {
  step: number;
  evalLoss: number;
  /** multiple-choice accuracy by greedy generation (when eval_accuracy_samples > 0) */
  evalAccuracy?: number;
  /** accuracy per task (the samples' `task` field) */
  evalTasks?: Record<string, number>;
}

export interface TrainingJob {
  id: number;
  name: string;
  kind: TrainingKind;
  status: TrainingStatus;
  source: TrainingSource;
  /** What the source says in words (dataset name, file). */
  sourceLabel: string;
  /** The resolved inputs the runner reads (for a dataset: its export). */
  dataPath: string;
  evalDataPath: string | null;
  audioFolder: string;
  baseModel: string;
  settings: TrainingSettings;
  outputDir: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Optimizer steps done so far, of totalSteps (known once the job has started). */
  step: number;
  totalSteps: number | null;
  /** The trained model folder (Hugging Face MuFun layout), once the job is done. */
  finalModel: string | null;
  error: string | null;
  /** The latest evaluation. */
  eval: TrainingEvalResult | null;
  /** Samples skipped, rewards that failed: said, never silent. */
  warnings: string[];
  /** The newest resumable checkpoint in outputDir. */
  checkpoint: { dir: string; step: number } | null;
  /** Place in the queue (1 = next), for queued jobs. */
  queuePosition: number | null;
}

export interface TrainingStepPoint {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** GRPO: mean reward of the step's completions. */
  reward: number | null;
  rewardStd: number | null;
  kl: number | null;
  /** GRPO: what the policy answered at this step, one sampled answer per prompt (older rows: absent). */
  answers?: TrainingAnswer[] | null;
  elapsedSec: number;
  etaSec: number;
}

/** One prompt of a GRPO step: its first sampled answer and rewards. */
export interface TrainingAnswer {
  /** the sample's id in the data */
  id: string;
  /** the question (the human turn before the answer) */
  question: string;
  /** the reference answer (the data's last turn) */
  reference: string;
  completion: string;
  /** that answer's combined reward; null where a reward failed on the group */
  reward: number | null;
  /** the mean reward of the prompt's whole group of G answers */
  groupReward: number | null;
}

export interface TrainingMetrics {
  jobId: number;
  steps: TrainingStepPoint[];
  evals: TrainingEvalResult[];
}

export interface TrainingProgress extends TrainingStepPoint {
  jobId: number;
  totalSteps: number;
}

export interface TrainedModel {
  jobId: number;
  name: string;
  kind: TrainingKind;
  dir: string;
  baseModel: string;
  finishedAt: number | null;
  eval: TrainingEvalResult | null;
  /** false when the folder was moved or deleted since. */
  present: boolean;
}

/** A synthetic set in the studio's folder (generated on the Datasets page): what a tagging job reads. */
export interface SyntheticSet {
  name: string;
  labelsPath: string;
  train: number;
  val: number;
}

// ── Calls ───────────────────────────────────────────────────────────────────

/** name → { args, result } */
export interface TrainingCalls {
  /** Every job, newest first. */
  'training.jobs': { args: Record<string, never>; result: TrainingJob[] };
  'training.get': { args: { id: number }; result: TrainingJob };
  /** The recipe's settings for a kind (MuFun's defaults), to fill the form. */
  'training.defaults': { args: { kind: TrainingKind }; result: TrainingSettings };
  /** Checks everything, saves the job and queues it (it starts at once when nothing runs). */
  'training.start': {
    args: {
      kind: TrainingKind;
      source: TrainingSource;
      /** The starting model folder; absent/null = the model chat uses. */
      baseModel?: string | null;
      settings: TrainingSettings;
      name?: string;
      /** Where checkpoints go; absent = a folder of its own next to the catalog. */
      outputDir?: string | null;
    };
    result: TrainingJob;
  };
  /** Cancels a queued or running job; its checkpoints stay (resume continues from the last). */
  'training.cancel': { args: { id: number }; result: TrainingJob };
  /** Queues a cancelled, interrupted or failed job again, to continue from its last checkpoint. */
  'training.resume': { args: { id: number }; result: TrainingJob };
  /** The loss/lr/reward curve and evaluations so far (from the catalog). */
  'training.metrics': { args: { id: number }; result: TrainingMetrics };
  /** Finished jobs' trained model folders, newest first. */
  'training.models': { args: Record<string, never>; result: TrainedModel[] };
  /** The synthetic sets in the studio's folder, newest first, for tagging jobs. */
  'training.syntheticSets': { args: Record<string, never>; result: SyntheticSet[] };
}

const path = () => string({ nonEmpty: true, maxLength: 4096 });
const SETTING_NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** A settings object: MuFun flag names → a string, number, boolean or list of strings. */
const settingsCheck: Check<TrainingSettings> = (value, at) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CheckError(at, 'expected an object');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 100) throw new CheckError(at, 'expected at most 100 settings');
  const out: TrainingSettings = {};
  for (const [k, v] of entries) {
    if (!SETTING_NAME.test(k)) throw new CheckError(`${at}.${k}`, 'is not a setting name (MuFun spells them like learning_rate)');
    if (typeof v === 'number') out[k] = number()(v, `${at}.${k}`);
    else if (typeof v === 'string') out[k] = string({ maxLength: 4096 })(v, `${at}.${k}`);
    else if (typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v) && v.length <= 64) out[k] = v.map((x, i) => string({ nonEmpty: true, maxLength: 4096 })(x, `${at}.${k}[${i}]`));
    else throw new CheckError(`${at}.${k}`, 'expected a number, a string, true/false or a list of strings');
  }
  return out;
};

const sourceCheck: Check<TrainingSource> = (value, at) => {
  const type = (value as { type?: unknown } | null)?.type;
  if (type === 'dataset') return object({ type: oneOf(['dataset'] as const), datasetId: id() })(value, at);
  if (type === 'file') {
    return object({
      type: oneOf(['file'] as const),
      dataPath: path(),
      evalDataPath: optional(nullable(path())),
      audioFolder: optional(nullable(path())),
    })(value, at);
  }
  throw new CheckError(`${at}.type`, 'expected "dataset" (a studio dataset) or "file" (a MuFun JSON file)');
};

export const trainingArgChecks: { [N in keyof TrainingCalls]: Check<TrainingCalls[N]['args']> } = {
  'training.jobs': object({}),
  'training.syntheticSets': object({}),
  'training.get': object({ id: id() }),
  'training.defaults': object({ kind: oneOf(TRAINING_KINDS) }),
  'training.start': object({
    kind: oneOf(TRAINING_KINDS),
    source: sourceCheck,
    baseModel: optional(nullable(path())),
    settings: settingsCheck,
    name: optional(string({ maxLength: 200 })),
    outputDir: optional(nullable(path())),
  }),
  'training.cancel': object({ id: id() }),
  'training.resume': object({ id: id() }),
  'training.metrics': object({ id: id() }),
  'training.models': object({}),
};

// ── Events ──────────────────────────────────────────────────────────────────

export interface TrainingEvents {
  /** A job changed: queued, started, saved a checkpoint, finished, failed, was cancelled. */
  'training.status': TrainingJob;
  /** One optimizer step of the running job (loss, lr, gradient norm, GRPO reward, time left). */
  'training.progress': TrainingProgress;
  /** An evaluation of the running job. */
  'training.eval': { jobId: number; result: TrainingEvalResult };
}

export const trainingEventNames: (keyof TrainingEvents)[] = ['training.status', 'training.progress', 'training.eval'];
