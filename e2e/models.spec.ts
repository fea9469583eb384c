// The Models page in Chromium through `mufun serve`: the embedded model's memory estimate, a
// folder that is not a MuFun checkpoint refused, a small MuFun folder converted to int4 with
// progress reaching the page, listed with its estimate, chosen for chat, and chat answering with it;
// an evaluation of the chat model on a MuFun JSON file, per task and answer by answer.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import type { Conversion } from '../src/shared/api-models.js';
import { gotoPage, shot } from './flows.js';
import { type Serve, api, startServe, tempDir, tinyChatModel, watchPageErrors, writeMusic } from './helpers.js';

let serve: Serve;
let model: string;
const pageErrors: string[] = [];

test.beforeAll(async () => {
  model = tinyChatModel();
  serve = await startServe({ db: `${tempDir('db')}/catalog.sqlite` });
});

test.afterAll(async () => {
  await serve?.stop();
});

test('convert a MuFun folder to int4, see it listed with its memory estimate, and chat with it', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  // every conversion event the page receives
  const received: Conversion[] = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', (f) => {
      const msg = JSON.parse(String(f.payload)) as { event: string; payload: Conversion };
      if (msg.event === 'models.conversion') received.push(msg.payload);
    }),
  );
  await page.goto(serve.url);
  await gotoPage(page, 'Models');
  // the embedded model, with what loading it takes
  await expect(page.getByRole('status').filter({ hasText: 'Chat uses mufun-nano' })).toContainText('embedded');
  await expect(page.getByLabel(/^Memory to load the chat model: about \d+(\.\d+)? MB$/)).toContainText('KV cache');
  await expect(page.getByText('No installed models yet')).toBeVisible();

  const form = page.getByRole('form', { name: 'Import a Hugging Face model' });
  // not a MuFun checkpoint: said plainly, nothing installed
  const empty = tempDir('not-a-model');
  await form.getByRole('textbox', { name: 'Hugging Face MuFun folder' }).fill(empty);
  await form.getByRole('button', { name: 'Convert' }).click();
  await expect(page.getByRole('alert')).toContainText(`Could not convert: ${empty} is not a MuFun checkpoint: ${empty}: no config.json`);

  await form.getByRole('textbox', { name: 'Hugging Face MuFun folder' }).fill(model);
  await form.getByRole('combobox', { name: 'Weights' }).selectOption('int4');
  await form.getByRole('textbox', { name: 'Name (optional)' }).fill('Tiny int4');
  await form.getByRole('button', { name: 'Convert' }).click();
  const status = page.getByRole('status', { name: 'Conversion' });
  await expect(status).toContainText(/Converted Tiny-int4 \(int4\): \d+ tensors/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  // progress reached the page tensor by tensor, ending at the last one
  const running = received.filter((c) => c.status === 'running' && c.totalTensors > 0);
  expect(running.length).toBeGreaterThan(0);
  expect(running.at(-1)!.tensors).toBe(running.at(-1)!.totalTensors);
  expect(received.at(-1)).toMatchObject({ status: 'done', name: 'Tiny-int4' });

  const table = page.getByRole('table', { name: 'Installed models' });
  const row = table.getByRole('row').filter({ hasText: 'Tiny-int4' });
  await expect(row).toContainText('int4');
  await expect(row).toContainText(`from ${model}`);
  await expect(row.getByLabel(/^Memory to load Tiny-int4: about [\d.]+ (KB|MB)$/)).toBeVisible();
  await shot(page, 'models-converted');

  await row.getByRole('button', { name: 'Use Tiny-int4 for chat' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Chat uses Tiny-int4' })).toContainText('chosen here');
  await expect(row).toContainText('chat uses it');
  await expect(page.getByLabel(/^Memory to load the chat model: about/)).toContainText('(int4)');
  const current = await api<{ dir: string }>(serve, 'models.current');
  expect(current.dir).toMatch(/[/\\]models[/\\]Tiny-int4$/);
  await shot(page, 'models-chosen');

  await gotoPage(page, 'Chat');
  await expect(page.getByText(/^Model: /)).toContainText('Tiny-int4');
  await page.getByText('Generation settings').click();
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('6');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('textbox', { name: 'Question' }).fill('Hello?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const answer = page.getByRole('article', { name: 'Answer' }).last();
  await expect(answer.locator('footer')).toContainText('Tiny-int4', { timeout: 30_000 });
  await expect(answer.locator('footer')).toContainText('6 tokens');
  expect(pageErrors).toEqual([]);
});

test('evaluate a model on a MuFun JSON file: accuracy per task, every answer', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  // four questions on two tones, two tasks, in MuFun's format
  const music = writeMusic();
  const q = (id: string, audio: string, task: string, question: string, answer: string) => ({
    id, audio, task, conversations: [{ from: 'human', value: `<audio>\n${question}` }, { from: 'gpt', value: answer }],
  });
  const file = join(music, 'questions.json');
  writeFileSync(file, JSON.stringify([
    q('blues-instrument', 'Blues riff.wav', 'instrument', 'Which instrument family plays? (choose from: A. strings, B. brass)', 'A. strings'),
    q('blues-tempo', 'Blues riff.wav', 'tempo', 'How fast is it? (choose from: A. slow, B. fast)', 'A. slow'),
    q('chords-instrument', 'session/Chords.wav', 'instrument', 'Which instrument family plays? (choose from: A. strings, B. brass)', 'B. brass'),
    q('chords-tempo', 'session/Chords.wav', 'tempo', 'How fast is it? (choose from: A. slow, B. fast)', 'B. fast'),
  ]));
  await page.goto(serve.url);
  await gotoPage(page, 'Models');
  const form = page.getByRole('form', { name: 'Evaluate a model' });
  // no dataset has items yet: a file it is
  await expect(form.getByRole('combobox', { name: 'Questions' })).toHaveValue('file');
  await expect(form.getByRole('textbox', { name: 'JSON file' })).toBeVisible();
  await form.getByRole('textbox', { name: 'JSON file' }).fill(join(music, 'nope.json'));
  await form.getByRole('button', { name: 'Evaluate' }).click();
  await expect(page.getByRole('alert')).toContainText(`no question file at ${join(music, 'nope.json')}`);

  await form.getByRole('textbox', { name: 'JSON file' }).fill(file);
  await form.getByRole('button', { name: 'Evaluate' }).click();
  const row = page.getByRole('table', { name: 'Evaluations' }).locator('tbody > tr').first();
  await expect(row).toContainText('questions.json');
  await expect(row).toContainText('done', { timeout: 60_000 });
  // opened on start: per task, then overall, with chance next to each
  const perTask = page.getByRole('table', { name: 'Accuracy per task' });
  await expect(perTask.locator('tbody tr')).toHaveCount(3);
  await expect(perTask.locator('tbody tr').nth(0)).toContainText('instrument');
  await expect(perTask.locator('tbody tr').nth(1)).toContainText('tempo');
  await expect(perTask.locator('tbody tr').nth(2)).toContainText(/overall\s*4\s*\d+\.\d %\s*50\.0 %/);
  await page.getByRole('button', { name: 'Show the 4 answers' }).click();
  const answers = page.getByRole('table', { name: 'Answers' }).locator('tbody tr');
  await expect(answers).toHaveCount(4);
  await expect(answers.first()).toContainText('blues-instrument');
  await shot(page, 'models-evaluation');

  // the table's accuracy is what the answers say
  const saved = await api<{ id: number; overall: { correct: number } }[]>(serve, 'models.evaluations', {});
  const marks = await answers.locator('td:last-child').allTextContents();
  expect(marks.filter((m) => m === '✓').length).toBe(saved[0].overall.correct);
  expect(pageErrors).toEqual([]);
});

test("a new model to train from scratch: the embedded model's architecture, fresh weights, listed as installed", async ({ page }) => {
  watchPageErrors(page, pageErrors);
  const embedded = await api<{ dir: string }>(serve, 'models.choose', { dir: null });
  await page.goto(serve.url);
  await gotoPage(page, 'Models');
  const form = page.getByRole('form', { name: 'New model' });
  // offered first: the embedded model's architecture
  await expect(form.getByRole('textbox', { name: 'Architecture of' })).toHaveValue(embedded.dir);

  await form.getByRole('textbox', { name: 'Architecture of' }).fill('relative/folder');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('alert')).toContainText('Could not create the model: give the model folder\'s full path (relative/folder is relative)');

  await form.getByRole('textbox', { name: 'Architecture of' }).fill(embedded.dir);
  await form.getByRole('textbox', { name: 'Name (optional)' }).fill('Nano scratch');
  await form.getByRole('spinbutton', { name: 'Seed' }).fill('3');
  await form.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created Nano-scratch' })).toContainText(/[\d.]+M parameters, untrained: give .*Nano-scratch as the base model of a tagging job/);
  await expect(page.getByRole('alert')).toHaveCount(0);
  const row = page.getByRole('table', { name: 'Installed models' }).getByRole('row').filter({ hasText: 'Nano-scratch' });
  await expect(row).toContainText(`from ${embedded.dir}`);
  await expect(row).toContainText('float32 (Hugging Face)');
  await shot(page, 'models-new');
  expect(pageErrors).toEqual([]);
});
