// The LM head for decoding, screened: exact float32 logits for every token that can be chosen,
// at a fraction of the head's bytes. Decode reads the whole head per token (151936 × D floats
// for Qwen3's vocabulary: most of a small model's bytes), yet greedy decoding needs only the
// argmax and sampling only the tokens within its window of the best (sampling.ts drops those
// more than 40·T below it). So an int8 copy of the head (MatMulNBits) gives approximate logits
// with a proven error bound per token; tokens whose upper bound cannot reach the window are
// left out (−inf), and the rest are recomputed from the float32 rows. The result is the float
// model's choice, not an approximation of it.
//
// Bound on |x·w − approx| for row v (x: the hidden state, w: the head row):
//   weights: Σ|x_k|·|w_k − ŵ_k| ≤ ‖x‖₁ · maxError_v       (maxError_v measured at quantization)
//   activations (accuracy level 4 quantizes x to int8 with scale ≤ ‖x‖∞/127 per block):
//            Σ|x_k − x̂_k|·|ŵ_k| ≤ ‖x‖∞/254 · absSum_v     (absSum_v = Σ|ŵ_k|)
// with a 1 % margin and float rounding on top. test/head-screen.test.ts checks the bound
// against the kernel.
//
// Inputs: logits_window [1] (0 greedy, 40·T sampling) and always_ids [rows, n], tokens whose
// exact logits are always computed and kept out of the threshold (the tokens a repetition
// penalty will lower, so the threshold stays below the penalized maximum).
import { type Value, int } from '../ir/graph.js';
import { add, concat, gather, mul, reshape, sub, transpose, unsqueeze } from '../ir/ops.js';
import { matMulNBits, type QuantSpec, type QuantizedWeight } from '../quant.js';

/** The int8 copy: 8-bit blocks with int8 activations (the fast MatMulNBits path on x86). */
export const SCREEN_QUANT: QuantSpec = { bits: 8, blockSize: 32, accuracyLevel: 4 };

export interface ScreenInputs {
  window: Value; // float32 [1]
  alwaysIds: Value; // int64 [rows, n]
}

export interface ScreenCopy extends QuantizedWeight {
  maxError: Value; // float32 [V]
  absSum: Value; // float32 [V]
}

const NEG_INF = -Infinity;

/** The int8 copy's logits [rows, V] and a bound on their distance from the float32 ones. */
export function approximateLogits(x: Value, copy: ScreenCopy, D: number, V: number): { approx: Value; bound: Value } {
  const g = x.graph;
  const approx = matMulNBits(x, copy, D, V, SCREEN_QUANT);
  const ax = g.op('Abs', [x]);
  const l1 = g.op('ReduceSum', [ax, g.ints([-1])], { keepdims: int(1) }); // [rows, 1]
  const linf = g.op('ReduceMax', [ax, g.ints([-1])], { keepdims: int(1) });
  const weights = mul(l1, unsqueeze(copy.maxError, [0]));
  const activations = mul(mul(linf, g.scalar(1 / 254 + 1e-6)), unsqueeze(copy.absSum, [0]));
  return { approx, bound: add(mul(add(weights, activations), g.scalar(1.01)), g.scalar(1e-6)) };
}

/** x [rows, D] float32, w the float head [V, D] → logits [rows, V], −inf where no choice can fall. */
export function screenedHead(x: Value, w: Value, copy: ScreenCopy, D: number, V: number, io: ScreenInputs): Value {
  const g = x.graph;
  const { approx, bound } = approximateLogits(x, copy, D, V);

  // threshold = best lower bound among tokens not in always_ids, minus the window
  const rows = g.op('Shape', [x], { start: int(0), end: int(1) });
  const n = g.op('Shape', [io.alwaysIds], { start: int(1), end: int(2) });
  const fill = (v: number) => g.op('Expand', [g.scalar(v), concat([rows, n], 0)]);
  const lower = g.op('ScatterElements', [sub(approx, bound), io.alwaysIds, fill(NEG_INF)], { axis: int(1) });
  const threshold = sub(g.op('ReduceMax', [lower, g.ints([-1])], { keepdims: int(1) }), io.window);
  const upper = g.op('ScatterElements', [add(approx, bound), io.alwaysIds, fill(Infinity)], { axis: int(1) });

  // the candidates, exactly: rows of x times rows of w
  const pairs = transpose(g.op('NonZero', [g.op('GreaterOrEqual', [upper, threshold])]), [1, 0]); // [C, 2]: (row, token)
  const row = reshape(gather(pairs, g.ints([0]), 1), [-1]);
  const token = reshape(gather(pairs, g.ints([1]), 1), [-1]);
  const exact = g.op('ReduceSum', [mul(gather(x, row), gather(w, token)), g.ints([-1])], { keepdims: int(0) }); // [C]
  const full = g.op('Expand', [g.scalar(NEG_INF), g.op('Shape', [approx])]);
  return g.op('ScatterND', [full, pairs, exact]);
}
