// Datasets in Chromium through `mufun serve`: create a dataset, add a passage selected in the
// Player, label items by keyboard with a multiple-choice template, fix a caption by hand, split,
// export MuFun's JSON, and import it back (plus a malformed file and a sample with missing audio).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { gotoPage, shot } from './flows.js';
import { api, type Serve, startServe, tempDir, writeMusic, watchPageErrors, scanLibrary } from './helpers.js';

test.describe.configure({ mode: 'serial' });

let serve: Serve;
let music: string;
const pageErrors: string[] = [];

interface TrackRow { id: number; title: string }

test.beforeAll(async () => {
  music = writeMusic();
  serve = await startServe({ db: `${tempDir('db')}/catalog.sqlite` });
  await scanLibrary(serve, music);
});

test.afterAll(async () => {
  await serve?.stop();
});

const rows = (page: Page) => page.getByRole('table', { name: 'Items' }).locator('tbody tr');

test('label passages by keyboard, split, export and import MuFun JSON', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  await page.goto(serve.url);
  await gotoPage(page, 'Datasets');
  await expect(page.getByText('Create a dataset or import one')).toBeVisible();

  // A dataset, then a passage from the Player.
  await page.getByRole('textbox', { name: 'Dataset name' }).fill('Genres');
  await page.getByRole('button', { name: 'Create dataset' }).click();
  await expect(page.getByRole('heading', { level: 3, name: 'Genres' })).toBeVisible();

  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: 'Open Blues riff' }).click();
  await expect(page.getByRole('button', { name: 'Play', exact: true })).toBeEnabled();
  await expect(page.getByRole('timer', { name: 'Position' })).toContainText('0:06.0');
  await expect(page.getByRole('button', { name: 'Add selection to dataset' })).toBeDisabled();
  await page.getByRole('spinbutton', { name: 'Selection start (s)' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Selection end (s)' }).fill('3');
  await page.getByRole('button', { name: 'Set selection' }).click();
  await page.getByRole('button', { name: 'Add selection to dataset' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Datasets' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Passage from the Player' })).toContainText('Blues riff · 0:01.0–0:03.0');
  await page.getByRole('button', { name: 'Add to Genres' }).click();
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText('Blues riff · 0:01.0–0:03.0');
  await expect(rows(page).first()).toContainText('1 problem');
  await expect(page.getByRole('list', { name: 'Problems' })).toContainText('no question and answer yet');

  // Two more items through the API (another window, the CLI): the page follows the change event.
  const { tracks } = await api<{ tracks: TrackRow[] }>(serve, 'tracks.list', {});
  const byTitle = (t: string) => tracks.find((x) => x.title === t)!.id;
  const [genres] = await api<{ id: number }[]>(serve, 'datasets.list');
  await api(serve, 'datasets.addItem', { datasetId: genres.id, audios: [{ trackId: byTitle('Chords'), start: 0, end: 2 }] });
  await api(serve, 'datasets.addItem', { datasetId: genres.id, audios: [{ trackId: byTitle('Deep tone') }] });
  await expect(rows(page)).toHaveCount(3);

  // A multiple-choice template of our own, options in order.
  await page.getByText('Task templates').click();
  const form = page.getByRole('form', { name: 'Task template' });
  await form.getByRole('textbox', { name: 'Template name' }).fill('Genre 3');
  await form.getByRole('textbox', { name: 'Question' }).fill('What genre is this?');
  await form.getByRole('textbox', { name: 'Choices (one per line)' }).fill('rock\nblues\njazz');
  await form.getByRole('checkbox', { name: 'Shuffle options per item' }).uncheck();
  await expect(form.getByRole('combobox', { name: /^Answers/ })).toHaveValue('letter-first'); // MuCUE's "B. blues"
  await form.getByRole('textbox', { name: 'Task field' }).fill('genre');
  await form.getByRole('button', { name: 'Add template' }).click();
  await expect(page.getByRole('combobox', { name: 'Task template' })).toHaveValue(/\d+/);
  await expect(page.getByRole('toolbar', { name: 'Labelling' }).getByRole('button', { name: '2blues' })).toBeVisible();

  // Keyboard labelling: 2 = blues (and on to the next), 1 = rock, K back, E to eval.
  await rows(page).nth(0).getByRole('button').click();
  await page.keyboard.press('2');
  await expect(rows(page).nth(0)).toContainText('blues');
  await expect(rows(page).nth(1).getByRole('button', { name: /^Item/ })).toHaveAttribute('aria-current', 'true');
  await page.keyboard.press('1');
  await expect(rows(page).nth(1)).toContainText('rock');
  await page.keyboard.press('k');
  await page.keyboard.press('e');
  await expect(rows(page).nth(1)).toContainText('eval');
  // Checked items take a split (and labels) together.
  await rows(page).nth(0).getByRole('checkbox').check();
  await rows(page).nth(2).getByRole('checkbox').check();
  await expect(page.getByRole('toolbar', { name: 'Labelling' })).toContainText('Applies to 2 checked items');
  await page.getByRole('button', { name: 'To eval' }).click();
  await expect(page.getByRole('status', { name: 'Dataset counts' })).toContainText('3 items · 0 train · 3 eval');
  await page.keyboard.press('t');
  await expect(page.getByRole('status', { name: 'Dataset counts' })).toContainText('3 items · 2 train · 1 eval');
  await rows(page).nth(0).getByRole('checkbox').uncheck();
  await rows(page).nth(2).getByRole('checkbox').uncheck();

  await rows(page).nth(0).getByRole('button').click();
  const editor = page.getByRole('region', { name: /^Item \d+$/ });
  await expect(editor.getByRole('textbox', { name: 'Question 1' })).toHaveValue('<audio>\nWhat genre is this? (choose from: A. rock, B. blues, C. jazz)');
  await expect(editor.getByRole('textbox', { name: 'Answer 1' })).toHaveValue('B. blues');
  await expect(editor).toContainText('Ready for training.');
  await shot(page, 'datasets-labelled');

  // The third item still needs work: export refuses and names it.
  await page.getByRole('button', { name: 'Needs work' }).click();
  await expect(rows(page)).toHaveCount(1);
  const out = tempDir('export');
  await page.getByRole('textbox', { name: 'Export folder' }).fill(out);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('has 1 invalid item; fix them before exporting');

  // Write its turns by hand.
  await rows(page).first().getByRole('button').click();
  await editor.getByRole('button', { name: 'Write a question and answer' }).click();
  await editor.getByRole('textbox', { name: 'Question 1' }).fill('<audio>\nDescribe this music.');
  await editor.getByRole('textbox', { name: 'Answer 1' }).fill('A deep, steady drone.');
  await editor.getByRole('button', { name: 'Save turns' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Turns saved.' })).toBeVisible();
  await page.getByRole('button', { name: 'All', exact: true }).click();
  await expect(page.getByRole('status', { name: 'Dataset counts' })).toContainText('3 items · 2 train · 1 eval · 0 unlabelled · 0 with problems');

  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByRole('definition').filter({ hasText: 'mufun train --data' })).toContainText(`--audio-folder ${music}`);
  const train = JSON.parse(readFileSync(join(out, 'train.json'), 'utf8'));
  const evalSet = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  expect(train).toHaveLength(2);
  expect(train[0]).toMatchObject({
    audio: 'Blues riff.wav', time: [1, 3], task: 'genre', label: 'blues',
    conversations: [{ from: 'human', value: '<audio>\nWhat genre is this? (choose from: A. rock, B. blues, C. jazz)' }, { from: 'gpt', value: 'B. blues' }],
  });
  expect(train[1]).toMatchObject({ audio: 'session/deeper/Deep tone.wav', conversations: [{ from: 'human' }, { from: 'gpt', value: 'A deep, steady drone.' }] });
  expect(train[1].time).toBeUndefined();
  expect(evalSet).toMatchObject([{ audio: 'session/Chords.wav', time: [0, 2], label: 'rock' }]);
  await shot(page, 'datasets-exported');

  // Import: malformed JSON changes nothing; the export comes back whole; a missing file is listed.
  await page.getByText('Import MuFun JSON').click();
  const bad = join(out, 'broken.json');
  writeFileSync(bad, '[{"id": ');
  await page.getByRole('textbox', { name: 'JSON file' }).fill(bad);
  await page.getByRole('textbox', { name: 'Audio root folder' }).fill(music);
  await page.getByRole('textbox', { name: 'New dataset name' }).fill('Broken');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('broken.json is not valid JSON');
  await expect(page.getByRole('list', { name: 'Datasets' }).getByRole('listitem')).toHaveCount(1);

  const withMissing = join(out, 'with-missing.json');
  writeFileSync(withMissing, JSON.stringify([...train, { id: 'gone', audio: 'nope.wav', conversations: train[0].conversations }]));
  await page.getByRole('textbox', { name: 'JSON file' }).fill(withMissing);
  await page.getByRole('textbox', { name: 'New dataset name' }).fill('Round trip');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Imported 2 samples into Round trip' })).toContainText('1 could not be imported');
  await expect(page.getByRole('heading', { level: 3, name: 'Round trip' })).toBeVisible();
  await expect(page.getByRole('list', { name: 'Import problems' })).toContainText(`sample 2 (gone): audio file nope.wav not found under ${music}`);
  await expect(rows(page)).toHaveCount(2);
  await shot(page, 'datasets-imported');

  const out2 = tempDir('export2');
  await page.getByRole('textbox', { name: 'Export folder' }).fill(out2);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByRole('definition').filter({ hasText: 'mufun train --data' })).toBeVisible();
  expect(JSON.parse(readFileSync(join(out2, 'train.json'), 'utf8'))).toEqual(train);

  // A seeded random split of the imported dataset.
  await page.getByRole('spinbutton', { name: 'Eval share (%)' }).fill('50');
  await page.getByRole('spinbutton', { name: 'Seed' }).fill('1');
  await page.getByRole('button', { name: 'Random split' }).click();
  await expect(page.getByRole('status', { name: 'Dataset counts' })).toContainText('2 items · 1 train · 1 eval');
  await shot(page, 'datasets-split');
  expect(pageErrors).toEqual([]);
});

