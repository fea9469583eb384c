// A seeded random train/eval split: the dataset's items (by id) in a seeded order, the first
// round(n × evalFraction) to eval and the rest to train. The same seed gives the same split.
import type { Dataset } from '../../shared/api-datasets.js';
import { shuffled } from '../../model/train/data.js';
import type { DatasetStore } from './store.js';

export function randomSplit(store: DatasetStore, datasetId: number, evalFraction: number, seed: number): Dataset {
  store.require(datasetId);
  const ids = store.items(datasetId).map((i) => i.id).sort((a, b) => a - b);
  const order = shuffled(ids, seed);
  const nEval = Math.round(ids.length * evalFraction);
  const evalIds = order.slice(0, nEval);
  const trainIds = order.slice(nEval);
  if (evalIds.length) store.setSplit(evalIds, 'eval');
  if (trainIds.length) store.setSplit(trainIds, 'train');
  return store.require(datasetId);
}
