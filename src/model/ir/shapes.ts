// Shape inference for the operators we build with. Dims are numbers when static, names
// ('batch', 'seq') when dynamic, '?' when unknown. Autodiff needs it to undo broadcasting
// and to size transposed convolutions; exported models don't depend on it.
import type { Attr, Dim, Graph, Value } from './graph.js';

const UNARY = new Set([
  'Identity', 'Neg', 'Sqrt', 'Erf', 'Sigmoid', 'Cos', 'Sin', 'Log', 'Exp', 'Cast', 'Softmax', 'LogSoftmax', 'Relu',
  'Tanh', 'Abs', 'Reciprocal', 'Not', 'LayerNormalization', 'SimplifiedLayerNormalization', 'RotaryEmbedding', 'IsNaN', 'Dropout',
]);
const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Where', 'And', 'Or', 'Equal', 'Less', 'LessOrEqual', 'Greater',
  'GreaterOrEqual',
]);

/** Numbers of a small int64 constant (shape, axes), or undefined when not a constant. */
export function constInts(g: Graph, v: Value | null | undefined): number[] | undefined {
  if (!v) return undefined;
  const init = g.initializers.get(v.name);
  if (!init?.data || init.dtype !== 'int64') return undefined;
  return Array.from(init.data as BigInt64Array, Number);
}

export function broadcastShapes(shapes: Dim[][]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[i - (rank - s.length)];
      if (x === undefined || x === 1) continue;
      if (d === 1 || d === '?') d = x;
      else if (typeof d === 'string' && typeof x === 'number') d = x;
    }
    out.push(d);
  }
  return out;
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);
const ai = (attrs: Record<string, Attr>, k: string, dflt: number) => (attrs[k] ? (attrs[k].v as number) : dflt);
const aints = (attrs: Record<string, Attr>, k: string) => (attrs[k] ? (attrs[k].v as number[]) : undefined);

function convLength(len: Dim, k: number, stride: number, pads: [number, number], dilation = 1): Dim {
  return typeof len === 'number' ? Math.floor((len + pads[0] + pads[1] - dilation * (k - 1) - 1) / stride) + 1 : '?';
}

