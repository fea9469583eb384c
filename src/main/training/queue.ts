// The training queue: one job runs at a time, in a worker_thread of its own (worker.ts); the
// others wait in queue order. It turns the worker's events into catalog rows (progress, metrics,
// evaluations) and service events, and settles each job as done, failed, cancelled or
// interrupted. Stopping (cancel, studio closing) asks the runner to stop after its current step
// and ends the worker if it does not within a moment; checkpoints are written atomically, so the
// newest one is always whole and the job resumes from it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ProviderName } from '../../shared/api.js';
import type { TrainingEvalResult, TrainingJob, TrainingProgress, TrainingStepPoint } from '../../shared/api-training.js';
import type { GrpoEvent } from '../../model/train/grpo.js';
import type { TaggingEvent } from '../../model/train/tagging.js';
import { type TrainEvent, latestCheckpoint } from '../../model/train/trainer.js';
import { type FromTrainingWorker, TRAINING_WORKER_KIND, type ToTrainingWorker } from './protocol.js';
import { planRun } from './settings.js';
import type { JobStore } from './store.js';
import type { TrainingWorkerData } from './worker.js';

export interface QueueEvents {
  status(job: TrainingJob): void;
  progress(p: TrainingProgress): void;
  eval(jobId: number, result: TrainingEvalResult): void;
}

export interface QueueOptions {
  store: JobStore;
  /** The compiled worker.ts, as a file URL. */
  workerUrl: URL;
  /** The execution provider chosen in the studio's settings (read when a job starts). */
  provider: () => ProviderName;
  events: QueueEvents;
  /** ONNX Runtime's CPU threads per job (default: its own choice). */
  threads?: number;
  /** How long a stopped run may take to finish its step before its worker is ended. */
  stopGraceMs?: number;
}

interface Active {
  jobId: number;
  worker: Worker;
  /** Why it is being stopped, if it is. */
  stopping: 'cancel' | 'close' | null;
  outcome: { ok: true; finalDir: string; stopped: boolean } | { ok: false; message: string } | null;
  exited: Promise<void>;
}

export class TrainingQueue {
  private active: Active | null = null;
  private closed = false;

  constructor(private readonly o: QueueOptions) {}

  /** The job running now, if any. */
  runningJob(): number | null {
    return this.active?.jobId ?? null;
  }

  /** Starts the next queued job when none runs. */
  pump(): void {
    while (!this.active && !this.closed) {
      const next = this.o.store.queued()[0];
      if (next === undefined) return;
      this.start(next);
    }
  }

  /** Cancels a queued job (it never starts) or the running one (it stops after its step). */
  cancel(jobId: number): void {
    this.o.store.setStatus(jobId, 'cancelled');
    const a = this.active;
    if (a?.jobId === jobId && !a.stopping) {
      a.stopping = 'cancel';
      this.stop(a);
    }
    this.emitStatus(jobId);
    this.emitQueue();
  }

  /** Stops the running job as 'interrupted' (resumable) and starts nothing more. */
  async close(): Promise<void> {
    this.closed = true;
    const a = this.active;
    if (!a) return;
    if (!a.stopping) {
      a.stopping = 'close';
      this.o.store.setStatus(a.jobId, 'interrupted');
      this.stop(a);
    }
    await a.exited;
  }

  private stop(a: Active): void {
    a.worker.postMessage({ type: 'stop' } satisfies ToTrainingWorker);
    const timer = setTimeout(() => void a.worker.terminate(), this.o.stopGraceMs ?? 3000);
    timer.unref();
    void a.exited.then(() => clearTimeout(timer));
  }

  private start(jobId: number): void {
    const { store } = this.o;
    const job = store.runnable(jobId);
    if (!job) return;
    let data: TrainingWorkerData;
    try {
      if (!existsSync(job.baseModel)) throw new Error(`the base model ${job.baseModel} is not there any more`);
      const plan = planRun(job.kind, job.settings, job, job.resume);
      if (job.resume) {
        // Metrics past the checkpoint are redone by the resumed run: forget them (catalog and file).
        const at = latestCheckpoint(job.outputDir)?.step ?? 0;
        store.truncateMetrics(jobId, at);
        trimMetricsFile(job.outputDir, at);
      }
      data = { kind: TRAINING_WORKER_KIND, jobId, plan, provider: this.o.provider(), threads: this.o.threads };
    } catch (e) {
      store.setStatus(jobId, 'failed', { error: e instanceof Error ? e.message : String(e) });
      this.emitStatus(jobId);
      return;
    }
    let worker: Worker;
    try {
      worker = new Worker(this.o.workerUrl, { workerData: data });
    } catch (e) {
      store.setStatus(jobId, 'failed', { error: `the training worker could not start: ${e instanceof Error ? e.message : String(e)}` });
      this.emitStatus(jobId);
      return;
    }
    store.setStatus(jobId, 'running', { error: null });
    let exit!: () => void;
    const a: Active = { jobId, worker, stopping: null, outcome: null, exited: new Promise((r) => (exit = r)) };
    this.active = a;
    worker.on('message', (m: FromTrainingWorker) => this.receive(a, m));
    worker.on('error', (e) => {
      a.outcome ??= { ok: false, message: `the training worker failed: ${e.message}` };
    });
    worker.on('exit', (code) => {
      this.settle(a, code);
      exit();
    });
    this.emitStatus(jobId);
    this.emitQueue();
  }

