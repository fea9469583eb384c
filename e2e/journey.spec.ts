// The end-to-end "done when" journey in Chromium through `mufun serve` started without
// --model, so chat starts on the embedded default model (resources/mufun-nano): see journey.ts.
// Screenshots of each page go to test-results/screenshots/journey-*.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { journeyFlow } from './journey.js';
import { type Serve, ROOT, api, startServe, tempDir, writeMusic, watchPageErrors } from './helpers.js';

let serve: Serve;
let music: string;
const pageErrors: string[] = [];

test.beforeAll(async () => {
  // the embedded model is what a fresh studio uses when nothing else is named
  test.skip(Boolean(process.env.MUFUN_MODEL), 'MUFUN_MODEL is set: unset it so the studio uses its embedded model');
  music = writeMusic();
  serve = await startServe({ db: `${tempDir('journey-db')}/catalog.sqlite` });
});

test.afterAll(async () => {
  await serve?.stop();
});

test('music folder → ask the default model → label three passages → export/import → finetune → chat with the trained model', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  await page.goto(serve.url);
  const embedded = await api<{ dir: string; source: string }>(serve, 'models.current');
  expect(embedded).toMatchObject({ source: 'embedded', dir: join(ROOT, 'resources', 'mufun-nano') });

  const { exportDir, streamed } = await journeyFlow(page, music, 'journey');
  expect(streamed.length).toBeGreaterThan(1);

  // what the journey left behind, checked at the source
  const exported = JSON.parse(readFileSync(join(exportDir, 'train.json'), 'utf8')) as { audio: string; time?: number[]; label: string }[];
  expect(exported.map((s) => [s.audio, s.time, s.label])).toEqual([
    ['Blues riff.wav', [1, 3], 'high'],
    ['session/Chords.wav', [0, 2], 'high'],
    ['session/deeper/Deep tone.wav', [2, 6], 'low'],
  ]);
  const [job] = await api<{ kind: string; status: string; source: { type: string }; baseModel: string; finalModel: string }[]>(serve, 'training.jobs');
  expect(job).toMatchObject({ kind: 'finetune', status: 'done', source: { type: 'dataset' }, baseModel: embedded.dir });
  const metrics = await api<{ steps: { step: number; loss: number }[] }>(serve, 'training.metrics', { id: 1 });
  expect(metrics.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(new Set(metrics.steps.map((s) => s.loss)).size).toBeGreaterThan(1);
  expect((await api<{ dir: string }>(serve, 'models.current')).dir).toBe(job.finalModel);
  expect(pageErrors).toEqual([]);
});
