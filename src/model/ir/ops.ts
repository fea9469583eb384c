// ONNX operators as plain functions over graph values, so model code reads like the math.
// Only standard ai.onnx ops (opset 21): every provider runs them and autodiff can rewrite them.
import { type DType, float, int, ints, type Value } from './graph.js';

export const OPSET = 21;

const g = (v: Value) => v.graph;

export const add = (a: Value, b: Value) => g(a).op('Add', [a, b]);
export const sub = (a: Value, b: Value) => g(a).op('Sub', [a, b]);
export const mul = (a: Value, b: Value) => g(a).op('Mul', [a, b]);
export const div = (a: Value, b: Value) => g(a).op('Div', [a, b]);
export const neg = (a: Value) => g(a).op('Neg', [a]);
export const sqrt = (a: Value) => g(a).op('Sqrt', [a]);
export const erf = (a: Value) => g(a).op('Erf', [a]);
export const sigmoid = (a: Value) => g(a).op('Sigmoid', [a]);
export const cos = (a: Value) => g(a).op('Cos', [a]);
export const sin = (a: Value) => g(a).op('Sin', [a]);
export const log = (a: Value) => g(a).op('Log', [a]);
export const max = (a: Value, b: Value) => g(a).op('Max', [a, b]);
export const matmul = (a: Value, b: Value) => g(a).op('MatMul', [a, b]);
export const addScalar = (a: Value, s: number) => add(a, g(a).scalar(s, a.dtype));
export const mulScalar = (a: Value, s: number) => mul(a, g(a).scalar(s, a.dtype));

export const reshape = (a: Value, shape: number[]) => g(a).op('Reshape', [a, g(a).ints(shape)]);
export const transpose = (a: Value, perm: number[]) => g(a).op('Transpose', [a], { perm: ints(perm) });
export const unsqueeze = (a: Value, axes: number[]) => g(a).op('Unsqueeze', [a, g(a).ints(axes)]);
export const concat = (xs: Value[], axis: number) => g(xs[0]).op('Concat', xs, { axis: int(axis) });
export const gather = (data: Value, idx: Value, axis = 0) => g(data).op('Gather', [data, idx], { axis: int(axis) });
export const where = (c: Value, a: Value, b: Value) => g(c).op('Where', [c, a, b]);
export const cast = (a: Value, to: number) => g(a).op('Cast', [a], { to: int(to) });
export const softmax = (a: Value, axis = -1) => g(a).op('Softmax', [a], { axis: int(axis) });
export const reduceMean = (a: Value, axes: number[], keepdims = true) =>
  g(a).op('ReduceMean', [a, g(a).ints(axes)], { keepdims: int(keepdims ? 1 : 0) });
export const reduceMax = (a: Value, axes: number[] | null, keepdims = true) =>
  g(a).op('ReduceMax', axes ? [a, g(a).ints(axes)] : [a], { keepdims: int(keepdims ? 1 : 0) });

/** x[starts:ends] along axes (ends may be large to mean "to the end"). */
export const slice = (a: Value, starts: number[], ends: number[], axes: number[]) =>
  g(a).op('Slice', [a, g(a).ints(starts), g(a).ints(ends), g(a).ints(axes)]);

/** ONNX TensorProto.DataType codes used by Cast. */
export const ONNX_DTYPE = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10 } as const;

/** y = x Wᵀ + b with W in PyTorch's [out, in] layout (Gemm transposes B without a copy). */
export function linear(x: Value, w: Value, b: Value | null, inFeatures: number, outFeatures: number): Value {
  const x2 = reshape(x, [-1, inFeatures]);
  const y = g(x).op('Gemm', b ? [x2, w, b] : [x2, w], { transB: int(1) });
  return reshapeLike(y, x, outFeatures);
}

/** Restores x's leading dims on a 2-D result: [N, out] -> [..., out]. */
function reshapeLike(y: Value, x: Value, last: number): Value {
  const graph = g(x);
  const lead = graph.op('Shape', [x], { end: int(-1) });
  const out = graph.op('Reshape', [y, concat([lead, graph.ints([last])], 0)]);
  return graph.annotate(out, x.shape ? [...x.shape.slice(0, -1), last] : undefined);
}

/** GELU with the exact erf form (PyTorch's default, and Whisper's and MuFun's connector's). */
export function gelu(x: Value): Value {
  return mul(mulScalar(x, 0.5), addScalar(erf(mulScalar(x, Math.SQRT1_2)), 1));
}

export const silu = (x: Value) => mul(x, sigmoid(x));

/** LayerNorm over the last axis (Whisper). */
export function layerNorm(x: Value, w: Value, b: Value, eps: number): Value {
  return g(x).op('LayerNormalization', [x, w, b], { axis: int(-1), epsilon: float(eps) });
}

/** RMSNorm over the last axis, as Qwen3: x / sqrt(mean(x²) + eps) * w, normalised in float32. */
export function rmsNorm(x: Value, w: Value, eps: number): Value {
  if (g(x).fused) {
    // onnxruntime's contrib op (default domain): the same math, in float32 inside (stash_type 1)
    return g(x).op('SimplifiedLayerNormalization', [x, w], { axis: int(-1), epsilon: float(eps), stash_type: int(1) });
  }
  const xf = toDtype(x, 'float32');
  const ms = reduceMean(mul(xf, xf), [-1]);
  return mul(toDtype(div(xf, sqrt(addScalar(ms, eps))), x.dtype), w);
}

/** Cast unless already of that type. */
export function toDtype(x: Value, dtype: DType): Value {
  return x.dtype === dtype ? x : cast(x, ONNX_DTYPE[dtype as keyof typeof ONNX_DTYPE]);
}

/** softmax computed in float32 (half precision loses the small probabilities), back in x's type. */
export function softmaxF32(x: Value, axis = -1): Value {
  return toDtype(softmax(toDtype(x, 'float32'), axis), x.dtype);
}
