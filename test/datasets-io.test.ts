// MuFun's JSON format in and out: import with an audio root, export to train/eval files that
// MuFun's loader takes, a round trip that loses nothing, and per-sample reports of bad input.
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../src/main/services.js';
import { openCatalog } from '../src/main/catalog/db.js';
import { writeMufunDataset } from '../src/main/datasets/export.js';
import { loadDataset } from '../src/model/train/data.js';
import { call, libraryWith, studioAt, tmp, writeWav } from './helpers/datasets.js';

let studio: Studio;
let dbPath: string;
let root: string;

const q = (value: string) => ({ from: 'human', value });
const a = (value: string) => ({ from: 'gpt', value });

/** Samples in every shape MuFun's format allows. */
const SAMPLES = [
  { id: 'b1', audio: 'genres/blues/b1.wav', conversations: [q('<audio>\nWhat genre? (choose from: A. blues, B. rock)'), a('A. blues')], task: 'genre', label: 'blues' },
  { id: 'b2', audio: 'genres/blues/b2.wav', time: [0.5, 1.5], conversations: [q('<audio>\nDescribe it.'), a('A tone.'), q('Tempo?'), a('slow')] },
  { id: 7, audio: ['genres/rock/r1.wav', 'genres/blues/b1.wav'], time: [null, [0, 1]], conversations: [q('<audio> This is one. <audio> This is two. Same genre?'), a('no')], source: { set: 'mine', n: 3 } },
  { id: 'r1-list', audio: ['genres/rock/r1.wav'], time: [[0.25, 1]], conversations: [a('leading system turn'), q('<audio>\nGenre?'), a('rock')] },
  { id: 'text-only', conversations: [q('What is a blues scale?'), a('A scale.')] },
];

beforeAll(() => {
  dbPath = join(tmp('db'), 'catalog.sqlite');
  studio = studioAt(dbPath);
  root = realpathSync(tmp('root'));
  writeWav(join(root, 'genres/blues/b1.wav'), 2, 220);
  writeWav(join(root, 'genres/blues/b2.wav'), 2, 330);
  writeWav(join(root, 'genres/rock/r1.wav'), 1.5, 440);
  writeFileSync(join(root, 'all.json'), JSON.stringify(SAMPLES, null, 2));
});
afterAll(async () => studio?.close());

