// Training jobs and their metrics in the catalog (tables in schema.ts). Plain reads and writes;
// the queue (queue.ts) decides the transitions.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { latestCheckpoint } from '../../model/train/trainer.js';
import type {
  TrainedModel,
  TrainingEvalResult,
  TrainingJob,
  TrainingKind,
  TrainingMetrics,
  TrainingSettings,
  TrainingSource,
  TrainingStatus,
  TrainingStepPoint,
} from '../../shared/api-training.js';
import type { Db } from '../catalog/db.js';

interface JobRow {
  id: number;
  name: string;
  kind: TrainingKind;
  source: string;
  source_label: string;
  data_path: string;
  eval_data_path: string | null;
  audio_folder: string;
  base_model: string;
  settings: string;
  status: TrainingStatus;
  output_dir: string;
  resume: number;
  created_at: number;
  queued_at: number | null;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  step: number;
  total_steps: number | null;
  final_model: string | null;
  error: string | null;
  eval: string | null;
  warnings: string;
}

/** What a job is made of: the job's inputs as the API shows them. */
export type NewJob = Pick<TrainingJob, 'name' | 'kind' | 'source' | 'sourceLabel' | 'dataPath' | 'evalDataPath' | 'audioFolder' | 'baseModel' | 'settings'> & {
  /** Given, or null: the store names one from the job's id (outputRoot/job-<id>-<kind>). */
  outputDir: string | null;
};

/** A job the queue will run: what the worker needs, with whether to continue from a checkpoint. */
export interface RunnableJob extends TrainingJob {
  resume: boolean;
}

const MAX_WARNINGS = 50;

export class JobStore {
  constructor(
    private readonly db: Db,
    private readonly outputRoot: string,
  ) {}

  /** Jobs that were running when the studio stopped (closed or killed) become 'interrupted'. */
  markInterrupted(): number {
    return this.db
      .prepare("UPDATE training_jobs SET status = 'interrupted', updated_at = ? WHERE status = 'running'")
      .run(Date.now()).changes;
  }

