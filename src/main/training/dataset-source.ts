// A studio dataset as a job's training data: exported in MuFun's JSON format into the job's own
// folder when the job is created (src/main/datasets/export.ts), so later edits of the dataset
// never change a queued or resumed job, and the run reads exactly what `mufun train` would.
import { ServiceError } from '../../shared/api.js';
import type { Db } from '../catalog/db.js';
import { writeMufunDataset } from '../datasets/export.js';
import { DatasetStore } from '../datasets/store.js';
import { type ResolvedSource, checkDataFile } from './source.js';

export function resolveDatasetSource(db: Db, datasetId: number, outDir: string, onBadSample: 'skip' | 'fail'): ResolvedSource {
  const dataset = new DatasetStore(db).get(datasetId);
  if (!dataset) throw new ServiceError('not-found', `no dataset ${datasetId}`);
  let out: ReturnType<typeof writeMufunDataset>;
  try {
    out = writeMufunDataset(db, datasetId, outDir);
  } catch (e) {
    throw new ServiceError('invalid-args', `the dataset cannot be trained on: ${e instanceof Error ? e.message : String(e)}`);
  }
  // The export refuses what the loader would; load it as the runner will all the same.
  checkDataFile(out.train, out.audioFolder, onBadSample, 'training set');
  if (out.eval) checkDataFile(out.eval, out.audioFolder, onBadSample, 'eval set');
  return {
    dataPath: out.train, evalDataPath: out.eval, audioFolder: out.audioFolder,
    label: `dataset “${dataset.name}” (${out.counts.train} train${out.counts.eval ? `, ${out.counts.eval} eval` : ''})`,
  };
}
