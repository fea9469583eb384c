// Import: a MuFun JSON file + the audio root its paths are relative to → dataset items.
// The whole file must be a JSON array (else nothing changes and the error says where it broke).
// A sample that cannot be taken (not a sample, its audio not found) is reported with its index,
// id and reason, and kept verbatim in dataset_rejects; every other sample becomes an item, its
// audio a library track (added to the library when it is in none). Samples that break MuFun's
// turn rules are imported with their problems shown, to be fixed in the studio.
import { readFileSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { ImportProblem, ImportResult, Split } from '../../shared/api-datasets.js';
import type { Db } from '../catalog/db.js';
import type { LibraryStore } from '../catalog/library.js';
import { parseSample } from './sample.js';
import { DatasetStore, DatasetStoreError, type NewItem } from './store.js';
import { TrackResolver } from './tracks.js';

export interface ImportOptions {
  /** The MuFun JSON file. */
  path: string;
  /** The folder its audio paths are relative to (`--audio-folder` of MuFun's trainer). */
  audioRoot: string;
  /** A new dataset's name … */
  name?: string;
  /** … or the dataset to append to. */
  datasetId?: number;
  /** The split of the imported items (default train). */
  split?: Split;
}

export async function importMufunDataset(db: Db, library: LibraryStore, o: ImportOptions): Promise<ImportResult> {
  const store = new DatasetStore(db);
  if ((o.name === undefined) === (o.datasetId === undefined)) {
    throw new DatasetStoreError('invalid-args', 'give either a name for a new dataset or the dataset to add to');
  }
  if (o.name !== undefined && store.nameTaken(o.name)) {
    throw new DatasetStoreError('invalid-args', `a dataset named "${o.name.trim()}" already exists`);
  }
  if (o.datasetId !== undefined) store.require(o.datasetId);

  let root: string;
  try {
    root = await realpath(o.audioRoot);
  } catch {
    throw new DatasetStoreError('not-found', `the audio root ${o.audioRoot} does not exist`);
  }
  if (!(await stat(root)).isDirectory()) throw new DatasetStoreError('invalid-args', `the audio root ${o.audioRoot} is a file, not a folder`);

  let text: string;
  try {
    text = readFileSync(o.path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DatasetStoreError('not-found', code === 'ENOENT' ? `no file at ${o.path}` : `cannot read ${o.path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new DatasetStoreError('invalid-args', `${o.path} is not valid JSON (${(e as Error).message}); nothing was imported`);
  }
  if (!Array.isArray(data)) {
    throw new DatasetStoreError('invalid-args', `${o.path} must be a JSON array of samples (MuFun's format); nothing was imported`);
  }

  const tracks = new TrackResolver(db, library, root);
  const items: NewItem[] = [];
  const problems: (ImportProblem & { raw: string })[] = [];
  for (const [index, raw] of data.entries()) {
    const rawId = (raw as { id?: unknown } | null)?.id;
    const sampleId = typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId) : null;
    const reject = (message: string) => problems.push({ index, sampleId, message, raw: JSON.stringify(raw) });
    const s = parseSample(raw);
    if (typeof s === 'string') {
      reject(s);
      continue;
    }
    const audios: NewItem['audios'] = [];
    let bad: string | null = null;
    for (const [i, p] of s.audioPaths.entries()) {
      const file = isAbsolute(p) ? p : join(root, p);
      const st = await stat(file).catch(() => null);
      if (!st?.isFile()) {
        bad = `audio file ${p} not found under ${root}`;
        break;
      }
      const seg = s.segs[i];
      audios.push({ trackId: await tracks.trackFor(file), start: seg?.[0] ?? null, end: seg?.[1] ?? null });
    }
    if (bad) {
      reject(bad);
      continue;
    }
    items.push({
      sampleId: s.sampleId, audioForm: s.audioForm, audios, turns: s.turns, split: o.split ?? 'train',
      label: s.label, task: s.task, extra: s.extra,
    });
  }

  const datasetId = db.transaction(() => {
    const id = o.datasetId ?? store.create(o.name!, '', root).id;
    if (o.datasetId !== undefined && store.require(id).audioRoot === null) store.update(id, { audioRoot: root });
    store.addItems(id, items);
    if (problems.length) store.addRejects(id, o.path, problems);
    return id;
  })();
  return {
    dataset: store.require(datasetId),
    imported: items.length,
    problems: problems.map(({ raw: _raw, ...p }) => p),
    foldersAdded: tracks.foldersAdded,
    tracksAdded: tracks.tracksAdded,
  };
}
