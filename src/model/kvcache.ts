// KvCache: the keys and values every decoder layer has seen, fed back as past_* and
// replaced by present_* after each step. It starts empty (a zero-length time axis).
import * as ort from 'onnxruntime-node';
import type { LlmConfig } from './config.js';

export class KvCache {
  private keys: ort.Tensor[];
  private values: ort.Tensor[];

  constructor(readonly c: LlmConfig, readonly batch = 1, dtype: 'float32' | 'float16' = 'float32') {
    const empty = () =>
      dtype === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(0), [batch, c.kvHeads, 0, c.headDim])
        : new ort.Tensor('float32', new Float32Array(0), [batch, c.kvHeads, 0, c.headDim]);
    this.keys = Array.from({ length: c.layers }, empty);
    this.values = Array.from({ length: c.layers }, empty);
  }

  /** Positions already cached. */
  get length(): number {
    return this.keys[0].dims[2];
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
  truncate(n: number): void {
    if (n >= this.length) return;
    const cut = (t: ort.Tensor) => {
      const [B, H, T, d] = t.dims as number[];
      const src = t.data as Float32Array | Uint16Array;
      const dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(B * H * n * d);
      for (let bh = 0; bh < B * H; bh++) dst.set(src.subarray(bh * T * d, bh * T * d + n * d), bh * n * d);
      return new ort.Tensor(t.type as 'float32', dst as Float32Array, [B, H, n, d]);
    };
    this.keys = this.keys.map(cut);
    this.values = this.values.map(cut);
  }

  update(out: Record<string, ort.Tensor>): void {
    for (let i = 0; i < this.c.layers; i++) {
      this.keys[i] = out[`present_key.${i}`];
      this.values[i] = out[`present_value.${i}`];
    }
  }
}
