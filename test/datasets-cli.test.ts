// `mufun dataset` on a catalog file: import with an audio root, list, show problems, split, export;
// synth (needs fluidsynth and fluid-soundfont-gm).
import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { datasetCommand } from '../src/cli/commands/dataset.js';
import { findSoundfont, fluidsynthVersion } from '../src/synth/render.js';
import { tmp, writeWav } from './helpers/datasets.js';

let root: string;
let db: string;

async function run(...args: string[]): Promise<{ out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  const error = vi.spyOn(console, 'error').mockImplementation((s: unknown) => void err.push(String(s)));
  try {
    const cmd = datasetCommand().exitOverride();
    for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: (s) => void err.push(s) });
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
  return { out: out.join('\n'), err: err.join('\n') };
}

beforeAll(() => {
  root = realpathSync(tmp('cli-root'));
  db = join(tmp('cli-db'), 'catalog.sqlite');
  for (let i = 0; i < 4; i++) writeWav(join(root, `clips/c${i}.wav`), 1, 200 + 100 * i);
  const samples = [0, 1, 2, 3].map((i) => ({
    id: `c${i}`, audio: `clips/c${i}.wav`, time: [0, 0.5],
    conversations: [{ from: 'human', value: '<audio>\nHigh or low? (choose from: A. high, B. low)' }, { from: 'gpt', value: i % 2 ? 'A. high' : 'B. low' }],
  }));
  samples.push({ id: 'lost', audio: 'clips/lost.wav', time: [0, 1], conversations: samples[0].conversations });
  writeFileSync(join(root, 'pitch.json'), JSON.stringify(samples));
});
afterEach(() => void (process.exitCode = undefined));

describe('mufun dataset', () => {
  it('imports, reporting the sample it could not take (exit code 2)', async () => {
    const r = await run('import', join(root, 'pitch.json'), '--audio-root', root, '--db', db);
    expect(r.out).toContain('imported 4 samples into pitch (id 1) as train');
    expect(r.out).toContain(`added the library folder ${root}`);
    expect(r.err).toContain(`sample 4 (lost): audio file clips/lost.wav not found under ${root}`);
    expect(process.exitCode).toBe(2);
  });

  it('lists, splits with a seed, shows items and rejects', async () => {
    expect((await run('list', '--db', db)).out).toBe('1\tpitch\t4 items (4 train, 0 eval), 1 rejected at import');
    expect((await run('split', 'pitch', '--eval', '0.25', '--seed', '3', '--db', db)).out).toContain('(3 train, 1 eval)');
    const show = (await run('show', '1', '--db', db)).out;
    expect(show).toMatch(/item \d+ \(c0\) \[(train|eval)\] c0 0–0\.5 s/);
    expect(show).toContain('rejected at import: sample 4 (lost)');
    await expect(run('split', 'pitch', '--eval', '2', '--db', db)).rejects.toThrow(/must be a number from 0 to 1/);
    await expect(run('show', 'nope', '--db', db)).rejects.toThrow('no dataset "nope" (there are: 1 pitch)');
  });

  it('exports train.json and eval.json that name the audio folder', async () => {
    const out = tmp('cli-out');
    const r = await run('export', 'pitch', out, '--db', db);
    expect(r.out).toContain(`audio folder: ${root}`);
    expect(r.out).toContain(`mufun train --data ${join(out, 'train.json')} --eval_data_path ${join(out, 'eval.json')} --audio-folder ${root}`);
    const train = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
    const evalSet = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(train.length + evalSet.length).toBe(4);
    expect(train[0]).toMatchObject({ audio: expect.stringMatching(/^clips\/c\d\.wav$/), time: [0, 0.5] });
  });
});

describe.skipIf(fluidsynthVersion() === null || findSoundfont() === null)('mufun dataset synth', () => {
  it('renders synthetic music into a new dataset beside the catalog, as the Datasets page does', async () => {
    const catalog = join(tmp('cli-synth'), 'catalog.sqlite');
    const r = await run('synth', 'Synth CLI', '--clips', '10', '--seconds', '2', '--seed', '4', '--db', catalog);
    const folder = join(dirname(catalog), 'synthetic', 'synth-cli');
    expect(r.out).toMatch(/^made Synth CLI \(id 1\): \d+ train and \d+ eval items from 10 clips; the test split is in /);
    expect(r.out).toContain(join(folder, 'test.json'));
    expect(r.err).toContain('clips 10/10');
    const train = JSON.parse(readFileSync(join(folder, 'train.json'), 'utf8')) as unknown[];
    expect((await run('list', '--db', catalog)).out).toMatch(new RegExp(`^1\\tSynth CLI\\t\\d+ items \\(${train.length} train, \\d+ eval\\)$`));
    // the name is taken now: refused before rendering
    await expect(run('synth', 'Synth CLI', '--clips', '2', '--db', catalog)).rejects.toThrow('a dataset named "Synth CLI" already exists');
    await expect(run('synth', '   ', '--clips', '2', '--db', catalog)).rejects.toThrow('give the dataset a name');
    await expect(run('synth', 'Other', '--binding-any-label-share', '2', '--db', catalog)).rejects.toThrow('must be a number from 0 to 1');
    await expect(run('synth', 'Other', '--mc-answers', 'label-last', '--db', catalog)).rejects.toThrow('must be one of letter-first, label-first');
  });

  it('adds text-only letter-binding items to train when asked', async () => {
    const catalog = join(tmp('cli-synth-binding'), 'catalog.sqlite');
    const r = await run('synth', 'Bound', '--clips', '4', '--seconds', '1', '--binding-questions', '8', '--questions-per-clip', '2', '--mc-answers', 'label-first', '--db', catalog);
    const folder = join(dirname(catalog), 'synthetic', 'bound');
    const binding = JSON.parse(readFileSync(join(folder, 'train-binding.json'), 'utf8')) as { conversations: { value: string }[] }[];
    expect(binding.map((s) => s.conversations[1].value).every((a) => / \([A-J]\)$/.test(a))).toBe(true);
    const clipsTrain = JSON.parse(readFileSync(join(folder, 'train.json'), 'utf8')) as unknown[];
    expect(r.out).toContain(`${clipsTrain.length + 8} train (8 of them text-only letter binding)`);
    expect((await run('list', '--db', catalog)).out).toMatch(new RegExp(`\\(${clipsTrain.length + 8} train, \\d+ eval\\)$`));
  });

  it('adds further option orders for the tasks asked', async () => {
    const catalog = join(tmp('cli-synth-orders'), 'catalog.sqlite');
    await expect(run('synth', 'Ordered', '--option-order-tasks', 'meter,caption', '--db', catalog)).rejects.toThrow('captions have no options');
    const r = await run('synth', 'Ordered', '--clips', '4', '--seconds', '1', '--option-orders-per-clip', '2', '--option-order-tasks', 'meter,tempo', '--db', catalog);
    const orders = JSON.parse(readFileSync(join(dirname(catalog), 'synthetic', 'ordered', 'train-orders.json'), 'utf8')) as { task: string }[];
    expect(new Set(orders.map((x) => x.task))).toEqual(new Set(['meter', 'tempo']));
    expect(r.out).toContain(`(${orders.length} of them further option orders)`);
  });
});
