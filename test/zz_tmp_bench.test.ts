import { it } from 'vitest';
import { LogMel } from '../src/model/audio/mel.js';
it('bench', async () => {
  const lm = await LogMel.create(128, { intraOpNumThreads: 2 });
  const x = Float32Array.from({ length: 480000 }, (_, i) => Math.sin(i * 0.01) * 0.3 + (Math.random() - 0.5) * 0.1);
  await lm.compute(x);
  const N = 20; const t0 = performance.now();
  for (let i = 0; i < N; i++) await lm.compute(x);
  console.log(`LogMel 30 s clip, 2 threads: ${((performance.now() - t0) / N).toFixed(1)} ms`);
  await lm.release();
});
