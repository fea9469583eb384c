// Weights as graph initializers, looked up by their checkpoint names. Every lookup is
// checked against the checkpoint (present, right shape), so a broken checkpoint fails
// with one message naming each problem before any session is built.
import { CheckpointError, type WeightSource } from '../checkpoint.js';
import type { Graph, Value } from '../ir/graph.js';
import { f32ToF16 } from '../ir/half.js';
import { add, linear as gemmLinear, matmul } from '../ir/ops.js';
import type { LoraAttachment } from '../lora.js';
import { type QuantSpec, type Quantized, type QuantizedWeight, blocksPerRow, matMulNBits, quantize, rowErrors, zeroPointBytesPerRow } from '../quant.js';
import { SCREEN_QUANT, type ScreenCopy } from './head-screen.js';

export interface ParamsOptions {
  /** the type weights are stored in the session (float16 halves memory on GPUs) */
  dtype: 'float32' | 'float16';
  /** with a spec, linear() weights are stored quantized (MatMulNBits); norms and embeddings stay float */
  quant: QuantSpec | null;
  /** with an adapter, targeted linear layers add a low-rank update (PEFT LoRA) */
  lora: LoraAttachment | null;
}

export class Params {
  private constructor(
    readonly g: Graph,
    private src: WeightSource,
    readonly prefix: string,
    private problems: string[],
    private o: ParamsOptions,
  ) {}

  static root(g: Graph, src: WeightSource, dtype: 'float32' | 'float16' = 'float32', quant: QuantSpec | null = null, lora: LoraAttachment | null = null): Params {
    return new Params(g, src, '', [], { dtype, quant, lora });
  }

  get dtype(): 'float32' | 'float16' {
    return this.o.dtype;
  }

  get quant(): QuantSpec | null {
    return this.o.quant;
  }

  /** Parameters under `prefix.` (e.g. "layers.3."). */
  sub(prefix: string): Params {
    return new Params(this.g, this.src, this.prefix + prefix, this.problems, this.o);
  }

  /** Whether linear layer `name` carries a LoRA update. */
  adapted(name: string): boolean {
    return !!this.o.lora?.targets(this.prefix + name);
  }

  /** The same parameters with float linear layers (parts of a model kept unquantized). */
  float(): Params {
    return new Params(this.g, this.src, this.prefix, this.problems, { ...this.o, quant: null });
  }

  /**
   * nn.Linear `name` (weight [out, in], optional bias [out]): y = x Wᵀ + b. In graphs with
   * constant weights, float weights are stored transposed for one MatMul; graphs that train (and
   * `shared` weights, e.g. a head tied to the embedding) use Gemm(transB=1) on the PyTorch layout;
   * quantized ones MatMulNBits on the same [out, in] rows.
   */
  linear(x: Value, name: string, inF: number, outF: number, o: { bias?: boolean; shared?: boolean } = {}): Value {
    const at = (t: string) => (name ? `${name}.${t}` : t); // '' = a bare nn.Linear
    let y: Value;
    if (!this.quant && this.g.constantWeights && !o.shared) {
      // One MatMul over any leading dims: 1–2 nodes instead of 5 (a GPU decode step is bound by node count).
      y = matmul(x, this.transposed(at('weight'), outF, inF));
      if (o.bias) y = add(y, this.get(at('bias'), [outF]));
    } else if (!this.quant) {
      const w = this.get(at('weight'), [outF, inF]);
      y = gemmLinear(x, w, o.bias ? this.get(at('bias'), [outF]) : null, inF, outF);
    } else {
      const q = matMulNBits(x, this.quantized(at('weight'), outF, inF, this.quant), inF, outF, this.quant);
      y = o.bias ? add(q, this.get(at('bias'), [outF])) : q;
    }
    const lora = this.o.lora;
    return lora?.targets(this.prefix + name) ? add(y, lora.update(x, this.prefix + name, inF, outF)) : y;
  }

  /**
   * A [N, K] weight as MatMulNBits' three initializers. The checkpoint tensor is read and
   * quantized once, when the first of them is exported, and dropped after the last.
   */
  private quantized(name: string, N: number, K: number, q: QuantSpec): QuantizedWeight {
    return this.quantizedParts(name, N, K, q, false).weight;
  }

