// The Player's spectrogram in Chromium through `mufun serve`: switched on, it draws the
// services' log-mel (what the model hears) under the waveform, follows zoom and scroll, and a
// corrupt file gets a clear error on the page (no crash).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect, type Locator } from '@playwright/test';
import { gotoPage, shot } from './flows.js';
import { type Serve, startServe, tempDir, writeMusic, watchPageErrors, scanLibrary } from './helpers.js';

test.describe.configure({ mode: 'serial' });

let serve: Serve;
let music: string;
const pageErrors: string[] = [];

test.beforeAll(async () => {
  music = writeMusic();
  serve = await startServe({ db: `${tempDir('db')}/catalog.sqlite` });
  await scanLibrary(serve, music);
});

test.afterAll(async () => {
  await serve?.stop();
});

interface CanvasStats {
  width: number;
  height: number;
  /** Opaque pixels that are not the colour map's darkest (silence) colour. */
  lit: number;
  /** Mean brightness of the bottom and top quarters of the rows. */
  bottom: number;
  top: number;
  /** A cheap fingerprint of the pixels, to see the picture change. */
  hash: number;
}

async function canvasStats(figure: Locator): Promise<CanvasStats> {
  return figure.locator('canvas').evaluate((c: HTMLCanvasElement) => {
    const { width, height } = c;
    const px = c.getContext('2d')!.getImageData(0, 0, width, height).data;
    let lit = 0, bottom = 0, top = 0, hash = 0;
    const q = Math.floor(height / 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4, v = px[o] + px[o + 1] + px[o + 2];
        if (px[o + 3] > 0 && v > 12) lit++;
        if (y < q) top += v;
        if (y >= height - q) bottom += v;
        hash = (hash * 31 + v + x) | 0;
      }
    }
    return { width, height, lit, bottom: bottom / (q * width), top: top / (q * width), hash };
  });
}

test('the spectrogram under the waveform follows zoom and scroll; a corrupt file says why', async ({ page }) => {
  watchPageErrors(page, pageErrors);
  await page.goto(serve.url);
  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: 'Open Blues riff' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Player' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Play', exact: true })).toBeEnabled();

  const toggle = page.getByRole('checkbox', { name: 'Spectrogram' });
  await expect(toggle).not.toBeChecked();
  await expect(page.getByRole('img', { name: /^Spectrogram of/ })).toHaveCount(0);
  await toggle.check();
  const image = page.getByRole('img', { name: /^Spectrogram of Blues riff: \d+ mel bands from 0 to 8 kHz, low frequencies at the bottom$/ });
  await expect(image).toBeVisible();

  // Drawn, as wide as the waveform, and the chord (196–294 Hz) lights up the bottom rows.
  const waveWidth = await page.getByRole('region', { name: 'Waveform' }).locator('div').first().evaluate((d) => d.clientWidth);
  await expect.poll(async () => (await canvasStats(image)).lit).toBeGreaterThan(1000);
  const fit = await canvasStats(image);
  expect(fit.height).toBe(128);
  expect(Math.abs(fit.width - waveWidth)).toBeLessThanOrEqual(2);
  expect(fit.lit).toBeGreaterThan(fit.width * fit.height * 0.1);
  expect(fit.bottom).toBeGreaterThan(fit.top);
  await shot(page, 'serve-player-spectrogram');

  // Zoomed in, it shows the first seconds only: a different picture, still fully drawn.
  await page.getByRole('slider', { name: 'Zoom' }).fill('500');
  await expect.poll(async () => (await canvasStats(image)).hash).not.toBe(fit.hash);
  const zoomed = await canvasStats(image);
  expect(zoomed.lit).toBeGreaterThan(zoomed.width * zoomed.height * 0.1);
  await shot(page, 'serve-player-spectrogram-zoomed');

  // Scrolling the waveform scrolls the spectrogram with it.
  const wave = page.getByRole('region', { name: 'Waveform' });
  const box = (await wave.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 60);
  await page.mouse.wheel(600, 0);
  await expect.poll(async () => (await canvasStats(image)).hash).not.toBe(zoomed.hash);
  await page.getByRole('slider', { name: 'Zoom' }).fill('0');
  await expect.poll(async () => (await canvasStats(image)).hash).toBe(fit.hash);

  // The choice outlives the page; a corrupt file gets a clear error and the page keeps working.
  const chords = join(music, 'session', 'Chords.wav');
  writeFileSync(chords, Buffer.concat([readFileSync(chords).subarray(0, 44), Buffer.from('not audio '.repeat(100))]));
  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: 'Open Chords' }).click();
  await expect(page.getByRole('checkbox', { name: 'Spectrogram' })).toBeChecked();
  await expect(page.getByRole('alert').filter({ hasText: /^Cannot show the spectrogram of Chords: .*Chords\.wav/ })).toBeVisible();
  await expect(page.getByRole('img', { name: /^Spectrogram of/ })).toHaveCount(0);
  await shot(page, 'serve-player-spectrogram-error');

  // Back to a good track: drawn again.
  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: 'Open Deep tone' }).click();
  await expect(page.getByRole('img', { name: /^Spectrogram of Deep tone/ })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(pageErrors).toEqual([]);
});
