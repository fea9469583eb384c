import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_SAMPLES, LogMel, clipWaveform, padClip } from '../src/model/audio/mel.js';
import { SafetensorsFile } from '../src/model/safetensors.js';

const FIX = join(import.meta.dirname, 'fixtures/public-a');
const cases = JSON.parse(readFileSync(join(FIX, 'cases.json'), 'utf8'));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('30 s clipping rule', () => {
  const clips = (n: number) => clipWaveform(new Float32Array(n)).map((c) => c.length);

  it('keeps audio up to 30 s as one clip', () => {
    expect(clips(16000)).toEqual([16000]);
    expect(clips(CLIP_SAMPLES)).toEqual([CLIP_SAMPLES]);
  });

  it('drops a trailing clip of 0.5 s or less', () => {
    expect(clips(CLIP_SAMPLES + 8000)).toEqual([CLIP_SAMPLES]);
    expect(clips(CLIP_SAMPLES + 8001)).toEqual([CLIP_SAMPLES, 8001]);
    expect(clips(2 * CLIP_SAMPLES + 8000)).toEqual([CLIP_SAMPLES, CLIP_SAMPLES]);
  });

  it('cuts consecutive clips in order', () => {
    const w = Float32Array.from({ length: 2 * CLIP_SAMPLES + 9000 }, (_, i) => i);
    const c = clipWaveform(w);
    expect(c.map((x) => x[0])).toEqual([0, CLIP_SAMPLES, 2 * CLIP_SAMPLES]);
  });

  it('pads and truncates to the clip length', () => {
    const p = padClip(Float32Array.from([1, 2, 3]), 5);
    expect(Array.from(p)).toEqual([1, 2, 3, 0, 0]);
    expect(Array.from(padClip(Float32Array.from([1, 2, 3, 4, 5, 6]), 5))).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('Whisper log-mel', () => {
  const nMels: number = cases.cases.mel.num_mel_bins;
  const inputs = SafetensorsFile.open(join(FIX, 'inputs.safetensors'));
  const expected = SafetensorsFile.open(join(FIX, 'expected.safetensors'));
  let lm: LogMel;

  beforeAll(async () => {
    lm = await LogMel.create(nMels);
  });
  afterAll(async () => {
    await lm.release();
    inputs.close();
    expected.close();
  });

  for (const [name, seconds, nClips] of cases.spec.waves as [string, number, number][]) {
    it(`matches the reference for wave.${name} (${seconds} s, ${nClips} clips)`, async () => {
      const wave = inputs.float32(`wave.${name}`);
      const clips = clipWaveform(wave);
      expect(clips.length).toBe(nClips);
      for (let c = 0; c < clips.length; c++) {
        const got = await lm.compute(clips[c]);
        expect(got.length).toBe(nMels * 3000);
        const err = maxAbsDiff(got, expected.float32(`mel.${name}.${c}`));
        console.log(`mel.${name}.${c}: max abs error ${err.toExponential(2)}`);
        expect(err).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('reads a clip that is a view into a larger buffer', async () => {
    const wave = inputs.float32('wave.long');
    const view = wave.subarray(1000, 1000 + CLIP_SAMPLES);
    const a = await lm.compute(view);
    const b = await lm.compute(view.slice());
    expect(maxAbsDiff(a, b)).toBe(0);
  });
});
