// Whisper's log-mel spectrogram (WhisperFeatureExtractor; `log_mel` in torch_mufun.py) as an
// ONNX graph: reflect pad, framing (frames as columns), the STFT as a two-stage FFT of two
// GEMMs, power, mel filterbank, log10 with Whisper's dynamic-range clamp. Also the 30 s
// clipping rule.
import * as ort from 'onnxruntime-node';
import { Graph, type Value, int, str } from '../ir/graph.js';
import { exportOnnx } from '../ir/onnx.js';
import { addScalar, concat, gather, log, matmul, max, mul, mulScalar, reduceMax, reshape, slice, transpose } from '../ir/ops.js';

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

/**
 * The STFT as a matrix [400, 2·201]: column k is hann·cos(2πkn/400) (real part), column
 * 201+k is −hann·sin(2πkn/400) (imaginary part). Periodic Hann, as torch.hann_window.
 */
export function dftBasis(): Float32Array {
  const w = new Float32Array(2 * N_FREQ * N_FFT);
  const step = (2 * Math.PI) / N_FFT;
  for (let k = 0; k < N_FREQ; k++) {
    for (let n = 0; n < N_FFT; n++) {
      const hann = 0.5 - 0.5 * Math.cos(step * n);
      const phase = step * ((k * n) % N_FFT); // reduce first: exact angles for large k·n
      w[n * 2 * N_FREQ + k] = hann * Math.cos(phase);
      w[n * 2 * N_FREQ + N_FREQ + k] = -hann * Math.sin(phase);
    }
  }
  return w;
}

// ---------------------------------------------------------------- the graph

const N1 = 16, N2 = 25; // N_FFT = N1 · N2; n = N2·n1 + n2, k = k1 + N1·k2
const K2 = Math.ceil(N_FREQ / N1); // 13: k2 values needed for k ≤ 200
const J = N1 / 2 + 1; // 9 stage-1 bins k1 = 0…8 (real input: 16 − j is the conjugate of j)
const ROWS2 = 4 * K2; // stage-2 outputs per j: Re, Im for k1 = j and for k1 = 16 − j

/** Periodic Hann window (torch.hann_window), float64 rounded to float32. */
export function hannWindow(): Float32Array {
  return Float32Array.from({ length: N_FFT }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N_FFT));
}

/**
 * The FFT factors for 400 = 16 · 25 (n = 25·n1 + n2, k = k1 + 16·k2), using the real input's
 * symmetry: stage 1 (a DFT over n1) is only needed for k1 = j = 0…8, since k1 = 16 − j is its
 * conjugate. Stage 1: [18, 16], rows 2j and 2j + 1 = cos and −sin of 2π·n1·j/16 (the sine
 * rows of j = 0 and 8 are zero). Stage 2, per j: [52, 50] from [Re n2 | Im n2] to
 * [Re, Im of k1 = j | Re, Im of k1 = 16 − j] for k2 = 0…12, the twiddles W_400^(n2·k1) folded
 * in (conjugating the input for 16 − j). Unused outputs (k1 = 16, duplicate k1 = 8) are zero.
 */
export function fftFactors(): { stage1: Float32Array; stage2: Float32Array } {
  const stage1 = new Float32Array(2 * J * N1);
  for (let j = 0; j < J; j++) {
    for (let n = 0; n < N1; n++) {
      const ph = (2 * Math.PI * ((j * n) % N1)) / N1;
      stage1[2 * j * N1 + n] = Math.cos(ph);
      stage1[(2 * j + 1) * N1 + n] = j === 0 || j === N1 / 2 ? 0 : -Math.sin(ph);
    }
  }
  const C = 2 * N2;
  const stage2 = new Float32Array(J * ROWS2 * C);
  for (let j = 0; j < J; j++) {
    for (const conj of [false, true]) {
      const k1 = conj ? N1 - j : j;
      if (conj && (j === 0 || j === N1 / 2)) continue; // k1 = 16 does not exist; 8 is done once
      for (let k2 = 0; k2 < K2; k2++) {
        const re = (j * ROWS2 + (conj ? 2 * K2 : 0) + k2) * C, im = re + K2 * C;
        for (let n = 0; n < N2; n++) {
          const ph = (2 * Math.PI * ((n * (k1 + N1 * k2)) % N_FFT)) / N_FFT;
          const c = Math.cos(ph), sn = -Math.sin(ph);
          // (a ± ib)(c + i·sn): Re = a·c ∓ b·sn, Im = a·sn ± b·c
          const sign = conj ? -1 : 1;
          stage2[re + n] = c;
          stage2[re + N2 + n] = -sign * sn;
          stage2[im + n] = sn;
          stage2[im + N2 + n] = sign * c;
        }
      }
    }
  }
  return { stage1, stage2 };
}

