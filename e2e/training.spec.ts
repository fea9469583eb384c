// Training in Chromium through `mufun serve`: a short real finetune of the tiny model on a few
// generated clips (the chart follows it live, the job finishes, its model is chosen for chat on
// the Models page), a GRPO job showing its reward and sampled answers, bad input said plainly, and a job whose studio was killed mid-run shown as
// interrupted after the restart, its curve back, resumed from its checkpoint; and a tagging job
// (the audio tower learning a synthetic set's labels) with its accuracy per task.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test, expect, type Locator, type Page } from '@playwright/test';
import { generateDataset } from '../src/synth/dataset.js';
import { DEBIAN_PACKAGES, canRender } from '../src/synth/render.js';
import { gotoPage, shot } from './flows.js';
import { type Serve, api, startServe, tempDir, tinyChatModel, writeTone, watchPageErrors } from './helpers.js';

test.describe.configure({ mode: 'serial' });

const haveFluidsynth = canRender();

let serve: Serve;
let db: string;
let model: string;
let data: { dir: string; train: string; eval: string; audio: string };
const pageErrors: string[] = [];

/** n one-second chords, "high" or "low", asked about in MuFun's format. */
function tones(): typeof data {
  const dir = tempDir('tones');
  const audio = join(dir, 'audio');
  const write = (name: string, n: number, offset: number) => {
    const samples = [];
    for (let i = 0; i < n; i++) {
      const high = (i + offset) % 2 === 0;
      writeTone(join(audio, `${name}-${i}.wav`), 1, high ? [880, 1108.73] : [110, 138.59]);
      samples.push({
        id: `${name}-${i}`, audio: `${name}-${i}.wav`,
        conversations: [{ from: 'human', value: '<audio>\nHigh or low? (choose from: A. high, B. low)' }, { from: 'gpt', value: high ? 'A. high' : 'B. low' }],
      });
    }
    const file = join(dir, `${name}.json`);
    writeFileSync(file, JSON.stringify(samples));
    return file;
  };
  return { dir, audio, train: write('train', 4, 0), eval: write('eval', 2, 1) };
}

async function setting(page: Page, flag: string, value: string): Promise<void> {
  await page.locator(`#set-${flag}`).fill(value);
}

async function settings(page: Page, values: Record<string, string>): Promise<void> {
  for (const [flag, value] of Object.entries(values)) await setting(page, flag, value);
}

/** The new-job form with a recipe chosen and the tones as its data. */
async function newJob(page: Page, recipe: string, name: string, evalSet?: string): Promise<Locator> {
  await page.goto(serve.url);
  await gotoPage(page, 'Training');
  const form = page.getByRole('form', { name: 'New training job' });
  await form.getByRole('radio', { name: recipe }).check();
  await form.getByRole('textbox', { name: 'Training set (MuFun JSON)' }).fill(data.train);
  if (evalSet) await form.getByRole('textbox', { name: 'Eval set (optional)' }).fill(evalSet);
  await form.getByRole('textbox', { name: 'Audio folder' }).fill(data.audio);
  await form.getByRole('textbox', { name: 'Job name' }).fill(name);
  return form;
}

test.beforeAll(async () => {
  model = tinyChatModel();
  data = tones();
  db = `${tempDir('db')}/catalog.sqlite`;
  serve = await startServe({ db, model });
});

test.afterAll(async () => {
  await serve?.stop();
});

