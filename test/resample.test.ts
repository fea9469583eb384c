import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resample } from '../src/model/audio/resample.js';
import { SafetensorsFile } from '../src/model/safetensors.js';

const FIX = join(import.meta.dirname, 'fixtures/public-a');

describe('resample (torchaudio sinc_interp_hann)', () => {
  it('matches torchaudio for 44.1 kHz -> 16 kHz', () => {
    const inputs = SafetensorsFile.open(join(FIX, 'inputs.safetensors'));
    const expected = SafetensorsFile.open(join(FIX, 'expected.safetensors'));
    const x = inputs.float32('resample.wave44100');
    const want = expected.float32('resample.wave16000');
    inputs.close();
    expected.close();
    const got = resample(x, 44100, 16000);
    expect(got.length).toBe(want.length);
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    console.log(`resample 44100->16000: max abs error ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-4);
  });

  it('returns a copy for equal rates', () => {
    const x = Float32Array.from([0.1, -0.2, 0.3]);
    const y = resample(x, 16000, 16000);
    expect(Array.from(y)).toEqual(Array.from(x));
    expect(y).not.toBe(x);
  });

  it('gives ceil(new·len/orig) samples for any integer rate pair', () => {
    expect(resample(new Float32Array(48000), 48000, 16000).length).toBe(16000);
    expect(resample(new Float32Array(48001), 48000, 16000).length).toBe(16001);
    expect(resample(new Float32Array(22050), 22050, 16000).length).toBe(16000);
    expect(resample(new Float32Array(8001), 8000, 16000).length).toBe(16002);
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
  });

  it('keeps a low tone when downsampling 48 kHz -> 16 kHz', () => {
    const f = 440;
    const x = Float32Array.from({ length: 48000 }, (_, i) => Math.sin((2 * Math.PI * f * i) / 48000));
    const y = resample(x, 48000, 16000);
    let err = 0; // away from the zero-padded edges
    for (let i = 100; i < y.length - 100; i++) err = Math.max(err, Math.abs(y[i] - Math.sin((2 * Math.PI * f * i) / 16000)));
    expect(err).toBeLessThan(1e-3);
  });

  it('rejects non-integer rates', () => {
    expect(() => resample(new Float32Array(4), 44100.5, 16000)).toThrow();
  });
});