/** The bin of stage-2 output row r of group j (−1 when unused or beyond 200). */
function binOf(j: number, r: number): number {
  const conj = r >= 2 * K2;
  const k2 = r % K2;
  const k1 = conj ? N1 - j : j;
  if (conj && (j === 0 || j === N1 / 2)) return -1;
  const k = k1 + N1 * k2;
  return k < N_FREQ ? k : -1;
}

/**
 * The mel filterbank as dense bands: consecutive filters grouped `groupSize` at a time, each
 * group with the stage-2 power rows of the bins its filters cover and its filters' weights on
 * them ([groupSize, rows.length]). A triangular filter covers a few bins, so the bands hold
 * ~8 % of the full [nMels, 201] product's terms; the sum over a filter's bins is the same.
 */
export function melBands(nMels: number, groupSize = 16): { rows: number[]; weights: Float32Array; filters: number }[] {
  const fb = melFilters(nMels); // [201, nMels]
  const rowOfBin = new Int32Array(N_FREQ).fill(-1); // the power row (j, pair, k2) of each bin
  for (let j = 0; j < J; j++) {
    for (let pair = 0; pair < 2; pair++) {
      for (let k2 = 0; k2 < K2; k2++) {
        const k = binOf(j, pair * 2 * K2 + k2);
        if (k >= 0) rowOfBin[k] = (j * 2 + pair) * K2 + k2;
      }
    }
  }
  const bands = [];
  for (let m0 = 0; m0 < nMels; m0 += groupSize) {
    const m1 = Math.min(nMels, m0 + groupSize);
    const bins: number[] = [];
    for (let k = 0; k < N_FREQ; k++) {
      for (let m = m0; m < m1; m++) {
        if (fb[k * nMels + m] !== 0) {
          bins.push(k);
          break;
        }
      }
    }
    const weights = new Float32Array((m1 - m0) * bins.length);
    for (let m = m0; m < m1; m++) bins.forEach((k, c) => (weights[(m - m0) * bins.length + c] = fb[k * nMels + m]));
    bands.push({ rows: bins.map((k) => rowOfBin[k]), weights, filters: m1 - m0 });
  }
  return bands;
}

/**
 * The frames as columns, windowed: [400, F] with column t = hann · padded[160·t : 160·t + 400],
 * built from the padded signal as [F + 2, 160] transposed (rows 0–159, 160–319 and 320–399
 * are that transpose shifted by 0, 1 and 2 columns): no gather, one transpose.
 */
function windowedFramesT(g: Graph, padded: Value, F: number): Value {
  const rows = F + 2; // padded is 160·F + 400 long: its first 160·(F + 2) samples hold every frame
  const pt = transpose(reshape(slice(padded, [0], [rows * HOP], [0]), [rows, HOP]), [1, 0]); // [160, F + 2]
  const xT = concat([
    slice(pt, [0, 0], [HOP, F], [0, 1]),
    slice(pt, [0, 1], [HOP, F + 1], [0, 1]),
    slice(pt, [0, 2], [N_FFT - 2 * HOP, F + 2], [0, 1]),
  ], 0); // [400, F]
  return mul(xT, g.weight('stft.window', 'float32', [N_FFT, 1], hannWindow()));
}

/**
 * Mel power of windowed frames as columns [400, F] -> [nMels, F]: a two-stage Cooley–Tukey
 * DFT (400 = 16 · 25) as two float32 GEMMs, stage 1 over n1 (16 terms, only the 9 k1 that real
 * input needs), stage 2 per k1 group over n2 (50 terms, twiddles folded in), then squares and
 * banded GEMMs with the mel filters (melBands). Each value sums at
 * most 50 products: one GEMM against the whole DFT basis sums 400 and misses the 1e-4
 * tolerance in the quietest bins the 80 dB floor keeps; this stays within 6.5e-5 on the
 * public-a fixture. No big intermediate is transposed, sliced or cast.
 */
