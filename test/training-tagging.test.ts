// Tagging as a studio job (`mufun tag-train` on the Training page): the audio tower and connector
// of a model learn a synthetic set's labels in the training worker, with the job's curve and its
// per-task val accuracy; the model it writes is a trained model like any other. The form is offered
// the sets generated in the studio. What cannot run is refused before anything is saved, by name.
import { cpSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingProgress } from '../src/shared/api-training.js';
import { syntheticRoot } from '../src/main/datasets/synthesis.js';
import type { Studio } from '../src/main/services.js';
import { generateDataset } from '../src/synth/dataset.js';
import { DEBIAN_PACKAGES, canRender } from '../src/synth/render.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { recorder, studioAt, tmp } from './helpers/training.js';

const haveFluidsynth = canRender();
if (!haveFluidsynth) console.warn(`tagging job tests skipped: FluidSynth or a GM soundfont is missing (Debian: apt-get install -y ${DEBIAN_PACKAGES})`);

let studio: Studio;
let model: string;
let data: string;
let dbPath: string;

beforeAll(async () => {
  if (!haveFluidsynth) return;
  model = tinyChatModel();
  data = mkdtempSync(join(tmpdir(), 'tagging-job-data-'));
  await generateDataset({ out: data, count: 8, seed: 3, seconds: 3, splits: [0.5, 0.25, 0.25], tasks: ['instrument', 'tempo', 'chord'], chordShare: 0.5 });
  dbPath = join(tmp('db'), 'catalog.sqlite');
  studio = studioAt(dbPath);
}, 120_000);
afterAll(async () => studio?.close());

