// AdamW (PyTorch's, as the Hugging Face Trainer uses it) with clipping by global norm, as one
// ONNX graph over the flat buffer of every trainable float32 tensor: the update runs in ORT's
// vectorised kernels, not in JavaScript loops.
import * as ort from 'onnxruntime-node';
import { Graph, int } from '../ir/graph.js';
import { exportOnnx } from '../ir/onnx.js';
import { add, div, mul, sqrt } from '../ir/ops.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** clip gradients to this global L2 norm (0 = no clipping); transformers' default is 1.0 */
  maxGradNorm?: number;
}

function buildAdamWGraph(): Graph {
  const g = new Graph('adamw');
  const p = g.input('param', 'float32', ['n']);
  const grad = g.input('grad', 'float32', ['n']);
  const m = g.input('m', 'float32', ['n']);
  const v = g.input('v', 'float32', ['n']);
  // scalars: lr, beta1, beta2, eps, weight decay, 1−β1ᵗ, 1−β2ᵗ, max norm (0 = none), grad scale
  const s = (name: string) => g.input(name, 'float32', []);
  const [lr, b1, b2, eps, wd, bc1, bc2, maxNorm, scale] = ['lr', 'beta1', 'beta2', 'eps', 'weight_decay', 'bias_correction1', 'bias_correction2', 'max_norm', 'grad_scale'].map(s);
  const one = g.scalar(1);
  const gs = mul(grad, scale); // e.g. 1/accumulation steps
  const norm = sqrt(g.op('ReduceSumSquare', [gs], { keepdims: int(0) }));
  // coef = min(1, maxNorm / (norm + 1e-6)), or 1 when maxNorm = 0
  const coef = g.op('Where', [g.op('Greater', [maxNorm, g.scalar(0)]), g.op('Min', [one, div(maxNorm, add(norm, g.scalar(1e-6)))]), one]);
  const gc = mul(gs, coef);
  const m2 = add(mul(b1, m), mul(g.op('Sub', [one, b1]), gc));
  const v2 = add(mul(b2, v), mul(g.op('Sub', [one, b2]), mul(gc, gc)));
  const decayed = mul(p, g.op('Sub', [one, mul(lr, wd)]));
  const stepDir = div(div(m2, bc1), add(sqrt(div(v2, bc2)), eps));
  const p2 = g.op('Sub', [decayed, mul(lr, stepDir)]);
  g.output(p2, 'param_out', 'float32', ['n']);
  g.output(m2, 'm_out', 'float32', ['n']);
  g.output(v2, 'v_out', 'float32', ['n']);
  g.output(norm, 'grad_norm', 'float32', []);
  return g;
}

/** Optimizer state over a flat parameter buffer; `step` updates it in place. */
export class AdamW {
  m: Float32Array;
  v: Float32Array;
  t = 0;
  private constructor(private session: ort.InferenceSession, readonly o: Required<AdamWOptions>, n: number) {
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  static async create(n: number, o: AdamWOptions = {}, threads?: number): Promise<AdamW> {
    const opts: Required<AdamWOptions> = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1, ...o };
    const s = await ort.InferenceSession.create(await exportOnnx(buildAdamWGraph()), threads ? { intraOpNumThreads: threads } : {});
    return new AdamW(s, opts, n);
  }

  /** One update of `params` with the summed gradient `grad` (scaled by gradScale first). Returns the gradient norm before clipping. */
  async step(params: Float32Array, grad: Float32Array, lr: number, gradScale = 1): Promise<number> {
    this.t++;
    const n = params.length;
    const t = (x: Float32Array) => new ort.Tensor('float32', x, [n]);
    const sc = (x: number) => new ort.Tensor('float32', Float32Array.of(x), []);
    const out = await this.session.run({
      param: t(params), grad: t(grad), m: t(this.m), v: t(this.v),
      lr: sc(lr), beta1: sc(this.o.beta1), beta2: sc(this.o.beta2), eps: sc(this.o.eps), weight_decay: sc(this.o.weightDecay),
      bias_correction1: sc(1 - this.o.beta1 ** this.t), bias_correction2: sc(1 - this.o.beta2 ** this.t),
      max_norm: sc(this.o.maxGradNorm), grad_scale: sc(gradScale),
    });
    params.set(out.param_out.data as Float32Array);
    this.m = out.m_out.data as Float32Array;
    this.v = out.v_out.data as Float32Array;
    return (out.grad_norm.data as Float32Array)[0];
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
