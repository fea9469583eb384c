// Datasets in the catalog, through the API's dispatch (argument checks included): creating
// datasets, labelling regions with turns, task templates, splits and per-item validation.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetTemplate } from '../src/shared/api-datasets.js';
import type { Studio } from '../src/main/services.js';
import { renderTemplate } from '../src/main/datasets/templates.js';
import { itemProblems } from '../src/main/datasets/validate.js';
import { call, libraryWith, studioAt, tmp } from './helpers/datasets.js';

let studio: Studio;
let ids: Record<string, number>;

beforeAll(async () => {
  studio = studioAt(join(tmp('db'), 'catalog.sqlite'));
  ({ ids } = await libraryWith(studio, { 'blues.wav': 3, 'rock.wav': 2, 'jazz.wav': 2.5 }));
});
afterAll(async () => studio?.close());

const mc = (over: Partial<DatasetTemplate> = {}): DatasetTemplate => ({
  id: 1, name: 'Genre', kind: 'choice', question: 'What genre is this?', choices: ['rock', 'blues', 'jazz'],
  maxOptions: null, shuffle: false, task: 'genre', answers: 'letter-first', ...over,
});

describe('task templates', () => {
  it('multiple choice lists lettered options in the choices’ order and answers "B. blues"', () => {
    const r = renderTemplate(mc(), 'Blues', { audios: 1, seedKey: 'x' });
    expect(r.label).toBe('blues');
    expect(r.turns).toEqual([
      { from: 'human', value: '<audio>\nWhat genre is this? (choose from: A. rock, B. blues, C. jazz)' },
      { from: 'gpt', value: 'B. blues' },
    ]);
  });

  it('answers as the template says: "blues (B)" label first, "blues" label only (how MuFun-nano answers)', () => {
    const question = { from: 'human', value: '<audio>\nWhat genre is this? (choose from: A. rock, B. blues, C. jazz)' };
    expect(renderTemplate(mc({ answers: 'label-first' }), 'Blues', { audios: 1, seedKey: 'x' }).turns).toEqual([question, { from: 'gpt', value: 'blues (B)' }]);
    expect(renderTemplate(mc({ answers: 'label-only' }), 'Blues', { audios: 1, seedKey: 'x' }).turns).toEqual([question, { from: 'gpt', value: 'blues' }]);
  });

  it('shuffled options and a distractor subset are seeded by the item, and always include the label', () => {
    const t = mc({ choices: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], maxOptions: 4, shuffle: true });
    const one = renderTemplate(t, 'e', { audios: 1, seedKey: 'item-1' });
    expect(renderTemplate(t, 'e', { audios: 1, seedKey: 'item-1' })).toEqual(one);
    const options = /\(choose from: (.*)\)$/.exec(one.turns[0].value)![1].split(', ');
    expect(options).toHaveLength(4);
    expect(options.map((o) => o.slice(0, 1))).toEqual(['A', 'B', 'C', 'D']);
    expect(options).toContain(one.turns[1].value);
    expect(one.turns[1].value).toMatch(/^[A-D]\. e$/);
    const orders = new Set(['item-1', 'item-2', 'item-3', 'item-4', 'item-5'].map((k) => renderTemplate(t, 'e', { audios: 1, seedKey: k }).turns[0].value));
    expect(orders.size).toBeGreaterThan(1);
  });

  it('open questions and captions answer with the label; one <audio> per audio', () => {
    const open = renderTemplate(mc({ kind: 'open', question: 'Which instrument?', choices: [] }), ' a muted trumpet ', { audios: 2, seedKey: 'x' });
    expect(open.turns).toEqual([{ from: 'human', value: '<audio>\n<audio>\nWhich instrument?' }, { from: 'gpt', value: 'a muted trumpet' }]);
  });

  it('a label that is not a choice is refused with the choices named', () => {
    expect(() => renderTemplate(mc(), 'polka', { audios: 1, seedKey: 'x' })).toThrow('"polka" is not one of the choices of "Genre" (rock, blues, jazz)');
  });
});

describe('item validation (MuFun loader rules)', () => {
  const audio = { title: 'a', path: '/a.wav', durationSec: 10, missing: false, error: null, start: null, end: null };
  const q = (v: string) => ({ from: 'human', value: v }), a = (v: string) => ({ from: 'gpt', value: v });
  it('accepts a valid single-turn item and a leading non-human turn', () => {
    expect(itemProblems([q('<audio>\nGenre?'), a('blues')], [audio])).toEqual([]);
    expect(itemProblems([a('system says'), q('<audio>\nGenre?'), a('blues')], [audio])).toEqual([]);
  });
  it('names each problem', () => {
    expect(itemProblems([], [audio])).toEqual(['no question and answer yet: pick a label or write the turns']);
    expect(itemProblems([q('Genre?'), a('blues')], [audio])).toEqual(['0 <audio> placeholders in the questions but 1 audio']);
    expect(itemProblems([q('<audio>\nGenre?')], [audio])).toEqual(['question 1 has no answer']);
    expect(itemProblems([q('<audio>\nGenre?'), a(' ')], [audio])).toEqual(['answer 1 is empty']);
    expect(itemProblems([q('<audio>\nA?'), q('B?')], [audio])[0]).toMatch(/alternate.*turn 2 is "human"/);
    expect(itemProblems([q('<audio>\nA?'), a('x')], [{ ...audio, missing: true }])[0]).toMatch(/missing/);
    expect(itemProblems([q('<audio>\nA?'), a('x')], [{ ...audio, start: 12, end: 14 }])[0]).toMatch(/starts at 12 s, after the end/);
  });
});

