// Whisper's log-mel spectrogram (WhisperFeatureExtractor; `log_mel` in torch_mufun.py): reflect
// pad, periodic Hann, |STFT|² of 400-point frames every 160 samples, Slaney mel filters, log10
// with Whisper's dynamic-range clamp. The work runs in WebAssembly SIMD (wasm/mel.c: a real FFT
// per frame, four frames per vector); the tables it needs are computed here. Also the 30 s
// clipping rule.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
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
  log10_max(x: number, count: number): number;
  floor_scale(x: number, count: number, top: number): void;
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

/**
 * One WebAssembly instance of wasm/mel.c with room for `maxFrames` frames: log10 mel powers of
 * consecutive frames, [nMels, frames]. One per thread.
 */
export class MelKernel {
  private wasm: MelExports;
  private padded: number;
  private out: number;
  /** the largest value of the last run */
  top = -Infinity;

  constructor(readonly nMels: number, readonly maxFrames: number) {
    compiled ??= new WebAssembly.Module(Buffer.from(MEL_WASM, 'base64'));
    const wasm = (this.wasm = new WebAssembly.Instance(compiled, {}).exports as unknown as MelExports);
    const { band, weights } = melBands(nMels);
    const tables = [hannWindow(), rotations(N_FFT / 2, N_FFT / 2), rotations(N_FFT, N_FREQ), band, weights];
    let at = ((wasm.__heap_base.value as number) + 15) & ~15;
    const place = (bytes: number) => {
      const p = at;
      at = (at + bytes + 15) & ~15;
      return p;
    };
    const offsets = tables.map((t) => place(t.byteLength));
    this.padded = place(4 * this.span(maxFrames));
    this.out = place(4 * nMels * maxFrames);
    if (at > wasm.memory.buffer.byteLength) wasm.memory.grow(Math.ceil((at - wasm.memory.buffer.byteLength) / 65536));
    tables.forEach((t, i) => new Uint8Array(wasm.memory.buffer, offsets[i], t.byteLength).set(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)));
    if (wasm.set_tables(offsets[0], offsets[1], offsets[2], offsets[3], offsets[4], nMels) !== 0) throw new Error(`log-mel: ${nMels} mel bins is more than the kernel's tables hold`);
  }

  /** Samples that `frames` frames read. */
  span(frames: number): number {
    return HOP * frames + N_FFT;
  }

  /** Frames of `padded` (frame t starts at sample 160·t) -> log10 mel [nMels, frames], a view into the instance's memory. */
  run(padded: Float32Array, frames: number): Float32Array {
    new Float32Array(this.wasm.memory.buffer, this.padded, this.span(frames)).set(padded.subarray(0, this.span(frames)));
    this.wasm.log_mel(this.padded, frames, this.out);
    this.top = this.wasm.log10_max(this.out, this.nMels * frames);
    return new Float32Array(this.wasm.memory.buffer, this.out, this.nMels * frames);
  }

  /** Whisper's floor (top − 8) and scaling on a block of this instance's memory, in place. */
  floorScale(block: Float32Array, top: number): void {
    if (block.buffer !== this.wasm.memory.buffer) throw new Error('floorScale: not this kernel\'s memory');
    this.wasm.floor_scale(block.byteOffset, block.length, top);
  }

  /** A block of `count` floats in the instance's memory after its own output (for a helper's frames). */
  scratch(after: number, count: number): Float32Array {
    return new Float32Array(this.wasm.memory.buffer, this.out + 4 * after, count);
  }
}

const WORKER_URL = new URL('./mel-worker.js', import.meta.url);
/** The helper thread exists only in the compiled build (and needs a second core). */
const canUseHelper = (): boolean => WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL)) && availableParallelism() > 1;

export interface LogMelOptions {
  clipSamples?: number;
  /** split each clip's frames with a second thread (default: when the compiled helper and two cores are there) */
  threads?: 1 | 2;
}

/**
 * One clip's log-mel at a time, in WebAssembly SIMD: the earlier frames on this thread, the
 * later ones on a helper thread (its own instance; the padded clip and its output cross in shared
 * memory). The helper is unreferenced between clips, so it never keeps a process alive.
 */