  create(j: NewJob): TrainingJob {
    const now = Date.now();
    const id = this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO training_jobs (name, kind, source, source_label, data_path, eval_data_path, audio_folder, base_model, settings,
             status, output_dir, created_at, queued_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
        )
        .run(j.name, j.kind, JSON.stringify(j.source), j.sourceLabel, j.dataPath, j.evalDataPath, j.audioFolder, j.baseModel,
          JSON.stringify(j.settings), j.outputDir ?? '', now, now, now);
      const id = Number(r.lastInsertRowid);
      if (!j.outputDir) this.db.prepare('UPDATE training_jobs SET output_dir = ? WHERE id = ?').run(defaultOutputDir(this.outputRoot, id, j.kind), id);
      return id;
    })();
    return this.get(id)!;
  }

  /** Fills in what a dataset job's export produced (the job row exists first, so its folder can be named). */
  setInputs(id: number, inputs: { dataPath: string; evalDataPath: string | null; audioFolder: string }, label: string): void {
    this.db.prepare('UPDATE training_jobs SET data_path = ?, eval_data_path = ?, audio_folder = ?, source_label = ?, updated_at = ? WHERE id = ?')
      .run(inputs.dataPath, inputs.evalDataPath, inputs.audioFolder, label, Date.now(), id);
  }

  /** Removes a job whose creation failed half-way (nothing of it ran). */
  discard(id: number): void {
    this.db.prepare('DELETE FROM training_jobs WHERE id = ?').run(id);
  }

  get(id: number): TrainingJob | undefined {
    const row = this.db.prepare('SELECT * FROM training_jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && this.toJob(row);
  }

  runnable(id: number): RunnableJob | undefined {
    const row = this.db.prepare('SELECT * FROM training_jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && { ...this.toJob(row), resume: row.resume === 1 };
  }

  list(): TrainingJob[] {
    const rows = this.db.prepare('SELECT * FROM training_jobs ORDER BY id DESC').all() as JobRow[];
    return rows.map((r) => this.toJob(r));
  }

  /** The queue, first to run first. */
  queued(): number[] {
    return (this.db.prepare("SELECT id FROM training_jobs WHERE status = 'queued' ORDER BY queued_at, id").all() as { id: number }[]).map((r) => r.id);
  }

  running(): number[] {
    return (this.db.prepare("SELECT id FROM training_jobs WHERE status = 'running' ORDER BY id").all() as { id: number }[]).map((r) => r.id);
  }

  setStatus(id: number, status: TrainingStatus, extra: { error?: string | null; finalModel?: string | null } = {}): void {
    const now = Date.now();
    const finished = status === 'done' || status === 'failed' || status === 'cancelled' || status === 'interrupted';
    this.db
      .prepare(
        `UPDATE training_jobs SET status = ?, updated_at = ?,
           started_at = CASE WHEN ? = 'running' THEN ? ELSE started_at END,
           finished_at = CASE WHEN ? THEN ? ELSE finished_at END,
           error = CASE WHEN ? THEN ? ELSE error END,
           final_model = CASE WHEN ? THEN ? ELSE final_model END
         WHERE id = ?`,
      )
      .run(status, now, status, now, finished ? 1 : 0, now, extra.error !== undefined ? 1 : 0, extra.error ?? null,
        extra.finalModel !== undefined ? 1 : 0, extra.finalModel ?? null, id);
  }

  /** Back into the queue (at its end), to continue from the last checkpoint. */
  requeue(id: number): void {
    const now = Date.now();
    this.db
      .prepare("UPDATE training_jobs SET status = 'queued', resume = 1, queued_at = ?, finished_at = NULL, error = NULL, updated_at = ? WHERE id = ?")
      .run(now, now, id);
  }

  setProgress(id: number, step: number, totalSteps: number | null): void {
    this.db.prepare('UPDATE training_jobs SET step = ?, total_steps = COALESCE(?, total_steps), updated_at = ? WHERE id = ?')
      .run(step, totalSteps, Date.now(), id);
  }

  addWarnings(id: number, messages: string[]): void {
    if (!messages.length) return;
    const row = this.db.prepare('SELECT warnings FROM training_jobs WHERE id = ?').get(id) as { warnings: string } | undefined;
    if (!row) return;
    const all = [...(JSON.parse(row.warnings) as string[]), ...messages];
    const kept = all.length > MAX_WARNINGS ? [...all.slice(0, MAX_WARNINGS - 1), `… and ${all.length - MAX_WARNINGS + 1} more (see metrics.jsonl)`] : all;
    this.db.prepare('UPDATE training_jobs SET warnings = ? WHERE id = ?').run(JSON.stringify(kept), id);
  }

  addStep(id: number, p: TrainingStepPoint): void {
    this.db.prepare("INSERT OR REPLACE INTO training_metrics (job_id, type, step, data) VALUES (?, 'step', ?, ?)").run(id, p.step, JSON.stringify(p));
  }

  addEval(id: number, e: TrainingEvalResult): void {
    this.db.transaction(() => {
      this.db.prepare("INSERT OR REPLACE INTO training_metrics (job_id, type, step, data) VALUES (?, 'eval', ?, ?)").run(id, e.step, JSON.stringify(e));
      this.db.prepare('UPDATE training_jobs SET eval = ?, updated_at = ? WHERE id = ?').run(JSON.stringify(e), Date.now(), id);
    })();
  }

  /** Forgets metrics past a step (a resumed job redoes them from its checkpoint). */
  truncateMetrics(id: number, afterStep: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM training_metrics WHERE job_id = ? AND step > ?').run(id, afterStep);
      const last = this.db.prepare("SELECT data FROM training_metrics WHERE job_id = ? AND type = 'eval' ORDER BY step DESC LIMIT 1").get(id) as { data: string } | undefined;
      this.db.prepare('UPDATE training_jobs SET step = ?, eval = ?, updated_at = ? WHERE id = ?').run(afterStep, last?.data ?? null, Date.now(), id);
    })();
  }

  metrics(id: number): TrainingMetrics {
    const rows = this.db.prepare('SELECT type, data FROM training_metrics WHERE job_id = ? ORDER BY step').all(id) as { type: 'step' | 'eval'; data: string }[];
    return {
      jobId: id,
      steps: rows.filter((r) => r.type === 'step').map((r) => JSON.parse(r.data) as TrainingStepPoint),
      evals: rows.filter((r) => r.type === 'eval').map((r) => JSON.parse(r.data) as TrainingEvalResult),
    };
  }

  trainedModels(): TrainedModel[] {
    const rows = this.db
      .prepare("SELECT * FROM training_jobs WHERE status = 'done' AND final_model IS NOT NULL ORDER BY finished_at DESC, id DESC")
      .all() as JobRow[];
    return rows.map((r) => ({
      jobId: r.id, name: r.name, kind: r.kind, dir: r.final_model!, baseModel: r.base_model, finishedAt: r.finished_at,
      eval: r.eval ? (JSON.parse(r.eval) as TrainingEvalResult) : null, present: existsSync(r.final_model!),
    }));
  }

  private toJob(r: JobRow): TrainingJob {
    const queue = r.status === 'queued' ? this.queued() : [];
    return {
      id: r.id, name: r.name, kind: r.kind, status: r.status, source: JSON.parse(r.source) as TrainingSource, sourceLabel: r.source_label,
      dataPath: r.data_path, evalDataPath: r.eval_data_path, audioFolder: r.audio_folder, baseModel: r.base_model,
      settings: JSON.parse(r.settings) as TrainingSettings, outputDir: r.output_dir, createdAt: r.created_at, startedAt: r.started_at,
      finishedAt: r.finished_at, step: r.step, totalSteps: r.total_steps, finalModel: r.final_model, error: r.error,
      eval: r.eval ? (JSON.parse(r.eval) as TrainingEvalResult) : null, warnings: JSON.parse(r.warnings) as string[],
      checkpoint: r.status === 'done' ? null : safeLatest(r.output_dir),
      queuePosition: r.status === 'queued' ? queue.indexOf(r.id) + 1 || null : null,
    };
  }
}

export function defaultOutputDir(root: string, id: number, kind: TrainingKind): string {
  return join(root, `job-${id}-${kind}`);
}

function safeLatest(dir: string): { dir: string; step: number } | null {
  try {
    return dir ? latestCheckpoint(dir) : null;
  } catch {
    return null;
  }
}
