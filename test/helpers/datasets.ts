// What the datasets specs share: a studio over a fresh catalog, short WAV files, typed calls.
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CallArgs, CallName, CallResult } from '../../src/shared/api.js';
import { dispatch } from '../../src/shared/dispatch.js';
import { encodeWav } from '../../src/model/audio/wav.js';
import { createServices, type Studio } from '../../src/main/services.js';

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mufun-datasets-${prefix}-`));
}

/** A short mono tone (8 kHz), so files are small and quick to read. */
export function writeWav(path: string, seconds: number, freq = 440): void {
  const rate = 8000;
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * freq * i) / rate);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeWav([x], rate));
}

export function studioAt(dbPath: string): Studio {
  return createServices({ appVersion: 'test', dbPath, chatWorkerUrl: new URL('../../src/main/chat/worker.ts', import.meta.url) });
}

/** Calls through dispatch (argument checks included), throwing the API error as `code: message`. */
export async function call<N extends CallName>(studio: Studio, name: N, args: CallArgs<N>): Promise<CallResult<N>> {
  const r = await dispatch(studio.handlers, name, args);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as CallResult<N>;
}

/** A library folder with the given files (seconds each), scanned; returns track ids by file name. */
export async function libraryWith(studio: Studio, files: Record<string, number>): Promise<{ dir: string; ids: Record<string, number> }> {
  const dir = realpathSync(tmp('music'));
  for (const [name, sec] of Object.entries(files)) writeWav(join(dir, name), sec);
  const folder = await call(studio, 'library.addFolder', { path: dir });
  await call(studio, 'library.scan', { folderId: folder.id });
  for (let i = 0; i < 200; i++) {
    const s = await call(studio, 'library.scanStatus', {});
    if (s && s.phase !== 'listing' && s.phase !== 'reading') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const { tracks } = await call(studio, 'tracks.list', { limit: 5000 });
  const ids: Record<string, number> = {};
  for (const t of tracks) ids[t.path.slice(dir.length + 1)] = t.id;
  return { dir, ids };
}
