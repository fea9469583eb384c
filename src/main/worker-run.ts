// The entry of a worker that runs one job (training, evaluation, conversion): started with its
// kind in workerData, it runs once; a 'stop' message aborts the run's signal (the run decides
// where it can stop), and the port closes when the run has ended, which lets the worker exit.
import { parentPort, workerData } from 'node:worker_threads';

export function runAsWorker<D extends { kind: string }>(kind: D['kind'], run: (data: D, signal: AbortSignal) => Promise<void>): void {
  const data = workerData as D | undefined;
  if (!parentPort || data?.kind !== kind) return; // imported, not started as this worker
  const ctrl = new AbortController();
  parentPort.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') ctrl.abort();
  });
  void run(data, ctrl.signal).then(() => parentPort!.close());
}
