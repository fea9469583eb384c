// The desktop bundle (out/, built by `npm run e2e` with electron-vite) holds every worker its main
// process starts: the chat worker (an entry of its own) and the services' workers (electron-vite's
// `?modulePath` imports in src/main/index.ts, emitted as worker-<hash>.js), each there and loading
// in a worker thread. Needs no Electron binary (the workers run in Node), so it runs everywhere.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { expect, test } from '@playwright/test';
import { ROOT } from './helpers.js';

const MAIN = join(ROOT, 'out', 'main');

test('every worker the desktop main process starts is in the bundle and loads', async () => {
  const index = readFileSync(join(MAIN, 'index.js'), 'utf8');
  const named = [...new Set([...index.matchAll(/["']\.\/((?:chat-)?worker(?:-\w+)?\.js)["']/g)].map((m) => m[1]))].sort();
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