export class LogMel {
  private helper: { worker: Worker; padded: Float32Array; out: Float32Array } | null = null;
  private busy: Promise<unknown> = Promise.resolve();

  private constructor(
    private kernel: MelKernel,
    readonly nMels: number,
    readonly clipSamples: number,
    threads: number,
  ) {
    if (threads < 2) return;
    const padded = new SharedArrayBuffer(4 * (clipSamples + N_FFT));
    const out = new SharedArrayBuffer(4 * nMels * Math.ceil(this.frames / 2));
    const worker = new Worker(WORKER_URL, { workerData: { nMels, maxFrames: Math.ceil(this.frames / 2), padded, out } });
    worker.unref();
    this.helper = { worker, padded: new Float32Array(padded), out: new Float32Array(out) };
  }

  get frames(): number {
    return this.clipSamples / HOP;
  }

  static async create(nMels: number, opts: LogMelOptions = {}): Promise<LogMel> {
    const clipSamples = opts.clipSamples ?? CLIP_SAMPLES;
    if (clipSamples % HOP !== 0 || clipSamples <= N_FFT) throw new Error(`clip length ${clipSamples} must be a multiple of ${HOP} above ${N_FFT}`);
    const frames = clipSamples / HOP;
    // a helper pays off from a few seconds of audio (a message each way per clip)
    const threads = opts.threads ?? (canUseHelper() && frames >= 400 ? 2 : 1);
    return new LogMel(new MelKernel(nMels, frames), nMels, clipSamples, threads);
  }

  /** One clip (zero-padded or truncated to the clip length) -> [nMels · frames] row-major. */
  compute(clip: Float32Array): Promise<Float32Array> {
    // one clip at a time: the padded clip and the helper's output live in buffers of this instance
    const next = this.busy.then(() => this.computeNow(clip));
    this.busy = next.catch(() => {});
    return next;
  }

  private async computeNow(clip: Float32Array): Promise<Float32Array> {
    const L = this.clipSamples, half = N_FFT / 2, F = this.frames, M = this.nMels;
    const x = this.helper?.padded ?? new Float32Array(L + N_FFT);
    const n = Math.min(clip.length, L);
    x.set(clip.subarray(0, n), half);
    x.fill(0, half + n, half + L);
    // center=True: reflect-pad n_fft/2 each side so frame t is centred on sample t·hop
    for (let i = 1; i <= half; i++) {
      x[half - i] = x[half + i];
      x[half + L - 1 + i] = x[half + L - 1 - i];
    }
    const F1 = this.helper ? Math.floor(F / 2) : 0; // the helper's frames: the later ones
    const F0 = F - F1;
    const helped = this.helper ? this.ask(F0, F1) : null;
    const mine = this.kernel.run(x, F0);
    let top = this.kernel.top;
    const out = new Float32Array(M * F);
    if (helped) {
      top = Math.max(top, await helped);
      const theirs = this.kernel.scratch(M * F0, M * F1);
      theirs.set(this.helper!.out.subarray(0, M * F1));
      this.kernel.floorScale(theirs, top);
      for (let m = 0; m < M; m++) out.set(theirs.subarray(m * F1, (m + 1) * F1), m * F + F0);
    }
    this.kernel.floorScale(mine, top);
    for (let m = 0; m < M; m++) out.set(mine.subarray(m * F0, (m + 1) * F0), m * F);
    return out;
  }

  /** Sends frames [first, first + count) to the helper; resolves with their largest log10 value. */
  private ask(first: number, count: number): Promise<number> {
    const { worker } = this.helper!;
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.unref();
        fn();
      };
      const onMessage = (m: { top: number }) => done(() => resolve(m.top));
      const onError = (e: Error) => done(() => reject(e));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.ref(); // the process waits for the answer
      worker.postMessage({ first, count });
    });
  }

  /** Stops the helper thread (the WebAssembly memory goes with the instance). */
  async release(): Promise<void> {
    await this.helper?.worker.terminate();
    this.helper = null;
  }
}
