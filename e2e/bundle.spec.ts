// The desktop bundle (out/, built by `npm run e2e` with electron-vite) holds every worker its main
// process starts: the chat worker (an entry of its own) and the services' workers (electron-vite's
// `?modulePath` imports in src/main/index.ts, emitted as worker-<hash>.js), each there and loading
// in a worker thread; and the audio helper threads (log-mel, decoding, mp3) beside every file that
// starts them, each answering a real job. Needs no Electron binary (the workers run in Node), so
// it runs everywhere.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect, test } from '@playwright/test';
import { ROOT } from './helpers.js';

const MAIN = join(ROOT, 'out', 'main');

test('every worker the desktop main process starts is in the bundle and loads', async () => {
  const index = readFileSync(join(MAIN, 'index.js'), 'utf8');
  // rollup's hashes are base64url: "worker-DlS-DcDX.js"
  const named = [...new Set([...index.matchAll(/["']\.\/((?:chat-)?worker(?:-[\w-]+)?\.js)["']/g)].map((m) => m[1]))].sort();
  expect(named).toContain('chat-worker.js');
  const kinds: string[] = [];
  for (const file of named) {
    expect(existsSync(join(MAIN, file)), `out/main/${file}`).toBe(true);
    kinds.push(...[...readFileSync(join(MAIN, file), 'utf8').matchAll(/_WORKER_KIND = "([\w-]+)"/g)].map((m) => m[1]));
    // without its workerData a worker loads its modules and ends: an unresolved import fails here
    const exit = await new Promise<{ code: number; error: string | null }>((resolve) => {
      let error: string | null = null;
      const w = new Worker(join(MAIN, file));
      w.on('error', (e) => (error = e.message));
      w.on('exit', (code) => resolve({ code, error }));
    });
    expect(exit, file).toEqual({ code: 0, error: null });
  }
  // training, model conversion and evaluation each have theirs
  expect(kinds).toEqual(expect.arrayContaining(['mufun-training-worker', 'mufun-convert-worker', 'mufun-eval-worker']));
});

/** Starts out/main/<file> with `workerData`, posts `job` and resolves with the first answer that ends it. */
function answer(file: string, workerData: unknown, job: unknown, ends: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(join(MAIN, file), { workerData });
    const onExit = (code: number) => reject(new Error(`${file} exited (${code}) before answering`));
    w.on('message', (m: Record<string, unknown>) => {
      if (!ends(m)) return;
      w.off('exit', onExit); // terminating it exits with code 1
      void w.terminate().then(() => resolve(m));
    });
    w.on('error', reject);
    w.on('exit', onExit);
    if (job !== undefined) w.postMessage(job);
  });
}

test('the audio helper threads sit beside every bundled file that starts them, and work', async () => {
  // Each is looked up as new URL('./<name>.js', import.meta.url) and, where missing, quietly
  // replaced by one thread: a wrong place would cost speed, never correctness, so check the files.
  const helpers = new Set<string>();
  for (const file of readdirSync(MAIN).filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(join(MAIN, file), 'utf8').matchAll(/new URL\("\.\/((?:mel|decode|mp3)-worker\.js)", import\.meta\.url\)/g)) {
      expect(existsSync(join(MAIN, m[1])), `${m[1]}, named by out/main/${file}`).toBe(true);
      helpers.add(m[1]);
    }
  }
  expect([...helpers].sort()).toEqual(['decode-worker.js', 'mel-worker.js', 'mp3-worker.js']);
  expect(readdirSync(MAIN).filter((f) => statSync(join(MAIN, f)).isDirectory())).toEqual([]);

  // log-mel's second thread: half a clip's frames of a 440 Hz tone, into shared memory
  const frames = 50, padded = new SharedArrayBuffer(4 * (frames * 160 + 400)), out = new SharedArrayBuffer(4 * 80 * frames);
  new Float32Array(padded).forEach((_, i, a) => (a[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000)));
  const mel = await answer('mel-worker.js', { nMels: 80, maxFrames: frames, padded, out }, { first: 0, count: frames }, (m) => 'top' in m);
  expect(Number.isFinite(mel.top)).toBe(true);
  expect(new Float32Array(out).some((v) => v !== 0)).toBe(true);

  // the decoder thread: a WAV's blocks, then done
  const wav = join(ROOT, 'test', 'fixtures', 'audio', 'tone.wav');
  const blocks: unknown[] = [];
  await answer('decode-worker.js', { path: wav, window: 4 }, undefined, (m) => (m.block && blocks.push(m.block), 'done' in m || 'error' in m));
  expect(blocks.length).toBeGreaterThan(0);

  // an mp3 thread: a byte range decoded to samples
  const mp3 = join(ROOT, 'test', 'fixtures', 'audio', 'tone.mp3');
  const job = { id: 1, path: mp3, from: 0, to: statSync(mp3).size, skip: 0, at: 0 };
  const decoded = await answer('mp3-worker.js', undefined, job, (m) => m.id === 1);
  expect(decoded.error).toBeUndefined();
  expect((decoded.samples as Float32Array).length).toBeGreaterThan(1000);
});
