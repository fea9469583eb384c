import { it } from 'vitest';
import { resample } from '../src/model/audio/resample.js';
it('rs', () => {
  for (const [a, b] of [[44100, 16000], [48000, 16000], [22050, 16000], [8000, 16000]]) {
    const x = Float32Array.from({ length: 390 * a }, () => Math.random() - 0.5);
    const t0 = performance.now(); const y = resample(x, a, b);
    console.log(`${a}->${b}: 390 s in ${(performance.now() - t0).toFixed(0)} ms, len ${y.length}`);
  }
});
