// Evaluations in the catalog (schema.ts): created running, answers added as they come (so a
// stopped or interrupted run keeps what it answered, scored), settled once.
import type { Evaluation, EvaluationAnswer, EvaluationScore, EvaluationStatus } from '../../shared/api-models.js';
import type { Db } from '../catalog/db.js';

interface Row {
  id: number;
  model: string;
  model_name: string;
  source_label: string;
  data_path: string;
  audio_folder: string;
  status: EvaluationStatus;
  done: number;
  total: number;
  scores: string | null;
  skipped: string;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

export interface NewEvaluation {
  model: string;
  modelName: string;
  sourceLabel: string;
  dataPath: string;
  audioFolder: string;
}

const COLUMNS = 'id, model, model_name, source_label, data_path, audio_folder, status, done, total, scores, skipped, error, started_at, finished_at';

function toEvaluation(r: Row): Evaluation {
  const scores = r.scores ? (JSON.parse(r.scores) as { tasks: EvaluationScore[]; overall: EvaluationScore | null }) : { tasks: [], overall: null };
  return {
    id: r.id, model: r.model, modelName: r.model_name, sourceLabel: r.source_label, status: r.status,
    done: r.done, total: r.total, tasks: scores.tasks, overall: scores.overall, skipped: JSON.parse(r.skipped),
    error: r.error, startedAt: r.started_at, finishedAt: r.finished_at,
  };
}

export class EvaluationStore {
  constructor(private readonly db: Db) {}

  create(e: NewEvaluation): Evaluation {
    const r = this.db
      .prepare('INSERT INTO evaluations (model, model_name, source_label, data_path, audio_folder, status, started_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.model, e.modelName, e.sourceLabel, e.dataPath, e.audioFolder, 'running', Date.now());
    return this.get(Number(r.lastInsertRowid))!;
  }

  get(id: number): Evaluation | null {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM evaluations WHERE id = ?`).get(id) as Row | undefined;
    return r ? toEvaluation(r) : null;
  }

  list(): Evaluation[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM evaluations ORDER BY id DESC`).all() as Row[]).map(toEvaluation);
  }

  answers(id: number): EvaluationAnswer[] {
    const rows = this.db
      .prepare('SELECT sample_id, task, question, reference, prediction, correct FROM evaluation_answers WHERE evaluation_id = ? ORDER BY seq')
      .all(id) as { sample_id: string; task: string; question: string; reference: string; prediction: string; correct: number }[];
    return rows.map((r) => ({ id: r.sample_id, task: r.task, question: r.question, reference: r.reference, prediction: r.prediction, correct: r.correct === 1 }));
  }

  started(id: number, total: number, skipped: { id: string; message: string }[]): void {
    this.db.prepare('UPDATE evaluations SET total = ?, skipped = ? WHERE id = ?').run(total, JSON.stringify(skipped), id);
  }

  /** One more answer (the done-th), with the scores over all answered so far. */
  answered(id: number, a: EvaluationAnswer, done: number, scores: { tasks: EvaluationScore[]; overall: EvaluationScore }): void {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO evaluation_answers (evaluation_id, seq, sample_id, task, question, reference, prediction, correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(id, done, a.id, a.task, a.question, a.reference, a.prediction, a.correct ? 1 : 0);
      this.db.prepare('UPDATE evaluations SET done = ?, scores = ? WHERE id = ?').run(done, JSON.stringify(scores), id);
    })();
  }

  /** Settles a running evaluation (a settled one stays as it is). */
  finish(id: number, status: Exclude<EvaluationStatus, 'running'>, error: string | null = null): void {
    this.db.prepare("UPDATE evaluations SET status = ?, error = ?, finished_at = ? WHERE id = ? AND status = 'running'").run(status, error, Date.now(), id);
  }

  /** Evaluations left running by a studio that stopped: interrupted (their answers stay). */
  markInterrupted(): void {
    this.db.prepare("UPDATE evaluations SET status = 'interrupted', finished_at = ? WHERE status = 'running'").run(Date.now());
  }

  /** Deletes a settled evaluation with its answers; returns the file it had read, when it was one. */
  delete(id: number): { deleted: boolean; dataPath: string | null } {
    const row = this.db.prepare("SELECT data_path FROM evaluations WHERE id = ? AND status != 'running'").get(id) as { data_path: string } | undefined;
    if (!row) return { deleted: false, dataPath: null };
    this.db.prepare('DELETE FROM evaluations WHERE id = ?').run(id);
    return { deleted: true, dataPath: row.data_path };
  }
}
