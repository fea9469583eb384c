// Band-limited resampling, matching torchaudio.functional.resample with its defaults
// (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99).
//
// Output sample j sits at time j/new; it is Σᵢ x[i]·sinc(π·base·(i/orig − j/new))·hann, with
// base = 0.99·min(orig, new) the cutoff. After reducing the rates by their gcd, the weights
// repeat every `new` outputs, shifted by `orig` inputs: a bank of `new` FIR phases applied
// with stride `orig` (torchaudio runs it as conv1d(padded, kernel[new, 1, K], stride=orig)).

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

  // Each phase's nonzero taps: beyond ±6 crossings the window is cos²(π/2), 0 in float32.
  const first = new Int32Array(phases);
  const last = new Int32Array(phases);
  for (let i = 0; i < phases; i++) {
    let a = 0, b = taps - 1;
    while (a < b && weights[i * taps + a] === 0) a++;
    while (b > a && weights[i * taps + b] === 0) b--;
    first[i] = a;
    last[i] = b;
  }

  // Plain loop, not an ONNX Conv: this API is synchronous, and only ~2·width of each phase's
  // 2·width + stride taps are nonzero, which a dense Conv would multiply anyway (14× for 44.1k).
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
 * The same resampling fed block by block: `push` returns the outputs that are complete so far,
 * `end` the rest. The concatenated outputs equal `resample(all input)` exactly (same taps,
 * same summation order), while only about one kernel's worth of input is held back.
 */
export class StreamResampler {
  private readonly k: SincKernel | null;
  private readonly first: Int32Array;
  private readonly last: Int32Array;
  private buf: Float32Array; // the zero-padded signal from absolute index `base`
  private base = 0;
  private fill = 0; // valid samples in buf
  private inputs = 0; // input samples pushed
  private produced = 0; // outputs returned
  private ended = false;
  private packed = new Float64Array(0); // each phase's nonzero taps, row-padded to maxLen
  private len = new Int32Array(0);
  private maxLen = 0;
  private lastMax = 0;

  constructor(readonly origFreq: number, readonly newFreq: number) {
    if (!Number.isInteger(origFreq) || !Number.isInteger(newFreq) || origFreq <= 0 || newFreq <= 0) {
      throw new Error(`resample: rates must be positive integers (got ${origFreq} -> ${newFreq})`);
    }
    this.k = origFreq === newFreq ? null : sincResampleKernel(origFreq, newFreq);
    const phases = this.k?.phases ?? 0, taps = this.k?.taps ?? 0;
    this.first = new Int32Array(phases);
    this.last = new Int32Array(phases);
    for (let i = 0; i < phases; i++) {
      const w = this.k!.weights;
      let a = 0, b = taps - 1;
      while (a < b && w[i * taps + a] === 0) a++;
      while (b > a && w[i * taps + b] === 0) b--;
      this.first[i] = a;
      this.last[i] = b;
    }
    if (this.k) {
      this.len = Int32Array.from({ length: phases }, (_, i) => this.last[i] - this.first[i] + 1);
      this.maxLen = Math.max(...this.len);
      this.lastMax = Math.max(...this.last);
      this.packed = new Float64Array(phases * this.maxLen);
      for (let i = 0; i < phases; i++) {
        for (let j = 0; j < this.len[i]; j++) this.packed[i * this.maxLen + j] = this.k.weights[i * taps + this.first[i] + j];
      }
    }
    this.buf = new Float32Array(Math.max(1024, (this.k?.taps ?? 0) * 4));
    if (this.k) this.fill = this.k.width; // the leading zero pad
  }

  private append(x: Float32Array): void {
    if (this.fill + x.length > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.fill + x.length));
      grown.set(this.buf.subarray(0, this.fill));
      this.buf = grown;
    }
    this.buf.set(x, this.fill);
    this.fill += x.length;
  }

  /** Outputs o < limit whose taps all lie in the buffer. */
  private run(limit: number): Float32Array {
    const { phases, stride } = this.k!;
    const avail = this.base + this.fill; // padded samples known
    const buf = this.buf, base = this.base;
    const packed = this.packed, first = this.first, len = this.len, maxLen = this.maxLen;
    // outputs this call can complete: every tap of output o lies below `avail`
    let o = this.produced;
    const start0 = o;
    let f = Math.floor(o / phases), i = o - f * phases;
    const count = Math.max(0, Math.min(limit, this.completable(avail)) - o);
    const y = new Float32Array(count);
    for (let n = 0; n < count; n++) {
      const s = f * stride - base + first[i], row = i * maxLen, L = len[i];
      let acc = 0; // the same left-to-right sum as `resample`
      for (let j = 0; j < L; j++) acc += packed[row + j] * buf[s + j];
      y[n] = acc;
      if (++i === phases) {
        i = 0;
        f++;
      }
    }
    o = start0 + count;
    this.produced = o;
    // Drop what no later output needs: the next output's frame start.
    const nextStart = Math.floor(o / phases) * stride;
    const drop = Math.min(this.fill, Math.max(0, nextStart - this.base));
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.fill);
      this.fill -= drop;
      this.base += drop;
    }
    return y;
  }

  /** The number of outputs whose last tap lies below `avail` padded samples. */
  private completable(avail: number): number {
    const { phases, stride } = this.k!;
    // output o = f·phases + i needs f·stride + last[i] < avail; last[i] grows with i
    const fFull = Math.floor((avail - 1 - this.lastMax) / stride); // frames complete for every phase
    let o = Math.max(0, (fFull + 1) * phases);
    const f = Math.max(0, fFull + 1);
    for (let i = 0; i < phases && f * stride + this.last[i] < avail; i++) o = f * phases + i + 1;
    return Math.max(o, this.produced);
  }

  push(x: Float32Array): Float32Array {
    if (this.ended) throw new Error('StreamResampler: push after end');
    this.inputs += x.length;
    if (!this.k) return x.slice();
    this.append(x);
    return this.run(Infinity);
  }

  end(): Float32Array {
    if (this.ended) throw new Error('StreamResampler: end called twice');
    this.ended = true;
    if (!this.k) return new Float32Array(0);
    this.append(new Float32Array(this.k.width + this.k.stride)); // the trailing zero pad
    const n = Math.ceil((this.k.phases * this.inputs) / this.k.stride); // torchaudio's length
    return this.run(n);
  }

  /** Outputs so far. */
  get outputs(): number {
    return this.produced;
  }
}
