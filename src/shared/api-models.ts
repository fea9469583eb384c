// The models part of the API contract (see api.ts): installing models into the studio (a
// Hugging Face MuFun folder converted by `mufun convert`'s engine, with progress, in a worker),
// the installed models, and memory estimates. api.ts merges these tables into its own.
import { type Check, id, object, oneOf, optional, string } from './check.js';

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

export interface InstalledModel {
  /** The folder name under the studio's models folder. */
  name: string;
  dir: string;
  /** converted: a `mufun convert` folder (inference only); huggingface: a plain MuFun folder. */
  format: 'converted' | 'huggingface';
  dtype: string;
  /** The folder it was converted from. */
  source: string | null;
  createdAt: number | null;
  parameters: number | null;
  estimate: MemoryEstimate | null;
  /** Why it cannot be used (an unfinished or damaged folder). */
  problem: string | null;
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
  /** This session's conversions, newest first. */
  'models.conversions': { args: Record<string, never>; result: Conversion[] };
}

const path = () => string({ nonEmpty: true, maxLength: 4096 });

export const modelsArgChecks: { [N in keyof ModelCalls]: Check<ModelCalls[N]['args']> } = {
  'models.installed': object({}),
  'models.estimate': object({ dir: path() }),
  'models.convert': object({ source: path(), dtype: oneOf(CONVERT_DTYPE_NAMES), name: optional(string({ maxLength: 200 })) }),
  'models.cancelConvert': object({ id: id() }),
  'models.conversions': object({}),
};

// ── Events ──────────────────────────────────────────────────────────────────

export interface ModelEvents {
  /** A conversion started, moved on, finished, failed or was cancelled. */
  'models.conversion': Conversion;
}

export const modelsEventNames: (keyof ModelEvents)[] = ['models.conversion'];