/** The output shape of op (first output), or undefined when it cannot be told. */
export function inferShape(g: Graph, op: string, ins: (Value | null)[], attrs: Record<string, Attr>): Dim[] | undefined {
  const s = ins.map((v) => v?.shape);
  const x = s[0];
  if (UNARY.has(op)) return x;
  if (BROADCAST.has(op)) return s.every((v) => v) ? broadcastShapes(s as Dim[][]) : undefined;
  if (!x) return op === 'Range' || op === 'Shape' ? ['?'] : undefined;
  switch (op) {
    case 'MatMul': {
      const b = s[1];
      if (!b) return undefined;
      const batch = broadcastShapes([x.slice(0, -2), b.slice(0, -2)]);
      return [...batch, x[x.length - 2], b[b.length - 1]];
    }
    case 'Gemm': {
      const b = s[1];
      if (!b) return undefined;
      const m = ai(attrs, 'transA', 0) ? x[1] : x[0];
      const n = ai(attrs, 'transB', 0) ? b[0] : b[1];
      return [m, n];
    }
    case 'MatMulNBits':
      return [...x.slice(0, -1), ai(attrs, 'N', 0)];
    case 'Reshape': {
      const target = constInts(g, ins[1]);
      if (!target) return undefined;
      const known = x.every((d) => typeof d === 'number') ? (x as number[]).reduce((a, b) => a * b, 1) : undefined;
      const out: Dim[] = target.map((d, i) => (d === 0 ? x[i] : d === -1 ? '?' : d));
      const rest = out.filter((d) => d !== '?');
      if (out.includes('?') && known !== undefined && rest.every((d) => typeof d === 'number')) {
        out[out.indexOf('?')] = known / (rest as number[]).reduce((a, b) => a * b, 1);
      }
      return out;
    }
    case 'Transpose': {
      const perm = aints(attrs, 'perm') ?? x.map((_, i) => x.length - 1 - i);
      return perm.map((p) => x[p]);
    }
    case 'Unsqueeze': {
      const axes = constInts(g, ins[1]);
      if (!axes) return undefined;
      const out = [...x];
      const rank = x.length + axes.length;
      for (const a of axes.map((a) => norm(a, rank)).sort((p, q) => p - q)) out.splice(a, 0, 1);
      return out;
    }
    case 'Squeeze': {
      const axes = constInts(g, ins[1])?.map((a) => norm(a, x.length));
      return axes ? x.filter((_, i) => !axes.includes(i)) : x.filter((d) => d !== 1);
    }
    case 'Concat': {
      const axis = norm(ai(attrs, 'axis', 0), x.length);
      const dims = s.map((v) => v?.[axis]);
      const total = dims.every((d) => typeof d === 'number') ? (dims as number[]).reduce((a, b) => a + b, 0) : '?';
      return x.map((d, i) => (i === axis ? total : d));
    }
    case 'Gather': {
      const idx = s[1];
      if (!idx) return undefined;
      const axis = norm(ai(attrs, 'axis', 0), x.length);
      return [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
    }
    case 'Slice': {
      const starts = constInts(g, ins[1]), ends = constInts(g, ins[2]);
      const axes = constInts(g, ins[3]) ?? starts?.map((_, i) => i);
      const steps = constInts(g, ins[4]);
      if (!starts || !ends || !axes) return x.map(() => '?');
      const out = [...x];
      axes.forEach((a0, i) => {
        const a = norm(a0, x.length);
        const d = x[a];
        const step = steps?.[i] ?? 1;
        if (typeof d !== 'number' || step !== 1) {
          out[a] = '?';
          return;
        }
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
        out[a] = Math.max(0, clamp(ends[i]) - clamp(starts[i]));
      });
      return out;
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax': {
      const axes = (constInts(g, ins[1]) ?? x.map((_, i) => i)).map((a) => norm(a, x.length));
      const keep = ai(attrs, 'keepdims', 1);
      return keep ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i));
    }
    case 'Range':
      return ['?'];
    case 'Size':
      return [];
    case 'Shape': {
      const start = ai(attrs, 'start', 0), end = attrs.end ? ai(attrs, 'end', 0) : x.length;
      return [norm(end, x.length) - norm(start, x.length)];
    }
    case 'Expand': {
      const t = constInts(g, ins[1]);
      return t ? broadcastShapes([x, t]) : undefined;
    }
    case 'Conv': {
      const w = s[1];
      if (!w) return undefined;
      const k = aints(attrs, 'kernel_shape') ?? (w.slice(2) as number[]);
      const st = aints(attrs, 'strides') ?? k.map(() => 1);
      const pads = aints(attrs, 'pads') ?? k.map(() => 0).concat(k.map(() => 0));
      const dil = aints(attrs, 'dilations') ?? k.map(() => 1);
      const sp = x.slice(2).map((len, i) => convLength(len, k[i], st[i], [pads[i], pads[i + k.length]], dil[i]));
      return [x[0], w[0], ...sp];
    }
    case 'ConvTranspose': {
      const w = s[1];
      if (!w) return undefined;
      const os = aints(attrs, 'output_shape');
      if (os) return [x[0], w[1], ...os];
      return undefined;
    }
    case 'AveragePool': {
      const k = aints(attrs, 'kernel_shape')!;
      const st = aints(attrs, 'strides') ?? k.map(() => 1);
      const pads = aints(attrs, 'pads') ?? k.map(() => 0).concat(k.map(() => 0));
      return [x[0], x[1], ...x.slice(2).map((len, i) => convLength(len, k[i], st[i], [pads[i], pads[i + k.length]]))];
    }
    case 'Pad': {
      const p = constInts(g, ins[1]);
      if (!p) return x.map(() => '?');
      const r = x.length;
      return x.map((d, i) => (typeof d === 'number' ? d + p[i] + p[i + r] : '?'));
    }
    case 'SoftmaxCrossEntropyLoss':
      return (attrs.reduction?.v ?? 'mean') === 'none' ? [x[0], ...x.slice(2)] : [];
    case 'ScatterND':
    case 'ScatterElements':
      return x;
    case 'OneHot':
      return [...x, '?'];
    default:
      return undefined;
  }
}
