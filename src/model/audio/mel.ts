// Whisper's log-mel spectrogram (WhisperFeatureExtractor; `log_mel` in torch_mufun.py): reflect
// pad, periodic Hann, |STFT|² of 400-point frames every 160 samples, Slaney mel filters, log10
// with Whisper's dynamic-range clamp. The work runs in WebAssembly SIMD (wasm/mel.c: a real FFT
// per frame, four frames per vector); the tables it needs are computed here. Also the 30 s
// clipping rule.
import { MEL_WASM } from './wasm/mel-wasm.js';

export const SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP = 160;
export const CLIP_SAMPLES = 30 * SAMPLE_RATE; // 480000 samples = 3000 frames
const N_FREQ = N_FFT / 2 + 1; // 201 one-sided bins
/** A trailing clip this short or shorter (0.5 s) is dropped, as MuFun does. */
export const MIN_TRAILING = SAMPLE_RATE / 2;

// ---------------------------------------------------------------- clipping

/** Splits a 16 kHz waveform into 30 s clips (views, not copies), like torch_mufun.py's `chunks`. */
export function clipWaveform(wave: Float32Array, clipSamples = CLIP_SAMPLES): Float32Array[] {
  if (wave.length <= clipSamples) return [wave];
  const clips: Float32Array[] = [];
  for (let i = 0; i < wave.length; i += clipSamples) {
    const clip = wave.subarray(i, i + clipSamples);
    if (clip.length > MIN_TRAILING) clips.push(clip);
  }
  return clips;
}

/** Zero-pads or truncates a clip to exactly clipSamples (returns the clip itself if it fits). */
export function padClip(clip: Float32Array, clipSamples = CLIP_SAMPLES): Float32Array {
  if (clip.length === clipSamples) return clip;
  const out = new Float32Array(clipSamples);
  out.set(clip.subarray(0, clipSamples));
  return out;
}

// ---------------------------------------------------------------- constants (float64, then float32)

// Slaney mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above.
const LOGSTEP = 27 / Math.log(6.4);
const hzToMel = (f: number) => (f >= 1000 ? 15 + Math.log(Math.max(f, 1e-10) / 1000) * LOGSTEP : (3 * f) / 200);
const melToHz = (m: number) => (m >= 15 ? 1000 * Math.exp((Math.log(6.4) / 27) * (m - 15)) : (200 * m) / 3);

/** numpy.linspace: start + i·step, with the last point exactly stop. */
function linspace(start: number, stop: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const step = (stop - start) / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step + start;
  out[n - 1] = stop;
  return out;
}

/**
 * Slaney-normalised triangular mel filters, 0–8 kHz, as [201, nMels] (column m = filter m),
 * computed in float64 exactly as `mel_filters` in torch_mufun.py, then rounded to float32.
 */
export function melFilters(nMels: number): Float32Array {
  const fftFreqs = linspace(0, SAMPLE_RATE / 2, N_FREQ);
  const melPts = linspace(hzToMel(0), hzToMel(SAMPLE_RATE / 2), nMels + 2);
  const fPts = melPts.map(melToHz);
  const out = new Float32Array(nMels * N_FREQ);
  for (let m = 0; m < nMels; m++) {
    const enorm = 2 / (fPts[m + 2] - fPts[m]); // each filter has unit area (slaney norm)
    for (let k = 0; k < N_FREQ; k++) {
      const down = -(fPts[m] - fftFreqs[k]) / (fPts[m + 1] - fPts[m]); // rising edge
      const up = (fPts[m + 2] - fftFreqs[k]) / (fPts[m + 2] - fPts[m + 1]); // falling edge
      out[k * nMels + m] = Math.max(0, Math.min(down, up)) * enorm;
    }
  }
  return out;
}

/** Periodic Hann window (torch.hann_window), float64 rounded to float32. */
export function hannWindow(): Float32Array {
  return Float32Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
}

// ---------------------------------------------------------------- WebAssembly kernel

interface MelExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  set_tables(window: number, twiddle: number, split: number, band: number, weights: number, nMels: number): number;
  log_mel(padded: number, frames: number, out: number): void;
  finish(x: number, count: number): void;
}

let compiled: WebAssembly.Module | null = null;

