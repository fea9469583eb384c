// Log-mel spectrograms kept in the catalog, one row per track and mel bin count, valid while
// the file's size and mtime are unchanged (as the waveform peaks are).
import type { Db } from './db.js';

/** A track's spectrogram as stored: bytes, column-major (column c's bins at c·melBins, lowest first). */
export interface StoredSpectrogram {
  melBins: number;
  /** Whisper frames (10 ms each) averaged into one column. */
  framesPerColumn: number;
  columns: number;
  durationSec: number;
  /** The log-mel values that bytes 0 and 255 stand for (linear in between). */
  minValue: number;
  maxValue: number;
  data: Uint8Array;
}

interface Row {
  mel_bins: number;
  frames_per_column: number;
  columns: number;
  duration_sec: number;
  min_value: number;
  max_value: number;
  data: Buffer;
}

export class SpectrogramStore {
  constructor(private readonly db: Db) {}

  get(trackId: number, melBins: number, size: number, mtimeMs: number): StoredSpectrogram | undefined {
    const r = this.db
      .prepare('SELECT * FROM spectrograms WHERE track_id = ? AND mel_bins = ? AND size = ? AND mtime_ms = ?')
      .get(trackId, melBins, size, mtimeMs) as Row | undefined;
    if (!r) return undefined;
    return {
      melBins: r.mel_bins, framesPerColumn: r.frames_per_column, columns: r.columns, durationSec: r.duration_sec,
      minValue: r.min_value, maxValue: r.max_value, data: new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength),
    };
  }

  set(trackId: number, size: number, mtimeMs: number, s: StoredSpectrogram): void {
    this.db.transaction(() => {
      // Rows of an older version of the file (any mel bin count) are stale.
      this.db.prepare('DELETE FROM spectrograms WHERE track_id = ? AND (size != ? OR mtime_ms != ? OR mel_bins = ?)').run(trackId, size, mtimeMs, s.melBins);
      this.db
        .prepare(
          `INSERT INTO spectrograms (track_id, mel_bins, size, mtime_ms, frames_per_column, columns, duration_sec, min_value, max_value, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(trackId, s.melBins, size, mtimeMs, s.framesPerColumn, s.columns, s.durationSec, s.minValue, s.maxValue,
          Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength));
    })();
  }
}
