// The graph IR: models are written once as functions over this, then exported to ONNX
// (ir/onnx.ts) and run by ONNX Runtime. Each node is an ONNX operator; values are named
// edges. Weights are initializers whose bytes are produced lazily, so a multi-gigabyte
// checkpoint is streamed into the exported file one tensor at a time.
import { f32ToF16 } from './half.js';
import { inferShape } from './shapes.js';

export type DType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8';
export type Dim = number | string; // a string is a symbolic (dynamic) dimension

export type TypedArray = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array;

/** A value flowing through the graph, named so exported models are debuggable. */
export interface Value {
  readonly name: string;
  readonly graph: Graph;
  /** element type, tracked so float16 graphs get float16 constants */
  readonly dtype: DType;
  /** static where known, symbolic names where dynamic (ir/shapes.ts); undefined if unknown */
  readonly shape?: Dim[];
}

/** Attribute kinds ONNX distinguishes; JS numbers alone cannot say int or float. */
export type Attr =
  | { kind: 'int'; v: number }
  | { kind: 'float'; v: number }
  | { kind: 'ints'; v: number[] }
  | { kind: 'floats'; v: number[] }
  | { kind: 'string'; v: string };

export const int = (v: number): Attr => ({ kind: 'int', v });
export const float = (v: number): Attr => ({ kind: 'float', v });
export const ints = (v: number[]): Attr => ({ kind: 'ints', v });
export const floats = (v: number[]): Attr => ({ kind: 'floats', v });
export const str = (v: string): Attr => ({ kind: 'string', v });

export interface Node {
  op: string;
  domain: string; // '' = ai.onnx
  inputs: string[]; // '' = an omitted optional input
  outputs: string[];
  attrs: Record<string, Attr>;
}

export interface Signature {
  name: string;
  dtype: DType;
  shape: Dim[];
}

/** A tensor stored in the model: small constants carry data, weights carry a loader. */
export interface Initializer extends Signature {
  data?: TypedArray;
  load?: () => TypedArray | Promise<TypedArray>;
}