  private receive(a: Active, m: FromTrainingWorker): void {
    if (m.type === 'result') {
      a.outcome = { ok: true, finalDir: m.finalDir, stopped: m.stopped };
      void a.worker.terminate(); // the run is over; ONNX Runtime's threads go with the worker
    } else if (m.type === 'error') {
      a.outcome = { ok: false, message: m.message };
      void a.worker.terminate();
    } else {
      this.onEvent(a, m.event);
    }
  }

  private onEvent(a: Active, e: TrainEvent | GrpoEvent | TaggingEvent): void {
    const { store } = this.o;
    const id = a.jobId;
    switch (e.type) {
      case 'start':
        // tagging starts over and reads every clip it was given (checked when the job was made)
        store.setProgress(id, 'resumedFrom' in e ? e.resumedFrom : 0, e.totalSteps);
        if ('skipped' in e) store.addWarnings(id, e.skipped.map((p) => `skipped sample ${p.id}: ${p.message}`));
        this.emitStatus(id);
        break;
      case 'step': {
        const g = 'reward' in e ? e : null;
        const point: TrainingStepPoint = {
          step: e.step, epoch: e.epoch, loss: e.loss, lr: e.lr, gradNorm: e.gradNorm, reward: g?.reward ?? null, rewardStd: g?.rewardStd ?? null,
          kl: g?.kl ?? null, answers: g?.answers ?? null, elapsedSec: e.elapsedSec, etaSec: e.etaSec,
        };
        store.addStep(id, point);
        store.setProgress(id, e.step, e.totalSteps);
        this.o.events.progress({ jobId: id, totalSteps: e.totalSteps, ...point });
        break;
      }
      case 'eval': {
        const result: TrainingEvalResult = { step: e.step, evalLoss: e.evalLoss };
        if (e.evalAccuracy !== undefined) result.evalAccuracy = e.evalAccuracy;
        if (e.evalTasks) result.evalTasks = e.evalTasks;
        store.addEval(id, result);
        this.o.events.eval(id, result);
        this.emitStatus(id);
        break;
      }
      case 'reward_failure':
        store.addWarnings(id, [`step ${e.step}: reward ${e.failure.reward} failed on sample ${e.failure.id} (generation ${e.failure.generation}): ${e.failure.message}; its group was left out`]);
        this.emitStatus(id);
        break;
      case 'save':
        this.emitStatus(id);
        break;
      case 'done':
        break;
    }
  }

  /** The worker has exited: what became of the job, then the next one. */
  private settle(a: Active, code: number): void {
    const { store } = this.o;
    const o = a.outcome;
    const now = store.get(a.jobId)?.status;
    if (o?.ok && !o.stopped) {
      store.setStatus(a.jobId, 'done', { finalModel: o.finalDir, error: null });
    } else if (now === 'queued') {
      // resumed (or queued again) while it was stopping: it runs again from its newest checkpoint
    } else if (a.stopping) {
      // cancelled or interrupted: already said so when asked; the checkpoints stay for resuming
      store.setStatus(a.jobId, a.stopping === 'cancel' ? 'cancelled' : 'interrupted');
    } else if (o && !o.ok) {
      store.setStatus(a.jobId, 'failed', { error: o.message });
    } else {
      store.setStatus(a.jobId, 'failed', { error: `the training worker stopped unexpectedly (exit code ${code})` });
    }
    this.active = null;
    this.emitStatus(a.jobId);
    this.pump();
  }

  private emitStatus(jobId: number): void {
    const job = this.o.store.get(jobId);
    if (job) this.o.events.status(job);
  }

  /** Queued jobs' places changed. */
  private emitQueue(): void {
    for (const id of this.o.store.queued()) this.emitStatus(id);
  }
}

/** Keeps the lines of metrics.jsonl up to a step (a resumed run writes the rest again). */
export function trimMetricsFile(outputDir: string, atStep: number): void {
  const file = join(outputDir, 'metrics.jsonl');
  if (!existsSync(file)) return;
  const kept = readFileSync(file, 'utf8').split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      const r = JSON.parse(line) as { step?: unknown };
      return typeof r.step !== 'number' || r.step <= atStep;
    } catch {
      return false; // a line cut short when the studio was killed
    }
  });
  writeFileSync(file, kept.map((l) => l + '\n').join(''));
}
