// The second thread of LogMel (mel.ts): the later frames of each clip. It reads the padded clip
// from shared memory, computes its frames' log10 mel powers in its own WebAssembly instance and
// writes them to shared memory, then answers with their largest value.
import { parentPort, workerData } from 'node:worker_threads';
import { HOP, MelKernel } from './mel.js';

const port = parentPort!;
const { nMels, maxFrames, padded, out } = workerData as { nMels: number; maxFrames: number; padded: SharedArrayBuffer; out: SharedArrayBuffer };
const kernel = new MelKernel(nMels, maxFrames);
const input = new Float32Array(padded), output = new Float32Array(out);

port.on('message', (job: { first: number; count: number }) => {
  const block = kernel.run(input.subarray(job.first * HOP, job.first * HOP + kernel.span(job.count)), job.count);
  output.set(block);
  port.postMessage({ top: kernel.top });
});
