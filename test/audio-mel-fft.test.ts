// The log-mel (WebAssembly FFT) against a plain float64 DFT, for clip lengths and mel
// counts other than the fixture's (the fixture test covers 30 s × 128 bins against torch).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HOP, LogMel, N_FFT, melFilters } from '../src/model/audio/mel.js';

/** Whisper log-mel in float64, the textbook way (reflect pad, periodic Hann, direct DFT). */
function referenceLogMel(x: Float32Array, nMels: number): Float64Array {
  const n = x.length, F = n / HOP, half = N_FFT / 2, nf = N_FFT / 2 + 1;
  const padded = new Float64Array(n + N_FFT);
  for (let i = 0; i < padded.length; i++) {
    let j = i - half;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    padded[i] = x[j];
  }
  const fb = melFilters(nMels); // [201, nMels]
  const hann = Float64Array.from({ length: N_FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT));
  const cosT = new Float64Array(N_FFT), sinT = new Float64Array(N_FFT);
  for (let i = 0; i < N_FFT; i++) {
    cosT[i] = Math.cos((2 * Math.PI * i) / N_FFT);
    sinT[i] = Math.sin((2 * Math.PI * i) / N_FFT);
  }
  const mel = new Float64Array(nMels * F);
  const power = new Float64Array(nf);
  for (let t = 0; t < F; t++) {
    for (let k = 0; k < nf; k++) {
      let re = 0, im = 0;
      for (let i = 0; i < N_FFT; i++) {
        const v = padded[t * HOP + i] * hann[i], ph = (k * i) % N_FFT;
        re += v * cosT[ph];
        im -= v * sinT[ph];
      }
      power[k] = re * re + im * im;
    }
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = 0; k < nf; k++) s += fb[k * nMels + m] * power[k];
      mel[m * F + t] = Math.log10(Math.max(s, 1e-10));
    }
  }
  let mx = -Infinity;
  for (const v of mel) mx = Math.max(mx, v);
  return mel.map((v) => (Math.max(v, mx - 8) + 4) / 4);
}

describe('log-mel vs a float64 DFT', () => {
  it.each([
    [80, 16000],
    [128, 4800],
  ])('%i bins, %i samples: max abs error <= 1e-4', async (nMels, samples) => {
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5);
    // a tone, quiet noise and a silent stretch: bins across the whole 80 dB range
    const x = Float32Array.from({ length: samples }, (_, i) => (i > samples / 2 && i < (3 * samples) / 4 ? 0 : 0.5 * Math.sin(i * 0.07) + 0.01 * rnd()));
    const lm = await LogMel.create(nMels, { clipSamples: samples });
    const got = await lm.compute(x);
    await lm.release();
    const want = referenceLogMel(x, nMels);
    expect(got.length).toBe(want.length);
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    console.log(`${nMels} bins × ${samples / HOP} frames: max abs error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });
});

describe('the committed WebAssembly', () => {
  const clang = ['/usr/bin/clang-16', '/usr/lib/llvm-16/bin/clang'].find((p) => existsSync(p));
  it.skipIf(!clang)('is what wasm/build.sh makes of mel.c (needs clang-16 and lld-16; skipped without them)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mufun-mel-')), 'mel-wasm.ts');
    execFileSync('bash', [join(import.meta.dirname, '..', 'src', 'model', 'audio', 'wasm', 'build.sh'), out], { stdio: 'pipe' });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(import.meta.dirname, '..', 'src', 'model', 'audio', 'wasm', 'mel-wasm.ts'), 'utf8'));
  });
});

const DIST_MEL = join(import.meta.dirname, '..', 'dist', 'src', 'model', 'audio', 'mel.js');
describe.skipIf(!existsSync(DIST_MEL))('log-mel on two threads (compiled build)', () => {
  it('gives exactly the one-thread result, clip after clip and clips asked at once', async () => {
    const { LogMel: Compiled } = (await import(pathToFileURL(DIST_MEL).href)) as typeof import('../src/model/audio/mel.js');
    const one = await Compiled.create(128, { threads: 1, clipSamples: 160000 });
    const two = await Compiled.create(128, { threads: 2, clipSamples: 160000 });
    try {
      const clips = ([[0.07, 160000], [1.3, 90000], [0.2, 159999]] as const).map(([k, n]) =>
        Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * k) + 0.001 * Math.cos(i * 0.5)));
      for (const x of clips) expect(await two.compute(x)).toEqual(await one.compute(x));
      // asked all at once, each answer is still its own clip's
      const together = await Promise.all(clips.map((x) => two.compute(x)));
      for (const [i, x] of clips.entries()) expect(together[i]).toEqual(await one.compute(x));
    } finally {
      await one.release();
      await two.release();
    }
  });
});
