// Waveform peaks for the UI: min and max per bucket at several zoom levels, built in one pass
// over the samples (the coarser levels are folded from the finest), plus a small file cache.
// The functions are pure; where peaks are stored (files here, SQLite in the studio) is the
// caller's PeakStore.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from '../safetensors.js';

/** Default zoom levels, in samples per bucket: each a multiple of the one before. */
export const DEFAULT_PEAK_LEVELS = [256, 1024, 4096, 16384];

export interface PeakLevel {
  samplesPerPeak: number;
  min: Float32Array;
  max: Float32Array;
}

export interface Peaks {
  sampleRate: number;
  length: number; // samples summarised
  levels: PeakLevel[];
}

/** Accumulates peaks block by block (e.g. while decoding), so the audio is read once. */
export class PeakBuilder {
  private readonly spp: number;
  private min: number[] = [];
  private max: number[] = [];
  private curMin = Infinity;
  private curMax = -Infinity;
  private inBucket = 0;
  private n = 0;

  constructor(readonly sampleRate: number, readonly levels: number[] = DEFAULT_PEAK_LEVELS) {
    if (!levels.length) throw new Error('peaks: no levels');
    for (let i = 0; i < levels.length; i++) {
      if (!Number.isInteger(levels[i]) || levels[i] < 1 || (i > 0 && levels[i] % levels[i - 1] !== 0)) {
        throw new Error(`peaks: levels must be positive integers, each a multiple of the previous (got ${levels.join(', ')})`);
      }
    }
    this.spp = levels[0];
  }

  push(x: Float32Array): void {
    let lo = this.curMin, hi = this.curMax, k = this.inBucket;
    const spp = this.spp;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (++k === spp) {
        this.min.push(lo);
        this.max.push(hi);
        lo = Infinity;
        hi = -Infinity;
        k = 0;
      }
    }
    this.curMin = lo;
    this.curMax = hi;
    this.inBucket = k;
    this.n += x.length;
  }

  finish(): Peaks {
    const min = Float32Array.from(this.inBucket ? [...this.min, this.curMin] : this.min);
    const max = Float32Array.from(this.inBucket ? [...this.max, this.curMax] : this.max);
    const levels: PeakLevel[] = [{ samplesPerPeak: this.spp, min, max }];
    for (let l = 1; l < this.levels.length; l++) {
      const prev = levels[l - 1];
      const f = this.levels[l] / prev.samplesPerPeak;
      const m = Math.ceil(prev.min.length / f);
      const lmin = new Float32Array(m), lmax = new Float32Array(m);
      for (let b = 0; b < m; b++) {
        let lo = Infinity, hi = -Infinity;
        for (let j = b * f; j < Math.min((b + 1) * f, prev.min.length); j++) {
          if (prev.min[j] < lo) lo = prev.min[j];
          if (prev.max[j] > hi) hi = prev.max[j];
        }
        lmin[b] = lo;
        lmax[b] = hi;
      }
      levels.push({ samplesPerPeak: this.levels[l], min: lmin, max: lmax });
    }
    return { sampleRate: this.sampleRate, length: this.n, levels };
  }
}

/** Peaks of a whole waveform. */
export function computePeaks(x: Float32Array, sampleRate: number, levels = DEFAULT_PEAK_LEVELS): Peaks {
  const b = new PeakBuilder(sampleRate, levels);
  b.push(x);
  return b.finish();
}

// ---------------------------------------------------------------- storage

export interface PeakStore {
  get(key: string): Peaks | undefined;
  set(key: string, peaks: Peaks): void;
}

const FORMAT = 'mufun-peaks/1';

/** The cache key of a file's peaks: its absolute path, size and mtime, and the levels. */
export function peakKey(path: string, levels = DEFAULT_PEAK_LEVELS): string {
  const abs = resolve(path);
  const st = statSync(abs);
  return createHash('sha256').update(`${FORMAT}\0${abs}\0${st.size}\0${st.mtimeMs}\0${levels.join(',')}`).digest('hex').slice(0, 32);
}

export function peaksToTensors(p: Peaks): Record<string, TensorToWrite> {
  const t: Record<string, TensorToWrite> = {};
  for (const l of p.levels) {
    t[`min.${l.samplesPerPeak}`] = { dtype: 'F32', shape: [l.min.length], data: l.min };
    t[`max.${l.samplesPerPeak}`] = { dtype: 'F32', shape: [l.max.length], data: l.max };
  }
  return t;
}

/** One safetensors file per key in a folder; a corrupt or foreign file reads as a miss. */
export class FilePeakStore implements PeakStore {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    if (!/^[0-9a-zA-Z_-]+$/.test(key)) throw new Error(`peaks: bad cache key ${key}`);
    return join(this.dir, `${key}.peaks.safetensors`);
  }

  get(key: string): Peaks | undefined {
    const f = this.file(key);
    if (!existsSync(f)) return undefined;
    let st: SafetensorsFile | undefined;
    try {
      st = SafetensorsFile.open(f);
      const m = st.metadata;
      if (m.format !== FORMAT) return undefined;
      const levels = (JSON.parse(m.levels) as number[]).map((spp) => ({ samplesPerPeak: spp, min: st!.float32(`min.${spp}`), max: st!.float32(`max.${spp}`) }));
      return { sampleRate: Number(m.sampleRate), length: Number(m.length), levels };
    } catch {
      return undefined;
    } finally {
      st?.close();
    }
  }

  set(key: string, p: Peaks): void {
    mkdirSync(this.dir, { recursive: true });
    const f = this.file(key);
    const tmp = `${f}.${process.pid}.tmp`;
    writeSafetensors(tmp, peaksToTensors(p), {
      format: FORMAT, sampleRate: String(p.sampleRate), length: String(p.length), levels: JSON.stringify(p.levels.map((l) => l.samplesPerPeak)),
    });
    renameSync(tmp, f); // atomic: a reader never sees half a file
  }
}
