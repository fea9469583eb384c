// A worker of the parallel mp3 decoder (mp3-parallel.ts): decodes byte ranges of mp3s with
// mpg123 (no gapless trimming; the caller trims once for the whole file), drops the warm-up
// frames, downmixes, and sends the samples back. Jobs arrive as {id, path, from, to, skip, at};
// the thread lives on between files.
import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { MPEGDecoder } from 'mpg123-decoder';
import { downmix } from './decode.js';
import { AudioError } from './errors.js';

const port = parentPort!;
let chain = Promise.resolve();
// Made as the thread starts, so it is ready while the caller still walks the file's frames.
const fresh = (async () => {
  const d = new MPEGDecoder({ enableGapless: false });
  await d.ready;
  return d;
})();
fresh.catch(() => {}); // a failure is reported by the job that awaits it
let dec: MPEGDecoder | null = null;

port.on('message', (job: { id: number; path: string; from: number; to: number; skip: number; at: number }) => {
  const path = job.path;
  chain = chain.then(async () => {
    try {
      const bytes = Buffer.alloc(job.to - job.from);
      const fh = await open(path, 'r');
      try {
        await fh.read(bytes, 0, bytes.length, job.from);
      } finally {
        await fh.close();
      }
      // one decoder per worker, reset between jobs (a reset decoder rounds like a new one)
      if (dec) await dec.reset();
      else dec = await fresh;
      const r = dec.decode(bytes);
      if (r.errors.length) throw new AudioError('corrupt', path, `mp3 decoding failed in bytes ${job.from}–${job.to}: ${r.errors[0].message}`);
      const n = Math.max(0, r.samplesDecoded - job.skip);
      const ch = r.channelData.map((c) => c.subarray(job.skip, job.skip + n));
      const samples = downmix(ch, n, path, job.at, r.sampleRate);
      port.postMessage({ id: job.id, samples, sampleRate: r.sampleRate, channels: r.channelData.length }, [samples.buffer as ArrayBuffer]);
    } catch (e) {
      const err = e instanceof AudioError ? { code: e.code, detail: e.message.slice(e.file.length + 2) } : { detail: String((e as Error)?.message ?? e) };
      port.postMessage({ id: job.id, error: err });
    }
  });
});
