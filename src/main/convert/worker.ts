// The conversion worker: runs the engine's convertModel (what `mufun convert` runs) off the main
// thread and reports its progress, at most every 100 ms and always the last tensor. Cancelling
// ends the worker; the service removes the half-written folder. Started by service.ts.
import { parentPort } from 'node:worker_threads';
import { convertModel } from '../../model/convert.js';
import type { ConvertDtypeName } from '../../shared/api-models.js';
import { CONVERT_WORKER_KIND, type FromConvertWorker } from './protocol.js';
import { runAsWorker } from '../worker-run.js';

export interface ConvertWorkerData {
  kind: typeof CONVERT_WORKER_KIND;
  source: string;
  outDir: string;
  dtype: ConvertDtypeName;
}

function post(m: FromConvertWorker): void {
  parentPort!.postMessage(m);
}

async function run(d: ConvertWorkerData): Promise<void> {
  let last = 0;
  try {
    await convertModel(d.source, d.outDir, {
      dtype: d.dtype,
      onProgress: (p) => {
        const now = performance.now();
        if (p.tensors < p.totalTensors && now - last < 100) return;
        last = now;
        post({ type: 'progress', progress: p });
      },
    });
    post({ type: 'done' });
  } catch (e) {
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

runAsWorker<ConvertWorkerData>(CONVERT_WORKER_KIND, run);
