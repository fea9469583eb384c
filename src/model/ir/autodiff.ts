// Reverse-mode differentiation of a graph: walks the nodes between the parameters and the
// loss backwards and emits each operator's backward rule as more standard ONNX operators,
// so a training step is one ONNX Runtime run returning the loss and the gradients.
import { type Dim, type Graph, type Node, type Value, int, ints, str } from './graph.js';
import { constInts } from './shapes.js';
import {
  ONNX_DTYPE, add, cast, concat, div, matmul, mul, mulScalar, neg, sqrt, softmax, transpose, unsqueeze, where,
} from './ops.js';

export class AutodiffError extends Error {}

type Rule = (ctx: RuleContext) => (Value | null)[];

interface RuleContext {
  g: Graph;
  node: Node;
  x: (Value | null)[]; // inputs
  y: Value[]; // outputs
  dy: Value; // gradient of the first output
  attr(name: string, dflt?: number): number;
  attrs(name: string): number[] | undefined;
}

// ---------------------------------------------------------------------- helpers

const shapeOf = (v: Value) => v.graph.op('Shape', [v]);
const reshapeTo = (v: Value, like: Value) => withShape(v.graph.op('Reshape', [v, shapeOf(like)]), like.shape);
const zerosLike = (v: Value) => mul(v, v.graph.scalar(0, v.dtype));
const ones = (v: Value) => withShape(v.graph.op('Expand', [v.graph.scalar(1, v.dtype), shapeOf(v)]), v.shape);

function withShape(v: Value, shape: Dim[] | undefined): Value {
  return v.graph.annotate(v, shape);
}

function reduceSum(v: Value, axes: number[], keepdims: boolean): Value {
  if (!axes.length) return v;
  return v.graph.op('ReduceSum', [v, v.graph.ints(axes)], { keepdims: int(keepdims ? 1 : 0) });
}

/** Undo broadcasting: sum dy over the axes where x was stretched, then give it x's shape. */
function sumTo(dy: Value, x: Value): Value {
  const xs = x.shape, ys = dy.shape;
  if (!xs || !ys) throw new AutodiffError(`cannot undo broadcasting without shapes (${x.name})`);
  const lead = ys.length - xs.length;
  let r = reduceSum(dy, Array.from({ length: lead }, (_, i) => i), false);
  const stretched = xs.map((d, i) => (d === 1 && ys[i + lead] !== 1 ? i : -1)).filter((i) => i >= 0);
  r = reduceSum(r, stretched, true);
  return withShape(r, xs);
}

/** Swap the last two axes. */
function mT(v: Value): Value {
  const r = v.shape?.length;
  if (!r) throw new AutodiffError(`MatMul gradient needs the rank of ${v.name}`);
  return transpose(v, [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2]);
}

const isFloat = (v: Value | null) => !!v && (v.dtype === 'float32' || v.dtype === 'float16');

// ---------------------------------------------------------------------- rules

