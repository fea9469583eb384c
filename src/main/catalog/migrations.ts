// The catalog's schema, as numbered migrations: each runs once, in order, in one transaction,
// and PRAGMA user_version records the last one applied. Never edit a shipped migration; add one.
import { DATASET_MIGRATION, DATASET_TEMPLATE_ANSWERS_MIGRATION } from '../datasets/schema.js';
import { EVALUATION_MIGRATION } from '../evals/schema.js';
import { TRAINING_MIGRATION, TRAINING_TAGGING_MIGRATION } from '../training/schema.js';

export const MIGRATIONS: readonly string[] = [
  // 1: library, peaks, conversations, settings
  `
  CREATE TABLE folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at INTEGER NOT NULL,
    last_scan_at INTEGER
  );
  CREATE TABLE tracks (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id),
    path TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    artist TEXT,
    album TEXT,
    duration_sec REAL,
    sample_rate INTEGER,
    channels INTEGER,
    codec TEXT,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    missing INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX tracks_folder ON tracks(folder_id);
  CREATE INDEX tracks_title ON tracks(title COLLATE NOCASE);
  CREATE INDEX tracks_artist ON tracks(artist COLLATE NOCASE);
  CREATE INDEX tracks_album ON tracks(album COLLATE NOCASE);
  CREATE INDEX tracks_duration ON tracks(duration_sec);
  CREATE TABLE peaks (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    samples_per_peak INTEGER NOT NULL,
    sample_rate INTEGER NOT NULL,
    length INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    min BLOB NOT NULL,
    max BLOB NOT NULL,
    PRIMARY KEY (track_id, samples_per_peak)
  );
  CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    model TEXT,
    stop_reason TEXT,
    stats TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX messages_conversation ON messages(conversation_id, id);
  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: datasets (labelled passages) — see datasets/schema.ts
  DATASET_MIGRATION,
  // 3: training jobs — see training/schema.ts
  TRAINING_MIGRATION,
  // 4: log-mel spectrograms for the player — see catalog/spectrograms.ts
  `
  CREATE TABLE spectrograms (
    track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    mel_bins INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    frames_per_column INTEGER NOT NULL,
    columns INTEGER NOT NULL,
    duration_sec REAL NOT NULL,
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (track_id, mel_bins)
  );
  `,
  // 5: evaluations (per-task accuracy of a model on a dataset) — see evals/schema.ts
  EVALUATION_MIGRATION,
  // 6: tagging jobs (a training kind) — see training/schema.ts
  TRAINING_TAGGING_MIGRATION,
  // 7: how a choice template writes its answers — see datasets/schema.ts
  DATASET_TEMPLATE_ANSWERS_MIGRATION,
];
