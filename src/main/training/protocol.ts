// Messages between the training queue (main thread) and a training worker (worker_thread).
// One worker runs one job; its config is built and checked on the main thread (settings.ts).
import type { GrpoEvent } from '../../model/train/grpo.js';
import type { TaggingEvent } from '../../model/train/tagging.js';
import type { TrainEvent } from '../../model/train/trainer.js';

export const TRAINING_WORKER_KIND = 'mufun-training-worker';

export type ToTrainingWorker = { type: 'stop' };

export type FromTrainingWorker =
  | { type: 'event'; event: TrainEvent | GrpoEvent | TaggingEvent }
  /** The run returned: finished, or stopped when asked (then no final model was written). */
  | { type: 'result'; finalDir: string; step: number; stopped: boolean }
  | { type: 'error'; message: string };
