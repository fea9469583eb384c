// Engine forward speed for a config (random weights), next to PyTorch on the same config and
// thread count: log-mel and tower ms per 30 s clip, prefill ms, decode tokens/s.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { greedyTokens, screenFeeds } from '../src/model/generate.js';
import { MufunModel } from '../src/model/mufun.js';
import type { QuantMode } from '../src/model/quant.js';
import { Sampler } from '../src/model/sampling.js';
import type { ExecutionProvider } from '../src/model/runtime.js';
import { type SplicePlan, planSplice } from '../src/model/splice.js';
import { SyntheticWeights } from '../src/model/synthetic.js';
import { torchBench } from './baseline.js';
import { bestMs } from './timing.js';

export interface EngineBenchOptions {
  config: string;
  threads: number;
  ep: ExecutionProvider;
  prompt: number;
  newTokens: number;
  baseline: boolean;
  /** also time prefill and decode with the LLM weight-only quantized (ours.int8, ours.int4) */
  quant?: QuantMode[];
  /** session precision (float16 on GPUs) */
  dtype?: 'float32' | 'float16';
  /** extra torch_mufun.py arguments, e.g. { device: 'cuda', dtype: 'bfloat16' } on the GPU machine */
  baselineArgs?: Record<string, string | number>;
  /** GPU providers: keep the KV cache in device memory between decode steps (default true) */
  kvOnDevice?: boolean;
  /** onnxruntime's fused kernels in the LLM graphs (default on) */
  fused?: boolean;
  /** GroupQueryAttention in the decode graph (RuntimeOptions.gqa; default: CPU only) */
  gqa?: boolean;
  /** time only prefill and decode (an A/B of LLM options next to a full run) */
  llmOnly?: boolean;
  /** keep exported graphs here (shared between runs, not deleted); default a temporary folder */
  cacheDir?: string;
}

/** What chat runs: the prompt through the KV-cache graph (logits for the last position), then decode. */
async function llmTimes(model: MufunModel, plan: SplicePlan, o: EngineBenchOptions): Promise<{ prefill_ms: number; decode_tokens_per_s: number }> {
  const gen = await model.llm('generate');
  const prefill_ms = await bestMs(async () => {
    const out = await gen.run({ ...model.feeds(plan, null), ...model.newCache().feeds(),
      logits_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(o.prompt - 1)), [1]), ...screenFeeds(gen, [{ sampler: new Sampler(), generated: [] }]) });
    for (const t of Object.values(out)) if (t.location === 'gpu-buffer') t.dispose();
  });
  const tDecode = await bestMs(() => greedyTokens(model, plan, null, o.newTokens + 1), 2);
  return { prefill_ms, decode_tokens_per_s: o.newTokens / ((tDecode - prefill_ms) / 1000) };
}

export async function engineBench(o: EngineBenchOptions): Promise<Record<string, unknown>> {
  const pytorch = o.baseline ? torchBench(o.config, { threads: o.threads, prompt: o.prompt, new: o.newTokens, clips: 1, ...o.baselineArgs }) : null;
  const cacheDir = o.cacheDir ?? mkdtempSync(join(tmpdir(), 'mufun-bench-'));
  const raw = JSON.parse(readFileSync(o.config, 'utf8'));
  const model = MufunModel.fromConfig(raw, new SyntheticWeights(), { ep: o.ep, threads: o.threads, cacheDir, dtype: o.dtype, kvOnDevice: o.kvOnDevice, fused: o.fused, gqa: o.gqa });
  const ours: Record<string, number | Record<string, number>> = {};
  try {
    if (!o.llmOnly) {
      const wave = new Float32Array(model.clipSamples).map(() => (Math.random() - 0.5) * 0.2);
      const mel = await model.logMel();
      ours.mel_ms_per_clip = await bestMs(() => mel.compute(wave));
      const feats = await model.melClips(wave);
      await model.audioEncoder();
      ours.tower_ms_per_clip = await bestMs(() => model.encodeClips(feats));
    }
    const V = model.config.llm.vocabSize;
    const ids = Array.from({ length: o.prompt }, () => Math.floor(Math.random() * V));
    const plan = planSplice([{ ids }], [], model.tokensPerClip);
    Object.assign(ours, await llmTimes(model, plan, o));
    if (!o.llmOnly) {
      // The same work as the baseline's prefill: logits for every prompt position.
      await model.llm('logits');
      ours.prefill_all_logits_ms = await bestMs(() => model.forward(plan, null));
    }
    await model.release();
    // Weight-only quantized LLM (the audio tower stays float, so its time is the one above).
    for (const quant of o.quant ?? []) {
      const qm = MufunModel.fromConfig(raw, new SyntheticWeights(), { ep: o.ep, threads: o.threads, cacheDir, quant });
      try {
        ours[quant] = await llmTimes(qm, plan, o);
      } finally {
        await qm.release();
      }
    }
  } finally {
    await model.release();
    if (!o.cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  }
  const ratio = (a: unknown, b: number | undefined) => (typeof a === 'number' && b ? Number((a / b).toFixed(3)) : null);
  const quantRatios = Object.fromEntries((o.quant ?? []).flatMap((q) => {
    const r = ours[q] as Record<string, number> | undefined;
    return [[`${q}_prefill_ms`, ratio(r?.prefill_ms, pytorch?.prefill_ms)], [`${q}_decode_tokens_per_s`, ratio(r?.decode_tokens_per_s, pytorch?.decode_tokens_per_s)]];
  }));
  return {
    bench: 'engine',
    config: basename(o.config, '.json'),
    threads: o.threads,
    ep: o.ep,
    prompt_tokens: o.prompt,
    dtype: o.dtype ?? 'float32',
    ...(o.ep !== 'cpu' ? { kv_on_device: o.kvOnDevice !== false, fused: o.fused !== false, gqa: o.gqa === true } : {}),
    ours,
    pytorch,
    ours_over_pytorch: pytorch && !pytorch.error ? {
      mel_ms_per_clip: ratio(ours.mel_ms_per_clip, pytorch.mel_ms_per_clip),
      tower_ms_per_clip: ratio(ours.tower_ms_per_clip, pytorch.tower_ms_per_clip),
      prefill_ms: ratio(ours.prefill_ms, pytorch.prefill_ms),
      prefill_all_logits_ms: ratio(ours.prefill_all_logits_ms, pytorch.prefill_ms),
      decode_tokens_per_s: ratio(ours.decode_tokens_per_s, pytorch.decode_tokens_per_s),
      ...quantRatios,
    } : null,
  };
}
