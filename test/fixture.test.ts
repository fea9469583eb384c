// Parity with Hugging Face transformers: every case of the public-a fixture, computed
// from the checkpoint and inputs alone, matches expected.safetensors at the README's tolerances.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureOutputs, runFixture } from '../src/model/fixture.js';
import { SafetensorsFile } from '../src/model/safetensors.js';

const DIR = join(import.meta.dirname, 'fixtures', 'public-a');

let got: FixtureOutputs;
let expected: SafetensorsFile;

function asF64(t: { data: ArrayLike<number | bigint> }): Float64Array {
  return Float64Array.from(t.data as ArrayLike<number>, Number);
}

function relErr(a: Float64Array, b: Float64Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / (Math.sqrt(den) + 1e-30);
}

function maxAbs(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function pair(name: string): [Float64Array, Float64Array] {
  const g = got[name];
  expect(g, `output ${name}`).toBeDefined();
  const e = expected.entry(name);
  expect(g.shape).toEqual(e.shape);
  const exp = e.dtype === 'I64' ? Float64Array.from(expected.int64(name), Number) : Float64Array.from(expected.float32(name));
  return [asF64(g as any), exp];
}

beforeAll(async () => {
  got = await runFixture(DIR, { noCache: true, threads: 2 });
  expected = SafetensorsFile.open(join(DIR, 'expected.safetensors'));
});

describe('fixture public-a matches transformers', () => {
  it('mel: each 30 s clip of each wave within 1e-4 (abs)', () => {
    const names = [...expected.tensors.keys()].filter((k) => k.startsWith('mel.'));
    expect(names.sort()).toEqual(Object.keys(got).filter((k) => k.startsWith('mel.')).sort());
    for (const n of names) expect(maxAbs(...pair(n)), n).toBeLessThanOrEqual(1e-4);
  });

  it('tower: hidden states, concat, pooling and connector within 1e-4 (relative)', () => {
    const names = [...expected.tensors.keys()].filter((k) => k.startsWith('tower.'));
    expect(names.length).toBeGreaterThan(4);
    for (const n of names) expect(relErr(...pair(n)), n).toBeLessThanOrEqual(1e-4);
  });

  it('text: Qwen3 logits within 1e-4 (relative)', () => {
    expect(relErr(...pair('text.logits'))).toBeLessThanOrEqual(1e-4);
  });

  it('sft: the <audio> splice gives the same embeddings, mask and labels', () => {
    expect(relErr(...pair('sft.inputs_embeds'))).toBeLessThanOrEqual(1e-4);
    const [m, em] = pair('sft.attention_mask');
    expect(Array.from(m)).toEqual(Array.from(em));
    const [l, el] = pair('sft.labels');
    expect(Array.from(l)).toEqual(Array.from(el));
  });

  it('sft: logits and loss within 1e-4 (relative)', () => {
    expect(relErr(...pair('sft.logits'))).toBeLessThanOrEqual(1e-4);
    expect(relErr(...pair('sft.loss'))).toBeLessThanOrEqual(1e-4);
  });

  it('gen: greedy tokens with the KV cache are identical', () => {
    const [t, et] = pair('gen.tokens');
    expect(Array.from(t)).toEqual(Array.from(et));
  });
});
