// Messages between the evaluations service and its worker (worker.ts).
import type { SampleResult, summarize } from '../../model/eval.js';
import type { ProviderName } from '../../shared/api.js';

export const EVAL_WORKER_KIND = 'mufun-eval-worker';

export interface EvalWorkerData {
  kind: typeof EVAL_WORKER_KIND;
  modelDir: string;
  dataPath: string;
  audioFolder: string;
  limit?: number;
  provider: ProviderName;
  threads?: number;
}

export type FromEvalWorker =
  | { type: 'start'; total: number; skipped: { id: string; message: string }[] }
  | { type: 'answer'; result: SampleResult; done: number; scores: ReturnType<typeof summarize> }
  | { type: 'end'; cancelled: boolean }
  | { type: 'error'; message: string };

export type ToEvalWorker = { type: 'stop' };
