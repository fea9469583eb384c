// The catalog table of evaluations: one migration (see catalog/migrations.ts).
//
// evaluations: one row per run of `mufun eval`'s scoring on a dataset: the model, where the
// samples came from (data_path: the file read; a studio dataset is exported first), progress,
// the per-task scores so far (scores: JSON {tasks, overall}) and the samples left out (skipped).
// evaluation_answers: every answer, in sample order (seq), written as it comes.
export const EVALUATION_MIGRATION = `
  CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    model TEXT NOT NULL,
    model_name TEXT NOT NULL,
    source_label TEXT NOT NULL,
    data_path TEXT NOT NULL,
    audio_folder TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled', 'interrupted')),
    done INTEGER NOT NULL DEFAULT 0,
    total INTEGER NOT NULL DEFAULT 0,
    scores TEXT,
    skipped TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
  );
  CREATE TABLE evaluation_answers (
    evaluation_id INTEGER NOT NULL REFERENCES evaluations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    sample_id TEXT NOT NULL,
    task TEXT NOT NULL,
    question TEXT NOT NULL,
    reference TEXT NOT NULL,
    prediction TEXT NOT NULL,
    correct INTEGER NOT NULL,
    PRIMARY KEY (evaluation_id, seq)
  );
`;
