// Datasets, their items and the task templates in the catalog: rows in, typed objects out.
// Every item comes out with its problems (validate.ts), so a page and an export see the same.
import type {
  AudioRefArgs,
  Dataset,
  DatasetItem,
  DatasetReject,
  DatasetTemplate,
  DatasetTurn,
  ImportProblem,
  Split,
  McAnswerForm,
  TemplateArgs,
  TemplateKind,
} from '../../shared/api-datasets.js';
import type { Db } from '../catalog/db.js';
import { type AudioFacts, itemProblems } from './validate.js';

/** A problem the caller caused (unknown row, a name taken): the service answers with its code. */
export class DatasetStoreError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid-args',
    message: string,
  ) {
    super(message);
  }
}

interface DatasetRow {
  id: number;
  name: string;
  description: string;
  audio_root: string | null;
  created_at: number;
  updated_at: number;
}

interface ItemRow {
  id: number;
  dataset_id: number;
  position: number;
  sample_id: string | null;
  audio_form: 'single' | 'list';
  turns: string;
  split: Split;
  label: string | null;
  task: string | null;
  template_id: number | null;
  extra: string;
  updated_at: number;
}

interface AudioRow {
  item_id: number;
  idx: number;
  track_id: number;
  start_sec: number | null;
  end_sec: number | null;
  title: string;
  path: string;
  duration_sec: number | null;
  missing: number;
  error: string | null;
}

interface TemplateRow {
  id: number;
  name: string;
  kind: TemplateKind;
  question: string;
  choices: string;
  max_options: number | null;
  shuffle: number;
  task: string | null;
  answers: McAnswerForm;
}

/** An item as stored, with its audio as the catalog knows it (what export and validation need). */
export interface StoredItem extends DatasetItem {
  audioForm: 'single' | 'list';
  audioFacts: AudioFacts[];
}

/** What a new item holds; audio by track id, in placeholder order. */
export interface NewItem {
  sampleId?: string | null;
  audioForm?: 'single' | 'list';
  audios: AudioRefArgs[];
  turns?: DatasetTurn[];
  split?: Split;
  label?: string | null;
  task?: string | null;
  templateId?: number | null;
  extra?: Record<string, unknown>;
}

export type ItemPatch = Partial<Omit<NewItem, 'audioForm'>>;

const toTemplate = (r: TemplateRow): DatasetTemplate => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  question: r.question,
  choices: JSON.parse(r.choices) as string[],
  maxOptions: r.max_options,
  shuffle: r.shuffle !== 0,
  task: r.task,
  answers: r.answers,
});

export class DatasetStore {
  constructor(private readonly db: Db) {}

  // ── Datasets ────────────────────────────────────────────────────────────

  list(): Dataset[] {
    const rows = this.db.prepare('SELECT * FROM datasets ORDER BY name COLLATE NOCASE, id').all() as DatasetRow[];
    return rows.map((r) => this.toDataset(r));
  }

  get(id: number): Dataset | undefined {
    const r = this.db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
    return r && this.toDataset(r);
  }

  /** The dataset, or a not-found error naming it. */
  require(id: number): Dataset {
    const d = this.get(id);
    if (!d) throw new DatasetStoreError('not-found', `no dataset ${id}`);
    return d;
  }

  /** The dataset with this id (digits) or name. */
  find(idOrName: string): Dataset | undefined {
    if (/^\d+$/.test(idOrName)) {
      const byId = this.get(Number(idOrName));
      if (byId) return byId;
    }
    const r = this.db.prepare('SELECT * FROM datasets WHERE name = ?').get(idOrName) as DatasetRow | undefined;
    return r && this.toDataset(r);
  }

  nameTaken(name: string): boolean {
    return this.db.prepare('SELECT 1 FROM datasets WHERE name = ?').get(name.trim()) !== undefined;
  }

