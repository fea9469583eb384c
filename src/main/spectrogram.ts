// A track's log-mel spectrogram for the player: exactly what the model hears — Whisper's
// log-mel of each 30 s clip (the engine's LogMel, at the current model's mel bin count) —
// averaged in time into at most STORED_COLUMNS columns, quantised to bytes, and kept in the
// catalog per file version. The file is decoded and resampled to 16 kHz once, as a stream that
// this module pulls: one 30 s clip is filled, turned into mel columns, then the next, and the
// decoder waits meanwhile, so neither the decoded file nor its full-resolution spectrogram is
// ever held whole (a clip, the decoder's few blocks and the columns: ~10 MB for any length).
import { stat } from 'node:fs/promises';
import { AudioError, isAudioError } from '../model/audio/errors.js';
import { CLIP_SAMPLES, HOP, LogMel, SAMPLE_RATE } from '../model/audio/mel.js';
import { decodeBlocks } from '../model/audio/load.js';
import { StreamResampler } from '../model/audio/resample.js';
import { type MelSpectrogram, ServiceError, type Track } from '../shared/api.js';
import type { SpectrogramStore, StoredSpectrogram } from './catalog/spectrograms.js';

/** Columns kept in the catalog: full resolution (10 ms) up to ~2.7 min, coarser beyond. */
export const STORED_COLUMNS = 16384;
/** Columns answered when the caller gives no budget. */
export const DEFAULT_COLUMNS = 8192;
/** Mel bins when no model is chosen (the larger Whisper front end). */
export const DEFAULT_MEL_BINS = 128;

const FRAMES_PER_SECOND = SAMPLE_RATE / HOP; // 100
const FRAMES_PER_CLIP = CLIP_SAMPLES / HOP; // 3000

/**
 * Sums of log-mel frames per column (column c = frames [c·fpc, (c + 1)·fpc)). Starts at the
 * resolution the expected length allows; should the audio run longer, neighbouring columns
 * merge pairwise (fpc doubles), so it never holds more than `cap` columns.
 */
export class ColumnAccumulator {
  private sums: Float32Array;
  private counts: Uint32Array;
  private used = 0;

  constructor(
    readonly melBins: number,
    readonly cap: number,
    public framesPerColumn: number,
  ) {
    this.sums = new Float32Array(cap * melBins);
    this.counts = new Uint32Array(cap);
  }

  /** One clip's log-mel [melBins, frames] (row-major), its first `valid` frames starting at frame `first`. */
  addClip(first: number, mel: Float32Array, frames: number, valid: number): void {
    const nb = this.melBins;
    for (let t = 0; t < valid; t++) {
      let c = Math.floor((first + t) / this.framesPerColumn);
      while (c >= this.cap) {
        this.halve();
        c = Math.floor((first + t) / this.framesPerColumn);
      }
      const o = c * nb;
      for (let m = 0; m < nb; m++) this.sums[o + m] += mel[m * frames + t];
      this.counts[c]++;
      if (c >= this.used) this.used = c + 1;
    }
  }

  private halve(): void {
    const nb = this.melBins, half = Math.ceil(this.used / 2);
    for (let c = 0; c < half; c++) {
      const a = 2 * c, b = a + 1;
      for (let m = 0; m < nb; m++) this.sums[c * nb + m] = this.sums[a * nb + m] + (b < this.used ? this.sums[b * nb + m] : 0);
      this.counts[c] = this.counts[a] + (b < this.used ? this.counts[b] : 0);
    }
    this.sums.fill(0, half * nb);
    this.counts.fill(0, half);
    this.used = half;
    this.framesPerColumn *= 2;
  }

