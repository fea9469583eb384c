// The conformance run: computes every case of a fixture folder it knows from
// <dir>/checkpoint, <dir>/cases.json and <dir>/inputs.safetensors alone (never the
// expected outputs), under the names expected.safetensors uses.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { resample } from './audio/resample.js';
import type { WeightSource } from './checkpoint.js';
import { greedyTokens } from './generate.js';
import { type LoraAttachment, loraAttachment, openAdapter } from './lora.js';
import { createSession } from './runtime.js';
import { buildTrainGraph } from './train/graph.js';
import { MufunModel } from './mufun.js';
import type { RuntimeOptions } from './runtime.js';
import { SafetensorsFile, type TensorToWrite, writeSafetensors } from './safetensors.js';
import { type SplicePlan, planSplice } from './splice.js';

export type FixtureOutputs = Record<string, TensorToWrite>;

const f32 = (data: Float32Array, shape: number[]): TensorToWrite => ({ dtype: 'F32', shape, data });
const i64 = (data: BigInt64Array, shape: number[]): TensorToWrite => ({ dtype: 'I64', shape, data });

function rowsOf(ids: BigInt64Array, shape: number[]): number[][] {
  const [B, T] = shape;
  return Array.from({ length: B }, (_, b) => Array.from(ids.subarray(b * T, (b + 1) * T), Number));
}

/** The first n positions of a one-row plan (a prompt cut short). */
function truncate(plan: SplicePlan, n: number): SplicePlan {
  if (plan.batch !== 1 || n > plan.rowLengths[0]) throw new Error(`cannot cut a ${plan.rowLengths[0]}-position row to ${n}`);
  const cut = <A extends BigInt64Array | Uint8Array>(a: A) => a.subarray(0, n) as A;
  return { ...plan, length: n, rowLengths: [n], inputIds: cut(plan.inputIds), audioIndex: cut(plan.audioIndex),
    isAudio: cut(plan.isAudio), attentionMask: cut(plan.attentionMask), positionIds: cut(plan.positionIds), labels: cut(plan.labels) };
}

