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
