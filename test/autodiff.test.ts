// Every backward rule agrees with central finite differences of its forward operator,
// each checked on a small random case inside a scalar loss L = Σ op(x)·R.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { gradients } from '../src/model/ir/autodiff.js';
import { Graph, int, ints, type Value } from '../src/model/ir/graph.js';
import { exportOnnx } from '../src/model/ir/onnx.js';
import * as op from '../src/model/ir/ops.js';
import { pruneDeadNodes } from '../src/model/ir/prune.js';

interface In { name: string; shape: number[]; data?: Float32Array; positive?: boolean }

let seed = 1;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;

async function gradCheck(build: (g: Graph, xs: Value[]) => Value, ins: In[], tol = 1e-2): Promise<void> {
  const g = new Graph('check');
  const xs = ins.map((i) => g.input(i.name, 'float32', i.shape));
  const y = build(g, xs);
  const shape = y.shape as number[];
  expect(shape.every((d) => typeof d === 'number'), `static output shape, got [${y.shape}]`).toBe(true);
  const R = g.constant(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand), 'float32', shape);
  const loss = g.op('ReduceSum', [op.mul(y, R)], { keepdims: int(0) });
  const grads = gradients(g, loss, xs);
  g.output(loss, 'loss', 'float32', []);
  for (const x of xs) g.output(grads.get(x.name)!, `grad.${x.name}`, 'float32', x.shape!);
  pruneDeadNodes(g);
  const s = await ort.InferenceSession.create(await exportOnnx(g));
  const data = ins.map((i) => i.data ?? Float32Array.from({ length: i.shape.reduce((a, b) => a * b, 1) }, () => (i.positive ? 0.5 + Math.abs(rand()) : rand())));
  const feeds = () => Object.fromEntries(ins.map((i, k) => [i.name, new ort.Tensor('float32', data[k], i.shape)]));
  const out = await s.run(feeds());
  const L = async () => ((await s.run(feeds(), ['loss'])).loss.data as Float32Array)[0];
  for (const [k, i] of ins.entries()) {
    const analytic = out[`grad.${i.name}`].data as Float32Array;
    const numeric = new Float32Array(analytic.length);
    const h = 1e-2;
    for (let j = 0; j < analytic.length; j++) {
      const v = data[k][j];
      data[k][j] = v + h;
      const up = await L();
      data[k][j] = v - h;
      const down = await L();
      data[k][j] = v;
      numeric[j] = (up - down) / (2 * h);
    }
    let num = 0, den = 0;
    for (let j = 0; j < numeric.length; j++) {
      num += (analytic[j] - numeric[j]) ** 2;
      den += numeric[j] ** 2;
    }
    expect(Math.sqrt(num / (den + 1e-12)), `d/d${i.name}`).toBeLessThan(tol);
  }
}

const x = (shape: number[], name = 'x', positive = false): In => ({ name, shape, positive });

