// The training worker: runs one job's training (the SFT runner, GRPO or tagging) off the main
// thread and streams its events back. A 'stop' message aborts the run after the current step; its
// checkpoints stay, so the job resumes later. Started by TrainingQueue (queue.ts).
import { parentPort } from 'node:worker_threads';
import { type GrpoEvent, grpo } from '../../model/train/grpo.js';
import { loadRewards } from '../../model/train/rewards.js';
import { type TaggingEvent, trainTagging } from '../../model/train/tagging.js';
import type { ProviderName } from '../../shared/api.js';
import { type TrainEvent, train } from '../../model/train/trainer.js';
import { regressesTempo, synthTagSet } from '../../synth/tags.js';
import { type FromTrainingWorker, TRAINING_WORKER_KIND } from './protocol.js';
import type { RunPlan, TaggingRun } from './settings.js';
import { runAsWorker } from '../worker-run.js';

export interface TrainingWorkerData {
  kind: typeof TRAINING_WORKER_KIND;
  jobId: number;
  /** Built and checked on the main thread (settings.ts planRun). */
  plan: RunPlan;
  provider: ProviderName;
  /** CPU threads for ONNX Runtime (undefined: its default). */
  threads?: number;
}

function post(m: FromTrainingWorker): void {
  parentPort!.postMessage(m);
}

async function run(d: TrainingWorkerData, signal: AbortSignal): Promise<void> {
  const runtime = { ep: d.provider, threads: d.threads };
  const onEvent = (event: TrainEvent | GrpoEvent | TaggingEvent) => post({ type: 'event', event });
  try {
    let r: { finalDir: string; step: number };
    const { plan } = d;
    if (plan.mode === 'tagging') {
      r = await tag(plan.tagging, runtime, onEvent, signal);
    } else {
      const config = { ...plan.config, runtime: { ...plan.config.runtime, ...runtime } };
      if (plan.mode === 'grpo') {
        const { rewards: specs, ...rest } = plan.grpo!;
        r = await grpo({ ...config, ...rest, rewards: await loadRewards(specs) }, onEvent, signal);
      } else {
        r = await train(config, onEvent, signal);
      }
    }
    post({ type: 'result', finalDir: r.finalDir, step: r.step, stopped: signal.aborted });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

/** A tagging run; the queue takes its events as they are (they are the runner's, less what tagging lacks). */
async function tag(t: TaggingRun, runtime: { ep: ProviderName; threads?: number }, onEvent: (e: TaggingEvent) => void, signal: AbortSignal): Promise<{ finalDir: string; step: number }> {
  const set = synthTagSet(t.dataDir, { tasks: t.tasks, frames: t.frames, values: regressesTempo(t.tempoWeight, t.tempoTokenWeight) });
  let step = 0;
  const { finalDir } = await trainTagging({
    modelDir: t.modelDir, tasks: set.tasks, train: set.splits.train, eval: set.splits.val, frames: set.frames, frameWeight: t.frameWeight, spectrumWeight: t.spectrumWeight,
    valueTasks: set.valueTasks, valueWeight: t.tempoWeight, tokenValueWeight: t.tempoTokenWeight,
    audioRoot: t.audioFolder, outputDir: t.outputDir, epochs: t.epochs, batchSize: t.batchSize, learningRate: t.learningRate, seed: t.seed, runtime,
  }, (e) => {
    if (e.type === 'step') step = e.step;
    onEvent(e);
  }, signal);
  return { finalDir, step };
}

runAsWorker<TrainingWorkerData>(TRAINING_WORKER_KIND, run);
