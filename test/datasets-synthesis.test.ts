// Synthetic music into the catalog (datasets.synthesize): rendered with FluidSynth, imported as a
// new dataset (train and eval items on the rendered clips, the test split left for mufun eval),
// with progress events; bad requests fail before anything is rendered; a cancelled run keeps its
// clips and the same settings resume it. Rendering needs fluidsynth and fluid-soundfont-gm.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNTHESIS_CHOICE_TASKS, SYNTHESIS_DEFAULTS, MC_ANSWER_FORMS, type SynthesisProgress } from '../src/shared/api-datasets.js';
import type { Studio } from '../src/main/services.js';
import { folderName } from '../src/main/datasets/synthesis.js';
import { MC_ANSWERS, PARTIAL_OPTION_TASKS, TASKS } from '../src/synth/questions.js';
import { canRender, findSoundfont } from '../src/synth/render.js';
import { call, studioAt, tmp } from './helpers/datasets.js';

const haveFluidsynth = canRender();

let studio: Studio | null = null;
afterEach(async () => {
  await studio?.close();
  studio = null;
});

async function finished(s: Studio): Promise<SynthesisProgress> {
  for (let i = 0; i < 1200; i++) {
    const p = await call(s, 'datasets.synthesisStatus', {});
    if (p && !['rendering', 'importing'].includes(p.phase)) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('synthesis did not finish');
}

describe('the synthesis API names the generator\'s tasks', () => {
  it('every multiple-choice task can get further option orders; by default those that offer only some of their labels', () => {
    expect([...SYNTHESIS_CHOICE_TASKS]).toEqual(TASKS.filter((t) => t !== 'caption'));
    expect(SYNTHESIS_DEFAULTS.optionOrderTasks).toEqual(PARTIAL_OPTION_TASKS);
  });

  it('offers the generator\'s answer forms, MuCUE\'s letter-first by default', () => {
    expect([...MC_ANSWER_FORMS]).toEqual([...MC_ANSWERS]);
    expect(SYNTHESIS_DEFAULTS.mcAnswers).toBe('letter-first');
  });
});

describe('folder names for synthetic data sets', () => {
  it('keep letters and digits of the dataset name, dashes between', () => {
    expect(folderName('Synth demo #2')).toBe('synth-demo-2');
    expect(folderName('Ünïcödé  Läbels')).toBe('unicode-labels');
    expect(folderName('***')).toBe('synthetic');
  });
});

describe.skipIf(!haveFluidsynth)('datasets.synthesize', () => {
  it('renders clips with ground truth and imports them as a new dataset, reporting progress', async () => {
    const dir = tmp('synth');
    studio = studioAt(join(dir, 'catalog.db'));
    const events: SynthesisProgress[] = [];
    studio.onEvent((e, p) => { if (e === 'datasets.synthesis') events.push(p as SynthesisProgress); });
    const out = join(dir, 'clips');
    const started = await call(studio, 'datasets.synthesize', { name: 'Synth demo', clips: 10, seconds: 2, seed: 3, outDir: out });
    expect(started).toMatchObject({ name: 'Synth demo', outDir: out, phase: 'rendering', total: 10 });
    const end = await finished(studio);
    expect(end.phase, end.message ?? '').toBe('done');
    expect(readdirSync(join(out, 'audio')).filter((f) => f.endsWith('.wav'))).toHaveLength(10);
    expect(existsSync(join(out, 'test.json'))).toBe(true);
    expect(end.message).toContain(join(out, 'test.json'));

    const d = await call(studio, 'datasets.get', { id: end.datasetId! });
    expect(d.name).toBe('Synth demo');
    expect(d.description).toContain('labels.jsonl');
    const trainSamples = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8')) as unknown[];
    const valSamples = JSON.parse(readFileSync(join(out, 'val.json'), 'utf8')) as unknown[];
    expect(d.counts).toMatchObject({ train: trainSamples.length, eval: valSamples.length, invalid: 0 });
    // every item's audio is one of the rendered clips, as a catalogued, readable track
    const items = await call(studio, 'datasets.items', { datasetId: d.id });
    const { tracks } = await call(studio, 'tracks.list', { limit: 5000 });
    const byId = new Map(tracks.map((t) => [t.id, t]));
    for (const it of items) {
      const t = byId.get(it.audios[0].trackId)!;
      expect(t.path.startsWith(join(out, 'audio'))).toBe(true);
      expect(t.durationSec).toBeCloseTo(2, 1);
    }
    expect(items.find((i) => i.split === 'eval')!.turns[1].value).toMatch(/^[A-Z]\. /); // multiple choice, MuCUE's answer form

    const phases = events.map((e) => e.phase);
    expect(phases[0]).toBe('rendering');
    expect(phases).toContain('importing');
    expect(phases.at(-1)).toBe('done');
    expect(events.filter((e) => e.phase === 'rendering').at(-1)!.done).toBe(10);
  });

  it('with option orders and letter-binding items, train holds the clips\' questions, then the further orders, then the binding items (text-only, the label given as a hint)', async () => {
    const dir = tmp('synth-binding');
    studio = studioAt(join(dir, 'catalog.db'));
    const out = join(dir, 'clips');
    await call(studio, 'datasets.synthesize', {
      name: 'Binding', clips: 5, seconds: 1, seed: 2, questionsPerClip: 2, optionOrders: 2, optionOrderTasks: ['meter', 'instrument'],
      bindingQuestions: 12, bindingAnyLabelShare: 0.5, mcAnswers: 'label-first', modeViaKey: true, outDir: out,
    });
    const end = await finished(studio);
    expect(end.phase, end.message ?? '').toBe('done');
    const clipsTrain = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8')) as unknown[];
    const orders = JSON.parse(readFileSync(join(out, 'train-orders.json'), 'utf8')) as { id: string; task: string }[];
    expect(new Set(orders.map((x) => x.task))).toEqual(new Set(['meter', 'instrument']));
    expect(end.message).toContain(`${clipsTrain.length + orders.length + 12} train (${orders.length} of them further option orders, 12 of them text-only letter binding)`);
    const d = await call(studio, 'datasets.get', { id: end.datasetId! });
    expect(d.counts).toMatchObject({ train: clipsTrain.length + orders.length + 12, invalid: 0 });
    expect(d.description).toContain('2 further option orders per clip of its meter and instrument questions');
    expect(d.description).toContain('12 text-only letter-binding questions (50 % with options from every task');
    expect(d.description).toContain('Multiple-choice answers name the label, then its letter');
    expect(d.description).toContain('Major/minor is answered through the key');
    const train = (await call(studio, 'datasets.items', { datasetId: d.id })).filter((i) => i.split === 'train');
    const binding = train.slice(-12);
    expect(train.slice(0, -12).every((i) => i.audios.length === 1)).toBe(true);
    expect(train.slice(clipsTrain.length, -12).map((i) => i.sampleId)).toEqual(orders.map((x) => x.id));
    for (const it of binding) {
      expect(it.audios).toEqual([]);
      expect(it.sampleId).toMatch(/^binding-/);
      expect(it.turns[0].value).toMatch(/Hint: /);
      expect(it.turns[1].value).toMatch(/^\S.* \([A-J]\)$/); // label first, as asked
    }
    expect(binding.filter((i) => i.sampleId!.endsWith('-any')).length).toBeGreaterThan(0);
    // major/minor answered through the key, as asked
    const modes = train.filter((i) => i.audios.length === 1 && i.turns[0].value.includes('(choose from: A. m') && /\b(major|minor)\b.*\b(major|minor)\)$/.test(i.turns[0].value));
    expect(modes.length).toBeGreaterThan(0);
    for (const m of modes) expect(m.turns[1].value).toMatch(/^In .+, so (major|minor) \([AB]\)\.$/);
    // two train questions per task and clip, as asked
    const manifest = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')) as { settings: { questionsPerClipTrain: number } };
    expect(manifest.settings.questionsPerClipTrain).toBe(2);
  });

  it('refuses a taken name, a relative folder and a second run at once, before rendering anything', async () => {
    const dir = tmp('synth-bad');
    studio = studioAt(join(dir, 'catalog.db'));
    await call(studio, 'datasets.create', { name: 'Taken' });
    await expect(call(studio, 'datasets.synthesize', { name: 'Taken', clips: 2, seconds: 1, seed: 0, outDir: join(dir, 'a') })).rejects.toThrow(/invalid-args: a dataset named "Taken" already exists/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, outDir: 'rel/dir' })).rejects.toThrow(/invalid-args: .*relative/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 0, seconds: 1, seed: 0 })).rejects.toThrow(/invalid-args: .*clips/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, bindingAnyLabelShare: 1.5 })).rejects.toThrow(/invalid-args: .*bindingAnyLabelShare/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, mcAnswers: 'letter-last' as never })).rejects.toThrow(/invalid-args: .*mcAnswers/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, modeViaKey: 'yes' as never })).rejects.toThrow(/invalid-args: .*modeViaKey/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, optionOrders: 1, optionOrderTasks: [] })).rejects.toThrow(/invalid-args: .*give at least one task/);
    await expect(call(studio, 'datasets.synthesize', { name: 'New', clips: 2, seconds: 1, seed: 0, optionOrders: 1, optionOrderTasks: ['caption' as never] })).rejects.toThrow(/invalid-args: .*optionOrderTasks\[0\]/);
    expect(existsSync(join(dir, 'a'))).toBe(false);

    await call(studio, 'datasets.synthesize', { name: 'First', clips: 4, seconds: 1, seed: 0, outDir: join(dir, 'first') });
    await expect(call(studio, 'datasets.synthesize', { name: 'Second', clips: 2, seconds: 1, seed: 0, outDir: join(dir, 'second') })).rejects.toThrow(/failed: .*"First" is being made/);
    expect((await finished(studio)).phase).toBe('done');
  });

  it('a cancelled run keeps its clips, and the same settings finish it without rendering them again', async () => {
    const dir = tmp('synth-cancel');
    studio = studioAt(join(dir, 'catalog.db'));
    const out = join(dir, 'clips');
    const args = { name: 'Resumed', clips: 40, seconds: 2, seed: 5, outDir: out };
    let cancelled = false;
    studio.onEvent((e, p) => {
      if (e === 'datasets.synthesis' && (p as SynthesisProgress).done >= 4 && !cancelled) {
        cancelled = true;
        void call(studio!, 'datasets.cancelSynthesis', {});
      }
    });
    await call(studio, 'datasets.synthesize', args);
    const stopped = await finished(studio);
    expect(stopped.phase).toBe('cancelled');
    expect(stopped.message).toMatch(/the same settings resume/);
    const kept = readdirSync(join(out, 'audio')).filter((f) => f.endsWith('.wav'));
    expect(kept.length).toBeGreaterThanOrEqual(4);
    expect(kept.length).toBeLessThan(40);
    expect(await call(studio, 'datasets.list', {})).toEqual([]); // nothing half-imported

    const mtimes = new Map(kept.map((f) => [f, statSync(join(out, 'audio', f)).mtimeMs]));
    await call(studio, 'datasets.synthesize', args);
    const end = await finished(studio);
    expect(end.phase, end.message ?? '').toBe('done');
    expect(readdirSync(join(out, 'audio')).filter((f) => f.endsWith('.wav'))).toHaveLength(40);
    for (const [f, t] of mtimes) expect(statSync(join(out, 'audio', f)).mtimeMs, `${f} rendered again`).toBe(t);
  });
});
