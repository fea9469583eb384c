// Parity with Hugging Face transformers: every case of the public-a fixture, computed
// from the checkpoint and inputs alone, matches expected.safetensors at the README's tolerances.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureReport, compareFixture, runFixture } from '../src/model/fixture.js';

const DIR = join(import.meta.dirname, 'fixtures', 'public-a');
let report: FixtureReport;

function expectCases(prefix: string, atLeast: number) {
  const names = Object.keys(report.cases).filter((n) => n.startsWith(prefix));
  expect(names.length, `cases named ${prefix}*`).toBeGreaterThanOrEqual(atLeast);
  for (const n of names) {
    const c = report.cases[n];
    expect(c.error, `${n} (${c.metric})`).toBeLessThanOrEqual(c.tolerance);
  }
  expect(report.notComputed.filter((n) => n.startsWith(prefix))).toEqual([]);
}

beforeAll(async () => {
  report = compareFixture(await runFixture(DIR, { noCache: true, threads: 2 }), join(DIR, 'expected.safetensors'));
});

describe('fixture public-a matches transformers', () => {
  it('mel: each 30 s clip of each wave within 1e-4 (max abs)', () => expectCases('mel.', 3));
  it('tower: hidden states, concat, pooling and connector within 1e-4 (relative)', () => expectCases('tower.', 7));
  it('text: Qwen3 logits within 1e-4 (relative)', () => expectCases('text.logits', 1));
  it('sft: splice (embeds, mask, labels), logits and loss', () => {
    for (const n of ['sft.inputs_embeds', 'sft.attention_mask', 'sft.labels', 'sft.logits', 'sft.loss']) expectCases(n, 1);
  });
  it('sft.grad: the gradient of every parameter (tower, connector, LLM) within 1e-3 (relative)', () => expectCases('sft.grad.', 95));
  it('lora: PEFT LoRA loss and every adapter gradient', () => {
    expectCases('lora.loss', 1);
    expectCases('lora.grad.', 28);
  });
  it('computes every case the fixture has', () => expect(report.notComputed).toEqual([]));
  it('gen: greedy tokens with the KV cache are identical', () => expectCases('gen.tokens', 1));
  it('resample: 44.1 kHz -> 16 kHz like torchaudio within 1e-4 (max abs)', () => expectCases('resample.', 1));
});
