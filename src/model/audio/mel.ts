// Whisper's log-mel spectrogram (WhisperFeatureExtractor; `log_mel` in torch_mufun.py) as an
// ONNX graph: reflect pad, framing, STFT as one GEMM against a windowed DFT basis, power, mel
// filterbank, log10 with Whisper's dynamic-range clamp. Also the 30 s clipping rule.
import * as ort from 'onnxruntime-node';
import { Graph, str } from '../ir/graph.js';
import { exportOnnx } from '../ir/onnx.js';
import { ONNX_DTYPE, add, addScalar, cast, concat, log, matmul, max, mul, mulScalar, reduceMax, reshape, slice, transpose } from '../ir/ops.js';

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

const DOUBLE = 11; // ONNX TensorProto.DOUBLE, for Cast

/** wave float32 [clipSamples] -> mel float32 [nMels, clipSamples/160]. */
export function buildLogMelGraph(nMels: number, clipSamples = CLIP_SAMPLES): Graph {
  if (clipSamples % HOP !== 0 || clipSamples <= N_FFT) throw new Error(`clip length ${clipSamples} must be a multiple of ${HOP} above ${N_FFT}`);
  const frames = clipSamples / HOP; // the STFT gives frames+1; Whisper drops the last
  const g = new Graph('log_mel');
  const wave = g.input('wave', 'float32', [clipSamples]);

  // center=True: reflect-pad n_fft/2 each side so frame t is centred on sample t·hop.
  const half = N_FFT / 2;
  const padded = g.op('Pad', [wave, g.ints([half, half])], { mode: str('reflect') });

  // Frames [frames, 400] without a gather: cut the signal into 80-sample blocks (gcd of hop
  // and n_fft); frame t is blocks 2t..2t+4, so it is 5 strided slices of the blocks side by side.
  const block = 80, step = HOP / block, perFrame = N_FFT / block; // 80 = gcd(160, 400)
  const blocks = reshape(padded, [(clipSamples + N_FFT) / block, block]);
  const cols = Array.from({ length: perFrame }, (_, j) =>
    g.op('Slice', [blocks, g.ints([j]), g.ints([j + step * frames]), g.ints([0]), g.ints([step])]),
  );
  const framed = concat(cols, 1);

  // STFT as one GEMM against the windowed DFT basis, accumulated in float64: summed in float32
  // (a Conv), 400 products are off by up to 1e-4 in the quietest bins the 80 dB floor keeps;
  // in float64 the error is the reference's own FFT rounding (~3e-5). ORT's Conv has no float64.
  const basis = g.weight('stft.basis', 'float32', [N_FFT, 2 * N_FREQ], dftBasis());
  const spec = matmul(cast(framed, DOUBLE), cast(basis, DOUBLE)); // [frames, re 201 | im 201]
  const re = slice(spec, [0], [N_FREQ], [1]);
  const im = slice(spec, [N_FREQ], [2 * N_FREQ], [1]);
  const power = cast(add(mul(re, re), mul(im, im)), ONNX_DTYPE.float32); // |X|², [frames, 201]

  const fb = g.weight('mel.filters', 'float32', [N_FREQ, nMels], melFilters(nMels));
  const mel = transpose(matmul(power, fb), [1, 0]); // [nMels, frames]

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
