// The library track of an audio file named by a dataset: found by its path, or added to the
// catalog (its tags and duration read as a scan reads them). A file in no library folder gets
// a folder: the import's audio root when it lies inside it, else its own folder.
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname } from 'node:path';
import { audioInfo } from '../../model/audio/info.js';
import type { Db } from '../catalog/db.js';
import type { LibraryStore } from '../catalog/library.js';
import { isInside } from '../library/paths.js';

export class TrackResolver {
  private readonly cache = new Map<string, number>();
  private roots: { id: number; real: string }[] | null = null;
  readonly foldersAdded: string[] = [];
  tracksAdded = 0;

  constructor(
    private readonly db: Db,
    private readonly library: LibraryStore,
    /** The import's audio root (already resolved by realpath). */
    private readonly audioRoot: string,
  ) {}

  private async folderRoots(): Promise<{ id: number; real: string }[]> {
    if (!this.roots) {
      const folders = this.library.folders();
      const reals = await Promise.all(folders.map((f) => realpath(f.path).catch(() => null)));
      this.roots = folders.flatMap((f, i) => (reals[i] ? [{ id: f.id, real: reals[i] }] : []));
    }
    return this.roots;
  }

  private async folderFor(file: string): Promise<number> {
    const inside = (await this.folderRoots()).filter((r) => isInside(file, r.real));
    if (inside.length) return inside.sort((a, b) => b.real.length - a.real.length)[0].id;
    const folder = isInside(file, this.audioRoot) ? this.audioRoot : dirname(file);
    const added = this.library.addFolder(folder);
    this.foldersAdded.push(folder);
    this.roots = null;
    return added.id;
  }

  /** The track id of an existing file (resolved by realpath). */
  async trackFor(file: string): Promise<number> {
    const real = await realpath(file);
    const cached = this.cache.get(real);
    if (cached !== undefined) return cached;
    const st = await stat(real);
    const known = this.db.prepare('SELECT id, folder_id, size, mtime_ms, missing FROM tracks WHERE path = ?').get(real) as
      | { id: number; folder_id: number; size: number; mtime_ms: number; missing: number }
      | undefined;
    let id: number;
    if (known && known.missing === 0 && known.size === st.size && known.mtime_ms === st.mtimeMs) {
      id = known.id;
    } else {
      const folderId = known?.folder_id ?? (await this.folderFor(real));
      await this.read(folderId, real, st.size, st.mtimeMs);
      id = (this.db.prepare('SELECT id FROM tracks WHERE path = ?').get(real) as { id: number }).id;
      if (!known) this.tracksAdded++;
    }
    this.cache.set(real, id);
    return id;
  }

  private async read(folderId: number, file: string, size: number, mtimeMs: number): Promise<void> {
    const title = basename(file, extname(file));
    try {
      const info = await audioInfo(file);
      this.library.upsert({
        folderId, path: file, size, mtimeMs,
        title: info.tags.title?.trim() || title,
        artist: info.tags.artist?.trim() || null,
        album: info.tags.album?.trim() || null,
        durationSec: Number.isFinite(info.durationSec) ? info.durationSec : null,
        sampleRate: info.sampleRate, channels: info.channels, codec: info.codec, error: null,
      });
    } catch (e) {
      // Catalogued with the reason, as a scan does; the item shows it as a problem.
      this.library.upsert({
        folderId, path: file, size, mtimeMs, title, artist: null, album: null,
        durationSec: null, sampleRate: null, channels: null, codec: null,
        error: e instanceof Error ? e.message : String(e),
      });
    }
  }
}