describe.skipIf(!haveFluidsynth)('tagging jobs', () => {
  it("start from `mufun tag-train`'s defaults", async () => {
    expect(await call(studio, 'training.defaults', { kind: 'tagging' })).toEqual({
      num_train_epochs: 10, learning_rate: 1e-3, per_device_train_batch_size: 16, seed: 0, frames: false, frame_weight: 1, spectrum_weight: 0, tempo_weight: 0, tempo_token_weight: 0,
      tasks: ['instrument', 'tempo', 'mode', 'key', 'meter', 'chord', 'drums', 'direction', 'dynamics'],
    });
  });

  it('train the tower on the labels (frame tasks, the spectrum and the tempo too), report every step and the val accuracy per task, and write a model', async () => {
    const rec = recorder(studio);
    const job = await call(studio, 'training.start', {
      kind: 'tagging', source: { type: 'file', dataPath: data }, baseModel: model,
      settings: { num_train_epochs: 2, per_device_train_batch_size: 2, tasks: ['instrument', 'chord'], frames: 'true', spectrum_weight: 0.5, tempo_weight: 1, tempo_token_weight: 0.5 },
    });
    expect(job).toMatchObject({ kind: 'tagging', dataPath: join(data, 'labels.jsonl'), audioFolder: join(data, 'audio'), evalDataPath: null });
    expect(job.sourceLabel).toBe(`synthetic set ${basename(data)} (4 train, 2 val clips)`);
    await rec.settled(job.id);
    const done = await call(studio, 'training.get', { id: job.id });
    expect(done).toMatchObject({ status: 'done', step: 4, totalSteps: 4, finalModel: join(done.outputDir, 'final'), error: null });
    const progress = rec.events.filter((e) => e.event === 'training.progress').map((e) => e.payload as TrainingProgress);
    expect(progress.map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress.every((p) => Number.isFinite(p.loss) && p.totalSteps === 4)).toBe(true);
    const m = await call(studio, 'training.metrics', { id: job.id });
    expect(m.evals.map((e) => e.step)).toEqual([2, 4]); // after every epoch
    for (const e of m.evals) {
      expect(Object.keys(e.evalTasks!).sort()).toEqual(['chord', 'instrument']);
      expect(e.evalAccuracy).toBeGreaterThanOrEqual(0);
    }
    const trained = await call(studio, 'training.models', {});
    expect(trained).toEqual([expect.objectContaining({ kind: 'tagging', dir: done.finalModel })]);
    // the tagged model is a MuFun model folder: it can be the base of the next job
    const next = await call(studio, 'training.start', {
      kind: 'tagging', source: { type: 'file', dataPath: join(data, 'labels.jsonl') }, baseModel: done.finalModel!, settings: { num_train_epochs: 1, per_device_train_batch_size: 4 },
    });
    await rec.settled(next.id);
  }, 300_000);

  it("offers the sets in the studio's synthetic folder (where the Datasets page generates them), newest first", async () => {
    const root = syntheticRoot(dbPath);
    expect(await call(studio, 'training.syntheticSets', {})).toEqual([]);
    cpSync(data, join(root, 'first-set'), { recursive: true });
    mkdirSync(join(root, 'not-a-set'), { recursive: true });
    mkdirSync(join(root, 'damaged'), { recursive: true });
    writeFileSync(join(root, 'damaged', 'labels.jsonl'), '{"split": "tr');
    await new Promise((r) => setTimeout(r, 20));
    cpSync(data, join(root, 'second-set'), { recursive: true });
    utimesSync(join(root, 'first-set', 'labels.jsonl'), new Date(1000), new Date(1000));
    expect(await call(studio, 'training.syntheticSets', {})).toEqual([
      { name: 'second-set', labelsPath: join(root, 'second-set', 'labels.jsonl'), train: 4, val: 2 },
      { name: 'first-set', labelsPath: join(root, 'first-set', 'labels.jsonl'), train: 4, val: 2 },
    ]);
  });

  it('refuse, before saving anything, what cannot run: a studio dataset, paths that are not a set, unknown tasks or settings, missing audio, missing MIDI for frame tasks', async () => {
    const before = (await call(studio, 'training.jobs', {})).length;
    const start = (source: object, settings: object = {}) => call(studio, 'training.start', { kind: 'tagging', source: source as never, baseModel: model, settings: settings as never });
    await expect(start({ type: 'dataset', datasetId: 1 })).rejects.toThrow(/tagging learns a synthetic set's labels: give its labels\.jsonl/);
    await expect(start({ type: 'file', dataPath: 'set/labels.jsonl' })).rejects.toThrow('give the labels file\'s full path');
    await expect(start({ type: 'file', dataPath: join(data, 'train.json') })).rejects.toThrow(/train\.json is not a synthetic set's labels\.jsonl/);
    await expect(start({ type: 'file', dataPath: join(data, 'audio') })).rejects.toThrow(/has no labels\.jsonl/);
    await expect(start({ type: 'file', dataPath: data }, { tasks: ['timbre'], lora_r: 8, frames: 'maybe', spectrum_weight: -1, tempo_weight: 'fast', tempo_token_weight: -2 })).rejects.toThrow(
      /timbre: not a tagging task[\s\S]*lora_r: not a tagging setting[\s\S]*frames: must be true or false[\s\S]*spectrum_weight: must be a number ≥ 0[\s\S]*tempo_weight: must be a number ≥ 0[\s\S]*tempo_token_weight: must be a number ≥ 0/,
    );
    const audio = join(data, 'audio', 'val-000000.wav');
    cpSync(audio, `${audio}.kept`);
    rmSync(audio);
    await expect(start({ type: 'file', dataPath: data })).rejects.toThrow(`clip val-000000: no audio file ${audio}`);
    cpSync(`${audio}.kept`, audio);
    rmSync(join(data, 'midi', 'train-000001.mid'));
    await expect(start({ type: 'file', dataPath: data }, { frames: true })).rejects.toThrow(/clip train-000001: its MIDI file .*train-000001\.mid is missing/);
    expect((await call(studio, 'training.jobs', {})).length).toBe(before);
  });
});