  /** The LM head's int8 screening copy (arch/head-screen.ts): MatMulNBits' initializers and its per-row error bounds. */
  screenCopy(name: string, N: number, K: number): ScreenCopy {
    const { weight, maxError, absSum } = this.quantizedParts(name, N, K, SCREEN_QUANT, true);
    return { ...weight, maxError: maxError!, absSum: absSum! };
  }

  /** quantized() with, when `bounds`, the rowErrors of the quantization as two more initializers. */
  private quantizedParts(name: string, N: number, K: number, q: QuantSpec, bounds: boolean) {
    const key = this.prefix + name;
    this.check1(key, [N, K]);
    const blocks = blocksPerRow(K, q.blockSize);
    let cached: { q: Quantized; errors: ReturnType<typeof rowErrors> | null } | null = null;
    let taken = 0;
    const part = <T>(pick: (x: NonNullable<typeof cached>) => T) => () => {
      if (!cached) {
        const w = this.read(key, [N, K]);
        const qw = quantize(w, N, K, q.bits, q.blockSize);
        cached = { q: qw, errors: bounds ? rowErrors(w, qw) : null };
      }
      const out = pick(cached);
      if (++taken === (bounds ? 5 : 3)) (cached = null), (taken = 0);
      return out;
    };
    const base = `${key}.q${q.bits}b${q.blockSize}`;
    const weight: QuantizedWeight = {
      data: this.g.weight(base, 'uint8', [N, blocks, (q.blockSize * q.bits) / 8], part((x) => x.q.data)),
      scales: this.g.weight(`${base}.scales`, this.dtype, [N * blocks], this.stored(part((x) => x.q.scales))),
      zeroPoints: this.g.weight(`${base}.zero_points`, 'uint8', [N * zeroPointBytesPerRow(blocks, q.bits)], part((x) => x.q.zeroPoints)),
    };
    if (!bounds) return { weight };
    return {
      weight,
      maxError: this.g.weight(`${base}.max_error`, 'float32', [N], part((x) => x.errors!.maxError)),
      absSum: this.g.weight(`${base}.abs_sum`, 'float32', [N], part((x) => x.errors!.absSum)),
    };
  }

  /** The float32 values of a checkpoint (or synthetic) tensor. */
  private read(key: string, shape: number[]): Float32Array {
    return this.src.synthesize ? this.src.synthesize(key, shape) : this.src.float32(key);
  }

  /** Records a problem if the tensor is missing or mis-shaped (synthetic sources have every tensor). */
  private check1(key: string, shape: number[]): void {
    this.g.checkpointTensors.set(key, shape);
    if (this.src.synthesize) return;
    if (!this.src.has(key)) {
      this.problems.push(`missing tensor ${key} (expected shape [${shape}])`);
    } else {
      const got = this.src.shape(key);
      if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
        this.problems.push(`tensor ${key} has shape [${got}], expected [${shape}]`);
      }
    }
  }

  private stored(read: () => Float32Array): () => Float32Array | Uint16Array {
    return this.dtype === 'float16' ? () => f32ToF16(read()) : read;
  }

  /** A checkpoint's [rows, cols] tensor as a [cols, rows] initializer (MatMul's layout for a linear weight). */
  private transposed(name: string, rows: number, cols: number): Value {
    const key = this.prefix + name;
    this.check1(key, [rows, cols]);
    return this.g.weight(`${key}.T`, this.dtype, [cols, rows], this.stored(() => {
      const w = this.read(key, [rows, cols]);
      const t = new Float32Array(w.length);
      const B = 64; // in tiles, so that large weights transpose at memory speed
      for (let r0 = 0; r0 < rows; r0 += B) {
        for (let c0 = 0; c0 < cols; c0 += B) {
          for (let r = r0; r < Math.min(rows, r0 + B); r++) for (let c = c0; c < Math.min(cols, c0 + B); c++) t[c * rows + r] = w[r * cols + c];
        }
      }
      return t;
    }));
  }

  get(name: string, shape: number[]): Value {
    const key = this.prefix + name;
    this.check1(key, shape);
    return this.g.weight(key, this.dtype, shape, this.stored(() => this.read(key, shape)));
  }

  /** Throws one error listing every missing or mis-shaped tensor. */
  check(what: string): void {
    if (!this.problems.length) return;
    const shown = this.problems.slice(0, 12).join('\n  ');
    const more = this.problems.length > 12 ? `\n  … and ${this.problems.length - 12} more` : '';
    throw new CheckpointError(`${what}: checkpoint does not match its config:\n  ${shown}${more}`);
  }
}
