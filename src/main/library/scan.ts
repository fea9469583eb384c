// Library scan: walks a folder, reads each new or changed audio file's tags and duration
// (audioInfo), and writes one catalog row per file as it goes, so a restart mid-scan loses
// nothing. Files that are gone are marked missing, never deleted. Cancellable between files.
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { audioInfo } from '../../model/audio/info.js';
import type { ScanProgress } from '../../shared/api.js';
import type { LibraryStore } from '../catalog/library.js';

export const AUDIO_EXTENSIONS = new Set(['.wav', '.wave', '.mp3', '.flac', '.ogg', '.oga', '.opus']);

/** Every audio file under `root` (symlinked folders are not followed, so no loops). */
export async function* walkAudio(root: string, signal?: AbortSignal): AsyncGenerator<string> {
  const stack = [root];
  while (stack.length) {
    if (signal?.aborted) return;
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable folder: skipped, its known files will read as missing only if gone
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase())) yield p;
    }
  }
}

export interface ScanOptions {
  scanId: number;
  folderId: number;
  folder: string;
  signal: AbortSignal;
  onProgress: (p: ScanProgress) => void;
}

export async function scanFolder(store: LibraryStore, o: ScanOptions): Promise<ScanProgress> {
  const p: ScanProgress = {
    scanId: o.scanId, phase: 'listing', folder: o.folder,
    filesFound: 0, filesDone: 0, added: 0, changed: 0, unchanged: 0, missing: 0, failed: 0,
  };
  let lastSent = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (force || now - lastSent > 100) {
      lastSent = now;
      o.onProgress({ ...p });
    }
  };
  report(true);
  try {
    await stat(o.folder).catch(() => {
      throw new Error(`the folder ${o.folder} cannot be read (moved, unmounted, or no permission)`);
    });
    const files: string[] = [];
    for await (const f of walkAudio(o.folder, o.signal)) {
      files.push(f);
      p.filesFound = files.length;
      report();
    }
    p.phase = 'reading';
    report(true);
    const known = store.known(o.folderId);
    const seen = new Set<string>();
    for (const file of files) {
      if (o.signal.aborted) break;
      seen.add(file);
      p.current = file;
      const before = known.get(file);
      try {
        const st = await stat(file);
        if (before && !before.missing && before.size === st.size && before.mtimeMs === st.mtimeMs) {
          p.unchanged++;
        } else {
          await readOne(store, o.folderId, file, st.size, st.mtimeMs, p);
          if (before) p.changed++;
          else p.added++;
        }
      } catch {
        p.failed++; // vanished between listing and reading: the next scan marks it missing
      }
      p.filesDone++;
      report();
    }
    if (o.signal.aborted) {
      p.phase = 'cancelled';
    } else {
      const gone = [...known].filter(([path, k]) => !seen.has(path) && !k.missing).map(([, k]) => k.id);
      store.setMissing(gone, true);
      p.missing = gone.length;
      store.markScanned(o.folderId);
      p.phase = 'done';
    }
  } catch (e) {
    p.phase = 'failed';
    p.error = e instanceof Error ? e.message : String(e);
  }
  delete p.current;
  report(true);
  return p;
}

async function readOne(store: LibraryStore, folderId: number, file: string, size: number, mtimeMs: number, p: ScanProgress): Promise<void> {
  const fallbackTitle = basename(file, extname(file));
  try {
    const info = await audioInfo(file);
    store.upsert({
      folderId, path: file, size, mtimeMs,
      title: info.tags.title?.trim() || fallbackTitle,
      artist: info.tags.artist?.trim() || null,
      album: info.tags.album?.trim() || null,
      durationSec: Number.isFinite(info.durationSec) ? info.durationSec : null,
      sampleRate: info.sampleRate, channels: info.channels, codec: info.codec, error: null,
    });
  } catch (e) {
    // Unreadable files are catalogued with the reason, so the user sees them (and a fix is re-scanned).
    p.failed++;
    store.upsert({
      folderId, path: file, size, mtimeMs, title: fallbackTitle, artist: null, album: null,
      durationSec: null, sampleRate: null, channels: null, codec: null,
      error: e instanceof Error ? e.message : String(e),
    });
  }
}