export async function runFixture(dir: string, runtime: RuntimeOptions = {}, log: (s: string) => void = () => {}): Promise<FixtureOutputs> {
  for (const f of ['checkpoint/config.json', 'cases.json', 'inputs.safetensors']) {
    if (!existsSync(join(dir, f))) throw new Error(`${dir}: no ${f} (not a fixture folder)`);
  }
  const cases = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')).cases as Record<string, any>;
  const inputs = SafetensorsFile.open(join(dir, 'inputs.safetensors'));
  const model = MufunModel.load(join(dir, 'checkpoint'), runtime);
  const out: FixtureOutputs = {};
  const c = model.config;
  const D = c.llm.hiddenSize;
  try {
    // mel: every wave.<name>, clipped by the 30 s rule
    const mels = new Map<string, Float32Array[]>();
    for (const name of inputs.tensors.keys()) {
      if (!name.startsWith('wave.')) continue;
      const wave = name.slice(5);
      const clips = await model.melClips(inputs.float32(name));
      mels.set(wave, clips);
      clips.forEach((m, j) => (out[`mel.${wave}.${j}`] = f32(m, [c.audioTower.melBins, c.audioTower.maxSourcePositions * 2])));
    }
    log(`mel: ${mels.size} waves`);

    // resample: resample.wave<rate> -> resample.wave16000, like torchaudio.functional.resample
    for (const name of inputs.tensors.keys()) {
      const m = /^resample\.wave(\d+)$/.exec(name);
      if (!m || m[1] === '16000') continue;
      const y = resample(inputs.float32(name), Number(m[1]), 16000);
      out['resample.wave16000'] = f32(y, [y.length]);
      log(`resample: ${m[1]} -> 16000 Hz`);
    }

    if (cases.tower && inputs.tensors.has('tower.input_features')) {
      const feats = inputs.float32('tower.input_features');
      const s = await model.audioEncoder(true);
      const shape = [1, ...inputs.entry('tower.input_features').shape];
      const r = await s.run({ input_features: new ort.Tensor('float32', feats, shape) });
      for (const l of new Set(c.audioFeatureLayers)) out[`tower.hidden.${l}`] = f32(r[`hidden.${l}`].data as Float32Array, r[`hidden.${l}`].dims.slice(1) as number[]);
      out['tower.concat'] = f32(r.concat.data as Float32Array, r.concat.dims.slice(1) as number[]);
      out['tower.pooled'] = f32(r.pooled.data as Float32Array, r.pooled.dims.slice(1) as number[]);
      out['tower.connector'] = f32(r.audio_embeds.data as Float32Array, r.audio_embeds.dims.slice(1) as number[]);
      log('tower');
    }

    if (cases.text && inputs.tensors.has('text.input_ids')) {
      const shape = inputs.entry('text.input_ids').shape;
      const plan = planSplice(rowsOf(inputs.int64('text.input_ids'), shape).map((ids) => ({ ids })), [], model.tokensPerClip);
      const r = await model.forward(plan, null);
      out['text.logits'] = f32(r.logits.data as Float32Array, r.logits.dims as number[]);
      log('text');
    }

    if (cases.sft && inputs.tensors.has('sft.input_ids')) {
      const order: string[] = cases.sft.audio_order;
      const clipMels = order.flatMap((w) => {
        const m = mels.get(w);
        if (!m) throw new Error(`sft case: audio ${w} has no wave.${w} input`);
        return m;
      });
      const clipsPerAudio = Array.from(inputs.int64('sft.clips_per_audio'), Number);
      const audio = await model.encodeClips(clipMels);
      const shape = inputs.entry('sft.input_ids').shape;
      const ids = rowsOf(inputs.int64('sft.input_ids'), shape);
      const labels = rowsOf(inputs.int64('sft.labels'), shape);
      const plan = planSplice(ids.map((row, b) => ({ ids: row, labels: labels[b] })), clipsPerAudio, model.tokensPerClip);
      const r = await model.forward(plan, audio, { loss: true });
      const bt = [plan.batch, plan.length];
      out['sft.inputs_embeds'] = f32(r.inputsEmbeds!.data as Float32Array, [...bt, D]);
      out['sft.attention_mask'] = i64(plan.attentionMask, bt);
      out['sft.labels'] = i64(plan.labels, bt);
      out['sft.logits'] = f32(r.logits.data as Float32Array, r.logits.dims as number[]);
      out['sft.loss'] = f32(Float32Array.of(r.loss!), [1]);
      log('sft');

      // Gradients of the loss for every parameter (the position table is a fixed sinusoid in Whisper).
      const step = await trainStepOutputs(model, plan, { input: 'features', mels: clipMels }, (name) => !name.endsWith('embed_positions.weight'));
      for (const [name, t] of Object.entries(step.grads)) out[`sft.grad.${name}`] = f32(t.data as Float32Array, t.dims as number[]);
      log('sft.grad');

      // LoRA on the LLM with the fixture's adapter; the audio embeddings are the frozen ones above.
      const adapterDir = join(dir, 'checkpoint', 'lora');
      if (cases.lora && existsSync(adapterDir)) {
        const adapter = openAdapter(adapterDir);
        try {
          const lora = { attachment: loraAttachment(adapter.spec, adapter.weights), weights: adapter.weights };
          const r = await trainStepOutputs(model, plan, { input: 'embeds', embeds: audio, clips: clipMels.length }, (n) => n.includes('.lora_'), lora);
          out['lora.loss'] = f32(Float32Array.of(r.loss), [1]);
          // PEFT names its parameters with the adapter name ("default") before ".weight".
          for (const [name, t] of Object.entries(r.grads)) {
            out[`lora.grad.${name.replace(/\.weight$/, '.default.weight')}`] = f32(t.data as Float32Array, t.dims as number[]);
          }
          log('lora');
        } finally {
          adapter.weights.close();
        }
      }

      if (cases.gen) {
        // Row 0's audios come first in appearance order; its plan indexes the same embeddings.
        const row0 = planSplice([{ ids: ids[0] }], clipsPerAudio.slice(0, ids[0].filter((t) => t === -200).length), model.tokensPerClip);
        const n = cases.gen.n_prompt_positions ?? row0.rowLengths[0];
        const tokens = await greedyTokens(model, truncate(row0, n), audio, cases.gen.n_tokens ?? 8);
        out['gen.tokens'] = i64(BigInt64Array.from(tokens.map(BigInt)), [tokens.length]);
        log('gen');
      }
    }
  } finally {
    inputs.close();
    await model.release();
  }
  return out;
}

type StepAudio = { input: 'features'; mels: Float32Array[] } | { input: 'embeds'; embeds: Float32Array; clips: number };