function melPowerT(g: Graph, xT: Value, F: number, nMels: number): Value {
  const f = fftFactors();
  const x = reshape(xT, [N1, N2 * F]); // rows n1, columns (n2, t)
  const s1 = matmul(g.weight('stft.stage1', 'float32', [2 * J, N1], f.stage1), x); // [(j, re|im), (n2, t)]
  const z = reshape(s1, [J, 2 * N2, F]); // per j: rows Re n2 | Im n2
  const y = matmul(g.weight('stft.stage2', 'float32', [J, ROWS2, 2 * N2], f.stage2), z); // [j, 52, t]
  // |X|² = Re² + Im²: rows per j are [Re, Im of k1 = j | Re, Im of k1 = 16 − j] × 13
  const sq = g.op('ReduceSum', [reshape(mul(y, y), [J, 2, 2, K2, F]), g.ints([2])], { keepdims: int(0) });
  const power = reshape(sq, [J * 2 * K2, F]); // bin powers, rows (j, pair, k2)
  return concat(melBands(nMels).map((b, i) => matmul(
    g.weight(`mel.band${i}`, 'float32', [b.filters, b.rows.length], b.weights),
    gather(power, g.ints(b.rows)),
  )), 0); // [nMels, t]
}

/** wave float32 [clipSamples] -> mel float32 [nMels, clipSamples/160]. */
export function buildLogMelGraph(nMels: number, clipSamples = CLIP_SAMPLES): Graph {
  if (clipSamples % HOP !== 0 || clipSamples <= N_FFT) throw new Error(`clip length ${clipSamples} must be a multiple of ${HOP} above ${N_FFT}`);
  const frames = clipSamples / HOP; // the STFT gives frames+1; Whisper drops the last
  const g = new Graph('log_mel');
  const wave = g.input('wave', 'float32', [clipSamples]);

  // center=True: reflect-pad n_fft/2 each side so frame t is centred on sample t·hop.
  const half = N_FFT / 2;
  const padded = g.op('Pad', [wave, g.ints([half, half])], { mode: str('reflect') });

  const mel = melPowerT(g, windowedFramesT(g, padded, frames), frames, nMels); // [nMels, frames]

  // log10(clamp(mel, 1e-10)), floor at max − 8 (80 dB range), then scale to about [−1, 1].
  const lg = mulScalar(log(max(mel, g.scalar(1e-10))), 1 / Math.LN10);
  const floored = max(lg, addScalar(reduceMax(lg, null), -8));
  g.output(mulScalar(addScalar(floored, 4), 0.25), 'mel', 'float32', [nMels, frames]);
  return g;
}

// ---------------------------------------------------------------- runtime wrapper

export interface LogMelOptions {
  executionProviders?: string[];
  clipSamples?: number;
  intraOpNumThreads?: number;
}

/** An ONNX Runtime session computing one clip's log-mel at a time. */
export class LogMel {
  private constructor(
    private session: ort.InferenceSession,
    readonly nMels: number,
    readonly clipSamples: number,
  ) {}

  get frames(): number {
    return this.clipSamples / HOP;
  }

  static async create(nMels: number, opts: LogMelOptions = {}): Promise<LogMel> {
    const clipSamples = opts.clipSamples ?? CLIP_SAMPLES;
    const bytes = await exportOnnx(buildLogMelGraph(nMels, clipSamples));
    const sessionOpts: ort.InferenceSession.SessionOptions = {};
    if (opts.executionProviders) sessionOpts.executionProviders = opts.executionProviders;
    if (opts.intraOpNumThreads) sessionOpts.intraOpNumThreads = opts.intraOpNumThreads;
    return new LogMel(await ort.InferenceSession.create(bytes, sessionOpts), nMels, clipSamples);
  }

  /** One clip (padded/truncated to the clip length) -> [nMels · frames] row-major. */
  async compute(clip: Float32Array): Promise<Float32Array> {
    const wave = new ort.Tensor('float32', padClip(clip, this.clipSamples), [this.clipSamples]);
    const { mel } = await this.session.run({ wave });
    return mel.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
