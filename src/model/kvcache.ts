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

  update(out: Record<string, ort.Tensor>): void {
    for (let i = 0; i < this.c.layers; i++) {
      this.keys[i] = out[`present_key.${i}`];
      this.values[i] = out[`present_value.${i}`];
    }
  }
}