describe('import', () => {
  it('reads every sample shape, adds the audio root to the library, and keeps the extra fields', async () => {
    const r = await call(studio, 'datasets.import', { path: join(root, 'all.json'), audioRoot: root, name: 'Imported' });
    expect(r).toMatchObject({ imported: 5, problems: [], foldersAdded: [root], tracksAdded: 3 });
    expect(r.dataset).toMatchObject({ name: 'Imported', audioRoot: root, counts: { items: 5, train: 5, eval: 0, invalid: 0 } });
    expect((await call(studio, 'library.folders', {})).map((f) => f.path)).toEqual([root]);
    const items = await call(studio, 'datasets.items', { datasetId: r.dataset.id });
    expect(items.map((i) => i.sampleId)).toEqual(['b1', 'b2', '7', 'r1-list', 'text-only']);
    expect(items[0]).toMatchObject({ label: 'blues', task: 'genre', audios: [{ title: 'b1', start: null, end: null }] });
    expect(items[1].audios[0]).toMatchObject({ start: 0.5, end: 1.5 });
    expect(items[2].audios.map((x) => x.title)).toEqual(['r1', 'b1']);
    expect(items[2].extra).toEqual({ id: 7, source: { set: 'mine', n: 3 } });
    expect(items[4].audios).toEqual([]);
  });

  it('reports each sample it cannot take (with index, id and reason) and keeps it verbatim', async () => {
    const file = join(root, 'some-bad.json');
    const bad = [
      SAMPLES[0],
      { id: 'gone', audio: 'genres/jazz/nope.wav', conversations: [q('<audio>\nGenre?'), a('jazz')] },
      'not a sample',
      { id: 'noconv', audio: 'genres/blues/b1.wav' },
      { id: 'badtime', audio: 'genres/blues/b1.wav', time: [2, 1], conversations: [q('<audio>\nGenre?'), a('blues')] },
      { id: 'unbalanced', audio: 'genres/blues/b2.wav', conversations: [q('<audio>\nGenre?')] },
    ];
    writeFileSync(file, JSON.stringify(bad));
    const r = await call(studio, 'datasets.import', { path: file, audioRoot: root, name: 'Partly bad', split: 'eval' });
    expect(r.imported).toBe(2);
    expect(r.problems).toEqual([
      { index: 1, sampleId: 'gone', message: `audio file genres/jazz/nope.wav not found under ${root}` },
      { index: 2, sampleId: null, message: 'not a JSON object' },
      { index: 3, sampleId: 'noconv', message: '"conversations" must be a list of {"from", "value"} turns' },
      { index: 4, sampleId: 'badtime', message: '"time" segment [2, 1] is empty or negative' },
    ]);
    // The sample MuFun would reject for its turns is imported, its problem shown on the item.
    const items = await call(studio, 'datasets.items', { datasetId: r.dataset.id });
    expect(items.map((i) => [i.sampleId, i.split, i.problems])).toEqual([
      ['b1', 'eval', []],
      ['unbalanced', 'eval', ['question 1 has no answer']],
    ]);
    const rejects = await call(studio, 'datasets.rejects', { datasetId: r.dataset.id });
    expect(rejects.map((x) => JSON.parse(x.raw))).toEqual(bad.slice(1, 5));
    expect(rejects[0]).toMatchObject({ source: file, index: 1, sampleId: 'gone' });
    expect(r.dataset.rejects).toBe(4);
    expect(await call(studio, 'datasets.clearRejects', { datasetId: r.dataset.id })).toEqual({ cleared: 4 });
  });

  it('malformed JSON, a non-array, a missing file or root change nothing and say why', async () => {
    const before = await call(studio, 'datasets.list', {});
    writeFileSync(join(root, 'broken.json'), '[{"id": "x", "audio": "a.wav",');
    await expect(call(studio, 'datasets.import', { path: join(root, 'broken.json'), audioRoot: root, name: 'Broken' })).rejects.toThrow(
      /invalid-args: .*broken\.json is not valid JSON \(.*\); nothing was imported/,
    );
    writeFileSync(join(root, 'object.json'), '{"samples": []}');
    await expect(call(studio, 'datasets.import', { path: join(root, 'object.json'), audioRoot: root, name: 'Obj' })).rejects.toThrow("must be a JSON array of samples (MuFun's format)");
    await expect(call(studio, 'datasets.import', { path: join(root, 'none.json'), audioRoot: root, name: 'None' })).rejects.toThrow(`not-found: no file at ${join(root, 'none.json')}`);
    await expect(call(studio, 'datasets.import', { path: join(root, 'all.json'), audioRoot: join(root, 'nope'), name: 'NoRoot' })).rejects.toThrow('the audio root');
    await expect(call(studio, 'datasets.import', { path: join(root, 'all.json'), audioRoot: root, name: 'Imported' })).rejects.toThrow('already exists');
    await expect(call(studio, 'datasets.import', { path: join(root, 'all.json'), audioRoot: root })).rejects.toThrow('give either a name');
    await expect(call(studio, 'datasets.import', { path: 'all.json', audioRoot: root, name: 'Rel' })).rejects.toThrow("invalid-args: give the JSON file's full path (all.json is relative)");
    expect(await call(studio, 'datasets.list', {})).toEqual(before);
  });
});