  create(name: string, description = '', audioRoot: string | null = null): Dataset {
    const clean = name.trim();
    if (!clean) throw new DatasetStoreError('invalid-args', 'give the dataset a name');
    if (this.nameTaken(clean)) {
      throw new DatasetStoreError('invalid-args', `a dataset named "${clean}" already exists`);
    }
    const now = Date.now();
    const r = this.db
      .prepare('INSERT INTO datasets (name, description, audio_root, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
      .run(clean, description, audioRoot, now, now);
    return this.require(Number(r.lastInsertRowid));
  }

  update(id: number, patch: { name?: string; description?: string; audioRoot?: string | null }): Dataset {
    const d = this.require(id);
    const name = patch.name?.trim() ?? d.name;
    if (!name) throw new DatasetStoreError('invalid-args', 'give the dataset a name');
    if (name !== d.name && this.db.prepare('SELECT 1 FROM datasets WHERE name = ? AND id != ?').get(name, id)) {
      throw new DatasetStoreError('invalid-args', `a dataset named "${name}" already exists`);
    }
    this.db
      .prepare('UPDATE datasets SET name = ?, description = ?, audio_root = ?, updated_at = ? WHERE id = ?')
      .run(name, patch.description ?? d.description, patch.audioRoot === undefined ? d.audioRoot : patch.audioRoot, Date.now(), id);
    return this.require(id);
  }

  delete(id: number): boolean {
    return this.db.prepare('DELETE FROM datasets WHERE id = ?').run(id).changes > 0;
  }

  private touch(datasetId: number): void {
    this.db.prepare('UPDATE datasets SET updated_at = ? WHERE id = ?').run(Date.now(), datasetId);
  }

  private toDataset(r: DatasetRow): Dataset {
    const items = this.items(r.id);
    const rejects = (this.db.prepare('SELECT COUNT(*) AS n FROM dataset_rejects WHERE dataset_id = ?').get(r.id) as { n: number }).n;
    return {
      id: r.id,
      name: r.name,
      description: r.description,
      audioRoot: r.audio_root,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      counts: {
        items: items.length,
        train: items.filter((i) => i.split === 'train').length,
        eval: items.filter((i) => i.split === 'eval').length,
        invalid: items.filter((i) => i.problems.length > 0).length,
        unlabeled: items.filter((i) => i.turns.length === 0).length,
      },
      rejects,
    };
  }

  // ── Items ───────────────────────────────────────────────────────────────

  items(datasetId: number, split?: Split): StoredItem[] {
    const rows = this.db
      .prepare(`SELECT * FROM dataset_items WHERE dataset_id = ? ${split ? 'AND split = ?' : ''} ORDER BY position, id`)
      .all(...(split ? [datasetId, split] : [datasetId])) as ItemRow[];
    const audio = this.db
      .prepare(
        `SELECT a.*, t.title, t.path, t.duration_sec, t.missing, t.error
         FROM dataset_item_audio a JOIN dataset_items i ON i.id = a.item_id JOIN tracks t ON t.id = a.track_id
         WHERE i.dataset_id = ? ORDER BY a.item_id, a.idx`,
      )
      .all(datasetId) as AudioRow[];
    return this.assemble(rows, audio);
  }

  item(id: number): StoredItem | undefined {
    const row = this.db.prepare('SELECT * FROM dataset_items WHERE id = ?').get(id) as ItemRow | undefined;
    if (!row) return undefined;
    const audio = this.db
      .prepare(
        `SELECT a.*, t.title, t.path, t.duration_sec, t.missing, t.error
         FROM dataset_item_audio a JOIN tracks t ON t.id = a.track_id WHERE a.item_id = ? ORDER BY a.idx`,
      )
      .all(id) as AudioRow[];
    return this.assemble([row], audio)[0];
  }

  requireItem(id: number): StoredItem {
    const it = this.item(id);
    if (!it) throw new DatasetStoreError('not-found', `no dataset item ${id}`);
    return it;
  }

  private assemble(rows: ItemRow[], audio: AudioRow[]): StoredItem[] {
    const byItem = new Map<number, AudioRow[]>();
    for (const a of audio) {
      let list = byItem.get(a.item_id);
      if (!list) byItem.set(a.item_id, (list = []));
      list.push(a);
    }
    return rows.map((r) => {
      const as = byItem.get(r.id) ?? [];
      const turns = JSON.parse(r.turns) as DatasetTurn[];
      const audioFacts: AudioFacts[] = as.map((a) => ({
        title: a.title, path: a.path, durationSec: a.duration_sec, missing: a.missing !== 0, error: a.error, start: a.start_sec, end: a.end_sec,
      }));
      return {
        id: r.id,
        datasetId: r.dataset_id,
        position: r.position,
        sampleId: r.sample_id,
        audios: as.map((a) => ({ trackId: a.track_id, title: a.title, path: a.path, durationSec: a.duration_sec, start: a.start_sec, end: a.end_sec })),
        turns,
        split: r.split,
        label: r.label,
        task: r.task,
        templateId: r.template_id,
        extra: JSON.parse(r.extra) as Record<string, unknown>,
        problems: itemProblems(turns, audioFacts),
        updatedAt: r.updated_at,
        audioForm: r.audio_form,
        audioFacts,
      };
    });
  }

  private checkTracks(audios: AudioRefArgs[]): void {
    const get = this.db.prepare('SELECT id FROM tracks WHERE id = ?');
    for (const a of audios) {
      if (!get.get(a.trackId)) throw new DatasetStoreError('not-found', `no track ${a.trackId} in the library`);
    }
  }

  private writeAudio(itemId: number, audios: AudioRefArgs[]): void {
    this.db.prepare('DELETE FROM dataset_item_audio WHERE item_id = ?').run(itemId);
    const ins = this.db.prepare('INSERT INTO dataset_item_audio (item_id, idx, track_id, start_sec, end_sec) VALUES (?, ?, ?, ?, ?)');
    audios.forEach((a, i) => ins.run(itemId, i, a.trackId, a.start ?? null, a.end ?? null));
  }

  /** Appends items to a dataset, in one transaction; returns their ids. */
  addItems(datasetId: number, items: NewItem[]): number[] {
    this.require(datasetId);
    for (const it of items) this.checkTracks(it.audios);
    return this.db.transaction(() => {
      const last = this.db.prepare('SELECT MAX(position) AS p FROM dataset_items WHERE dataset_id = ?').get(datasetId) as { p: number | null };
      let position = (last.p ?? -1) + 1;
      const now = Date.now();
      const ins = this.db.prepare(
        `INSERT INTO dataset_items (dataset_id, position, sample_id, audio_form, turns, split, label, task, template_id, extra, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const ids: number[] = [];
      for (const it of items) {
        const r = ins.run(
          datasetId, position++, it.sampleId ?? null, it.audioForm ?? (it.audios.length > 1 ? 'list' : 'single'),
          JSON.stringify(it.turns ?? []), it.split ?? 'train', it.label ?? null, it.task ?? null, it.templateId ?? null,
          JSON.stringify(it.extra ?? {}), now, now,
        );
        const id = Number(r.lastInsertRowid);
        this.writeAudio(id, it.audios);
        ids.push(id);
      }
      this.touch(datasetId);
      return ids;
    })();
  }

  addItem(datasetId: number, item: NewItem): StoredItem {
    return this.requireItem(this.addItems(datasetId, [item])[0]);
  }

  updateItem(id: number, patch: ItemPatch): StoredItem {
    const before = this.requireItem(id);
    if (patch.audios) this.checkTracks(patch.audios);
    this.db.transaction(() => {
      const extra = { ...before.extra };
      // A numeric id kept from the imported file gives way to an id the user sets.
      if (patch.sampleId !== undefined) delete extra.id;
      this.db
        .prepare(
          `UPDATE dataset_items SET sample_id = ?, audio_form = ?, turns = ?, split = ?, label = ?, task = ?, template_id = ?, extra = ?, updated_at = ?
           WHERE id = ?`,
        )
        .run(
          patch.sampleId === undefined ? before.sampleId : patch.sampleId,
          patch.audios ? (patch.audios.length > 1 ? 'list' : before.audioForm) : before.audioForm,
          JSON.stringify(patch.turns ?? before.turns),
          patch.split ?? before.split,
          patch.label === undefined ? before.label : patch.label,
          patch.task === undefined ? before.task : patch.task,
          patch.templateId === undefined ? before.templateId : patch.templateId,
          JSON.stringify(patch.extra ?? extra),
          Date.now(),
          id,
        );
      if (patch.audios) this.writeAudio(id, patch.audios);
      this.touch(before.datasetId);
    })();
    return this.requireItem(id);
  }

  deleteItem(id: number): { deleted: boolean; datasetId: number | null } {
    const it = this.item(id);
    if (!it) return { deleted: false, datasetId: null };
    this.db.prepare('DELETE FROM dataset_items WHERE id = ?').run(id);
    this.touch(it.datasetId);
    return { deleted: true, datasetId: it.datasetId };
  }

  setSplit(ids: number[], split: Split): StoredItem[] {
    const items = ids.map((id) => this.requireItem(id));
    this.db.transaction(() => {
      const upd = this.db.prepare('UPDATE dataset_items SET split = ?, updated_at = ? WHERE id = ?');
      for (const id of ids) upd.run(split, Date.now(), id);
      for (const d of new Set(items.map((i) => i.datasetId))) this.touch(d);
    })();
    return ids.map((id) => this.requireItem(id));
  }

  // ── Rejected samples of imports ─────────────────────────────────────────

  addRejects(datasetId: number, source: string, rejects: (ImportProblem & { raw: string })[]): void {
    const ins = this.db.prepare(
      'INSERT INTO dataset_rejects (dataset_id, source, sample_index, sample_id, message, raw, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of rejects) ins.run(datasetId, source, r.index, r.sampleId, r.message, r.raw, now);
    })();
  }

  rejects(datasetId: number): DatasetReject[] {
    const rows = this.db.prepare('SELECT * FROM dataset_rejects WHERE dataset_id = ? ORDER BY id').all(datasetId) as {
      id: number; source: string; sample_index: number; sample_id: string | null; message: string; raw: string;
    }[];
    return rows.map((r) => ({ id: r.id, source: r.source, index: r.sample_index, sampleId: r.sample_id, message: r.message, raw: r.raw }));
  }

  clearRejects(datasetId: number): number {
    return this.db.prepare('DELETE FROM dataset_rejects WHERE dataset_id = ?').run(datasetId).changes;
  }

  // ── Templates ───────────────────────────────────────────────────────────

  templates(): DatasetTemplate[] {
    return (this.db.prepare('SELECT * FROM dataset_templates ORDER BY id').all() as TemplateRow[]).map(toTemplate);
  }

  template(id: number): DatasetTemplate | undefined {
    const r = this.db.prepare('SELECT * FROM dataset_templates WHERE id = ?').get(id) as TemplateRow | undefined;
    return r && toTemplate(r);
  }

  requireTemplate(id: number): DatasetTemplate {
    const t = this.template(id);
    if (!t) throw new DatasetStoreError('not-found', `no task template ${id}`);
    return t;
  }

  saveTemplate(t: TemplateArgs): DatasetTemplate {
    const name = t.name.trim();
    const taken = this.db.prepare('SELECT id FROM dataset_templates WHERE name = ?').get(name) as { id: number } | undefined;
    if (taken && taken.id !== t.id) throw new DatasetStoreError('invalid-args', `a template named "${name}" already exists`);
    const choices = JSON.stringify(t.kind === 'choice' ? t.choices.map((c) => c.trim()) : []);
    const values = [
      name, t.kind, t.question.trim(), choices, t.kind === 'choice' ? (t.maxOptions ?? null) : null, t.shuffle ? 1 : 0, t.task?.trim() || null,
      t.kind === 'choice' ? (t.answers ?? 'letter-first') : 'letter-first',
    ];
    if (t.id !== undefined) {
      this.requireTemplate(t.id);
      this.db
        .prepare('UPDATE dataset_templates SET name = ?, kind = ?, question = ?, choices = ?, max_options = ?, shuffle = ?, task = ?, answers = ? WHERE id = ?')
        .run(...values, t.id);
      return this.requireTemplate(t.id);
    }
    const r = this.db
      .prepare('INSERT INTO dataset_templates (name, kind, question, choices, max_options, shuffle, task, answers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(...values, Date.now());
    return this.requireTemplate(Number(r.lastInsertRowid));
  }

  /** Deletes a template; items labelled with it keep their turns and label. */
  deleteTemplate(id: number): boolean {
    return this.db.prepare('DELETE FROM dataset_templates WHERE id = ?').run(id).changes > 0;
  }
}
