// Export: a dataset → outDir/train.json (+ eval.json) in MuFun's JSON format, audio paths
// relative to one audio folder, segments as `time`, so
//   mufun train --data <train> --audio-folder <audioFolder>
// (or MuFun's own train.py) trains on it. Refuses, naming the items, rather than write samples
// the loader would reject; files are written whole (a temporary file renamed into place).
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';
import type { Split } from '../../shared/api-datasets.js';
import type { Db } from '../catalog/db.js';
import { isInside } from '../library/paths.js';
import { toSample } from './sample.js';
import { DatasetStore, type StoredItem } from './store.js';

/** The deepest folder holding every file. */
export function commonFolder(files: string[]): string {
  let parts = dirname(files[0]).split(sep);
  for (const f of files.slice(1)) {
    const p = dirname(f).split(sep);
    let i = 0;
    while (i < parts.length && i < p.length && parts[i] === p[i]) i++;
    parts = parts.slice(0, i);
  }
  const joined = parts.join(sep);
  return joined === '' ? parse(files[0]).root : joined;
}

/** "item 3 (blues-001): …" lines for the first few problem items. */
function describeProblems(items: StoredItem[], problemsOf: (i: StoredItem) => string[]): string {
  const lines = items.slice(0, 20).map((i) => `  item ${i.id}${i.sampleId ? ` (${i.sampleId})` : ''}: ${problemsOf(i).join('; ')}`);
  return lines.join('\n') + (items.length > 20 ? `\n  … and ${items.length - 20} more` : '');
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
}

/** The dataset's items (of one split, or all), checked as the loader would check them, their audio folder, and how they become samples. */
function exportable(db: Db, datasetId: number, outDir: string, split?: Split) {
  const store = new DatasetStore(db);
  const dataset = store.get(datasetId);
  if (!dataset) throw new Error(`no dataset ${datasetId}`);
  const items = store.items(datasetId, split);
  if (!items.length) throw new Error(`dataset "${dataset.name}" has no ${split ? `${split} ` : ''}items to export`);

  const invalid = items.filter((i) => i.problems.length);
  if (invalid.length) {
    throw new Error(
      `dataset "${dataset.name}" has ${invalid.length} invalid item${invalid.length > 1 ? 's' : ''}; fix them before exporting:\n` +
        describeProblems(invalid, (i) => i.problems),
    );
  }
  const gone = items.filter((i) => i.audios.some((a) => !existsSync(a.path)));
  if (gone.length) {
    throw new Error(
      `dataset "${dataset.name}": the audio of ${gone.length} item${gone.length > 1 ? 's is' : ' is'} missing on disk:\n` +
        describeProblems(gone, (i) => i.audios.filter((a) => !existsSync(a.path)).map((a) => `${a.path} not found`)),
    );
  }
  const files = items.flatMap((i) => i.audios.map((a) => a.path));
  const root = dataset.audioRoot;
  const audioFolder = files.length === 0 ? (root ?? resolve(outDir)) : root && files.every((f) => isInside(f, root)) ? root : commonFolder(files);
  const slug = dataset.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'dataset';
  const samples = (list: StoredItem[]) => list.map((i) => toSample(i, audioFolder, `${slug}-${i.id}`));
  return { dataset, items, audioFolder, samples };
}

export function writeMufunDataset(
  db: Db,
  datasetId: number,
  outDir: string,
): { train: string; eval: string | null; audioFolder: string; counts: { train: number; eval: number } } {
  const { dataset, items, audioFolder, samples } = exportable(db, datasetId, outDir);
  const train = items.filter((i) => i.split === 'train');
  const evalItems = items.filter((i) => i.split === 'eval');
  if (!train.length) throw new Error(`dataset "${dataset.name}" has no train items (all ${items.length} are eval); move some to train`);

  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const trainFile = join(dir, 'train.json');
  writeJson(trainFile, samples(train));
  let evalFile: string | null = null;
  if (evalItems.length) {
    evalFile = join(dir, 'eval.json');
    writeJson(evalFile, samples(evalItems));
  }
  return { train: trainFile, eval: evalFile, audioFolder, counts: { train: train.length, eval: evalItems.length } };
}

/** One split alone: outDir/<split>.json (what `mufun eval --data` reads), checked as writeMufunDataset checks. */
export function writeMufunSplit(db: Db, datasetId: number, split: Split, outDir: string): { file: string; audioFolder: string; count: number } {
  const { items, audioFolder, samples } = exportable(db, datasetId, outDir, split);
  const dir = resolve(outDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${split}.json`);
  writeJson(file, samples(items));
  return { file, audioFolder, count: items.length };
}
