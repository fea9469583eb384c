// A file's waveform peaks, computed once (one decoding pass) and then read from a PeakStore.
import { decodeMono, type DecodeOptions } from './decode.js';
import { AudioError } from './errors.js';
import { DEFAULT_PEAK_LEVELS, FilePeakStore, PeakBuilder, type PeakStore, type Peaks, peakKey } from './peaks.js';

export interface FilePeaksOptions extends DecodeOptions {
  levels?: number[];
  /** Where peaks are kept: a folder (FilePeakStore) or any PeakStore (the studio's SQLite). */
  store?: PeakStore | string;
}

/** Peaks of the whole file at its native rate (mono); cached by path, size and mtime. */
export async function filePeaks(path: string, opts: FilePeaksOptions = {}): Promise<Peaks & { cached: boolean }> {
  const levels = opts.levels ?? DEFAULT_PEAK_LEVELS;
  const store = typeof opts.store === 'string' ? new FilePeakStore(opts.store) : opts.store;
  let key: string | undefined;
  if (store) {
    try {
      key = peakKey(path, levels);
    } catch {
      throw new AudioError('not-found', path, 'no such file');
    }
    const hit = store.get(key);
    if (hit) return { ...hit, cached: true };
  }
  let b: PeakBuilder | undefined;
  for await (const blk of decodeMono(path, opts)) {
    b ??= new PeakBuilder(blk.sampleRate, levels);
    b.push(blk.samples);
  }
  if (!b) throw new AudioError('empty', path, 'no audio samples in the file');
  const peaks = b.finish();
  if (store && key) store.set(key, peaks);
  return { ...peaks, cached: false };
}
