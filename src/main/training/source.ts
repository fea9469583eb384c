// A job's training data: a MuFun JSON file (+ audio folder) checked before the job is saved, so a
// missing file, broken JSON or a bad sample is said at once, by sample id, and nothing is queued.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { DatasetError, loadDataset } from '../../model/train/data.js';
import { TrainError } from '../../model/train/trainer.js';
import { synthTagSet } from '../../synth/tags.js';
import { ServiceError } from '../../shared/api.js';
import type { SyntheticSet, TrainingSource } from '../../shared/api-training.js';

export interface ResolvedSource {
  dataPath: string;
  evalDataPath: string | null;
  audioFolder: string;
  label: string;
}

export function absoluteFile(path: string, what: string): string {
  if (!isAbsolute(path)) throw new ServiceError('invalid-args', `give the ${what}'s full path (${path} is relative)`);
  if (!existsSync(path)) throw new ServiceError('not-found', `no ${what} at ${path}`);
  if (!statSync(path).isFile()) throw new ServiceError('invalid-args', `${path} is a folder; the ${what} is a MuFun JSON file`);
  return path;
}

/** Loads a MuFun JSON file as the runner will: every sample's turns and audio are checked. */
export function checkDataFile(path: string, audioFolder: string, onBadSample: 'skip' | 'fail', what: string): number {
  try {
    const { samples } = loadDataset(path, { audioRoot: audioFolder, onBadSample });
    if (!samples.length) throw new ServiceError('invalid-args', `the ${what} ${path} has no usable samples`);
    return samples.length;
  } catch (e) {
    if (e instanceof DatasetError) throw new ServiceError('invalid-args', `the ${what} cannot be used: ${e.message}`);
    throw e;
  }
}

/** A file source, checked. `onBadSample` is the job's bad_samples setting. */
export function resolveFileSource(s: Extract<TrainingSource, { type: 'file' }>, onBadSample: 'skip' | 'fail'): ResolvedSource {
  const dataPath = absoluteFile(s.dataPath, 'training set');
  const evalDataPath = s.evalDataPath ? absoluteFile(s.evalDataPath, 'eval set') : null;
  const audioFolder = s.audioFolder ?? dirname(dataPath);
  if (!isAbsolute(audioFolder)) throw new ServiceError('invalid-args', `give the audio folder's full path (${audioFolder} is relative)`);
  if (!existsSync(audioFolder) || !statSync(audioFolder).isDirectory()) throw new ServiceError('not-found', `no audio folder at ${audioFolder}`);
  const n = checkDataFile(dataPath, audioFolder, onBadSample, 'training set');
  const m = evalDataPath ? checkDataFile(evalDataPath, audioFolder, onBadSample, 'eval set') : 0;
  return { dataPath, evalDataPath, audioFolder, label: `${basename(dataPath)} (${n} samples${evalDataPath ? `, ${m} eval` : ''})` };
}

/**
 * A tagging job's data: a synthetic set's labels.jsonl (or the folder holding it, as `mufun
 * synth-data`, `mufun dataset synth` and the Datasets page make them), read as the run will: its
 * tasks' labels, and with frame tasks every clip's MIDI file. Its val clips are the eval set.
 */
export function resolveTaggingSource(s: TrainingSource, o: { tasks: string[]; frames: boolean }): ResolvedSource {
  if (s.type !== 'file') {
    throw new ServiceError('invalid-args', 'tagging learns a synthetic set\'s labels: give its labels.jsonl as the training file (a synthetic dataset\'s description names it)');
  }
  if (!isAbsolute(s.dataPath)) throw new ServiceError('invalid-args', `give the labels file's full path (${s.dataPath} is relative)`);
  if (!existsSync(s.dataPath)) throw new ServiceError('not-found', `no labels file at ${s.dataPath}`);
  const dataPath = statSync(s.dataPath).isDirectory() ? join(s.dataPath, 'labels.jsonl') : s.dataPath;
  if (basename(dataPath) !== 'labels.jsonl') throw new ServiceError('invalid-args', `${dataPath} is not a synthetic set's labels.jsonl (make one on the Datasets page or with mufun synth-data)`);
  if (!existsSync(dataPath)) throw new ServiceError('not-found', `${s.dataPath} has no labels.jsonl (make a synthetic set on the Datasets page or with mufun synth-data)`);
  const dir = dirname(dataPath);
  const audioFolder = join(dir, 'audio');
  if (!existsSync(audioFolder)) throw new ServiceError('not-found', `no audio folder at ${audioFolder}`);
  let set: ReturnType<typeof synthTagSet>;
  try {
    set = synthTagSet(dir, o);
  } catch (e) {
    if (e instanceof TrainError) throw new ServiceError('invalid-args', `the labels cannot be used: ${e.message}`);
    throw e;
  }
  const { train, val } = set.splits;
  if (!train.length) throw new ServiceError('invalid-args', `${dataPath} has no train clips`);
  const missing = [...train, ...val].find((c) => !existsSync(join(audioFolder, c.audio)));
  if (missing) throw new ServiceError('not-found', `clip ${missing.id}: no audio file ${join(audioFolder, missing.audio)}`);
  return { dataPath, evalDataPath: null, audioFolder, label: `synthetic set ${basename(dir)} (${train.length} train, ${val.length} val clips)` };
}

/** The sets under `root` (one folder each, holding labels.jsonl), newest first; unreadable ones are left out. */
export function listSyntheticSets(root: string): SyntheticSet[] {
  if (!existsSync(root)) return [];
  const sets: (SyntheticSet & { mtime: number })[] = [];
  for (const name of readdirSync(root)) {
    const labelsPath = join(root, name, 'labels.jsonl');
    if (!existsSync(labelsPath)) continue;
    const count = { train: 0, val: 0 };
    try {
      for (const line of readFileSync(labelsPath, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const split = (JSON.parse(line) as { split?: string }).split;
        if (split === 'train' || split === 'val') count[split]++;
      }
    } catch {
      continue; // half written or damaged: resolveTaggingSource says why if it is chosen by path
    }
    sets.push({ name, labelsPath, ...count, mtime: statSync(labelsPath).mtimeMs });
  }
  return sets.sort((a, b) => b.mtime - a.mtime).map(({ mtime: _, ...s }) => s);
}
