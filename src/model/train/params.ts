// The trainable tensors of a run in one flat float32 buffer (the fp32 master weights), with
// a view per tensor for the step's inputs and one flat gradient buffer the optimizer updates from.
import * as ort from 'onnxruntime-node';
import type { Signature } from '../ir/graph.js';

export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export class ParamStore {
  readonly slots: ParamSlot[] = [];
  readonly values: Float32Array;
  readonly grad: Float32Array;

  constructor(params: Signature[], init: (name: string, shape: number[]) => Float32Array) {
    let n = 0;
    for (const p of params) {
      const shape = p.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      this.slots.push({ name: p.name, shape, offset: n, size });
      n += size;
    }
    this.values = new Float32Array(n);
    this.grad = new Float32Array(n);
    for (const s of this.slots) {
      const v = init(s.name, s.shape);
      if (v.length !== s.size) throw new Error(`initial value of ${s.name} has ${v.length} elements, expected ${s.size}`);
      this.values.set(v, s.offset);
    }
  }

  get size(): number {
    return this.values.length;
  }

  view(name: string): Float32Array {
    const s = this.slot(name);
    return this.values.subarray(s.offset, s.offset + s.size);
  }

  slot(name: string): ParamSlot {
    const s = this.slots.find((x) => x.name === name);
    if (!s) throw new Error(`no trainable tensor ${name}`);
    return s;
  }

  /** The trainable tensors as step inputs (copies: ORT may keep references while running). */
  feeds(): Record<string, ort.Tensor> {
    const f: Record<string, ort.Tensor> = {};
    for (const s of this.slots) f[s.name] = new ort.Tensor('float32', this.values.slice(s.offset, s.offset + s.size), s.shape);
    return f;
  }

  /** Puts (first micro-batch) or adds (later ones) a step's grad.<name> outputs into the flat gradient. */
  accumulate(out: Record<string, ort.Tensor>, first: boolean): void {
    for (const s of this.slots) {
      const g = out[`grad.${s.name}`].data as Float32Array;
      const dst = this.grad.subarray(s.offset, s.offset + s.size);
      if (first) dst.set(g);
      else for (let i = 0; i < s.size; i++) dst[i] += g[i];
    }
  }

}
