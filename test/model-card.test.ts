import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers/training.js';

// recipes/mufun-nano/model-card.mjs writes the shipped model's README from its test evaluation:
// what a user reads about the model must be what `mufun eval` measured.
const NANO = resolve('resources/mufun-nano');
const CARD = resolve('recipes/mufun-nano/model-card.mjs');

function result(task: string, reference: string, prediction: string, expected: string, predicted: string) {
  return { id: `t-${task}`, task, question: '', reference, prediction, options: 4, correct: expected === predicted, predicted, expected, label: reference.slice(3) };
}
const report = (() => {
  const results = [
    result('instrument', 'A. brass', 'A. brass', 'A', 'A'),
    result('instrument', 'B. piano', 'piano (C)', 'B', 'C'), // label first: the right label, another letter
    result('mode', 'A. major', 'In D major, so major.', 'A', 'A'), // through the key: names what follows "so"
  ];
  const task = (name: string, samples: number, correct: number) =>
    ({ task: name, samples, correct, accuracy: correct / samples, chance: 0.25, majority: { answer: 'brass', count: 1, accuracy: 0.5 }, unmatched: 0, withoutOptions: 0 });
  return { model: 'm', data: 'd', skipped: 0, tasks: [task('instrument', 2, 1), task('mode', 1, 1)], overall: task('overall', 3, 2), results, cancelled: false };
})();

function card(options: Record<string, string> = {}): string {
  const dir = tmp('card');
  for (const f of ['model.safetensors', 'config.json']) symlinkSync(join(NANO, f), join(dir, f));
  writeFileSync(join(dir, 'eval.json'), JSON.stringify(report));
  const out = join(dir, 'README.md');
  const flags = Object.entries({ training: 'two stages', ...options }).flatMap(([k, v]) => [`--${k}`, v]);
  execFileSync(process.execPath, [CARD, '--eval', join(dir, 'eval.json'), '--dataset', join(NANO, 'dataset.json'), '--out', out, ...flags]);
  return readFileSync(out, 'utf8');
}

describe('the MuFun-nano model card', () => {
  it('gives each task its accuracy, how often it names the right label, chance and the majority class', () => {
    const md = card();
    expect(md).toContain('| instrument | 2 | **50.0 %** | 100.0 % | 25.0 % | 50.0 % (brass) |');
    expect(md).toContain('| mode | 1 | **100.0 %** | 100.0 % | 25.0 % | 50.0 % (brass) |');
    expect(md).toContain('| overall | 3 | **66.7 %** | 100.0 % |');
    expect(md).toContain('- Training: two stages.');
  });

  it('points at the training curves: training-curves.svg, or the pictures it is given when the stages were plotted apart', () => {
    expect(card()).toContain('Curves: `training-curves.svg`.');
    expect(card({ curves: '`a.svg` (the first stages), `b.svg` (the last)' })).toContain('Curves: `a.svg` (the first stages), `b.svg` (the last).');
  });

  it('says which of the project\'s goals are met', () => {
    const md = card();
    expect(md).toContain('- instrument: 50.0 % (goal 90.0 %) — not met');
    expect(md).toContain('- mode: 100.0 % (goal 90.0 %) — met');
    expect(md).toContain('- tempo: — (goal 80.0 %) — not met');
  });

  it('states the size of the weights beside it', () => {
    const header = readFileSync(join(NANO, 'model.safetensors'));
    const json = JSON.parse(header.subarray(8, 8 + Number(header.readBigUInt64LE(0))).toString('utf8')) as Record<string, { shape?: number[] }>;
    const n = Object.entries(json).filter(([k]) => k !== '__metadata__').reduce((s, [, t]) => s + (t.shape ?? []).reduce((a, b) => a * b, 1), 0);
    expect(card()).toContain(`at ${(n / 1e6).toFixed(1)} M parameters`);
  });

  it('refuses to run without the evaluation, the dataset or the card to write, and says which is missing', () => {
    let err = '';
    try {
      execFileSync(process.execPath, [CARD, '--eval', 'e.json', '--out', 'README.md'], { stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toContain('model-card: --dataset is required');
  });

  it('reports real recordings by the shape of the answers, beside synthetic clips, only when measured', () => {
    expect(card()).not.toContain('## On real recordings');
    const real = resolve('bench/results/real-nano-v3.1-2026-11-27.json');
    const r = JSON.parse(readFileSync(real, 'utf8')) as { recordings: number; real: Record<string, { forms: { exact: number }; asked: number }> };
    const md = card({ real });
    expect(md).toContain('## On real recordings');
    expect(md).toContain(`Asked about ${r.recordings} tracks`);
    const exact = Object.entries(r.real).filter(([t]) => t !== 'caption').reduce((s, [, t]) => s + t.forms.exact, 0);
    expect(md).toMatch(new RegExp(`Over all tasks: ${exact}/\\d+ answers exactly in a trained format`));
  });
});
