// The catalog's schema moves forward without losing anything: a catalog written by the previous
// version (schema 5) opens in this one with its training jobs and their curves as they were.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openCatalog } from '../src/main/catalog/db.js';
import { MIGRATIONS } from '../src/main/catalog/migrations.js';

const JOB = {
  name: 'LoRA of nano', kind: 'lora', source: '{"type":"file","dataPath":"/d/train.json"}', source_label: 'train.json', data_path: '/d/train.json',
  audio_folder: '/d', base_model: '/m', settings: '{"lora_r":8}', status: 'done', output_dir: '/out/1', created_at: 1, updated_at: 2, step: 2, total_steps: 2,
};

describe('catalog migrations', () => {
  it('6 (tagging jobs): a schema-5 catalog keeps its jobs and metrics, and takes tagging jobs', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'mufun-migrate-')), 'catalog.sqlite');
    const old = new Database(file);
    old.pragma('foreign_keys = ON');
    for (const m of MIGRATIONS.slice(0, 5)) old.exec(m);
    old.pragma('user_version = 5');
    const cols = Object.keys(JOB);
    const insert = old.prepare(`INSERT INTO training_jobs (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
    const id = Number(insert.run(JOB).lastInsertRowid);
    old.prepare('INSERT INTO training_metrics (job_id, type, step, data) VALUES (?, ?, ?, ?)').run(id, 'step', 1, '{"loss":2.5}');
    old.prepare('INSERT INTO training_metrics (job_id, type, step, data) VALUES (?, ?, ?, ?)').run(id, 'eval', 2, '{"evalLoss":2.1}');
    expect(() => insert.run({ ...JOB, kind: 'tagging' })).toThrow(/CHECK constraint failed/);
    old.close();

    const db = openCatalog(file);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT name, kind, status, step FROM training_jobs').all()).toEqual([{ name: 'LoRA of nano', kind: 'lora', status: 'done', step: 2 }]);
    expect(db.prepare('SELECT job_id, type, step, data FROM training_metrics ORDER BY type').all()).toEqual([
      { job_id: id, type: 'eval', step: 2, data: '{"evalLoss":2.1}' },
      { job_id: id, type: 'step', step: 1, data: '{"loss":2.5}' },
    ]);
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'training_%' ORDER BY name").all().map((r) => (r as { name: string }).name))
      .toEqual(['training_jobs', 'training_jobs_queue', 'training_metrics']);
    const tagging = db.prepare(`INSERT INTO training_jobs (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`).run({ ...JOB, kind: 'tagging' });
    expect(Number(tagging.lastInsertRowid)).toBe(id + 1);
    // the curve still goes with its job
    db.prepare('DELETE FROM training_jobs WHERE id = ?').run(id);
    expect(db.prepare('SELECT COUNT(*) AS n FROM training_metrics').get()).toEqual({ n: 0 });
    db.close();
  });
});