/** One training step's loss and gradients with the checkpoint's weights (and an adapter's, with LoRA). */
async function trainStepOutputs(
  model: MufunModel, plan: SplicePlan, audio: StepAudio, trainable: (name: string) => boolean,
  lora: { attachment: LoraAttachment; weights: WeightSource } | null = null,
) {
  const { graph, params } = buildTrainGraph(model.config, model.weights, { trainable, audioInput: audio.input, lora: lora?.attachment });
  const s = await createSession(graph, `${model.weights.sourceId()}|${lora?.weights.sourceId() ?? ''}`, model.runtime);
  const t = model.config.audioTower;
  const feeds: Record<string, ort.Tensor> = {
    ...model.feeds(plan, null),
    labels: new ort.Tensor('int64', plan.labels, [plan.batch, plan.length]),
  };
  delete feeds.audio_embeds;
  if (audio.input === 'features') {
    const frames = t.maxSourcePositions * 2;
    const feats = new Float32Array(audio.mels.length * t.melBins * frames);
    audio.mels.forEach((m, i) => feats.set(m, i * m.length));
    feeds.input_features = new ort.Tensor('float32', feats, [audio.mels.length, t.melBins, frames]);
  } else {
    feeds.audio_embeds = new ort.Tensor('float32', audio.embeds, [audio.clips, model.tokensPerClip, model.config.llm.hiddenSize]);
  }
  for (const p of params) {
    const src = lora?.weights.has(p.name) ? lora.weights : model.weights;
    feeds[p.name] = new ort.Tensor('float32', src.float32(p.name), p.shape as number[]);
  }
  const r = await s.run(feeds);
  await s.release();
  const grads: Record<string, ort.Tensor> = {};
  for (const p of params) grads[p.name] = r[`grad.${p.name}`];
  return { loss: (r.loss.data as Float32Array)[0], grads };
}

export async function writeFixtureOutputs(path: string, out: FixtureOutputs): Promise<void> {
  writeSafetensors(path, out, { producer: 'mufun fixture' });
}

export interface CaseReport {
  metric: 'max_abs' | 'rel' | 'exact';
  error: number;
  tolerance: number;
  ok: boolean;
}

export interface FixtureReport {
  pass: boolean;
  cases: Record<string, CaseReport>;
  /** expected outputs this engine does not compute yet */
  notComputed: string[];
}

/** The fixtures README's tolerances, by output name. */
export function toleranceFor(name: string): { metric: CaseReport['metric']; tolerance: number } {
  if (name.startsWith('mel.') || name.startsWith('resample.')) return { metric: 'max_abs', tolerance: 1e-4 };
  if (name === 'gen.tokens' || name === 'sft.attention_mask' || name === 'sft.labels') return { metric: 'exact', tolerance: 0 };
  if (name.startsWith('sft.grad.') || name.startsWith('lora.grad.')) return { metric: 'rel', tolerance: 1e-3 };
  return { metric: 'rel', tolerance: 1e-4 };
}

function numbers(t: TensorToWrite): Float64Array {
  return Float64Array.from(t.data as ArrayLike<number | bigint>, Number);
}

export function compareFixture(out: FixtureOutputs, expectedPath: string): FixtureReport {
  const exp = SafetensorsFile.open(expectedPath);
  const report: FixtureReport = { pass: true, cases: {}, notComputed: [] };
  try {
    for (const [name, e] of exp.tensors) {
      const got = out[name];
      if (!got) {
        report.notComputed.push(name);
        continue;
      }
      const { metric, tolerance } = toleranceFor(name);
      const want = e.dtype.startsWith('I') ? Float64Array.from(exp.int64(name), Number) : Float64Array.from(exp.float32(name));
      const a = numbers(got);
      let error: number;
      if (a.length !== want.length || got.shape.join() !== e.shape.join()) {
        error = Infinity;
      } else if (metric === 'rel') {
        let num = 0, den = 0;
        for (let i = 0; i < a.length; i++) {
          num += (a[i] - want[i]) ** 2;
          den += want[i] ** 2;
        }
        error = Math.sqrt(num) / (Math.sqrt(den) + 1e-30);
      } else {
        error = 0;
        for (let i = 0; i < a.length; i++) error = Math.max(error, Math.abs(a[i] - want[i]));
      }
      const ok = error <= tolerance;
      report.cases[name] = { metric, error, tolerance, ok };
      report.pass &&= ok;
    }
  } finally {
    exp.close();
  }
  return report;
}
