// Training step speed on a config (random weights): one micro-batch of `batch` rows × `seq`
// tokens, loss + gradients of every LLM weight (full finetune) or of LoRA adapters on every
// linear layer, next to torch_mufun.py's train step (loss + backward of all weights) from the same run.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ALL_LINEAR_QWEN3, loraAttachment } from '../src/model/lora.js';
import { MufunModel } from '../src/model/mufun.js';
import { type ExecutionProvider, createSession } from '../src/model/runtime.js';
import { planSplice } from '../src/model/splice.js';
import { SyntheticWeights } from '../src/model/synthetic.js';
import { AdamW } from '../src/model/train/adamw.js';
import { buildTrainGraph } from '../src/model/train/graph.js';
import { ParamStore } from '../src/model/train/params.js';
import { torchBench } from './baseline.js';
import { bestMs } from './timing.js';

export interface TrainBenchOptions {
  config: string;
  threads: number;
  batch: number;
  seq: number;
  loraR: number;
  baseline: boolean;
  /** where the training step runs (the AdamW update stays on the CPU) */
  ep?: ExecutionProvider;
  /** extra torch_mufun.py arguments, e.g. { device: 'cuda' } on the GPU machine */
  baselineArgs?: Record<string, string | number>;
  /** the config torch_mufun.py gets, when it cannot take `config` (it pads clips to 30 s) */
  baselineConfig?: string;
}

export async function trainBench(o: TrainBenchOptions): Promise<Record<string, unknown>> {
  const pytorch = o.baseline ? torchBench(o.baselineConfig ?? o.config, { threads: o.threads, batch: o.batch, seq: o.seq, new: 1, prompt: 8, ...o.baselineArgs }) : null;
  const raw = JSON.parse(readFileSync(o.config, 'utf8'));
  const weights = new SyntheticWeights();
  const model = MufunModel.fromConfig(raw, weights, { threads: o.threads, noCache: true });
  const V = model.config.llm.vocabSize;
  const rows = Array.from({ length: o.batch }, () => {
    const ids = Array.from({ length: o.seq }, () => Math.floor(Math.random() * V));
    return { ids, labels: ids };
  });
  const plan = planSplice(rows, [], model.tokensPerClip);
  const D = model.config.llm.hiddenSize;
  const feeds = model.feeds(plan, null);
  delete feeds.audio_embeds;
  feeds.audio_embeds = new ort.Tensor('float32', new Float32Array(model.tokensPerClip * D), [1, model.tokensPerClip, D]);
  feeds.labels = new ort.Tensor('int64', plan.labels, [plan.batch, plan.length]);

  const ours: Record<string, Record<string, number>> = {};
  const variants = {
    full: { trainable: (n: string) => n.startsWith('language_model.'), lora: null },
    lora: {
      trainable: (n: string) => n.includes('.lora_'),
      lora: loraAttachment({ r: o.loraR, alpha: 16, dropout: 0, targetModules: ALL_LINEAR_QWEN3 }, null),
    },
  };
  for (const [name, v] of Object.entries(variants)) {
    const { graph, params } = buildTrainGraph(model.config, weights, { trainable: v.trainable, audioInput: 'embeds', lora: v.lora });
    const s = await createSession(graph, weights.sourceId(), { ep: o.ep, threads: o.threads, noCache: true });
    const store = new ParamStore(params, (n, shape) => weights.synthesize(n, shape));
    const opt = await AdamW.create(store.size, {}, o.threads);
    const step = () => s.run({ ...feeds, ...store.feeds() });
    const stepMs = await bestMs(step, 2);
    const out = await step();
    store.accumulate(out, true);
    const optMs = await bestMs(() => opt.step(store.values, store.grad, 1e-5), 2);
    ours[name] = {
      train_step_ms: stepMs, optimizer_ms: optMs, trainable_values: store.size,
      train_tokens_per_s: (o.batch * o.seq) / (stepMs / 1000),
    };
    await s.release();
    await opt.release();
  }
  await model.release();
  const ratio = (a: number, b?: number) => (b ? Number((a / b).toFixed(3)) : null);
  return {
    bench: 'train', config: basename(o.config, '.json'), ep: o.ep ?? 'cpu', threads: o.threads, batch: o.batch, seq: o.seq, lora_r: o.loraR,
    ours, pytorch,
    ours_over_pytorch: pytorch && !pytorch.error ? {
      full_train_step_ms: ratio(ours.full.train_step_ms, pytorch.train_step_ms),
      lora_train_step_ms: ratio(ours.lora.train_step_ms, pytorch.train_step_ms),
    } : null,
    note: 'train_step_ms is forward + backward (as the baseline); optimizer_ms is our AdamW update of the trainable values, separate',
  };
}
