// Band-limited resampling, matching torchaudio.functional.resample with its defaults
// (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99).
//
// Output sample j sits at time j/new; it is Σᵢ x[i]·sinc(π·base·(i/orig − j/new))·hann, with
// base = 0.99·min(orig, new) the cutoff. After reducing the rates by their gcd, the weights
// repeat every `new` outputs, shifted by `orig` inputs: a bank of `new` FIR phases applied
// with stride `orig` (torchaudio runs it as conv1d(padded, kernel[new, 1, K], stride=orig)).

import * as ort from 'onnxruntime-node';
import { Graph, type Value, ints } from '../ir/graph.js';
import { exportOnnx } from '../ir/onnx.js';
import { concat, reshape, slice, transpose } from '../ir/ops.js';

const LOWPASS_WIDTH = 6; // zero crossings of the sinc kept on each side
const ROLLOFF = 0.99;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface SincKernel {
  /** [phases][taps] row-major, float32 like torchaudio's kernel. */
  weights: Float32Array;
  phases: number; // new rate / gcd
  stride: number; // orig rate / gcd
  taps: number; // 2·width + stride
  width: number; // zeros padded before the signal
}

/**
 * The polyphase kernel of torchaudio's `_get_sinc_resample_kernel`, in float64 then rounded
 * to float32 (torchaudio computes it in the waveform's dtype; the two agree to ~1e-7).
 */
export function sincResampleKernel(origFreq: number, newFreq: number): SincKernel {
  const d = gcd(origFreq, newFreq);
  const orig = origFreq / d;
  const phases = newFreq / d;
  const base = Math.min(orig, phases) * ROLLOFF;
  const width = Math.ceil((LOWPASS_WIDTH * orig) / base); // input samples spanned by 6 zero crossings
  const taps = 2 * width + orig;
  const scale = base / orig; // unit DC gain
  const weights = new Float32Array(phases * taps);
  for (let i = 0; i < phases; i++) {
    for (let j = 0; j < taps; j++) {
      // time from output i to input (j − width), in units of the cutoff period
      let t = (-i / phases + (j - width) / orig) * base;
      t = Math.min(Math.max(t, -LOWPASS_WIDTH), LOWPASS_WIDTH);
      const window = Math.cos((t * Math.PI) / LOWPASS_WIDTH / 2) ** 2; // Hann over ±6 crossings
      const tp = t * Math.PI;
      const sinc = tp === 0 ? 1 : Math.sin(tp) / tp;
      weights[i * taps + j] = sinc * window * scale;
    }
  }
  return { weights, phases, stride: orig, taps, width };
}

/** Resamples a mono waveform between integer rates; equal rates give a copy. */
export function resample(x: Float32Array, origFreq: number, newFreq: number): Float32Array {
  if (!Number.isInteger(origFreq) || !Number.isInteger(newFreq) || origFreq <= 0 || newFreq <= 0) {
    throw new Error(`resample: rates must be positive integers (got ${origFreq} -> ${newFreq})`);
  }
  if (origFreq === newFreq) return x.slice();
  const k = sincResampleKernel(origFreq, newFreq);
  const { weights, phases, stride, taps, width } = k;

  // Zero-pad like torchaudio: width before, width + stride after.
  const padded = new Float32Array(x.length + 2 * width + stride);
  padded.set(x, width);

  const { first, last } = nonzeroTaps(k);

  // A plain loop: this API is synchronous (the fixture, tests); StreamResampler is the fast path.
  const n = Math.ceil((phases * x.length) / stride); // torchaudio's target length
  const y = new Float32Array(n);
  for (let o = 0; o < n; o++) {
    const i = o % phases;
    const start = ((o - i) / phases) * stride; // frame · stride
    const row = i * taps;
    let acc = 0;
    for (let j = first[i]; j <= last[i]; j++) acc += weights[row + j] * padded[start + j];
    y[o] = acc;
  }
  return y;
}

/**
 * Each phase's nonzero taps [first, last]: beyond ±6 zero crossings the Hann window is
 * cos²(π/2), 0 in float32, so only ~2·width of a phase's 2·width + stride taps count.
 */
function nonzeroTaps(k: SincKernel): { first: Int32Array; last: Int32Array } {
  const first = new Int32Array(k.phases), last = new Int32Array(k.phases);
  for (let i = 0; i < k.phases; i++) {
    let a = 0, b = k.taps - 1;
    while (a < b && k.weights[i * k.taps + a] === 0) a++;
    while (b > a && k.weights[i * k.taps + b] === 0) b--;
    first[i] = a;
    last[i] = b;
  }
  return { first, last };
}

/**
 * torchaudio's conv1d(padded, kernel[phases, 1, taps], stride) as an ONNX graph, with the
 * zero taps cut away: consecutive phases are grouped so that each group's nonzero taps span a
 * short window, and each group is one dense Conv over the input shifted to that window
 * (44.1 → 16 kHz: 10 Convs of ≤ 64 taps instead of one of 475). Input x [1, 1, L] of padded
 * signal and `frames` [1]; output y [frames · phases] = outputs of frames 0 … frames − 1.
 */
