// Library folders and tracks in the catalog: rows in, typed objects out.
import type { LibraryFolder, Track, TrackPage, TrackQuery } from '../../shared/api.js';
import type { Db } from './db.js';

interface TrackRow {
  id: number;
  folder_id: number;
  path: string;
  title: string;
  artist: string | null;
  album: string | null;
  duration_sec: number | null;
  sample_rate: number | null;
  channels: number | null;
  codec: string | null;
  size: number;
  mtime_ms: number;
  missing: number;
  error: string | null;
}

const toTrack = (r: TrackRow): Track => ({
  id: r.id,
  folderId: r.folder_id,
  path: r.path,
  title: r.title,
  artist: r.artist,
  album: r.album,
  durationSec: r.duration_sec,
  sampleRate: r.sample_rate,
  channels: r.channels,
  codec: r.codec,
  size: r.size,
  mtimeMs: r.mtime_ms,
  missing: r.missing !== 0,
  error: r.error,
});

/** What a scan learned about one file: a track before it has a row (id) and a missing flag. */
export type TrackFacts = Omit<Track, 'id' | 'missing'>;

const SORT_SQL: Record<NonNullable<TrackQuery['sort']>, string> = {
  title: 'title COLLATE NOCASE',
  artist: 'artist IS NULL, artist COLLATE NOCASE',
  album: 'album IS NULL, album COLLATE NOCASE',
  duration: 'duration_sec IS NULL, duration_sec',
  path: 'path',
};

export class LibraryStore {
  constructor(private readonly db: Db) {}

  folders(): LibraryFolder[] {
    const rows = this.db
      .prepare(
        `SELECT f.id, f.path, f.added_at, f.last_scan_at,
           (SELECT COUNT(*) FROM tracks t WHERE t.folder_id = f.id AND t.missing = 0) AS track_count,
           (SELECT COUNT(*) FROM tracks t WHERE t.folder_id = f.id AND t.missing = 1) AS missing_count
         FROM folders f ORDER BY f.path`,
      )
      .all() as { id: number; path: string; added_at: number; last_scan_at: number | null; track_count: number; missing_count: number }[];
    return rows.map((r) => ({
      id: r.id,
      path: r.path,
      addedAt: r.added_at,
      lastScanAt: r.last_scan_at,
      trackCount: r.track_count,
      missingCount: r.missing_count,
    }));
  }

  folder(id: number): LibraryFolder | undefined {
    return this.folders().find((f) => f.id === id);
  }

  /** Adds a folder (an already known path returns its row). */
  addFolder(path: string): LibraryFolder {
    this.db.prepare('INSERT INTO folders (path, added_at) VALUES (?, ?) ON CONFLICT(path) DO NOTHING').run(path, Date.now());
    const row = this.db.prepare('SELECT id FROM folders WHERE path = ?').get(path) as { id: number };
    return this.folder(row.id)!;
  }

  markScanned(folderId: number): void {
    this.db.prepare('UPDATE folders SET last_scan_at = ? WHERE id = ?').run(Date.now(), folderId);
  }

  /** path → what the catalog knows, for a folder's re-scan. */
  known(folderId: number): Map<string, { id: number; size: number; mtimeMs: number; missing: boolean; error: string | null }> {
    const rows = this.db
      .prepare('SELECT id, path, size, mtime_ms, missing, error FROM tracks WHERE folder_id = ?')
      .all(folderId) as { id: number; path: string; size: number; mtime_ms: number; missing: number; error: string | null }[];
    return new Map(rows.map((r) => [r.path, { id: r.id, size: r.size, mtimeMs: r.mtime_ms, missing: r.missing !== 0, error: r.error }]));
  }

  /** Inserts or updates one file's row; its own statement, so it is committed at once. */
  upsert(f: TrackFacts): void {
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO tracks (folder_id, path, title, artist, album, duration_sec, sample_rate, channels, codec, size, mtime_ms, missing, error, added_at, updated_at)
         VALUES (@folderId, @path, @title, @artist, @album, @durationSec, @sampleRate, @channels, @codec, @size, @mtimeMs, 0, @error, @now, @now)
         ON CONFLICT(path) DO UPDATE SET folder_id = @folderId, title = @title, artist = @artist, album = @album,
           duration_sec = @durationSec, sample_rate = @sampleRate, channels = @channels, codec = @codec, size = @size,
           mtime_ms = @mtimeMs, missing = 0, error = @error, updated_at = @now`,
      )
      .run({ ...f, now });
  }

  setMissing(ids: number[], missing: boolean): void {
    const stmt = this.db.prepare('UPDATE tracks SET missing = ?, updated_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) stmt.run(missing ? 1 : 0, Date.now(), id);
    })();
  }

  track(id: number): Track | undefined {
    const r = this.db.prepare('SELECT * FROM tracks WHERE id = ?').get(id) as TrackRow | undefined;
    return r && toTrack(r);
  }

  list(q: TrackQuery): TrackPage {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const word of (q.search ?? '').trim().split(/\s+/).filter(Boolean)) {
      const like = `%${word.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
      where.push(`(title LIKE ? ESCAPE '\\' OR artist LIKE ? ESCAPE '\\' OR album LIKE ? ESCAPE '\\' OR path LIKE ? ESCAPE '\\')`);
      params.push(like, like, like, like);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const dir = q.order === 'desc' ? 'DESC' : 'ASC';
    const order = SORT_SQL[q.sort ?? 'title']
      .split(', ')
      .map((part) => (part.endsWith('IS NULL') ? part : `${part} ${dir}`))
      .join(', ');
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM tracks ${whereSql}`).get(...params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM tracks ${whereSql} ORDER BY ${order}, id ${dir} LIMIT ? OFFSET ?`)
      .all(...params, q.limit ?? 500, q.offset ?? 0) as TrackRow[];
    return { tracks: rows.map(toTrack), total };
  }
}
