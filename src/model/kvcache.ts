// KvCache: the keys and values every decoder layer has seen, fed back as past_* and
// replaced by present_* after each step. It starts empty (a zero-length time axis).
// On GPU providers the present_* outputs stay in device memory (see runtime.ts); the cache
// then owns those buffers and frees each one as soon as the next step has replaced it.
import * as ort from 'onnxruntime-node';
import type { LlmConfig } from './config.js';

type Half = 'float32' | 'float16';

export class KvCache {
  private keys: ort.Tensor[];
  private values: ort.Tensor[];

  /** The generate graph's outputs that become the next step's past_*. */
  static outputNames(c: LlmConfig): string[] {
    return Array.from({ length: c.layers }, (_, i) => [`present_key.${i}`, `present_value.${i}`]).flat();
  }

  constructor(readonly c: LlmConfig, readonly batch = 1, readonly dtype: Half = 'float32') {
    this.keys = Array.from({ length: c.layers }, () => this.empty());
    this.values = Array.from({ length: c.layers }, () => this.empty());
  }

  private empty(): ort.Tensor {
    const dims = [this.batch, this.c.kvHeads, 0, this.c.headDim];
    return this.dtype === 'float16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
  }

  /** Positions already cached. */
  get length(): number {
    return this.keys[0].dims[2];
  }

  /** Whether the cache lives in GPU memory. */
  get onDevice(): boolean {
    return this.keys[0].location === 'gpu-buffer';
  }

  feeds(): Record<string, ort.Tensor> {
    const f: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.c.layers; i++) {
      f[`past_key.${i}`] = this.keys[i];
      f[`past_value.${i}`] = this.values[i];
    }
    return f;
  }

  /** Keeps the first n positions (a conversation rewinding to where its prompt diverged). */
  async truncate(n: number): Promise<void> {
    if (n >= this.length) return;
    const cut = async (t: ort.Tensor) => {
      const [B, H, T, d] = t.dims as number[];
      const src = (t.location === 'gpu-buffer' ? await t.getData(true) : t.data) as Float32Array | Uint16Array;
      const dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(B * H * n * d);
      for (let bh = 0; bh < B * H; bh++) dst.set(src.subarray(bh * T * d, bh * T * d + n * d), bh * n * d);
      return new ort.Tensor(t.type as 'float32', dst as Float32Array, [B, H, n, d]);
    };
    this.keys = await Promise.all(this.keys.map(cut));
    this.values = await Promise.all(this.values.map(cut));
  }

  update(out: Record<string, ort.Tensor>): void {
    for (let i = 0; i < this.c.layers; i++) {
      release(this.keys[i]);
      release(this.values[i]);
      this.keys[i] = out[`present_key.${i}`];
      this.values[i] = out[`present_value.${i}`];
    }
  }

  /** Frees device memory now rather than at garbage collection (a closed conversation). */
  dispose(): void {
    for (const t of [...this.keys, ...this.values]) release(t);
    this.keys = this.keys.map(() => this.empty());
    this.values = this.values.map(() => this.empty());
  }
}

function release(t: ort.Tensor): void {
  if (t.location === 'gpu-buffer') t.dispose();
}