test('a short finetune: live chart, finished job, its model chosen for chat', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  const form = await newJob(page, 'Finetune (full)', 'Tones finetune', data.eval);
  await expect(page.locator('#set-learning_rate')).toHaveValue('0.00002'); // the recipe's defaults fill the form
  await settings(page, {
    learning_rate: '0.0005', num_train_epochs: '1', per_device_train_batch_size: '1', gradient_accumulation_steps: '1', model_max_length: '512',
    save_steps: '2', eval_steps: '2', eval_accuracy_samples: '0',
  });
  await page.locator('#set-tune_type_vision_tower').selectOption('frozen');
  await form.getByRole('button', { name: 'Start training' }).click();

  const jobs = page.getByRole('table', { name: 'Training jobs' });
  await expect(jobs.getByRole('row').filter({ hasText: 'Tones finetune' })).toBeVisible();
  // the loss chart follows the run step by step
  const loss = page.getByRole('img', { name: /^Loss: / });
  await expect(loss).toHaveAttribute('aria-label', /Loss: [1-9]\d* points?, latest/, { timeout: 45_000 });
  await expect(jobs.getByRole('row').filter({ hasText: 'Tones finetune' })).toContainText('done', { timeout: 45_000 });
  await expect(loss).toHaveAttribute('aria-label', /Loss: 4 points, latest [\d.e+-]+ at step 4/);
  await expect(page.getByRole('img', { name: /^Learning rate: 4 points/ })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Evaluations' }).getByRole('row')).toHaveCount(3); // header + steps 2 and 4
  await expect(page.locator('dl[aria-label="Job details"]')).toContainText('final');
  await shot(page, 'serve-training-done');

  // the trained model on the Models page, one click from chat
  await gotoPage(page, 'Models');
  const trained = page.getByRole('table', { name: 'Trained models' });
  await expect(trained.getByRole('row').filter({ hasText: 'Tones finetune' })).toBeVisible();
  await trained.getByRole('button', { name: 'Use Tones finetune for chat' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Chat uses final, trained by job “Tones finetune”' })).toBeVisible();
  const current = await api<{ dir: string }>(serve, 'models.current');
  expect(current.dir).toMatch(/job-1-finetune[/\\]final$/);
  await shot(page, 'serve-models-trained');

  // and chat answers with it
  await gotoPage(page, 'Chat');
  await expect(page.getByText(/^Model: /)).toContainText('final');
  await page.getByText('Generation settings').click();
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('6');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('textbox', { name: 'Question' }).fill('High or low?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const answer = page.getByRole('article', { name: 'Answer' }).last();
  await expect(answer.locator('footer')).toContainText('final', { timeout: 30_000 });
  expect(pageErrors).toEqual([]);
});

test('a GRPO job: its reward curve and what the model answers as it learns', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  const form = await newJob(page, 'GRPO (rewards)', 'Tones GRPO');
  await settings(page, {
    learning_rate: '0.0001', max_steps: '2', per_device_train_batch_size: '2', gradient_accumulation_steps: '2', model_max_length: '512',
    num_generations: '2', max_completion_length: '4', reward: 'choice:1',
  });
  await form.getByRole('button', { name: 'Start training' }).click();

  const row = page.getByRole('table', { name: 'Training jobs' }).getByRole('row').filter({ hasText: 'Tones GRPO' });
  await expect(row).toContainText('done', { timeout: 60_000 });
  await expect(page.getByRole('img', { name: /^Reward: 2 points, latest [\d.]+ at step 2/ })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'What it answers at step 2' })).toBeVisible();
  const answers = page.getByRole('table', { name: 'Latest answers' });
  await expect(answers.getByRole('row')).toHaveCount(3); // header + the step's 2 prompts
  await expect(answers).toContainText('High or low? (choose from: A. high, B. low)');
  await expect(answers.getByRole('row').nth(1).getByRole('cell').nth(2)).toHaveText(/^(A\. high|B\. low)$/);
  await expect(answers.getByRole('row').nth(1).getByRole('cell').nth(3)).toHaveText(/^[01]\.00$/);
  await shot(page, 'serve-training-grpo');
  expect(pageErrors).toEqual([]);
});

test('bad input is refused with a clear message, and nothing is queued', async ({ page }) => {
  await page.goto(serve.url);
  await gotoPage(page, 'Training');
  const form = page.getByRole('form', { name: 'New training job' });
  await form.getByRole('textbox', { name: 'Training set (MuFun JSON)' }).fill(join(data.dir, 'missing.json'));
  await form.getByRole('button', { name: 'Start training' }).click();
  await expect(form.getByRole('alert')).toContainText('no training set at');
  await form.getByRole('textbox', { name: 'Training set (MuFun JSON)' }).fill(data.train);
  await form.getByRole('textbox', { name: 'Audio folder' }).fill(data.audio);
  await setting(page, 'learning_rate', 'fast');
  await page.getByRole('textbox', { name: /More settings/ }).fill('--lora_r 0 --weight_decay');
  await form.getByRole('button', { name: 'Start training' }).click();
  await expect(form.getByRole('alert')).toContainText('More settings: weight_decay has no value');
  await page.getByRole('textbox', { name: /More settings/ }).fill('--lora_r 0');
  await form.getByRole('button', { name: 'Start training' }).click();
  await expect(form.getByRole('alert')).toContainText('learning_rate: must be a number (got "fast")');
  await expect(form.getByRole('alert')).toContainText('lora_r: must be a positive integer (got 0)');
  expect((await api<unknown[]>(serve, 'training.jobs')).length).toBe(2);
});

