// The studio in Chromium through `mufun serve`: library → player → chat → restart → resume.
import { basename } from 'node:path';
import { test, expect } from '@playwright/test';
import { chatFlow, libraryFlow, playerFlow, resumeFlow, shot } from './flows.js';
import { type Serve, startServe, tempDir, tinyChatModel, writeMusic, watchPageErrors } from './helpers.js';

test.describe.configure({ mode: 'serial' });

let serve: Serve;
let db: string;
let model: string;
let music: string;
const cspErrors: string[] = [];

test.beforeAll(async () => {
  model = tinyChatModel();
  music = writeMusic();
  db = `${tempDir('db')}/catalog.sqlite`;
  serve = await startServe({ db, model });
});

test.afterAll(async () => {
  await serve?.stop();
});

test('library, player and chat in the browser', async ({ page }) => {
  watchPageErrors(page, cspErrors);
  await page.goto(serve.url);
  await expect(page.getByRole('heading', { level: 1, name: 'MuFun Studio' })).toBeVisible();
  await libraryFlow(page, music, 'serve');
  await playerFlow(page, 'serve');
  await chatFlow(page, 'serve');
  expect(cspErrors).toEqual([]);
});

test('conversations persist across a server restart', async ({ page }) => {
  await serve.stop();
  serve = await startServe({ db, model });
  watchPageErrors(page, cspErrors);
  await page.goto(serve.url);
  await resumeFlow(page, basename(model), 'serve');
  expect(cspErrors).toEqual([]);
});

test('without a model the app says so and lets the user choose one', async ({ page }) => {
  const bare = await startServe({ db: `${tempDir('db')}/catalog.sqlite`, env: { MUFUN_MODEL: '', MUFUN_RESOURCES: tempDir('resources') } });
  try {
    await page.goto(bare.url);
    await page.getByRole('navigation', { name: 'Studio pages' }).getByRole('button', { name: 'Chat', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('No model is installed');
    await expect(page.getByRole('button', { name: 'Ask', exact: true })).toBeDisabled();
    await page.getByRole('navigation', { name: 'Studio pages' }).getByRole('button', { name: 'Models', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Choose a MuFun model folder');
    await shot(page, 'serve-models-none');
    await page.getByRole('textbox', { name: 'Chat model folder' }).fill('/nonexistent/model');
    await page.getByRole('button', { name: 'Use this model' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'is not a MuFun model folder' })).toBeVisible();
    await page.getByRole('textbox', { name: 'Chat model folder' }).fill(model);
    await page.getByRole('button', { name: 'Use this model' }).click();
    await expect(page.getByRole('status').filter({ hasText: `Chat uses ${basename(model)}` })).toBeVisible();
  } finally {
    await bare.stop();
  }
});
