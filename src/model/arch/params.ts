// Weights as graph initializers, looked up by their checkpoint names. Every lookup is
// checked against the checkpoint (present, right shape), so a broken checkpoint fails
// with one message naming each problem before any session is built.
import { CheckpointError, type WeightSource } from '../checkpoint.js';
import type { Graph, Value } from '../ir/graph.js';
import { f32ToF16 } from '../ir/half.js';

export class Params {
  private constructor(
    readonly g: Graph,
    private src: WeightSource,
    readonly prefix: string,
    private problems: string[],
    /** the type weights are stored in the session (float16 halves memory on GPUs) */
    readonly dtype: 'float32' | 'float16',
  ) {}

  static root(g: Graph, src: WeightSource, dtype: 'float32' | 'float16' = 'float32'): Params {
    return new Params(g, src, '', [], dtype);
  }

  /** Parameters under `prefix.` (e.g. "layers.3."). */
  sub(prefix: string): Params {
    return new Params(this.g, this.src, this.prefix + prefix, this.problems, this.dtype);
  }

  private stored(read: () => Float32Array): () => Float32Array | Uint16Array {
    return this.dtype === 'float16' ? () => f32ToF16(read()) : read;
  }

  get(name: string, shape: number[]): Value {
    const key = this.prefix + name;
    const synth = this.src.synthesize?.bind(this.src);
    if (synth) return this.g.weight(key, this.dtype, shape, this.stored(() => synth(key, shape)));
    if (!this.src.has(key)) {
      this.problems.push(`missing tensor ${key} (expected shape [${shape}])`);
    } else {
      const got = this.src.shape(key);
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        this.problems.push(`tensor ${key} has shape [${got}], expected [${shape}]`);
      }
    }
    return this.g.weight(key, this.dtype, shape, this.stored(() => this.src.float32(key)));
  }

  /** Throws one error listing every missing or mis-shaped tensor. */
  check(what: string): void {
    if (!this.problems.length) return;
    const shown = this.problems.slice(0, 12).join('\n  ');
    const more = this.problems.length > 12 ? `\n  … and ${this.problems.length - 12} more` : '';
    throw new CheckpointError(`${what}: checkpoint does not match its config:\n  ${shown}${more}`);
  }
}
