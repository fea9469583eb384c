// MufunModel: a loaded checkpoint and the ONNX Runtime sessions that run it.
//   wave@16k ─clips→ log-mel ─audio encoder→ clip embeddings ─splice+LLM→ logits
// Sessions are built on first use, so loading is cheap and only what is used costs memory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { LogMel, clipWaveform } from './audio/mel.js';
import { Checkpoint, type WeightSource } from './checkpoint.js';
import { type MufunConfig, clipSamples } from './config.js';
import { type ConvertedManifest, ConvertedWeights, isConverted, needsFloatWeights, readManifest } from './converted.js';
import { type LlmGraphOptions, buildAudioEncoderGraph, buildLlmGraph, tokensPerClip } from './graphs.js';
import { resolveConfig } from './registry.js';
import { type QuantSpec, quantSpec } from './quant.js';
import { type RuntimeOptions, type SessionExtras, createSession, openSession } from './runtime.js';
import { KvCache } from './kvcache.js';
import type { SplicePlan } from './splice.js';

export type LlmVariant = 'generate' | 'logits' | 'loss';

export const LLM_VARIANTS: Record<LlmVariant, LlmGraphOptions> = {
  generate: { kvCache: true, logits: 'rows', loss: false },
  logits: { kvCache: false, logits: 'all', loss: false, debug: true },
  loss: { kvCache: false, logits: 'all', loss: true, debug: true },
};

export interface ForwardResult {
  logits: ort.Tensor;
  loss?: number;
  inputsEmbeds?: ort.Tensor;
}

export class MufunModel {
  private sessions = new Map<string, Promise<ort.InferenceSession>>();
  private melSession: Promise<LogMel> | null = null;

  private constructor(
    readonly weights: WeightSource & { close?(): void },
    readonly config: MufunConfig,
    readonly runtime: RuntimeOptions,
    /** set when loaded from a `mufun convert` folder: sessions open its saved graphs */
    readonly converted: { dir: string; manifest: ConvertedManifest } | null = null,
  ) {}

  /**
   * Opens a Hugging Face MuFun folder and checks every tensor's presence and shape (no weights
   * read), or a folder written by `mufun convert` (its graphs open as they are, no re-export).
   */
  static load(dir: string, runtime: RuntimeOptions = {}): MufunModel {
    if (isConverted(dir)) return MufunModel.loadConverted(dir, runtime);
    const ck = Checkpoint.open(dir);
    try {
      const cfg = resolveConfig(ck.rawConfig);
      // Building the graphs reads only names and shapes; Params throws listing every problem.
      buildAudioEncoderGraph(cfg, ck);
      buildLlmGraph(cfg, ck, LLM_VARIANTS.generate);
      return new MufunModel(ck, cfg, runtime);
    } catch (e) {
      ck.close();
      throw e;
    }
  }

  private static loadConverted(dir: string, runtime: RuntimeOptions): MufunModel {
    const manifest = readManifest(dir);
    const q = manifest.quant;
    if ((runtime.dtype && runtime.dtype !== manifest.session_dtype) || (runtime.quant && runtime.quant !== q?.mode)) {
      throw needsFloatWeights(dir, `running it as ${runtime.quant ?? runtime.dtype} (it was converted to ${manifest.dtype})`);
    }
    const cfg = resolveConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
    const rt: RuntimeOptions = { ...runtime, dtype: manifest.session_dtype, quant: q?.mode, quantBlockSize: q?.block_size };
    return new MufunModel(new ConvertedWeights(dir), cfg, rt, { dir, manifest });
  }

  /** A model from a config.json object and any weight source (e.g. SyntheticWeights). */
  static fromConfig(rawConfig: Record<string, any>, weights: WeightSource, runtime: RuntimeOptions = {}): MufunModel {
    return new MufunModel(weights, resolveConfig(rawConfig), runtime);
  }

  get tokensPerClip(): number {
    return tokensPerClip(this.config);
  }

  get clipSamples(): number {
    return clipSamples(this.config.audioTower);
  }

