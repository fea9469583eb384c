// Messages between the models service (main thread) and a conversion worker (worker_thread).
// One worker converts one folder; the service checks the folder before it starts one.
export const CONVERT_WORKER_KIND = 'mufun-convert-worker';

export interface ConvertWorkerProgress {
  tensors: number;
  totalTensors: number;
  bytes: number;
  totalBytes: number;
  name: string;
}

export type FromConvertWorker =
  | { type: 'progress'; progress: ConvertWorkerProgress }
  | { type: 'done' }
  | { type: 'error'; message: string };