export function buildResampleGraph(k: SincKernel): Graph {
  const { first, last } = nonzeroTaps(k);
  const nonzero = Math.max(...Array.from(first, (a, i) => last[i] - a + 1));
  const g = new Graph(`resample_${k.stride}_${k.phases}`);
  const x = g.input('x', 'float32', [1, 1, 'length']);
  const frames = g.input('frames', 'int64', [1]);
  const parts: Value[] = [];
  for (let i0 = 0; i0 < k.phases;) {
    // grow the group while its window stays within twice one phase's nonzero span
    let i1 = i0 + 1, a = first[i0], b = last[i0];
    while (i1 < k.phases && Math.max(b, last[i1]) - Math.min(a, first[i1]) + 1 <= 2 * nonzero) {
      a = Math.min(a, first[i1]);
      b = Math.max(b, last[i1]);
      i1++;
    }
    const span = b - a + 1, rows = i1 - i0;
    const w = new Float32Array(rows * span);
    for (let r = 0; r < rows; r++) w.set(k.weights.subarray((i0 + r) * k.taps + a, (i0 + r) * k.taps + a + span), r * span);
    const shifted = slice(x, [a], [Number.MAX_SAFE_INTEGER], [2]);
    const y = g.op('Conv', [shifted, g.weight(`phases_${i0}`, 'float32', [rows, 1, span], w)], {
      kernel_shape: ints([span]), strides: ints([k.stride]),
    });
    parts.push(g.op('Slice', [y, g.ints([0]), frames, g.ints([2])])); // [1, rows, frames]
    i0 = i1;
  }
  const y = transpose(concat(parts, 1), [0, 2, 1]); // [1, frames, phases]: outputs in time order
  g.output(reshape(y, [-1]), 'y', 'float32', ['outputs']);
  return g;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** One session per rate pair and process (building one costs more than resampling a song). */
function resampleSession(k: SincKernel): Promise<ort.InferenceSession> {
  const key = `${k.stride}/${k.phases}`;
  let s = sessions.get(key);
  if (!s) {
    // One thread: decoding runs beside it in workers, and ~20 MFLOP per second of audio is little.
    s = exportOnnx(buildResampleGraph(k)).then((bytes) => ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 }));
    s.catch(() => sessions.delete(key));
    sessions.set(key, s);
  }
  return s;
}

/**
 * The same resampling fed block by block, computed by ONNX Runtime (SIMD convolutions: ~15×
 * the plain loop of `resample`). `push` returns the outputs complete so far, `end` the rest;
 * together they equal `resample(all input)` to float rounding (≤ 1e-6), while only about a
 * kernel plus one batch of input is held. Input is batched to ~`batchSeconds` of output per run.
 */
export class StreamResampler {
  private readonly k: SincKernel | null;
  private buf = new Float32Array(0); // the zero-padded signal from absolute padded index `base`
  private fill = 0;
  private inputs = 0;
  private produced = 0;
  private ended = false;
  private busy = false;
  private readonly minFrames: number;

  constructor(readonly origFreq: number, readonly newFreq: number, batchSeconds = 2) {
    if (!Number.isInteger(origFreq) || !Number.isInteger(newFreq) || origFreq <= 0 || newFreq <= 0) {
      throw new Error(`resample: rates must be positive integers (got ${origFreq} -> ${newFreq})`);
    }
    this.k = origFreq === newFreq ? null : sincResampleKernel(origFreq, newFreq);
    this.minFrames = this.k ? Math.max(1, Math.ceil((batchSeconds * newFreq) / this.k.phases)) : 0;
    if (this.k) this.append(new Float32Array(this.k.width)); // the leading zero pad
  }

  private append(x: Float32Array): void {
    if (this.fill + x.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.fill + x.length, 4096));
      grown.set(this.buf.subarray(0, this.fill));
      this.buf = grown;
    }
    this.buf.set(x, this.fill);
    this.fill += x.length;
  }

  /** Computes every frame whose taps are all buffered (if at least `min`), and drops their input. */
  private async run(min: number): Promise<Float32Array> {
    const { stride, taps } = this.k!;
    const frames = this.fill >= taps ? Math.floor((this.fill - taps) / stride) + 1 : 0;
    if (frames < min || frames === 0) return new Float32Array(0);
    const session = await resampleSession(this.k!);
    const used = (frames - 1) * stride + taps;
    const { y } = await session.run({
      x: new ort.Tensor('float32', this.buf.subarray(0, used), [1, 1, used]),
      frames: new ort.Tensor('int64', BigInt64Array.of(BigInt(frames)), [1]),
    });
    this.buf.copyWithin(0, frames * stride, this.fill);
    this.fill -= frames * stride;
    return y.data as Float32Array;
  }

  /** Awaits one block at a time: a second call before the first resolved would interleave. */
  private exclusive(fn: () => Promise<Float32Array>): Promise<Float32Array> {
    if (this.busy) throw new Error('StreamResampler: await each push before the next');
    this.busy = true;
    return fn().then(
      (y) => {
        this.busy = false;
        this.produced += y.length;
        return y;
      },
      (e) => {
        this.busy = false;
        throw e;
      },
    );
  }

  push(x: Float32Array): Promise<Float32Array> {
    if (this.ended) throw new Error('StreamResampler: push after end');
    if (!this.k) {
      this.inputs += x.length;
      return Promise.resolve(x.slice());
    }
    return this.exclusive(() => {
      this.inputs += x.length;
      this.append(x);
      return this.run(this.minFrames);
    });
  }

  end(): Promise<Float32Array> {
    if (this.ended) throw new Error('StreamResampler: end called twice');
    if (!this.k) {
      this.ended = true;
      return Promise.resolve(new Float32Array(0));
    }
    const k = this.k;
    return this.exclusive(async () => {
      this.ended = true;
      this.append(new Float32Array(k.width + k.stride)); // the trailing zero pad
      const n = Math.ceil((k.phases * this.inputs) / k.stride); // torchaudio's length
      return (await this.run(1)).subarray(0, Math.max(0, n - this.produced));
    });
  }

  /** Outputs so far. */
  get outputs(): number {
    return this.produced;
  }

  /** Input samples held back (a kernel plus less than a batch). */
  get held(): number {
    return this.fill;
  }
}