test('a job running when the studio is killed comes back interrupted and resumes from its checkpoint', async ({ page }) => {
  const job = await api<{ id: number }>(serve, 'training.start', {
    kind: 'lora', name: 'Long LoRA', source: { type: 'file', dataPath: data.train, audioFolder: data.audio },
    settings: { per_device_train_batch_size: 1, gradient_accumulation_steps: 1, model_max_length: 512, lora_r: 4, num_train_epochs: 4, max_steps: 6, save_steps: 2, learning_rate: 0.001 },
  });
  for (let i = 0; i < 600; i++) {
    const j = await api<{ checkpoint: { step: number } | null; step: number; status: string }>(serve, 'training.get', { id: job.id });
    if (j.checkpoint && j.step >= 3) break;
    if (j.status !== 'running' && j.status !== 'queued') throw new Error(`the job is ${j.status} before it could be killed`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await serve.stop('SIGKILL');
  serve = await startServe({ db, model });
  await page.goto(serve.url);
  await gotoPage(page, 'Training');
  const row = page.getByRole('table', { name: 'Training jobs' }).getByRole('row').filter({ hasText: 'Long LoRA' });
  await expect(row).toContainText('interrupted');
  await row.getByRole('button', { name: 'Show job Long LoRA' }).click();
  await expect(page.getByRole('status').filter({ hasText: /interrupted.*resume continues from step \d+/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Loss: [3-6] points/ })).toBeVisible(); // the curve, back from the catalog
  await shot(page, 'serve-training-interrupted');
  await row.getByRole('button', { name: 'Resume Long LoRA' }).click();
  await expect(row).toContainText('done', { timeout: 45_000 });
  await expect(page.getByRole('img', { name: /^Loss: 6 points, latest .* at step 6/ })).toBeVisible();
  await expect(row).toContainText('6 / 6');
  const metrics = await api<{ steps: { step: number }[] }>(serve, 'training.metrics', { id: job.id });
  expect(metrics.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
});

test("tagging: a model's tower learns a synthetic set's labels; accuracy per task is charted after every epoch", async ({ page }) => {
  test.skip(!haveFluidsynth, `FluidSynth or a GM soundfont is missing (Debian: apt-get install -y ${DEBIAN_PACKAGES})`);
  const set = join(dirname(db), 'synthetic', 'tones-set'); // where the Datasets page generates them
  await generateDataset({ out: set, count: 8, seed: 3, seconds: 3, splits: [0.5, 0.25, 0.25], tasks: ['instrument', 'tempo', 'chord'], chordShare: 0.5 });
  await page.goto(serve.url);
  await gotoPage(page, 'Training');
  const form = page.getByRole('form', { name: 'New training job' });
  await form.getByRole('radio', { name: 'Tagging (the audio tower learns to hear)' }).check();
  await expect(form.getByRole('textbox', { name: 'Training set (MuFun JSON)' })).toHaveCount(0); // tagging reads labels, not questions
  await expect(form.getByRole('combobox', { name: "Synthetic set's labels" })).toHaveValue(join(set, 'labels.jsonl')); // the studio's newest set
  await form.getByRole('combobox', { name: "Synthetic set's labels" }).fill(join(set, 'train.json'));
  await form.getByRole('textbox', { name: 'Job name' }).fill('Synth tagging');
  await settings(page, { num_train_epochs: '2', per_device_train_batch_size: '2', tasks: 'instrument, chord' });
  await form.getByRole('button', { name: 'Start training' }).click();
  await expect(form.getByRole('alert')).toContainText("train.json is not a synthetic set's labels.jsonl");
  await form.getByRole('combobox', { name: "Synthetic set's labels" }).fill(join(set, 'labels.jsonl'));
  await form.getByRole('button', { name: 'Start training' }).click();

  const row = page.getByRole('table', { name: 'Training jobs' }).getByRole('row').filter({ hasText: 'Synth tagging' });
  await expect(row).toContainText('done', { timeout: 60_000 });
  await expect(row).toContainText('4 / 4');
  await expect(page.getByRole('table', { name: 'Evaluations' }).getByRole('row')).toHaveCount(3); // header + epochs 1 and 2
  await expect(page.getByRole('img', { name: /^Accuracy per task: 2 points/ })).toBeVisible();
  await expect(page.getByText(/Accuracy per task at step 4: instrument [\d.]+ % · chord [\d.]+ %/)).toBeVisible();
  await shot(page, 'serve-training-tagging');
  await gotoPage(page, 'Models'); // its model, like any trained one
  await expect(page.getByRole('table', { name: 'Trained models' }).getByRole('row').filter({ hasText: 'Synth tagging' })).toContainText('Tagging');
});
