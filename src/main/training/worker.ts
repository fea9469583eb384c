// The training worker: runs one job's training (the SFT runner or GRPO) off the main thread and
// streams its events back. A 'stop' message aborts the run after the current step; its
// checkpoints stay, so the job resumes later. Started by TrainingQueue (queue.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { type GrpoEvent, grpo } from '../../model/train/grpo.js';
import { loadRewards } from '../../model/train/rewards.js';
import type { ProviderName } from '../../shared/api.js';
import { type TrainEvent, type TrainerConfig, train } from '../../model/train/trainer.js';
import { type FromTrainingWorker, TRAINING_WORKER_KIND, type ToTrainingWorker } from './protocol.js';
import type { GrpoSettings } from './settings.js';

export interface TrainingWorkerData {
  kind: typeof TRAINING_WORKER_KIND;
  jobId: number;
  mode: 'sft' | 'grpo';
  /** Built and checked on the main thread (settings.ts planRun). */
  config: TrainerConfig;
  grpo: GrpoSettings | null;
  provider: ProviderName;
  /** CPU threads for ONNX Runtime (undefined: its default). */
  threads?: number;
}

function post(m: FromTrainingWorker): void {
  parentPort!.postMessage(m);
}

async function run(d: TrainingWorkerData, signal: AbortSignal): Promise<void> {
  const config = { ...d.config, runtime: { ...d.config.runtime, ep: d.provider, threads: d.threads } };
  const onEvent = (event: TrainEvent | GrpoEvent) => post({ type: 'event', event });
  try {
    let r: { finalDir: string; step: number };
    if (d.mode === 'grpo') {
      const g = d.grpo!;
      const { rewards: specs, ...rest } = g;
      r = await grpo({ ...config, ...rest, rewards: await loadRewards(specs) }, onEvent, signal);
    } else {
      r = await train(config, onEvent, signal);
    }
    post({ type: 'result', finalDir: r.finalDir, step: r.step, stopped: signal.aborted });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

const data = workerData as TrainingWorkerData | undefined;
if (parentPort && data?.kind === TRAINING_WORKER_KIND) {
  const ctrl = new AbortController();
  parentPort.on('message', (m: ToTrainingWorker) => {
    if (m.type === 'stop') ctrl.abort();
  });
  void run(data, ctrl.signal).then(() => parentPort!.close());
}
