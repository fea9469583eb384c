// Micro-batches: encoded samples → one spliced, right-padded batch (cut to the model's
// maximum length after splicing, as TinyLLaVA does) plus the audio input of its clips.
import * as ort from 'onnxruntime-node';
import { loadAudio } from '../audio/load.js';
import { buildAudioFeaturesGraph } from '../graphs.js';
import type { MufunModel } from '../mufun.js';
import { createSession } from '../runtime.js';
import { type SplicePlan, planSplice } from '../splice.js';
import type { AudioRef, EncodedSample } from './data.js';
import type { AudioInput } from './graph.js';

/** Keeps the first maxLength positions of every row. */
export function truncatePlan(p: SplicePlan, maxLength: number): SplicePlan {
  if (p.length <= maxLength) return p;
  const T = p.length, L = maxLength;
  const cut = <A extends BigInt64Array | Uint8Array>(a: A): A => {
    const out = new (a.constructor as new (n: number) => A)(p.batch * L);
    for (let b = 0; b < p.batch; b++) out.set(a.subarray(b * T, b * T + L) as never, b * L);
    return out;
  };
  return {
    ...p, length: L, rowLengths: p.rowLengths.map((n) => Math.min(n, L)),
    inputIds: cut(p.inputIds), audioIndex: cut(p.audioIndex), isAudio: cut(p.isAudio),
    attentionMask: cut(p.attentionMask), positionIds: cut(p.positionIds), labels: cut(p.labels),
  };
}

/**
 * Per-clip audio input, computed once per (file, segment) and kept for every epoch:
 * log-mel when the tower trains, else the frozen tower's pooled features or embeddings.
 */
export class AudioFeatureCache {
  private cache = new Map<string, Float32Array[]>();
  private session: Promise<ort.InferenceSession> | null = null;

  constructor(private model: MufunModel, readonly input: AudioInput) {}

  get width(): number {
    const c = this.model.config;
    if (this.input === 'features') return c.audioTower.melBins * c.audioTower.maxSourcePositions * 2;
    const per = this.input === 'pooled' ? c.audioFeatureLayers.length * c.audioTower.dModel : c.llm.hiddenSize;
    return this.model.tokensPerClip * per;
  }

  private key(a: AudioRef): string {
    return `${a.path}|${a.seg ? a.seg.join(',') : ''}`;
  }

  async clips(a: AudioRef): Promise<Float32Array[]> {
    const k = this.key(a);
    let c = this.cache.get(k);
    if (!c) {
      const { pcm } = await loadAudio(a.path, { segment: a.seg });
      const mels = await this.model.melClips(pcm);
      c = this.input === 'features' ? mels : await this.frozen(mels);
      this.cache.set(k, c);
    }
    return c;
  }

  private async frozen(mels: Float32Array[]): Promise<Float32Array[]> {
    const t = this.model.config.audioTower;
    const stage = this.input as 'pooled' | 'embeds';
    this.session ??= createSession(buildAudioFeaturesGraph(this.model.config, this.model.weights, stage), this.model.weights.sourceId(), this.model.runtime);
    const s = await this.session;
    const frames = t.maxSourcePositions * 2;
    const out: Float32Array[] = [];
    for (const m of mels) {
      const r = await s.run({ input_features: new ort.Tensor('float32', m, [1, t.melBins, frames]) });
      out.push((r[stage].data as Float32Array).slice());
    }
    return out;
  }

  async release(): Promise<void> {
    if (this.session) await (await this.session).release();
    this.session = null;
  }
}

export interface Batch {
  plan: SplicePlan;
  feeds: Record<string, ort.Tensor>;
  /** supervised target tokens (labels ≠ −100 after the shift) */
  tokens: number;
  ids: string[];
}

export async function makeBatch(samples: EncodedSample[], cache: AudioFeatureCache, model: MufunModel, maxLength: number): Promise<Batch> {
  const clipsPerAudio: number[] = [];
  const clips: Float32Array[] = [];
  for (const s of samples) {
    for (const a of s.audios) {
      const c = await cache.clips(a);
      clipsPerAudio.push(c.length);
      clips.push(...c);
    }
  }
  const plan = truncatePlan(planSplice(samples.map((s) => ({ ids: s.ids, labels: s.labels })), clipsPerAudio, model.tokensPerClip), maxLength);
  const feeds = model.feeds(plan, null);
  delete feeds.audio_embeds;
  feeds.labels = new ort.Tensor('int64', plan.labels, [plan.batch, plan.length]);
  const t = model.config.audioTower;
  const n = Math.max(1, clips.length);
  const data = new Float32Array(n * cache.width);
  clips.forEach((c, i) => data.set(c, i * cache.width));
  const name = cache.input === 'features' ? 'input_features' : cache.input === 'pooled' ? 'pooled_features' : 'audio_embeds';
  const shape = cache.input === 'features' ? [n, t.melBins, t.maxSourcePositions * 2] : [n, model.tokensPerClip, cache.width / model.tokensPerClip];
  feeds[name] = new ort.Tensor('float32', data, shape);
  let tokens = 0;
  for (let b = 0; b < plan.batch; b++) for (let i = 1; i < plan.length; i++) if (plan.labels[b * plan.length + i] !== -100n) tokens++;
  return { plan, feeds, tokens, ids: samples.map((s) => s.id) };
}
