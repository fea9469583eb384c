// One run for a session that has the GPU machine: what issues 2, 4 and 5 ask to check there.
//   1. the whole fixture (mel … sft.grad.*, lora.*, gen.tokens) on WebGPU in fp32, against the
//      README's tolerances (engine parity, greedy tokens, gradients);
//   2. the engine figures for the mufun-0.6b config on WebGPU (fp32 and fp16): tower ms per clip,
//      prefill of 364 positions, decode tokens/s — next to PyTorch on CUDA in bf16, same run.
// Prints one JSON object. Build: bash bench/gpu-pack.sh (bundles this file, packs node + ORT).
import { join } from 'node:path';
import { compareFixture, runFixture } from '../src/model/fixture.js';
import { engineBench } from './engine.js';

const root = process.argv[2] ?? '.';
const result: Record<string, unknown> = { when: new Date().toISOString() };
const fixture = join(root, 'test', 'fixtures', 'public-a');
try {
  const t0 = performance.now();
  const report = compareFixture(await runFixture(fixture, { ep: 'webgpu', noCache: true }), join(fixture, 'expected.safetensors'));
  const worst: Record<string, { error: number; tolerance: number; ok: boolean }> = {};
  for (const [name, c] of Object.entries(report.cases)) {
    const group = name.split('.').slice(0, name.startsWith('sft.grad') || name.startsWith('lora.grad') ? 2 : 1).join('.');
    if (!worst[group] || c.error > worst[group].error) worst[group] = { error: c.error, tolerance: c.tolerance, ok: c.ok };
  }
  result.fixture_webgpu = { pass: report.pass, notComputed: report.notComputed, worst, seconds: (performance.now() - t0) / 1000 };
} catch (e) {
  result.fixture_webgpu = { error: (e as Error).message };
}
for (const dtype of ['float32', 'float16'] as const) {
  try {
    result[`engine_mufun_0.6b_webgpu_${dtype}`] = await engineBench({
      config: join(root, 'bench', 'configs', 'mufun-0.6b.json'), threads: 16, ep: 'webgpu', dtype, prompt: 364, newTokens: 32,
      baseline: dtype === 'float32', baselineArgs: { device: 'cuda', dtype: 'bfloat16' }, quant: [],
    });
  } catch (e) {
    result[`engine_mufun_0.6b_webgpu_${dtype}`] = { error: (e as Error).message };
  }
}
console.log(JSON.stringify(result, null, 1));