export const BYTES: Record<DType, number> = { float32: 4, float16: 2, int64: 8, int32: 4, bool: 1, uint8: 1 };

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export class Graph {
  readonly nodes: Node[] = [];
  readonly inputs: Signature[] = [];
  readonly outputs: Signature[] = [];
  readonly initializers = new Map<string, Initializer>();
  private counter = 0;
  private scopes: string[] = [];
  /**
   * Use onnxruntime's fused kernels (SimplifiedLayerNormalization for RMSNorm: one dispatch
   * instead of seven; RotaryEmbedding for RoPE). Inference graphs only: autodiff knows the
   * standard ops alone.
   */
  fused = false;
  /**
   * Every weight is a constant initializer (an inference graph: no trainable inputs, no
   * autodiff), so a linear layer may store its weight transposed and run as one MatMul.
   */
  constantWeights = false;
  /** The checkpoint tensors the graph reads and the shapes it expects (whatever layout its initializers store). */
  readonly checkpointTensors = new Map<string, number[]>();

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    const prefix = this.scopes.length ? this.scopes.join('/') + '/' : '';
    return `${prefix}${hint}_${this.counter++}`;
  }

  value(name: string, dtype: DType, shape?: Dim[]): Value {
    return { name, graph: this, dtype, shape };
  }

  /** Every value by name (inputs, initializers, node outputs), for passes over the graph. */
  readonly values = new Map<string, Value>();

  private track(v: Value): Value {
    this.values.set(v.name, v);
    return v;
  }

  /** Records a shape that inference could not see (e.g. after a Reshape to a computed shape). */
  annotate(v: Value, shape: Dim[] | undefined): Value {
    if (!shape) return v;
    return this.track({ ...v, shape });
  }

  /** Names nodes built inside `fn` after the module they belong to (e.g. "layers.3/attn"). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  input(name: string, dtype: DType, shape: Dim[]): Value {
    if (this.inputs.some((i) => i.name === name)) throw new Error(`graph ${this.name}: duplicate input ${name}`);
    this.inputs.push({ name, dtype, shape });
    return this.track(this.value(name, dtype, shape));
  }

  output(v: Value, name: string, dtype: DType, shape: Dim[]): void {
    if (v.name !== name) this.nodes.push({ op: 'Identity', domain: '', inputs: [v.name], outputs: [name], attrs: {} });
    this.outputs.push({ name, dtype, shape });
  }

  /** A weight: its bytes are produced only when the graph is exported. */
  weight(name: string, dtype: DType, shape: number[], load: Initializer['load'] | TypedArray): Value {
    const existing = this.initializers.get(name);
    if (existing) return this.value(name, existing.dtype, existing.shape);
    const init: Initializer = { name, dtype, shape };
    if (typeof load === 'function') init.load = load;
    else init.data = load;
    this.initializers.set(name, init);
    return this.track(this.value(name, dtype, shape));
  }

  /** Turns a weight into a graph input (a trainable tensor fed each step); returns its signature. */
  promoteToInput(name: string): Signature {
    const init = this.initializers.get(name);
    if (!init) throw new Error(`graph ${this.name}: no initializer ${name} to make an input`);
    this.initializers.delete(name);
    const sig = { name, dtype: init.dtype, shape: init.shape };
    this.inputs.push(sig);
    return sig;
  }

  /** A small constant tensor (shapes, axes, scalars). */
  constant(data: number[] | TypedArray, dtype: DType, shape?: number[]): Value {
    const arr = toTyped(data, dtype);
    const name = this.fresh('const');
    const dims = shape ?? [arr.length];
    this.initializers.set(name, { name, dtype, shape: dims, data: arr });
    return this.track(this.value(name, dtype, dims));
  }

  /** A scalar of the given type (float ops pass their operand's type, so float16 graphs stay float16). */
  scalar(v: number, dtype: DType = 'float32'): Value {
    return this.constant([v], dtype, []);
  }

  ints(v: number[]): Value {
    return this.constant(v, 'int64');
  }

  /** Adds an operator node; returns its outputs. */
  opN(op: string, inputs: (Value | null)[], attrs: Record<string, Attr> = {}, nOut = 1, domain = ''): Value[] {
    const outputs = Array.from({ length: nOut }, () => this.fresh(op));
    this.nodes.push({ op, domain, inputs: inputs.map((v) => (v ? v.name : '')), outputs, attrs });
    const dtype = outputDtype(op, inputs, attrs);
    const shape = inferShape(this, op, inputs, attrs);
    return outputs.map((o, i) => {
      if (op === 'Dropout' && i === 1) return this.track(this.value(o, 'bool', shape)); // the mask
      return this.track(this.value(o, dtype, i === 0 ? shape : undefined));
    });
  }

  op(op: string, inputs: (Value | null)[], attrs: Record<string, Attr> = {}, domain = ''): Value {
    return this.opN(op, inputs, attrs, 1, domain)[0];
  }
}

const ONNX_TO_DTYPE: Record<number, DType> = { 1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16' };
const BOOL_OPS = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Not', 'IsNaN', 'IsInf']);
const INT64_OPS = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

/** The element type an operator produces (for the ops we build with). */
function outputDtype(op: string, inputs: (Value | null)[], attrs: Record<string, Attr>): DType {
  if (op === 'Cast') return ONNX_TO_DTYPE[(attrs.to as { v: number }).v];
  if (BOOL_OPS.has(op)) return 'bool';
  if (INT64_OPS.has(op)) return 'int64';
  if (op === 'Where') return inputs[1]!.dtype;
  if (op === 'ConstantOfShape') return 'float32'; // its default value is a float32 zero
  if (op === 'SoftmaxCrossEntropyLoss') return inputs[0]!.dtype;
  return inputs.find((v) => v)?.dtype ?? 'float32';
}

export function toTyped(data: number[] | TypedArray, dtype: DType): TypedArray {
  if (!Array.isArray(data)) return data;
  switch (dtype) {
    case 'float32':
      return Float32Array.from(data);
    case 'int64':
      return BigInt64Array.from(data.map((x) => BigInt(x)));
    case 'int32':
      return Int32Array.from(data);
    case 'bool':
    case 'uint8':
      return Uint8Array.from(data);
    case 'float16':
      return f32ToF16(Float32Array.from(data));
  }
}
