// A job's training data: a MuFun JSON file (+ audio folder) checked before the job is saved, so a
// missing file, broken JSON or a bad sample is said at once, by sample id, and nothing is queued.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { DatasetError, loadDataset } from '../../model/train/data.js';
import { ServiceError } from '../../shared/api.js';
import type { TrainingSource } from '../../shared/api-training.js';

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
