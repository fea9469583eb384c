// Training curves as a picture: cross-entropy runs in the loss panel, a GRPO run in a reward panel
// (its loss is a policy-gradient surrogate, not comparable), step axes continuing across runs.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsSvg } from '../src/cli/commands/plot-metrics.js';

function run(root: string, name: string, lines: object[]): string {
  mkdirSync(join(root, name));
  const f = join(root, name, 'metrics.jsonl');
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return f;
}

describe('plot-metrics', () => {
  it('draws a finetune\'s loss and accuracy and a GRPO run\'s reward, each in its own panel', () => {
    const root = mkdtempSync(join(tmpdir(), 'plot-'));
    const sft = run(root, 'full', [
      ...[1, 2, 3].map((step) => ({ type: 'step', step, loss: 3 - step / 2 })),
      { type: 'eval', step: 3, evalLoss: 1.6, evalAccuracy: 0.5 },
    ]);
    const grpo = run(root, 'grpo', [1, 2, 3, 4].map((step) => ({ type: 'step', step, loss: 0.01, reward: 0.5 + step / 10 })));
    const svg = metricsSvg([sft, grpo]);
    expect(svg).toContain('>full train loss<');
    expect(svg).toContain('>full eval accuracy<');
    expect(svg).toContain('>GRPO reward (sampled answers)<');
    expect(svg).toContain('>grpo mean reward, last 10 steps<');
    expect(svg).not.toContain('grpo train loss');
    expect(svg).toMatch(/height="780"/); // three panels
    // the GRPO run continues the step axis after the finetune's 3 steps: its ticks end at 7
    expect(svg).toMatch(/>7<\/text>/);
  });

  it('a finetune alone has no reward panel', () => {
    const root = mkdtempSync(join(tmpdir(), 'plot-'));
    const svg = metricsSvg([run(root, 'lora', [{ type: 'step', step: 1, loss: 2 }, { type: 'step', step: 2, loss: 1 }])]);
    expect(svg).not.toContain('GRPO reward');
    expect(svg).toMatch(/height="260"/);
  });
});