/** cos and −sin of 2πj/n for j < count, interleaved, float64 rounded to float32. */
function rotations(n: number, count: number): Float32Array {
  const t = new Float32Array(2 * count);
  for (let j = 0; j < count; j++) {
    t[2 * j] = Math.cos((2 * Math.PI * j) / n);
    t[2 * j + 1] = -Math.sin((2 * Math.PI * j) / n);
  }
  return t;
}

/**
 * The filterbank as bands: filter m covers bins [lo, lo + count) (a triangle's nonzero run),
 * its weights stored one after another.
 */
function melBands(nMels: number): { band: Int32Array; weights: Float32Array } {
  const fb = melFilters(nMels); // [201, nMels]
  const band = new Int32Array(2 * nMels);
  const weights: number[] = [];
  for (let m = 0; m < nMels; m++) {
    let lo = 0;
    while (lo < N_FREQ && fb[lo * nMels + m] === 0) lo++;
    let hi = lo;
    while (hi < N_FREQ && fb[hi * nMels + m] !== 0) hi++;
    band[2 * m] = Math.min(lo, N_FREQ - 1);
    band[2 * m + 1] = hi - lo;
    for (let k = lo; k < hi; k++) weights.push(fb[k * nMels + m]);
  }
  return { band, weights: Float32Array.from(weights) };
}

export interface LogMelOptions {
  clipSamples?: number;
}

/**
 * One clip's log-mel at a time. Each instance owns a WebAssembly instance (its tables, the
 * padded clip and the output live in its memory); the module is compiled once per process.
 */
export class LogMel {
  private constructor(
    private wasm: MelExports,
    readonly nMels: number,
    readonly clipSamples: number,
    private padded: number,
    private out: number,
  ) {}

  get frames(): number {
    return this.clipSamples / HOP;
  }

  static async create(nMels: number, opts: LogMelOptions = {}): Promise<LogMel> {
    const clipSamples = opts.clipSamples ?? CLIP_SAMPLES;
    if (clipSamples % HOP !== 0 || clipSamples <= N_FFT) throw new Error(`clip length ${clipSamples} must be a multiple of ${HOP} above ${N_FFT}`);
    compiled ??= new WebAssembly.Module(Buffer.from(MEL_WASM, 'base64'));
    const wasm = new WebAssembly.Instance(compiled, {}).exports as unknown as MelExports;
    const { band, weights } = melBands(nMels);
    const tables = [hannWindow(), rotations(N_FFT / 2, N_FFT / 2), rotations(N_FFT, N_FREQ), band, weights];
    let at = ((wasm.__heap_base.value as number) + 15) & ~15;
    const place = (bytes: number) => {
      const p = at;
      at = (at + bytes + 15) & ~15;
      return p;
    };
    const offsets = tables.map((t) => place(t.byteLength));
    const padded = place(4 * (clipSamples + N_FFT));
    const out = place(4 * nMels * (clipSamples / HOP));
    if (at > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((at - wasm.memory.buffer.byteLength) / 65536));
    tables.forEach((t, i) => new Uint8Array(wasm.memory.buffer, offsets[i], t.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)));
    if (wasm.set_tables(offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], nMels) !== 0) throw new Error(`log-mel: ${nMels} mel bins is more than the kernel's tables hold`);
    return new LogMel(wasm, nMels, clipSamples, padded, out);
  }

  /** One clip (zero-padded or truncated to the clip length) -> [nMels · frames] row-major. */
  async compute(clip: Float32Array): Promise<Float32Array> {
    const L = this.clipSamples, half = N_FFT / 2;
    const x = new Float32Array(this.wasm.memory.buffer, this.padded, L + N_FFT);
    const n = Math.min(clip.length, L);
    x.set(clip.subarray(0, n), half);
    x.fill(0, half + n, half + L);
    // center=True: reflect-pad n_fft/2 each side so frame t is centred on sample t·hop
    for (let i = 1; i <= half; i++) {
      x[half - i] = x[half + i];
      x[half + L - 1 + i] = x[half + L - 1 - i];
    }
    const count = this.nMels * this.frames;
    this.wasm.log_mel(this.padded, this.frames, this.out);
    this.wasm.finish(this.out, count);
    return new Float32Array(this.wasm.memory.buffer, this.out, count).slice();
  }

  /** Nothing to free early: the instance's memory goes with it. */
  async release(): Promise<void> {}
}
