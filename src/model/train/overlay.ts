// A checkpoint with some tensors replaced (the run's current trained values), so the
// engine's inference graphs can answer with the weights being trained: eval accuracy by
// generation without writing a checkpoint to disk.
import type { WeightSource } from '../checkpoint.js';

let generation = 0;

export class OverlayWeights implements WeightSource {
  private readonly id = ++generation;

  constructor(private base: WeightSource, private over: Map<string, Float32Array>) {}

  has(name: string): boolean {
    return this.over.has(name) || this.base.has(name);
  }

  shape(name: string): number[] {
    return this.base.shape(name);
  }

  float32(name: string): Float32Array {
    const v = this.over.get(name);
    return v ? v.slice() : this.base.float32(name);
  }

  names(): string[] {
    return this.base.names();
  }

  sourceId(): string {
    return `${this.base.sourceId()}|overlay-${process.pid}-${this.id}`;
  }
}