test('generate a labelled synthetic dataset from the page', async ({ page }) => {
  test.skip(spawnSync('fluidsynth', ['--version']).status !== 0, 'fluidsynth is not installed (apt-get install fluidsynth fluid-soundfont-gm)');
  watchPageErrors(page, pageErrors);
  await page.goto(serve.url);
  await gotoPage(page, 'Datasets');
  await page.getByText('Generate synthetic music').click();
  const form = page.getByRole('form', { name: 'Generate synthetic music' });
  const folder = join(tempDir('synth'), 'clips');
  await form.getByRole('textbox', { name: 'Name of the new dataset' }).fill('Synth demo');
  await form.getByRole('spinbutton', { name: 'Clips' }).fill('10');
  await form.getByRole('spinbutton', { name: 'Seconds each' }).fill('2');
  await form.getByRole('spinbutton', { name: 'Letter-binding items' }).fill('30');
  // further option orders, for meter as well as the tasks ticked by default
  const orderTasks = form.getByRole('group', { name: 'More option orders for' });
  await expect(orderTasks.getByRole('checkbox', { name: 'meter' })).toBeDisabled();
  await form.getByRole('spinbutton', { name: 'More option orders' }).fill('1');
  await expect(orderTasks.getByRole('checkbox', { checked: true })).toHaveCount(3);
  await orderTasks.getByRole('checkbox', { name: 'meter' }).check();
  await form.getByRole('combobox', { name: 'Multiple-choice answers' }).selectOption('label-first');
  await form.getByRole('checkbox', { name: /Answer major\/minor through the key/ }).check();
  await form.getByRole('textbox', { name: 'Folder for the clips' }).fill(folder);
  await form.getByRole('button', { name: 'Generate' }).click();
  // done: the new dataset is opened, its items on the rendered clips, train (with the further
  // option orders) and eval, and the 30 text-only letter-binding items after train's
  await expect(form.getByRole('status', { name: 'Synthesis progress' })).toContainText('Made Synth demo', { timeout: 60_000 });
  await expect(form.getByRole('status', { name: 'Synthesis progress' })).toContainText(join(folder, 'test.json'));
  await expect(page.getByRole('heading', { level: 3, name: 'Synth demo' })).toBeVisible();
  const train = JSON.parse(readFileSync(join(folder, 'train-with-binding.json'), 'utf8')) as unknown[];
  const orders = JSON.parse(readFileSync(join(folder, 'train-orders.json'), 'utf8')) as { task: string }[];
  expect(new Set(orders.map((x) => x.task))).toEqual(new Set(['instrument', 'key', 'chord', 'meter']));
  expect(train.length - (JSON.parse(readFileSync(join(folder, 'train.json'), 'utf8')) as unknown[]).length).toBe(30);
  // answered label first, as chosen: "brass (B)"
  const binding = JSON.parse(readFileSync(join(folder, 'train-binding.json'), 'utf8')) as { conversations: { value: string }[] }[];
  expect(binding.every((x) => / \([A-J]\)$/.test(x.conversations[1].value))).toBe(true);
  // and major/minor through the key
  const modes = (JSON.parse(readFileSync(join(folder, 'train.json'), 'utf8')) as { task: string; format: string; conversations: { value: string }[] }[])
    .filter((x) => x.task === 'mode' && x.format === 'mc');
  expect(modes.length).toBeGreaterThan(0);
  expect(modes.every((x) => /^In .+, so (major|minor) \([AB]\)\.$/.test(x.conversations[1].value))).toBe(true);
  const val = JSON.parse(readFileSync(join(folder, 'val.json'), 'utf8')) as unknown[];
  const trainItems = train.length + orders.length;
  await expect(page.getByRole('status', { name: 'Dataset counts' })).toContainText(`${trainItems + val.length} items · ${trainItems} train · ${val.length} eval`);
  await expect(rows(page)).toHaveCount(trainItems + val.length);
  await shot(page, 'datasets-synthetic');

  // a second one by the same name is refused before anything is rendered
  await form.getByRole('button', { name: 'Generate' }).click();
  await expect(form.getByRole('alert')).toContainText('a dataset named "Synth demo" already exists');
  expect(pageErrors).toEqual([]);
});