describe('datasets through the API', () => {
  it('creates datasets with unique names and refuses bad arguments clearly', async () => {
    const d = await call(studio, 'datasets.create', { name: 'Genres' });
    expect(d).toMatchObject({ name: 'Genres', counts: { items: 0, train: 0, eval: 0, invalid: 0, unlabeled: 0 }, rejects: 0 });
    await expect(call(studio, 'datasets.create', { name: 'Genres' })).rejects.toThrow('invalid-args: a dataset named "Genres" already exists');
    await expect(call(studio, 'datasets.create', { name: ' ' })).rejects.toThrow('invalid-args: datasets.create: args.name: expected a non-empty string');
    await expect(call(studio, 'datasets.items', { datasetId: 999 })).rejects.toThrow('not-found: no dataset 999');
    expect((await call(studio, 'datasets.list', {})).map((x) => x.name)).toContain('Genres');
  });

  it('labels a region: add the segment, apply a template, edit turns, split, delete', async () => {
    const d = await call(studio, 'datasets.create', { name: 'Regions' });
    const item = await call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['blues.wav'], start: 0.5, end: 2 }] });
    expect(item).toMatchObject({ split: 'train', turns: [], audios: [{ trackId: ids['blues.wav'], title: 'blues', start: 0.5, end: 2 }] });
    expect(item.problems).toEqual(['no question and answer yet: pick a label or write the turns']);

    const t = await call(studio, 'datasets.saveTemplate', { name: 'Genre 3', kind: 'choice', question: 'What genre is this?', choices: ['rock', 'blues', 'jazz'], shuffle: false, task: 'genre' });
    expect(t.answers).toBe('letter-first');
    const preview = await call(studio, 'datasets.previewLabel', { itemId: item.id, templateId: t.id, label: 'blues' });
    expect(preview[1]).toEqual({ from: 'gpt', value: 'B. blues' });
    // the same template answering with the label alone, as MuFun-nano does
    const labelOnly = await call(studio, 'datasets.saveTemplate', { id: t.id, name: 'Genre 3', kind: 'choice', question: 'What genre is this?', choices: ['rock', 'blues', 'jazz'], shuffle: false, task: 'genre', answers: 'label-only' });
    expect(labelOnly.answers).toBe('label-only');
    expect((await call(studio, 'datasets.templates', {})).find((x) => x.id === t.id)?.answers).toBe('label-only');
    expect((await call(studio, 'datasets.previewLabel', { itemId: item.id, templateId: t.id, label: 'blues' }))[1]).toEqual({ from: 'gpt', value: 'blues' });
    await expect(call(studio, 'datasets.saveTemplate', { ...labelOnly, answers: 'letter-last' as never })).rejects.toThrow(/invalid-args: .*answers/);
    await call(studio, 'datasets.saveTemplate', { id: t.id, name: 'Genre 3', kind: 'choice', question: 'What genre is this?', choices: ['rock', 'blues', 'jazz'], shuffle: false, task: 'genre' });
    expect((await call(studio, 'datasets.items', { datasetId: d.id }))[0].turns).toEqual([]); // preview saves nothing

    const [labelled] = await call(studio, 'datasets.label', { itemIds: [item.id], templateId: t.id, label: 'blues' });
    expect(labelled).toMatchObject({ label: 'blues', task: 'genre', templateId: t.id, problems: [] });
    expect(labelled.turns).toEqual(preview);

    // A second turn, written by hand.
    const turns = [...labelled.turns, { from: 'human', value: 'And the tempo?' }, { from: 'gpt', value: 'slow' }];
    const edited = await call(studio, 'datasets.updateItem', { id: item.id, turns, split: 'eval' });
    expect(edited).toMatchObject({ split: 'eval', problems: [] });
    expect(edited.turns).toHaveLength(4);
    await expect(call(studio, 'datasets.updateItem', { id: item.id, turns: [{ from: '', value: 'x' }] })).rejects.toThrow(/invalid-args: .*args\.turns\[0\]\.from: expected a non-empty string/);
    const odd = await call(studio, 'datasets.updateItem', { id: item.id, turns: [...turns.slice(0, 2), { from: 'robot', value: 'beep' }, { from: 'gpt', value: 'x' }] });
    expect(odd.problems).toEqual(['turns must alternate question (human) and answer (gpt): turn 3 is "robot"']);

    const bad = await call(studio, 'datasets.updateItem', { id: item.id, turns: [{ from: 'human', value: 'no audio tag' }] });
    expect(bad.problems).toEqual(['question 1 has no answer', '0 <audio> placeholders in the questions but 1 audio']);
    expect((await call(studio, 'datasets.get', { id: d.id })).counts).toMatchObject({ items: 1, eval: 1, invalid: 1 });

    expect(await call(studio, 'datasets.deleteItem', { id: item.id })).toEqual({ deleted: true });
    expect(await call(studio, 'datasets.items', { datasetId: d.id })).toEqual([]);
  });

  it('refuses segments outside the track, unknown tracks and labels not in the template', async () => {
    const d = await call(studio, 'datasets.create', { name: 'Edges' });
    await expect(call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['rock.wav'], start: 5, end: 6 }] })).rejects.toThrow('invalid-args: the segment starts at 5 s, after the end of rock (2.00 s)');
    await expect(call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['rock.wav'], start: 1, end: 1 }] })).rejects.toThrow('end must be after start');
    await expect(call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: 9999 }] })).rejects.toThrow('not-found: no track 9999 in the library');
    const item = await call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['rock.wav'] }] });
    const [genre] = (await call(studio, 'datasets.templates', {})).filter((x) => x.name === 'Genre (multiple choice)');
    await expect(call(studio, 'datasets.label', { itemIds: [item.id], templateId: genre.id, label: 'polka' })).rejects.toThrow(/invalid-args: "polka" is not one of the choices/);
    expect((await call(studio, 'datasets.items', { datasetId: d.id }))[0].turns).toEqual([]);
  });

  it('bulk labels several items at once and splits by a seeded ratio', async () => {
    const d = await call(studio, 'datasets.create', { name: 'Bulk' });
    const items = [];
    for (let i = 0; i < 10; i++) items.push(await call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['jazz.wav'], start: i * 0.2, end: i * 0.2 + 0.2 }] }));
    const [caption] = (await call(studio, 'datasets.templates', {})).filter((x) => x.kind === 'caption');
    const out = await call(studio, 'datasets.label', { itemIds: items.map((i) => i.id), templateId: caption.id, label: 'A soft sine tone.' });
    expect(out.every((i) => i.problems.length === 0 && i.turns[1].value === 'A soft sine tone.')).toBe(true);

    const a = await call(studio, 'datasets.randomSplit', { datasetId: d.id, evalFraction: 0.3, seed: 7 });
    expect(a.counts).toMatchObject({ train: 7, eval: 3 });
    const evalA = (await call(studio, 'datasets.items', { datasetId: d.id, split: 'eval' })).map((i) => i.id);
    await call(studio, 'datasets.setSplit', { itemIds: items.map((i) => i.id), split: 'train' });
    await call(studio, 'datasets.randomSplit', { datasetId: d.id, evalFraction: 0.3, seed: 7 });
    expect((await call(studio, 'datasets.items', { datasetId: d.id, split: 'eval' })).map((i) => i.id)).toEqual(evalA);
    await call(studio, 'datasets.randomSplit', { datasetId: d.id, evalFraction: 0.3, seed: 8 });
    const evalB = (await call(studio, 'datasets.items', { datasetId: d.id, split: 'eval' })).map((i) => i.id);
    expect(evalB).toHaveLength(3);
    expect(evalB).not.toEqual(evalA);
    await expect(call(studio, 'datasets.randomSplit', { datasetId: d.id, evalFraction: 1.5, seed: 1 })).rejects.toThrow('args.evalFraction: expected at most 1');
  });

  it('templates: saved, named uniquely, checked, deleted without touching labelled items', async () => {
    await expect(call(studio, 'datasets.saveTemplate', { name: 'One', kind: 'choice', question: 'Q?', choices: ['x'], shuffle: false })).rejects.toThrow('at least two choices');
    await expect(call(studio, 'datasets.saveTemplate', { name: 'Dup', kind: 'choice', question: 'Q?', choices: ['x', 'X'], shuffle: false })).rejects.toThrow('choices must differ');
    await expect(call(studio, 'datasets.saveTemplate', { name: 'Tag', kind: 'open', question: '<audio>\nQ?', choices: [], shuffle: false })).rejects.toThrow('leave <audio> out');
    const t = await call(studio, 'datasets.saveTemplate', { name: 'Tempo', kind: 'open', question: 'How fast is it?', choices: [], shuffle: false });
    await expect(call(studio, 'datasets.saveTemplate', { name: 'Tempo', kind: 'open', question: 'Again?', choices: [], shuffle: false })).rejects.toThrow('already exists');
    const changed = await call(studio, 'datasets.saveTemplate', { id: t.id, name: 'Tempo', kind: 'open', question: 'How fast?', choices: [], shuffle: false });
    expect(changed.question).toBe('How fast?');
    expect(await call(studio, 'datasets.deleteTemplate', { id: t.id })).toEqual({ deleted: true });
  });

  it('emits datasets.changed for every change', async () => {
    const seen: unknown[] = [];
    const off = studio.onEvent((e, p) => e === 'datasets.changed' && seen.push(p));
    const d = await call(studio, 'datasets.create', { name: 'Events' });
    await call(studio, 'datasets.update', { id: d.id, description: 'x' });
    off();
    expect(seen).toEqual([{ datasetId: d.id }, { datasetId: d.id }]);
  });
});