const RULES: Record<string, Rule> = {
  Identity: ({ dy }) => [dy],
  Add: ({ x, dy }) => [sumTo(dy, x[0]!), sumTo(dy, x[1]!)],
  Sub: ({ x, dy }) => [sumTo(dy, x[0]!), sumTo(neg(dy), x[1]!)],
  Mul: ({ x, dy }) => [sumTo(mul(dy, x[1]!), x[0]!), sumTo(mul(dy, x[0]!), x[1]!)],
  Div: ({ x, y, dy }) => [sumTo(div(dy, x[1]!), x[0]!), sumTo(neg(div(mul(dy, y[0]), x[1]!)), x[1]!)],
  Neg: ({ dy }) => [neg(dy)],
  Sqrt: ({ y, dy }) => [div(dy, mulScalar(y[0], 2))],
  Erf: ({ g, x, dy }) => {
    const x0 = x[0]!;
    return [mul(dy, mulScalar(g.op('Exp', [neg(mul(x0, x0))]), 2 / Math.sqrt(Math.PI)))];
  },
  Sigmoid: ({ g, y, dy }) => [mul(dy, mul(y[0], g.op('Sub', [g.scalar(1, y[0].dtype), y[0]])))],
  Exp: ({ y, dy }) => [mul(dy, y[0])],
  Log: ({ x, dy }) => [div(dy, x[0]!)],
  Cast: ({ x, dy }) => [isFloat(x[0]) ? cast(dy, ONNX_DTYPE[x[0]!.dtype as 'float32']) : null],
  Softmax: ({ y, dy, attr }) => {
    const axis = attr('axis', -1);
    const s = dy.graph.op('ReduceSum', [mul(dy, y[0]), dy.graph.ints([axis])], { keepdims: int(1) });
    return [mul(y[0], dy.graph.op('Sub', [dy, s]))];
  },
  MatMul: ({ x, dy }) => [sumTo(matmul(dy, mT(x[1]!)), x[0]!), sumTo(matmul(mT(x[0]!), dy), x[1]!)],
  Gemm: ({ g, x, dy, attr }) => {
    // y = A·Bᵀ + C (transB=1, the only form we build) with A [N, K], B [M, K], C [M]
    if (!attr('transB', 0) || attr('transA', 0)) throw new AutodiffError('Gemm gradient supports transA=0, transB=1');
    const dA = withShape(g.op('Gemm', [dy, x[1]!]), x[0]!.shape);
    const dB = withShape(g.op('Gemm', [dy, x[0]!], { transA: int(1) }), x[1]!.shape);
    const dC = x[2] ? sumTo(dy, x[2]) : null;
    return [dA, dB, dC];
  },
  Reshape: ({ x, dy }) => [reshapeTo(dy, x[0]!), null],
  Unsqueeze: ({ x, dy }) => [reshapeTo(dy, x[0]!), null],
  Squeeze: ({ x, dy }) => [reshapeTo(dy, x[0]!), null],
  Transpose: ({ dy, attrs }) => {
    const perm = attrs('perm')!;
    const inv = perm.map((_, i) => perm.indexOf(i));
    return [transpose(dy, inv)];
  },
  Concat: ({ g, x, dy, attr }) => {
    const rank = x[0]!.shape!.length;
    const axis = attr('axis', 0) < 0 ? attr('axis', 0) + rank : attr('axis', 0);
    const sizes = concat(x.map((v) => g.op('Gather', [shapeOf(v!), g.ints([axis])], { axis: int(0) })), 0);
    const parts = g.opN('Split', [dy, sizes], { axis: int(axis) }, x.length);
    return parts.map((p, i) => withShape(p, x[i]!.shape));
  },
  Slice: ({ g, node, x, dy }) => {
    // Pad the gradient back to x's extent along each sliced axis (step 1 slices only).
    const x0 = x[0]!;
    if (!x0.shape) throw new AutodiffError(`Slice gradient needs the rank of ${x0.name}`);
    const steps = constInts(g, x[4]);
    if (steps && steps.some((s) => s !== 1)) throw new AutodiffError('Slice gradient supports step 1');
    const starts = constInts(g, x[1]), axes = constInts(g, x[3]);
    if (!starts || !axes) throw new AutodiffError(`Slice gradient needs constant starts and axes (${node.outputs[0]})`);
    const rank = x0.shape!.length;
    const shapeX = shapeOf(x0), shapeY = shapeOf(dy);
    const zero = g.ints(new Array(rank).fill(0));
    // begin pad per axis = clamp(start) (normalised), end pad = dim_x − begin − dim_y
    const beginVals = new Array(rank).fill(0);
    let begin: Value = zero;
    const dynamicBegin: { axis: number; start: number }[] = [];
    axes.forEach((a0, i) => {
      const a = a0 < 0 ? a0 + rank : a0;
      const d = x0.shape![a];
      const s = starts[i];
      if (s >= 0 && typeof d === 'number') beginVals[a] = Math.min(s, d);
      else if (s >= 0) beginVals[a] = s;
      else dynamicBegin.push({ axis: a, start: s });
    });
    begin = g.ints(beginVals);
    if (dynamicBegin.length) {
      // negative starts count from the end: begin = max(dim + start, 0)
      const mask = new Array(rank).fill(0);
      const off = new Array(rank).fill(0);
      for (const { axis, start } of dynamicBegin) {
        mask[axis] = 1;
        off[axis] = start;
      }
      const fromEnd = g.op('Max', [add(mul(shapeX, g.ints(mask)), g.ints(off)), g.ints(new Array(rank).fill(0))]);
      begin = add(begin, mul(fromEnd, g.ints(mask)));
    }
    const end = g.op('Sub', [g.op('Sub', [shapeX, begin]), shapeY]);
    return [withShape(g.op('Pad', [dy, concat([begin, end], 0)]), x0.shape), null, null, null, null];
  },
  Gather: ({ g, x, dy, attr }) => {
    if (attr('axis', 0) !== 0) throw new AutodiffError('Gather gradient supports axis 0');
    const data = x[0]!;
    // Rows gathered more than once receive the sum of their gradients (ScatterND with add).
    const zeros = g.op('ConstantOfShape', [shapeOf(data)], {});
    const zerosT = data.dtype === 'float32' ? zeros : cast(zeros, ONNX_DTYPE[data.dtype as 'float16']);
    const idx = unsqueeze(x[1]!, [-1]);
    return [withShape(g.op('ScatterND', [zerosT, idx, dy], { reduction: str('add') }), data.shape), null];
  },
  Where: ({ x, dy }) => {
    const zero = zerosLike(dy);
    return [null, isFloat(x[1]) ? sumTo(where(x[0]!, dy, zero), x[1]!) : null, isFloat(x[2]) ? sumTo(where(x[0]!, zero, dy), x[2]!) : null];
  },
  ReduceSum: ({ g, x, dy, attr }) => {
    const x0 = x[0]!;
    const rank = x0.shape?.length;
    const axes = constInts(g, x[1]);
    let d = dy;
    if (!attr('keepdims', 1) && axes && rank !== undefined) d = unsqueeze(dy, axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q));
    return [withShape(g.op('Expand', [d, shapeOf(x0)]), x0.shape), null];
  },
  ReduceMean: ({ g, x, y, dy, attr }) => {
    const keep = attr('keepdims', 1);
    if (!keep) throw new AutodiffError('ReduceMean gradient supports keepdims=1');
    const n = div(cast(g.op('Size', [y[0]]), ONNX_DTYPE.float32), cast(g.op('Size', [x[0]!]), ONNX_DTYPE.float32));
    const grown = withShape(g.op('Expand', [dy, shapeOf(x[0]!)]), x[0]!.shape);
    return [mul(grown, cast(n, ONNX_DTYPE[x[0]!.dtype as 'float32'])), null];
  },
  LayerNormalization: ({ g, x, dy, attr }) => {
    // y = x̂·w + b with x̂ = (x − μ)/σ over the last axis:
    // dx = (dŷ − mean(dŷ) − x̂·mean(dŷ·x̂)) / σ with dŷ = dy·w; dw = Σ dy·x̂; db = Σ dy.
    if (attr('axis', -1) !== -1) throw new AutodiffError('LayerNormalization gradient supports axis -1');
    const eps = attr('epsilon', 1e-5);
    const x0 = x[0]!;
    const mu = g.op('ReduceMean', [x0, g.ints([-1])], { keepdims: int(1) });
    const xc = g.op('Sub', [x0, mu]);
    const variance = g.op('ReduceMean', [mul(xc, xc), g.ints([-1])], { keepdims: int(1) });
    const sigma = sqrt(add(variance, g.scalar(eps, x0.dtype)));
    const xhat = withShape(div(xc, sigma), x0.shape);
    const dhat = mul(dy, x[1]!);
    const m1 = g.op('ReduceMean', [dhat, g.ints([-1])], { keepdims: int(1) });
    const m2 = g.op('ReduceMean', [mul(dhat, xhat), g.ints([-1])], { keepdims: int(1) });
    const dx = div(g.op('Sub', [g.op('Sub', [dhat, m1]), mul(xhat, m2)]), sigma);
    return [withShape(dx, x0.shape), sumTo(mul(dy, xhat), x[1]!), x[2] ? sumTo(dy, x[2]) : null];
  },
  AveragePool: ({ g, x, dy, attrs }) => {
    // 1-D, kernel = stride, no padding (MuFun's pooling): each input frame gets dy/k of its window.
    const k = attrs('kernel_shape')!;
    const st = attrs('strides') ?? k;
    if (k.length !== 1 || st[0] !== k[0]) throw new AutodiffError('AveragePool gradient supports 1-D kernel = stride');
    const x0 = x[0]!;
    const spread = g.op('Expand', [unsqueeze(dy, [3]), concat([shapeOf(dy), g.ints([k[0]])], 0)]);
    const flat = g.op('Reshape', [spread, g.ints([0, 0, -1])]);
    const missing = g.op('Sub', [g.op('Shape', [x0], { start: int(2) }), g.op('Shape', [flat], { start: int(2) })]);
    const padded = g.op('Pad', [flat, concat([g.ints([0, 0, 0, 0, 0]), missing], 0)]);
    return [withShape(mulScalar(padded, 1 / k[0]), x0.shape)];
  },
  Conv: ({ g, x, dy, attrs, attr }) => convGradient(g, x, dy, attrs, attr),
  Dropout: ({ g, x, y, dy }) => {
    // y = x · mask / (1 − ratio): the gradient takes the same mask and scale.
    const ratio = g.initializers.get(x[1]?.name ?? '')?.data as Float32Array | undefined;
    if (!ratio || !y[1]) throw new AutodiffError('Dropout gradient needs a constant ratio and the mask output');
    return [mul(mulScalar(dy, 1 / (1 - ratio[0])), cast(y[1], ONNX_DTYPE[dy.dtype as 'float32'])), null, null];
  },
  SoftmaxCrossEntropyLoss: ({ g, node, x, dy }) => {
    // mean over targets ≠ ignore_index of −log softmax: d/dscores = (p − onehot)·valid / count.
    const red = (node.attrs.reduction?.v as string | undefined) ?? 'mean';
    if (red !== 'mean') throw new AutodiffError('SoftmaxCrossEntropyLoss gradient supports reduction mean');
    const scores = x[0]!, labels = x[1]!;
    const ignore = node.attrs.ignore_index ? (node.attrs.ignore_index.v as number) : null;
    const p = softmax(scores, 1);
    const depth = g.op('Shape', [scores], { start: int(1), end: int(2) });
    const valid = ignore === null ? null : g.op('Not', [g.op('Equal', [labels, g.constant([ignore], 'int64', [])])]);
    const safe = valid ? where(valid, labels, g.constant([0], 'int64', [])) : labels;
    const onehot = g.op('OneHot', [safe, depth, g.constant([0, 1], scores.dtype === 'float32' ? 'float32' : 'float16', [2])], { axis: int(-1) });
    let diff = g.op('Sub', [p, onehot]);
    const validF = valid ? cast(valid, ONNX_DTYPE[scores.dtype as 'float32']) : ones(cast(labels, ONNX_DTYPE[scores.dtype as 'float32']));
    diff = mul(diff, unsqueeze(validF, [1]));
    const count = g.op('ReduceSum', [validF], { keepdims: int(0) });
    return [withShape(mul(div(diff, count), dy), scores.shape), null];
  },
  // ---- appended for GRPO (per-token log-probs and the clipped objective)
  LogSoftmax: ({ g, y, dy, attr }) => {
    // y = x − logsumexp(x): dx = dy − softmax(x)·Σ dy along the axis.
    const s = g.op('ReduceSum', [dy, g.ints([attr('axis', -1)])], { keepdims: int(1) });
    return [withShape(g.op('Sub', [dy, mul(g.op('Exp', [y[0]]), s)]), y[0].shape)];
  },
  GatherElements: ({ g, x, dy, attr }) => {
    // Each gathered element sends its gradient back to where it came from (repeats add up).
    const data = x[0]!;
    const zeros = g.op('ConstantOfShape', [shapeOf(data)], {});
    const zerosT = data.dtype === 'float32' ? zeros : cast(zeros, ONNX_DTYPE[data.dtype as 'float16']);
    return [withShape(g.op('ScatterElements', [zerosT, x[1]!, dy], { axis: int(attr('axis', 0)), reduction: str('add') }), data.shape), null];
  },
  Min: ({ x, dy }) => minMaxGradient(x, dy, 'Less'),
  Max: ({ x, dy }) => minMaxGradient(x, dy, 'Greater'),
  Clip: ({ g, x, dy }) => {
    // clamp: the gradient passes where min ≤ x ≤ max (PyTorch's rule, bounds included).
    const x0 = x[0]!;
    let pass: Value | null = null;
    if (x[1]) pass = g.op('GreaterOrEqual', [x0, x[1]]);
    if (x[2]) {
      const hi = g.op('LessOrEqual', [x0, x[2]]);
      pass = pass ? g.op('And', [pass, hi]) : hi;
    }
    return [pass ? withShape(where(pass, dy, zerosLike(dy)), x0.shape) : dy, null, null];
  },
};

