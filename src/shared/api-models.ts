// The models part of the API contract (see api.ts): installing models into the studio (a
// Hugging Face MuFun folder converted by `mufun convert`'s engine, with progress, in a worker),
// the installed models, memory estimates, and evaluations (`mufun eval` on a dataset, kept in
// the catalog). api.ts merges these tables into its own.
import { type Check, CheckError, id, nullable, number, object, oneOf, optional, string } from './check.js';

// ── Data types ──────────────────────────────────────────────────────────────

export const CONVERT_DTYPE_NAMES = ['float32', 'float16', 'int8', 'int4'] as const;
/** float32/float16: the whole model in that type; int8/int4: the LLM's linear layers weight-only quantized. */
export type ConvertDtypeName = (typeof CONVERT_DTYPE_NAMES)[number];

export type ConversionStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface Conversion {
  id: number;
  /** The Hugging Face MuFun folder being converted. */
  source: string;
  name: string;
  dtype: ConvertDtypeName;
  /** The new folder under the studio's models folder. */
  outDir: string;
  status: ConversionStatus;
  tensors: number;
  totalTensors: number;
  bytes: number;
  totalBytes: number;
  /** The tensor just written. */
  current: string;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/**
 * What loading a model for chat takes, in bytes (see src/main/memory.ts for the formula):
 * the weights as the sessions hold them, the KV cache for `contextTokens` positions, and the
 * audio tower's working set for one clip.
 */
export interface MemoryEstimate {
  weightsBytes: number;
  kvCacheBytes: number;
  audioBytes: number;
  totalBytes: number;
  /** The positions the KV cache figure is for. */
  contextTokens: number;
  /** The type the weights load in: float32, float16, int8 or int4. */
  dtype: string;
  /** What the weights take on disk. */
  diskBytes: number;
}

/** The largest architecture `models.create` makes: from-scratch training in the studio is for small models. */
export const MAX_NEW_MODEL_PARAMETERS = 100_000_000;

export interface InstalledModel {
  /** The folder name under the studio's models folder. */
  name: string;
  dir: string;
  /** converted: a `mufun convert` folder (inference only); huggingface: a plain MuFun folder. */
  format: 'converted' | 'huggingface';
  dtype: string;
  /** The folder it was converted from, or (a new model) whose architecture it has. */
  source: string | null;
  createdAt: number | null;
  parameters: number | null;
  estimate: MemoryEstimate | null;
  /** Why it cannot be used (an unfinished or damaged folder). */
  problem: string | null;
}

/** What an evaluation asks: a studio dataset's split, or a MuFun JSON file (audio relative to audioFolder, default its folder). */
export type EvaluationSource =
  | { type: 'dataset'; datasetId: number; split: 'train' | 'eval' }
  | { type: 'file'; dataPath: string; audioFolder?: string | null };

export type EvaluationStatus = 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

/** One task's (or all tasks') multiple-choice accuracy, as `mufun eval` reports it. */
export interface EvaluationScore {
  task: string;
  samples: number;
  correct: number;
  accuracy: number;
  /** mean of 1/options; null when no sample lists options */
  chance: number | null;
  /** always answering the most frequent reference answer */
  majority: { answer: string; count: number; accuracy: number };
  /** answers that named no option (counted wrong) */
  unmatched: number;
}

export interface Evaluation {
  id: number;
  /** The model folder. */
  model: string;
  modelName: string;
  sourceLabel: string;
  status: EvaluationStatus;
  /** samples answered, of total */
  done: number;
  total: number;
  /** per task, then overall; over the samples answered so far (all of them when done) */
  tasks: EvaluationScore[];
  overall: EvaluationScore | null;
  /** samples left out (audio missing, broken turns), with the reason */
  skipped: { id: string; message: string }[];
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

/** One answered sample of an evaluation. */
export interface EvaluationAnswer {
  id: string;
  task: string;
  question: string;
  reference: string;
  prediction: string;
  correct: boolean;
}

// ── Calls ───────────────────────────────────────────────────────────────────

/** name → { args, result } */
export interface ModelCalls {
  /** The models in the studio's models folder (converted or copied there), by name. */
  'models.installed': { args: Record<string, never>; result: InstalledModel[] };
  /** The estimated memory to load a model folder for chat (Hugging Face or converted). */
  'models.estimate': { args: { dir: string }; result: MemoryEstimate };
  /**
   * Checks the folder is a MuFun checkpoint, then converts it into the models folder in a
   * worker; progress arrives as `models.conversion` events. One conversion runs at a time.
   */
  'models.convert': { args: { source: string; dtype: ConvertDtypeName; name?: string }; result: Conversion };
  /** Stops a running conversion and removes its half-written folder. */
  'models.cancelConvert': { args: { id: number }; result: Conversion };
  /**
   * A model with fresh weights, to train from scratch (as `mufun init-model`): the architecture
   * (config.json) and tokenizer of an existing MuFun folder, new random weights from the seed,
   * in the studio's models folder. Only small architectures (MAX_NEW_MODEL_PARAMETERS): from-scratch
   * training runs on this machine.
   */
  'models.create': { args: { template: string; name?: string; seed?: number }; result: InstalledModel };
  /** This session's conversions, newest first. */
  'models.conversions': { args: Record<string, never>; result: Conversion[] };
  /**
   * Answers every multiple-choice sample of the source by greedy generation and scores it per
   * task (as `mufun eval`), in a worker; progress comes as `models.evaluation` events. One at a
   * time. model: a model folder, or null for the one chat uses.
   */
  'models.evaluate': { args: { model: string | null; source: EvaluationSource; limit?: number }; result: Evaluation };
  /** Stops a running evaluation; what it answered so far stays, scored. */
  'models.cancelEvaluation': { args: { id: number }; result: Evaluation };
  /** Every evaluation in the catalog, newest first. */
  'models.evaluations': { args: Record<string, never>; result: Evaluation[] };
  /** An evaluation's answers, in sample order. */
  'models.evaluationAnswers': { args: { id: number }; result: EvaluationAnswer[] };
  'models.deleteEvaluation': { args: { id: number }; result: { deleted: boolean } };
}

/** The calls about evaluations (served by src/main/evals; the rest by the models service). */
export type EvaluationCallName = 'models.evaluate' | 'models.cancelEvaluation' | 'models.evaluations' | 'models.evaluationAnswers' | 'models.deleteEvaluation';

const path = () => string({ nonEmpty: true, maxLength: 4096 });

export const modelsArgChecks: { [N in keyof ModelCalls]: Check<ModelCalls[N]['args']> } = {
  'models.installed': object({}),
  'models.estimate': object({ dir: path() }),
  'models.convert': object({ source: path(), dtype: oneOf(CONVERT_DTYPE_NAMES), name: optional(string({ maxLength: 200 })) }),
  'models.cancelConvert': object({ id: id() }),
  'models.create': object({ template: path(), name: optional(string({ maxLength: 200 })), seed: optional(number({ min: 0, max: 0xffffffff, integer: true })) }),
  'models.conversions': object({}),
  'models.evaluate': object({
    model: nullable(path()),
    source: ((value, at) => {
      const type = (value as { type?: unknown } | null)?.type;
      if (type === 'dataset') return object({ type: oneOf(['dataset'] as const), datasetId: id(), split: oneOf(['train', 'eval'] as const) })(value, at);
      if (type === 'file') return object({ type: oneOf(['file'] as const), dataPath: path(), audioFolder: optional(nullable(path())) })(value, at);
      throw new CheckError(`${at}.type`, 'expected "dataset" (a studio dataset) or "file" (a MuFun JSON file)');
    }) as Check<EvaluationSource>,
    limit: optional(number({ integer: true, min: 1, max: 1_000_000 })),
  }),
  'models.cancelEvaluation': object({ id: id() }),
  'models.evaluations': object({}),
  'models.evaluationAnswers': object({ id: id() }),
  'models.deleteEvaluation': object({ id: id() }),
};

// ── Events ──────────────────────────────────────────────────────────────────

export interface ModelEvents {
  /** A conversion started, moved on, finished, failed or was cancelled. */
  'models.conversion': Conversion;
  /** An evaluation started, answered more samples, finished, failed or was stopped. */
  'models.evaluation': Evaluation;
}

export const modelsEventNames: (keyof ModelEvents)[] = ['models.conversion', 'models.evaluation'];
