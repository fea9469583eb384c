import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Graph } from '../src/model/ir/graph.js';
import { decodeOnnx, exportOnnx } from '../src/model/ir/onnx.js';
import { gelu, linear, rmsNorm } from '../src/model/ir/ops.js';

function tinyLinearGelu() {
  const g = new Graph('tiny');
  const x = g.input('x', 'float32', ['batch', 3]);
  const w = g.weight('w', 'float32', [2, 3], Float32Array.from([1, 0, -1, 0.5, 0.5, 0.5]));
  const b = g.weight('b', 'float32', [2], Float32Array.from([0.1, -0.2]));
  g.output(gelu(linear(x, w, b, 3, 2)), 'y', 'float32', ['batch', 2]);
  return g;
}

const geluRef = (v: number) => 0.5 * v * (1 + erfRef(v / Math.SQRT2));
function erfRef(x: number) {
  // Abramowitz-Stegun 7.1.26 is too coarse; integrate the series instead (|x| small here).
  let sum = 0, term = x, n = 0;
  while (Math.abs(term) > 1e-17) { sum += term / (2 * n + 1); n++; term *= -x * x / n; }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe('graph IR exported to ONNX', () => {
  it('runs in ONNX Runtime and computes gelu(x Wᵀ + b)', async () => {
    const bytes = await exportOnnx(tinyLinearGelu());
    const s = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor('float32', Float32Array.from([1, 2, 3, -1, 0, 1]), [2, 3]);
    const { y } = await s.run({ x });
    expect(y.dims).toEqual([2, 2]);
    const ref = [1 - 3 + 0.1, 3 - 0.2, -1 - 1 + 0.1, 0 - 0.2].map(geluRef);
    const got = Array.from(y.data as Float32Array);
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 5));
  });

  it('streams weights to an aligned external data file that ONNX Runtime resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ir-'));
    const g = new Graph('ext');
    const x = g.input('x', 'float32', [1, 4096]);
    const w = g.weight('norm.weight', 'float32', [4096], () => new Float32Array(4096).fill(2));
    g.output(rmsNorm(x, w, 1e-6), 'y', 'float32', [1, 4096]);
    const bytes = await exportOnnx(g, { externalDataPath: join(dir, 'model.onnx.data') });
    const proto = decodeOnnx(bytes);
    const ext = proto.graph.initializer.find((t: any) => t.name === 'norm.weight');
    expect(ext.dataLocation).toBe(1);
    writeFileSync(join(dir, 'model.onnx'), bytes);
    const s = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const { y } = await s.run({ x: new ort.Tensor('float32', new Float32Array(4096).fill(3), [1, 4096]) });
    expect((y.data as Float32Array)[0]).toBeCloseTo(2, 5); // 3/sqrt(9)*2
  });
});