  private session(key: string, build: () => Parameters<typeof createSession>[0], extras: SessionExtras = {}): Promise<ort.InferenceSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = Promise.resolve().then(() => {
        if (!this.converted) return createSession(build(), this.weights.sourceId(), this.runtime, extras);
        const file = (this.converted.manifest.graphs as Record<string, string>)[key];
        if (!file) throw needsFloatWeights(this.converted.dir, `the ${key} graph (training, debug outputs, full logits)`);
        return openSession(join(this.converted.dir, file), this.runtime, extras);
      });
      s.catch(() => this.sessions.delete(key)); // a failed build can be retried
      this.sessions.set(key, s);
    }
    return s;
  }

  get dtype(): 'float32' | 'float16' {
    return this.runtime.dtype ?? 'float32';
  }

  /** Weight-only quantization of the LLM (the audio tower and connector stay float: see quant.ts). */
  get quant(): QuantSpec | null {
    return this.runtime.quant ? quantSpec(this.runtime.quant, this.runtime.quantBlockSize) : null;
  }

  audioEncoder(debug = false): Promise<ort.InferenceSession> {
    return this.session(`audio${debug ? '_debug' : ''}`, () => buildAudioEncoderGraph(this.config, this.weights, debug, this.dtype));
  }

  llm(variant: LlmVariant): Promise<ort.InferenceSession> {
    return this.session(`llm_${variant}`, () => buildLlmGraph(this.config, this.weights, this.llmGraphOptions(variant)),
      variant === 'generate' && this.kvOnDevice ? { outputsOnDevice: KvCache.outputNames(this.config.llm) } : {});
  }

  /** How this model's runtime options shape the `variant` graph. */
  llmGraphOptions(variant: LlmVariant): LlmGraphOptions {
    const generate = variant === 'generate';
    return {
      ...LLM_VARIANTS[variant], dtype: this.dtype, quant: this.quant, fused: this.fusedKernels,
      screenHead: generate && this.headScreen, gqa: generate && this.runtime.gqa !== false, // buildLlmGraph: GQA needs the fused kernels
    };
  }

  /**
   * onnxruntime's fused kernels in inference graphs, on by default: fewer dispatches per token on
   * GPUs (decode +25 % on WebGPU), and +8 % decode / prefill on the CPU (small config, 2 threads).
   */
  get fusedKernels(): boolean {
    return this.runtime.fused ?? true;
  }

  /**
   * Whether decoding uses the screened LM head (arch/head-screen.ts): on by default on the CPU
   * for float32 weights, where the head's bytes bound decode speed; GPUs compute the full head.
   */
  get headScreen(): boolean {
    return (this.runtime.headScreen ?? (this.runtime.ep ?? 'cpu') === 'cpu') && this.dtype === 'float32' && !this.quant;
  }

  /** Whether decode keeps its KV cache in GPU memory (GPU providers, unless turned off). */
  get kvOnDevice(): boolean {
    return (this.runtime.ep ?? 'cpu') !== 'cpu' && this.runtime.kvOnDevice !== false;
  }

  newCache(batch = 1): KvCache {
    return new KvCache(this.config.llm, batch, this.dtype);
  }

  logMel(): Promise<LogMel> {
    this.melSession ??= LogMel.create(this.config.audioTower.melBins, { clipSamples: this.clipSamples }); // WebAssembly on the CPU, whatever the provider
    return this.melSession;
  }

  /** 16 kHz mono → one log-mel [melBins·frames] per clip (30 s rule of MuFun). */
  async melClips(wave16k: Float32Array): Promise<Float32Array[]> {
    const mel = await this.logMel();
    const out: Float32Array[] = [];
    for (const clip of clipWaveform(wave16k, this.clipSamples)) out.push(await mel.compute(clip));
    return out;
  }

  /** Log-mel clips → audio embeddings [clips·tokensPerClip, hidden], in clip order. */
  async encodeClips(mels: Float32Array[]): Promise<Float32Array> {
    const t = this.config.audioTower;
    const frames = t.maxSourcePositions * 2;
    const per = t.melBins * frames;
    const batch = new Float32Array(mels.length * per);
    mels.forEach((m, i) => batch.set(m, i * per));
    const s = await this.audioEncoder();
    const { audio_embeds } = await s.run({ input_features: new ort.Tensor('float32', batch, [mels.length, t.melBins, frames]) });
    return audio_embeds.data as Float32Array;
  }

  /** A full forward over a spliced batch (no cache): all logits, and the SFT loss if asked. */
  async forward(plan: SplicePlan, audioEmbeds: Float32Array | null, opts: { loss?: boolean } = {}): Promise<ForwardResult> {
    const s = await this.llm(opts.loss ? 'loss' : 'logits');
    const feeds = this.feeds(plan, audioEmbeds);
    if (opts.loss) feeds.labels = new ort.Tensor('int64', plan.labels, [plan.batch, plan.length]);
    const out = await s.run(feeds);
    return { logits: out.logits, inputsEmbeds: out.inputs_embeds, loss: opts.loss ? (out.loss.data as Float32Array)[0] : undefined };
  }

  /** The splice plan as graph inputs; an empty audio input is one zero row (never read). */
  feeds(plan: SplicePlan, audioEmbeds: Float32Array | null): Record<string, ort.Tensor> {
    const D = this.config.llm.hiddenSize;
    const shape = [plan.batch, plan.length];
    const audio = audioEmbeds && audioEmbeds.length ? audioEmbeds : new Float32Array(D);
    return {
      input_ids: new ort.Tensor('int64', plan.inputIds, shape),
      audio_embeds: new ort.Tensor('float32', audio, [audio.length / D, D]),
      audio_index: new ort.Tensor('int64', plan.audioIndex, shape),
      is_audio: new ort.Tensor('bool', plan.isAudio, shape),
      attention_mask: new ort.Tensor('int64', plan.attentionMask, shape),
      position_ids: new ort.Tensor('int64', plan.positionIds, shape),
    };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s.catch(() => null))?.release();
    this.sessions.clear();
    if (this.melSession) await (await this.melSession).release();
    this.melSession = null;
    this.weights.close?.();
  }
}