/** Elementwise min/max of two inputs: the winner takes the gradient, a tie splits it evenly (as PyTorch). */
function minMaxGradient(x: (Value | null)[], dy: Value, wins: 'Less' | 'Greater'): (Value | null)[] {
  if (x.length !== 2) throw new AutodiffError(`Min/Max gradient supports two inputs (got ${x.length})`);
  const g = dy.graph;
  const [a, b] = [x[0]!, x[1]!];
  const half = mulScalar(dy, 0.5);
  const zero = zerosLike(dy);
  const tie = g.op('Equal', [a, b]);
  const aWins = g.op(wins, [a, b]);
  const bWins = g.op(wins, [b, a]);
  const da = where(aWins, dy, where(tie, half, zero));
  const db = where(bWins, dy, where(tie, half, zero));
  return [sumTo(withShape(da, dy.shape), a), sumTo(withShape(db, dy.shape), b)];
}

/** Conv gradients: dx by a transposed convolution, dW by convolving x with dy (dilated by the stride). */
function convGradient(g: Graph, x: (Value | null)[], dy: Value, attrs: (n: string) => number[] | undefined, attr: (n: string, d?: number) => number): (Value | null)[] {
  const x0 = x[0]!, w = x[1]!;
  const k = (attrs('kernel_shape') ?? (w.shape!.slice(2) as number[])) as number[];
  if (k.length !== 1) throw new AutodiffError('Conv gradient supports 1-D convolutions');
  if (attr('group', 1) !== 1) throw new AutodiffError('Conv gradient supports group 1');
  const s = attrs('strides')?.[0] ?? 1;
  const pads = attrs('pads') ?? [0, 0];
  const len = x0.shape![2];
  if (typeof len !== 'number') throw new AutodiffError('Conv gradient needs the input length to be static');
  const outLen = Math.floor((len + pads[0] + pads[1] - k[0]) / s) + 1;
  const dx = withShape(g.op('ConvTranspose', [dy, w], {
    strides: ints([s]), pads: ints(pads), kernel_shape: ints(k),
    output_padding: ints([len + pads[0] + pads[1] - k[0] - s * (outLen - 1)]),
  }), x0.shape);
  // dW[o,i,t] = Σ_b Σ_τ dy[b,o,τ]·x_pad[b,i,τ·s + t]: a convolution over τ with channels as batch.
  const xp = g.op('Pad', [x0, g.ints([0, 0, pads[0], 0, 0, pads[1]])]);
  const xT = transpose(xp, [1, 0, 2]); // [Cin, B, T]
  const dyT = transpose(dy, [1, 0, 2]); // [Cout, B, T']
  const corr = g.op('Conv', [xT, dyT], { dilations: ints([s]) }); // [Cin, Cout, L]
  const dW = withShape(transpose(g.op('Slice', [corr, g.ints([0]), g.ints([k[0]]), g.ints([2])]), [1, 0, 2]), w.shape);
  const db = x[2] ? withShape(reduceSum(dy, [0, 2], false), x[2].shape) : null;
  return [dx, dW, db];
}

