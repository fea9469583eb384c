// The catalog tables of the datasets services: one migration (see catalog/migrations.ts).
//
// A dataset is an ordered list of items; an item is one MuFun sample: its audio (library tracks,
// each whole or one segment, in the order of the <audio> placeholders), its question/answer turns,
// its split, and what it was labelled with (label, task, template). Fields of an imported sample
// that the studio has no column for are kept verbatim in `extra`, so export gives them back.
// Samples an import could not take (malformed, audio not found) are kept with the reason in
// dataset_rejects, never dropped silently.
/** How a choice template writes its answers: "B. y" (MuCUE's), "y (B)" or "y" (src/synth/questions.ts's McAnswers). */
export const DATASET_TEMPLATE_ANSWERS_MIGRATION = `
  ALTER TABLE dataset_templates ADD COLUMN answers TEXT NOT NULL DEFAULT 'letter-first'
    CHECK (answers IN ('letter-first', 'label-first', 'label-only'));
`;

export const DATASET_MIGRATION = `
  CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    audio_root TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE dataset_templates (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('choice', 'open', 'caption')),
    question TEXT NOT NULL,
    choices TEXT NOT NULL DEFAULT '[]',
    max_options INTEGER,
    shuffle INTEGER NOT NULL DEFAULT 0,
    task TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE dataset_items (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sample_id TEXT,
    audio_form TEXT NOT NULL DEFAULT 'single' CHECK (audio_form IN ('single', 'list')),
    turns TEXT NOT NULL DEFAULT '[]',
    split TEXT NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'eval')),
    label TEXT,
    task TEXT,
    template_id INTEGER REFERENCES dataset_templates(id) ON DELETE SET NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX dataset_items_dataset ON dataset_items(dataset_id, position, id);
  CREATE TABLE dataset_item_audio (
    item_id INTEGER NOT NULL REFERENCES dataset_items(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    track_id INTEGER NOT NULL REFERENCES tracks(id),
    start_sec REAL,
    end_sec REAL,
    PRIMARY KEY (item_id, idx),
    CHECK ((start_sec IS NULL) = (end_sec IS NULL))
  );
  CREATE INDEX dataset_item_audio_track ON dataset_item_audio(track_id);
  CREATE TABLE dataset_rejects (
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    sample_index INTEGER NOT NULL,
    sample_id TEXT,
    message TEXT NOT NULL,
    raw TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX dataset_rejects_dataset ON dataset_rejects(dataset_id, id);

  INSERT INTO dataset_templates (name, kind, question, choices, max_options, shuffle, task, created_at) VALUES
    ('Genre (multiple choice)', 'choice', 'What genre is this music?',
     '["blues","classical","country","disco","hiphop","jazz","metal","pop","reggae","rock"]', 4, 1, 'genre', 0),
    ('Mood (multiple choice)', 'choice', 'What is the mood of this music?',
     '["happy","sad","calm","energetic","tense","romantic"]', 4, 1, 'mood', 0),
    ('Instrument (open question)', 'open', 'Which instrument plays the melody?', '[]', NULL, 0, 'instrument', 0),
    ('Caption', 'caption', 'Describe this music in one sentence.', '[]', NULL, 0, 'caption', 0);
`;