describe('export', () => {
  it('round trip: import → export → the same samples, byte for byte in content; MuFun’s loader takes them', async () => {
    const d = (await call(studio, 'datasets.list', {})).find((x) => x.name === 'Imported')!;
    const out = tmp('out');
    const r = await call(studio, 'datasets.export', { id: d.id, outDir: out });
    expect(r).toEqual({ train: join(out, 'train.json'), eval: null, audioFolder: root, counts: { train: 5, eval: 0 } });
    expect(JSON.parse(readFileSync(r.train, 'utf8'))).toEqual(SAMPLES);

    const loaded = loadDataset(r.train, { audioRoot: r.audioFolder });
    expect(loaded.problems).toEqual([]);
    expect(loaded.samples.map((s) => s.id)).toEqual(['b1', 'b2', '7', 'r1-list', 'text-only']);
    expect(loaded.samples[1].audios[0]).toEqual({ path: join(root, 'genres/blues/b2.wav'), seg: [0.5, 1.5] });

    // Re-import the export: the same items again, and the same file once more.
    const again = await call(studio, 'datasets.import', { path: r.train, audioRoot: r.audioFolder, name: 'Again' });
    expect(again).toMatchObject({ imported: 5, problems: [], tracksAdded: 0, foldersAdded: [] });
    const out2 = tmp('out2');
    const r2 = await call(studio, 'datasets.export', { id: again.dataset.id, outDir: out2 });
    expect(readFileSync(r2.train, 'utf8')).toBe(readFileSync(r.train, 'utf8'));
  });

  it('studio-labelled items: train/eval files, segments as time, paths relative to the common folder', async () => {
    const { dir, ids } = await libraryWith(studio, { 'a/one.wav': 2, 'b/two.wav': 2, 'b/three.wav': 2 });
    const d = await call(studio, 'datasets.create', { name: 'Labelled here' });
    const [genre] = (await call(studio, 'datasets.templates', {})).filter((t) => t.name === 'Genre (multiple choice)');
    const items = [];
    for (const f of ['a/one.wav', 'b/two.wav', 'b/three.wav']) {
      items.push(await call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids[f], start: 0.25, end: 1.25 }] }));
    }
    await call(studio, 'datasets.label', { itemIds: items.map((i) => i.id), templateId: genre.id, label: 'jazz' });
    await call(studio, 'datasets.setSplit', { itemIds: [items[2].id], split: 'eval' });
    const out = tmp('out3');
    const r = writeMufunDataset(openCatalog(dbPath), d.id, out);
    expect(r).toEqual({ train: join(out, 'train.json'), eval: join(out, 'eval.json'), audioFolder: dir, counts: { train: 2, eval: 1 } });
    const train = JSON.parse(readFileSync(r.train, 'utf8'));
    expect(train[0]).toMatchObject({ id: `labelled-here-${items[0].id}`, audio: 'a/one.wav', time: [0.25, 1.25], task: 'genre', label: 'jazz' });
    expect(train[0].conversations[0].value).toMatch(/^<audio>\nWhat genre is this music\? \(choose from: A\. \w+, B\. \w+, C\. \w+, D\. \w+\)$/);
    expect(train[0].conversations[1].value).toMatch(/^[A-D]\. jazz$/);
    expect(JSON.parse(readFileSync(r.eval!, 'utf8')).map((s: { audio: string }) => s.audio)).toEqual(['b/three.wav']);
    expect(loadDataset(r.eval!, { audioRoot: r.audioFolder }).problems).toEqual([]);
  });

  it('refuses invalid items, missing audio and an all-eval dataset, naming the items, and writes nothing', async () => {
    const { dir, ids } = await libraryWith(studio, { 'x.wav': 1 });
    const d = await call(studio, 'datasets.create', { name: 'Not ready' });
    const item = await call(studio, 'datasets.addItem', { datasetId: d.id, audios: [{ trackId: ids['x.wav'] }], sampleId: 'x-1' });
    const out = join(tmp('out4'), 'nested');
    await expect(call(studio, 'datasets.export', { id: d.id, outDir: out })).rejects.toThrow(
      `failed: dataset "Not ready" has 1 invalid item; fix them before exporting:\n  item ${item.id} (x-1): no question and answer yet`,
    );
    await call(studio, 'datasets.updateItem', { id: item.id, turns: [q('<audio>\nWhat?'), a('x')], split: 'eval' });
    await expect(call(studio, 'datasets.export', { id: d.id, outDir: out })).rejects.toThrow('has no train items (all 1 are eval)');
    await call(studio, 'datasets.setSplit', { itemIds: [item.id], split: 'train' });
    // The file vanishes after the scan: export names it.
    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(dir, 'x.wav'));
    await expect(call(studio, 'datasets.export', { id: d.id, outDir: out })).rejects.toThrow(`item ${item.id} (x-1): ${join(dir, 'x.wav')} not found`);
    expect(existsSync(out)).toBe(false);
    await expect(call(studio, 'datasets.export', { id: 12345, outDir: out })).rejects.toThrow('not-found: no dataset 12345');
  });

  it('importing into an existing dataset appends (e.g. eval.json as eval)', async () => {
    const d = await call(studio, 'datasets.create', { name: 'Two files' });
    mkdirSync(join(root, 'split'), { recursive: true });
    writeFileSync(join(root, 'split/train.json'), JSON.stringify(SAMPLES.slice(0, 2)));
    writeFileSync(join(root, 'split/eval.json'), JSON.stringify(SAMPLES.slice(3, 4)));
    await call(studio, 'datasets.import', { path: join(root, 'split/train.json'), audioRoot: root, datasetId: d.id });
    const r = await call(studio, 'datasets.import', { path: join(root, 'split/eval.json'), audioRoot: root, datasetId: d.id, split: 'eval' });
    expect(r.dataset.counts).toMatchObject({ items: 3, train: 2, eval: 1 });
    const out = tmp('out5');
    const e = await call(studio, 'datasets.export', { id: d.id, outDir: out });
    expect(JSON.parse(readFileSync(e.train, 'utf8'))).toEqual(SAMPLES.slice(0, 2));
    expect(JSON.parse(readFileSync(e.eval!, 'utf8'))).toEqual(SAMPLES.slice(3, 4));
  });
});
