// Waveform peaks kept in the catalog, one row per track and zoom level, valid while the file's
// size and mtime are unchanged.
import type { Peaks } from '../../model/audio/peaks.js';
import type { Db } from './db.js';

const blob = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
const floats = (b: Buffer) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

export class PeaksStore {
  constructor(private readonly db: Db) {}

  get(trackId: number, size: number, mtimeMs: number): Peaks | undefined {
    const rows = this.db
      .prepare('SELECT * FROM peaks WHERE track_id = ? AND size = ? AND mtime_ms = ? ORDER BY samples_per_peak')
      .all(trackId, size, mtimeMs) as { samples_per_peak: number; sample_rate: number; length: number; min: Buffer; max: Buffer }[];
    if (!rows.length) return undefined;
    return {
      sampleRate: rows[0].sample_rate,
      length: rows[0].length,
      levels: rows.map((r) => ({ samplesPerPeak: r.samples_per_peak, min: floats(r.min), max: floats(r.max) })),
    };
  }

  set(trackId: number, size: number, mtimeMs: number, p: Peaks): void {
    const ins = this.db.prepare(
      'INSERT INTO peaks (track_id, samples_per_peak, sample_rate, length, size, mtime_ms, min, max) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM peaks WHERE track_id = ?').run(trackId);
      for (const l of p.levels) ins.run(trackId, l.samplesPerPeak, p.sampleRate, p.length, size, mtimeMs, blob(l.min), blob(l.max));
    })();
  }
}
