// Runs decodeMono in a worker thread so decoding overlaps the caller's resampling. Speaks a
// tiny protocol with decodeInWorker (decode.ts): blocks are transferred, at most a few in
// flight (the caller acknowledges each), errors are sent as {code, file, detail}.
import { parentPort, workerData } from 'node:worker_threads';
import { decodeMono } from './decode.js';
import { AudioError } from './errors.js';

const port = parentPort!;
const { path, chunkBytes, window } = workerData as { path: string; chunkBytes?: number; window: number };
let credit = window;
let wake: (() => void) | null = null;
port.on('message', (m: 'more') => {
  if (m === 'more') {
    credit++;
    wake?.();
    wake = null;
  }
});

(async () => {
  try {
    for await (const b of decodeMono(path, { chunkBytes, onProgress: (p) => port.postMessage({ progress: p }) }, (info) => port.postMessage({ info }))) {
      while (credit === 0) await new Promise<void>((r) => (wake = r));
      credit--;
      port.postMessage({ block: b }, [b.samples.buffer as ArrayBuffer]);
    }
    port.postMessage({ done: true });
  } catch (e) {
    const err = e instanceof AudioError ? { code: e.code, file: e.file, detail: e.message.slice(e.file.length + 2) } : { detail: String((e as Error)?.message ?? e) };
    port.postMessage({ error: err });
  }
  port.close();
})();