describe('backward rules match finite differences', () => {
  it('Add, Sub, Mul, Div with broadcasting', async () => {
    await gradCheck((_, [a, b]) => op.add(a, b), [x([2, 3, 4], 'a'), x([4], 'b')]);
    await gradCheck((g, [a, b]) => g.op('Sub', [a, b]), [x([2, 1, 4], 'a'), x([2, 3, 1], 'b')]);
    await gradCheck((_, [a, b]) => op.mul(a, b), [x([2, 3, 4], 'a'), x([3, 1], 'b')]);
    await gradCheck((_, [a, b]) => op.div(a, b), [x([2, 3], 'a'), x([2, 3], 'b', true)]);
  });

  it('Neg, Sqrt, Erf, Sigmoid, Exp, Log', async () => {
    await gradCheck((_, [a]) => op.neg(a), [x([5])]);
    await gradCheck((_, [a]) => op.sqrt(a), [x([5], 'x', true)]);
    await gradCheck((_, [a]) => op.erf(a), [x([6])]);
    await gradCheck((_, [a]) => op.sigmoid(a), [x([6])]);
    await gradCheck((g, [a]) => g.op('Exp', [a]), [x([6])]);
    await gradCheck((_, [a]) => op.log(a), [x([6], 'x', true)]);
  });

  it('Softmax over the last axis', async () => {
    await gradCheck((_, [a]) => op.softmax(a, -1), [x([3, 5])]);
  });

  it('MatMul, batched and broadcast over a group axis (grouped-query attention)', async () => {
    await gradCheck((_, [a, b]) => op.matmul(a, b), [x([2, 3, 4], 'a'), x([2, 4, 5], 'b')]);
    await gradCheck((_, [q, k]) => op.matmul(q, k), [x([1, 2, 3, 2, 4], 'q'), x([1, 2, 1, 4, 5], 'k')]);
  });

  it('linear (Gemm with transB and bias) on a 3-D input', async () => {
    await gradCheck((_, [a, w, b]) => op.linear(a, w, b, 4, 3), [x([2, 5, 4], 'a'), x([3, 4], 'w'), x([3], 'b')]);
  });

  it('Reshape, Transpose, Unsqueeze, Concat, Slice (static and from the end)', async () => {
    await gradCheck((_, [a]) => op.reshape(a, [0, 6]), [x([2, 3, 2])]);
    await gradCheck((_, [a]) => op.transpose(a, [2, 0, 1]), [x([2, 3, 4])]);
    await gradCheck((_, [a]) => op.unsqueeze(a, [1]), [x([2, 3])]);
    await gradCheck((_, [a, b]) => op.concat([a, b], -1), [x([2, 3], 'a'), x([2, 2], 'b')]);
    await gradCheck((_, [a]) => op.slice(a, [1], [3], [1]), [x([2, 4])]);
    await gradCheck((_, [a]) => op.slice(a, [0], [-1], [1]), [x([2, 4])]);
  });

  it('Gather rows, a row gathered twice gets both gradients', async () => {
    await gradCheck((g, [e]) => op.gather(e, g.constant([2, 0, 2, 1], 'int64', [2, 2])), [x([4, 3])]);
  });

  it('Where, ReduceMean', async () => {
    await gradCheck((g, [a, b]) => op.where(g.constant([1, 0, 0, 1, 1, 0], 'bool', [2, 3]), a, b), [x([2, 3], 'a'), x([3], 'b')]);
    await gradCheck((_, [a]) => op.reduceMean(a, [-1]), [x([2, 3, 4])]);
  });

  it('RMSNorm and exact GELU (composites)', async () => {
    await gradCheck((_, [a, w]) => op.rmsNorm(a, w, 1e-6), [x([2, 5], 'a'), x([5], 'w')]);
    await gradCheck((_, [a]) => op.gelu(a), [x([7])]);
  });

  it('LayerNormalization', async () => {
    await gradCheck((_, [a, w, b]) => op.layerNorm(a, w, b, 1e-5), [x([2, 3, 6], 'a'), x([6], 'w'), x([6], 'b')]);
  });

  it('AveragePool (kernel = stride) and Conv (stride 1 and 2, padded)', async () => {
    await gradCheck((g, [a]) => g.op('AveragePool', [a], { kernel_shape: ints([3]), strides: ints([3]) }), [x([1, 2, 7])]);
    for (const stride of [1, 2]) {
      await gradCheck((g, [a, w, b]) => g.op('Conv', [a, w, b], { kernel_shape: ints([3]), pads: ints([1, 1]), strides: ints([stride]) }),
        [x([2, 3, 8], 'a'), x([4, 3, 3], 'w'), x([4], 'b')]);
    }
  });

  it('SoftmaxCrossEntropyLoss (mean, ignored targets)', async () => {
    await gradCheck((g, [s]) => g.op('SoftmaxCrossEntropyLoss', [s, g.constant([2, -100, 0, 4], 'int64', [4])],
      { ignore_index: int(-100), reduction: { kind: 'string', v: 'mean' } }), [x([4, 5])]);
  });
});

describe('backward rules for GRPO match finite differences', () => {
  it('LogSoftmax over the last axis', async () => {
    await gradCheck((g, [a]) => g.op('LogSoftmax', [a], { axis: int(-1) }), [x([3, 5])]);
  });

  it('GatherElements along the last axis, an index picked twice gets both gradients', async () => {
    await gradCheck((g, [a]) => g.annotate(g.op('GatherElements', [a, g.constant([1, 1, 4, 0, 2, 2], 'int64', [2, 3])], { axis: int(-1) }), [2, 3]),
      [x([2, 5])]);
  });

  it('Min and Max with broadcasting (ties split evenly)', async () => {
    await gradCheck((g, [a, b]) => g.op('Min', [a, b]), [x([2, 3], 'a'), x([3], 'b')]);
    await gradCheck((g, [a, b]) => g.op('Max', [a, b]), [x([2, 3], 'a'), x([2, 1], 'b')]);
  });

  it('Clip between constant bounds', async () => {
    await gradCheck((g, [a]) => g.annotate(g.op('Clip', [a, g.scalar(-0.5), g.scalar(0.4)]), [3, 4]), [x([3, 4])]);
  });

  it('ReduceSum without keepdims, over one axis and over all', async () => {
    await gradCheck((g, [a]) => g.op('ReduceSum', [a, g.ints([1])], { keepdims: int(0) }), [x([2, 3, 4])]);
    await gradCheck((g, [a]) => g.annotate(g.op('ReduceSum', [a], { keepdims: int(0) }), []), [x([2, 3])]);
  });
});