  /** Column means, quantised over the track's own range. */
  finish(durationSec: number): StoredSpectrogram {
    const nb = this.melBins, columns = this.used;
    let lo = Infinity, hi = -Infinity;
    for (let c = 0; c < columns; c++) {
      const n = this.counts[c] || 1;
      for (let m = 0; m < nb; m++) {
        const v = (this.sums[c * nb + m] /= n);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!columns) lo = hi = 0;
    const data = new Uint8Array(columns * nb);
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    for (let i = 0; i < data.length; i++) data[i] = Math.round((this.sums[i] - lo) * scale);
    return { melBins: nb, framesPerColumn: this.framesPerColumn, columns, durationSec, minValue: lo, maxValue: hi, data };
  }
}

const sessions = new Map<number, Promise<LogMel>>();

/** One LogMel session per mel bin count, kept for the life of the process. */
function logMel(melBins: number): Promise<LogMel> {
  let s = sessions.get(melBins);
  if (!s) {
    s = LogMel.create(melBins);
    s.catch(() => sessions.delete(melBins));
    sessions.set(melBins, s);
  }
  return s;
}

/**
 * The file as 16 kHz mono blocks, pulled: decoding and resampling as loadAudio does them (the
 * same decoders, in worker threads where the compiled build has them, and the same streaming
 * resampler), but as a generator, so a slower consumer holds the decoder back. (loadAudio's
 * onPcm callback cannot: it returns nothing to wait on, and the clips would pile up.)
 */
export async function* pcm16k(file: string): AsyncGenerator<Float32Array> {
  const blocks = await decodeBlocks(file);
  let rs: StreamResampler | undefined;
  for await (const b of blocks) {
    rs ??= new StreamResampler(b.sampleRate, SAMPLE_RATE);
    const y = await rs.push(b.samples);
    if (y.length) yield y;
  }
  if (!rs) throw new AudioError('empty', file, 'no audio samples in the file');
  const tail = await rs.end();
  if (tail.length) yield tail;
}

/** Decodes `file` once (streamed) and returns its log-mel columns; `expectedSec` sets the first resolution. */
export async function computeSpectrogram(file: string, melBins: number, expectedSec: number | null, cap = STORED_COLUMNS): Promise<StoredSpectrogram> {
  const mel = await logMel(melBins);
  const expectedFrames = Math.ceil(Math.max(0, expectedSec ?? 0) * FRAMES_PER_SECOND);
  const acc = new ColumnAccumulator(melBins, cap, Math.max(1, Math.ceil(expectedFrames / cap)));
  const clip = new Float32Array(CLIP_SAMPLES);
  let fill = 0, index = 0, total = 0;
  const flush = async () => {
    const out = await mel.compute(fill === CLIP_SAMPLES ? clip : clip.subarray(0, fill)); // a short last clip is zero-padded, as MuFun does
    acc.addClip(index++ * FRAMES_PER_CLIP, out, mel.frames, Math.min(mel.frames, Math.ceil(fill / HOP)));
    fill = 0;
  };
  for await (const block of pcm16k(file)) {
    total += block.length;
    for (let o = 0; o < block.length; ) {
      const n = Math.min(block.length - o, CLIP_SAMPLES - fill);
      clip.set(block.subarray(o, o + n), fill);
      fill += n;
      o += n;
      if (fill === CLIP_SAMPLES) await flush();
    }
  }
  if (fill > 0) await flush();
  return acc.finish(total / SAMPLE_RATE);
}

const inflight = new Map<string, Promise<StoredSpectrogram>>();

async function computeOnce(store: SpectrogramStore, track: Track, file: string, melBins: number): Promise<StoredSpectrogram> {
  // The file's own size and mtime (not the last scan's): an edited file is never shown stale.
  const { size, mtimeMs } = await stat(file);
  const cached = store.get(track.id, melBins, size, mtimeMs);
  if (cached) return cached;
  const key = `${track.id}:${size}:${mtimeMs}:${melBins}`;
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      const s = await computeSpectrogram(file, melBins, track.durationSec);
      store.set(track.id, size, mtimeMs, s);
      return s;
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
  }
  return p;
}

/** Averages neighbouring columns of bytes so that at most `maxColumns` remain. */
export function narrowColumns(s: StoredSpectrogram, maxColumns: number): { columns: number; factor: number; data: Uint8Array } {
  const factor = Math.max(1, Math.ceil(s.columns / maxColumns));
  if (factor === 1) return { columns: s.columns, factor, data: s.data };
  const nb = s.melBins, columns = Math.ceil(s.columns / factor);
  const data = new Uint8Array(columns * nb);
  for (let c = 0; c < columns; c++) {
    const a = c * factor, b = Math.min(s.columns, a + factor);
    for (let m = 0; m < nb; m++) {
      let sum = 0;
      for (let k = a; k < b; k++) sum += s.data[k * nb + m];
      data[c * nb + m] = Math.round(sum / (b - a));
    }
  }
  return { columns, factor, data };
}

export async function trackSpectrogram(store: SpectrogramStore, track: Track, file: string, melBins: number, maxColumns = DEFAULT_COLUMNS): Promise<MelSpectrogram> {
  let s: StoredSpectrogram;
  try {
    s = await computeOnce(store, track, file, melBins);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    // An audio error names the file and says what is wrong with it (as for the peaks).
    if (isAudioError(e)) throw new ServiceError(e.code === 'not-found' ? 'not-found' : 'failed', why);
    throw new ServiceError('failed', `the spectrogram of ${track.title} could not be computed: ${why}`);
  }
  const { columns, factor, data } = narrowColumns(s, maxColumns);
  return {
    trackId: track.id, melBins: s.melBins, columns,
    secondsPerColumn: (s.framesPerColumn * factor) / FRAMES_PER_SECOND,
    durationSec: s.durationSec, minValue: s.minValue, maxValue: s.maxValue,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
  };
}
