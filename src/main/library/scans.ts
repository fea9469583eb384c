// One library scan at a time, over one or several folders, with progress and cancellation.
import type { LibraryFolder, ScanProgress } from '../../shared/api.js';
import type { LibraryStore } from '../catalog/library.js';
import { scanFolder } from './scan.js';

export class ScanManager {
  private nextId = 1;
  private running: { ctrl: AbortController; progress: ScanProgress; done: Promise<void> } | null = null;
  private last: ScanProgress | null = null;

  constructor(
    private readonly store: LibraryStore,
    private readonly onProgress: (p: ScanProgress) => void,
  ) {}

  /** Starts scanning `folders` in turn; a scan already running is returned as it is. */
  start(folders: LibraryFolder[]): ScanProgress {
    if (this.running) return { ...this.running.progress };
    const scanId = this.nextId++;
    const ctrl = new AbortController();
    const progress: ScanProgress = {
      scanId, phase: 'listing', folder: folders[0].path,
      filesFound: 0, filesDone: 0, added: 0, changed: 0, unchanged: 0, missing: 0, failed: 0,
    };
    const run = async () => {
      const totals = { filesFound: 0, filesDone: 0, added: 0, changed: 0, unchanged: 0, missing: 0, failed: 0 };
      let final: ScanProgress = progress;
      for (const f of folders) {
        const report = (p: ScanProgress): ScanProgress => {
          const merged: ScanProgress = { ...p };
          for (const k of Object.keys(totals) as (keyof typeof totals)[]) merged[k] = totals[k] + p[k];
          return merged;
        };
        const result = await scanFolder(this.store, {
          scanId, folderId: f.id, folder: f.path, signal: ctrl.signal,
          onProgress: (p) => {
            // Per-folder "done" is not the end of a multi-folder scan.
            const merged = report(p);
            if (p.phase === 'done' && f !== folders[folders.length - 1]) merged.phase = 'reading';
            Object.assign(progress, merged);
            this.onProgress({ ...merged });
          },
        });
        for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += result[k];
        final = report({ ...result, ...Object.fromEntries(Object.keys(totals).map((k) => [k, 0])) } as ScanProgress);
        if (result.phase !== 'done') break;
      }
      this.last = final;
    };
    const done = run().finally(() => (this.running = null));
    this.running = { ctrl, progress, done };
    return { ...progress };
  }

  cancel(): boolean {
    if (!this.running) return false;
    this.running.ctrl.abort();
    return true;
  }

  status(): ScanProgress | null {
    return this.running ? { ...this.running.progress } : this.last;
  }

  async idle(): Promise<void> {
    await this.running?.done;
  }
}