// ---------------------------------------------------------------------- the pass

/**
 * Appends to `g` the gradient of the scalar `loss` with respect to each of `wrt`
 * and returns them by name. Values that do not reach the loss get a zero gradient.
 */
export function gradients(g: Graph, loss: Value, wrt: Value[]): Map<string, Value> {
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => n.outputs.forEach((o) => producer.set(o, i)));
  // Nodes on a path from some `wrt` to the loss.
  const wanted = new Set(wrt.map((v) => v.name));
  const dependsOnWrt = new Set<string>(wanted);
  const forward = g.nodes.slice();
  for (const n of forward) if (n.inputs.some((i) => dependsOnWrt.has(i))) n.outputs.forEach((o) => dependsOnWrt.add(o));
  const needed = new Set<number>();
  const stack = [loss.name];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    const i = producer.get(v);
    if (i === undefined || !dependsOnWrt.has(v)) continue;
    needed.add(i);
    for (const inp of forward[i].inputs) if (inp) stack.push(inp);
  }

  const grads = new Map<string, Value>();
  const accumulate = (name: string, d: Value | null) => {
    if (!d || !dependsOnWrt.has(name)) return;
    const prev = grads.get(name);
    grads.set(name, prev ? withShape(add(prev, d), prev.shape) : d);
  };
  grads.set(loss.name, ones(loss));

  for (const i of [...needed].sort((a, b) => b - a)) {
    const node = forward[i];
    const dy = grads.get(node.outputs[0]);
    if (!dy) continue;
    const rule = RULES[node.op];
    if (!rule) throw new AutodiffError(`no gradient rule for ${node.op} (${node.outputs[0]})`);
    const xs = node.inputs.map((n) => (n ? g.values.get(n) ?? null : null));
    const ys = node.outputs.map((n) => g.values.get(n)!);
    const dxs = g.scope(`grad/${node.op}`, () =>
      rule({
        g, node, x: xs, y: ys, dy: withShape(dy, ys[0].shape),
        attr: (name, dflt = 0) => (node.attrs[name] ? (node.attrs[name].v as number) : dflt),
        attrs: (name) => (node.attrs[name] ? (node.attrs[name].v as number[]) : undefined),
      }));
    dxs.forEach((d, j) => node.inputs[j] && accumulate(node.inputs[j], d));
  }
  const out = new Map<string, Value>();
  for (const v of wrt) out.set(v.name, grads.get(v.name) ?? zerosLike(v));
  return out;
}
