// One run for a session that has the GPU machine: what issues 2, 4 and 5 ask to check there.
//   1. the whole fixture (mel … sft.grad.*, lora.*, gen.tokens) on WebGPU in fp32, against the
//      README's tolerances (engine parity, greedy tokens, gradients), with the plain attention and
//      with GroupQueryAttention in the decode graph;
//   2. the engine figures for the mufun-0.6b config on WebGPU (fused kernels, KV cache in GPU
//      memory): fp16 with GroupQueryAttention (tower ms per clip, prefill of 364 positions, decode
//      tokens/s) next to PyTorch on CUDA in bf16, then prefill and decode for fp16 with the plain
//      attention and fp32 with GroupQueryAttention, same run.
//   3. MuFun-nano's LLM training step (the recipe's letters and mixed stages: batch 8, the tower's
//      audio tokens cached) on WebGPU and on the machine's CPU (16 and 2 threads), PyTorch beside:
//      how much of the recipe's time a GPU would save.
// (Earlier runs: bench/results/gpu-h200-2026-11-26*.json, incl. a small-config training step.)
// Writes the JSON after every section (argv[3], so a run cut short still reports) and prints it.
// argv[4], optional: the sections to run, comma-separated prefixes (e.g. "train_nano").
// Build: bash bench/gpu-pack.sh (bundles this file, packs node + ORT).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareFixture, runFixture } from '../src/model/fixture.js';
import { engineBench } from './engine.js';
import { trainBench } from './train.js';

const root = process.argv[2] ?? '.';
const outFile = process.argv[3];
const only = process.argv[4]?.split(',');
const seconds: Record<string, number> = {};
const result: Record<string, unknown> = { when: new Date().toISOString(), seconds };
const save = () => outFile && writeFileSync(outFile, JSON.stringify(result, null, 1));

async function section(name: string, fn: () => Promise<unknown>): Promise<void> {
  if (only && !only.some((p) => name.startsWith(p))) return;
  const t0 = performance.now();
  try {
    result[name] = await fn();
  } catch (e) {
    result[name] = { error: (e as Error).stack ?? String(e) };
  }
  seconds[name] = Math.round((performance.now() - t0) / 100) / 10;
  save();
  console.error(`${name}: done`);
}

const fixture = join(root, 'test', 'fixtures', 'public-a');
const fixtureOn = (gqa: boolean) => async () => {
  // fused kernels and the KV cache on the GPU: what chat gets there by default
  const report = compareFixture(await runFixture(fixture, { ep: 'webgpu', noCache: true, gqa }), join(fixture, 'expected.safetensors'));
  const worst: Record<string, { error: number; tolerance: number; ok: boolean }> = {};
  for (const [name, c] of Object.entries(report.cases)) {
    const group = name.split('.').slice(0, name.startsWith('sft.grad') || name.startsWith('lora.grad') ? 2 : 1).join('.');
    if (!worst[group] || c.error > worst[group].error) worst[group] = { error: c.error, tolerance: c.tolerance, ok: c.ok };
  }
  const failed = Object.entries(report.cases).filter(([, c]) => !c.ok).map(([n, c]) => `${n}: ${c.error} > ${c.tolerance}`);
  return { pass: report.pass, notComputed: report.notComputed, worst, failed: failed.slice(0, 20) };
};
await section('fixture_webgpu', fixtureOn(false));
await section('fixture_webgpu_gqa', fixtureOn(true));

const config = join(root, 'bench', 'configs', 'mufun-0.6b.json');
const cache = mkdtempSync(join(tmpdir(), 'mufun-gpu-'));
const engine = (dtype: 'float32' | 'float16', gqa: boolean, full: boolean) => () =>
  engineBench({
    config, threads: 16, ep: 'webgpu', dtype, prompt: 364, newTokens: 32, fused: true, gqa, cacheDir: cache,
    baseline: full, llmOnly: !full, baselineArgs: { device: 'cuda', dtype: 'bfloat16' }, quant: [],
  });
await section('engine_mufun_0.6b_webgpu_float16_gqa', engine('float16', true, true));
await section('engine_mufun_0.6b_webgpu_float16_plain_attention', engine('float16', false, false));
await section('engine_mufun_0.6b_webgpu_float32_gqa', engine('float32', true, false));
// MuFun-nano's LLM stages: 100 audio tokens and ~60 of text a sample
const nano = join(root, 'recipes', 'mufun-nano', 'config-wide.json');
// torch_mufun.py pads every clip to 30 s: its copy of the config has a 30 s tower (1500
// positions), which the LLM's training step, measured here, does not use
function nanoTorchConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'mufun-nano-')), 'config.json');
  const c = JSON.parse(readFileSync(nano, 'utf8'));
  writeFileSync(path, JSON.stringify({ ...c, vision_config: { ...c.vision_config, max_source_positions: 1500 } }));
  return path;
}
const nanoStep = (ep: 'webgpu' | 'cpu', threads: number, baselineArgs: Record<string, string>) => () =>
  trainBench({ config: nano, threads, batch: 8, seq: 160, loraR: 8, baseline: true, ep, baselineArgs, baselineConfig: nanoTorchConfig() });
await section('train_nano_webgpu', nanoStep('webgpu', 16, { device: 'cuda' }));
await section('train_nano_cpu16', nanoStep('cpu', 16, {}));
await section('train_nano_cpu2', nanoStep('cpu', 2, {}));
console.log(JSON.stringify(result, null, 1));
