// The catalog tables of the training services: two migrations (see catalog/migrations.ts).
//
// training_jobs: one row per job, its inputs (source, resolved data paths, base model, settings
// as MuFun's flag names → values), its state and its outcome. queued_at orders the queue (a
// resumed job goes to the back). training_metrics: every logged step and evaluation, so the
// charts come back after a restart; a resumed job's rows past its checkpoint are replaced.
export const TRAINING_MIGRATION = `
  CREATE TABLE training_jobs (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('warmup', 'finetune', 'lora', 'grpo')),
    source TEXT NOT NULL,
    source_label TEXT NOT NULL,
    data_path TEXT NOT NULL,
    eval_data_path TEXT,
    audio_folder TEXT NOT NULL,
    base_model TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    output_dir TEXT NOT NULL,
    resume INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    queued_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER,
    final_model TEXT,
    error TEXT,
    eval TEXT,
    warnings TEXT NOT NULL DEFAULT '[]'
  );
  CREATE INDEX training_jobs_queue ON training_jobs(status, queued_at, id);
  CREATE TABLE training_metrics (
    job_id INTEGER NOT NULL REFERENCES training_jobs(id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('step', 'eval')),
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, type, step)
  );
`;

/**
 * Migration 6: tagging jobs. SQLite cannot change a CHECK constraint, so training_jobs is rebuilt
 * with the new kind; training_metrics is set aside first (dropping the jobs' table would delete
 * the rows that reference it: ON DELETE CASCADE) and rebuilt after, rows and index as they were.
 */
export const TRAINING_TAGGING_MIGRATION = `
  CREATE TABLE training_metrics_kept AS SELECT * FROM training_metrics;
  DROP TABLE training_metrics;
  CREATE TABLE training_jobs_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('warmup', 'finetune', 'lora', 'grpo', 'tagging')),
    source TEXT NOT NULL,
    source_label TEXT NOT NULL,
    data_path TEXT NOT NULL,
    eval_data_path TEXT,
    audio_folder TEXT NOT NULL,
    base_model TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    output_dir TEXT NOT NULL,
    resume INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    queued_at INTEGER,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER,
    final_model TEXT,
    error TEXT,
    eval TEXT,
    warnings TEXT NOT NULL DEFAULT '[]'
  );
  INSERT INTO training_jobs_new SELECT * FROM training_jobs;
  DROP TABLE training_jobs;
  ALTER TABLE training_jobs_new RENAME TO training_jobs;
  CREATE INDEX training_jobs_queue ON training_jobs(status, queued_at, id);
  CREATE TABLE training_metrics (
    job_id INTEGER NOT NULL REFERENCES training_jobs(id) ON DELETE CASCADE,
    type TEXT NOT NULL CHECK (type IN ('step', 'eval')),
    step INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, type, step)
  );
  INSERT INTO training_metrics SELECT * FROM training_metrics_kept;
  DROP TABLE training_metrics_kept;
`;
