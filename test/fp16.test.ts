// float16 sessions (for GPU providers): the same model at half precision. Norms, softmax
// and the logits stay float32, so outputs track the float32 reference closely.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FixtureReport, compareFixture, runFixture } from '../src/model/fixture.js';

const DIR = join(import.meta.dirname, 'fixtures', 'public-a');
let report: FixtureReport;

beforeAll(async () => {
  report = compareFixture(await runFixture(DIR, { noCache: true, dtype: 'float16' }), join(DIR, 'expected.safetensors'));
});

describe('float16 sessions', () => {
  it('tower, text and sft outputs within 1e-2 of transformers (float32)', () => {
    const names = Object.keys(report.cases).filter((n) => /^(tower|text|sft\.(logits|loss|inputs_embeds))/.test(n));
    expect(names.length).toBeGreaterThanOrEqual(11);
    for (const n of names) {
      expect(report.cases[n].error, n).toBeLessThan(1e-2);
      // a scalar (sft.loss) can land near the float32 value by chance; tensors cannot
      if (n !== 'sft.loss') expect(report.cases[n].error, `${n} really ran in half precision`).toBeGreaterThan(1e-6);
    }
  });

  it('the splice layout is unchanged', () => {
    expect(report.cases['sft.labels'].ok && report.cases['sft.attention_mask'].ok).toBe(true);
  });
});
