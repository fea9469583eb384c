// The user's path through the studio, written once against a Page, so the same steps drive
// the browser (`mufun serve`) and the Electron app. Controls are found by role and name.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { SCREENSHOTS } from './helpers.js';

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

export async function gotoPage(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Studio pages' }).getByRole('button', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 2, name })).toBeVisible();
}

/** Adds the folder, waits for its scan, then searches, sorts, and checks a removed file is marked missing. */
export async function libraryFlow(page: Page, music: string, prefix: string): Promise<void> {
  await gotoPage(page, 'Library');
  await page.getByRole('textbox', { name: 'Folder path' }).fill(music);
  await page.getByRole('button', { name: 'Add folder' }).click();
  const status = page.getByRole('status', { name: 'Scan progress' });
  await expect(status).toContainText('Scan finished: 3 added');
  const table = page.getByRole('table', { name: 'Tracks' });
  await expect(table.getByRole('row')).toHaveCount(4); // header + 3
  await shot(page, `${prefix}-library`);

  await page.getByRole('searchbox', { name: 'Search tracks' }).fill('chord');
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(table.getByRole('button', { name: 'Open Chords' })).toBeVisible();
  await page.getByRole('searchbox', { name: 'Search tracks' }).fill('');
  await expect(table.getByRole('row')).toHaveCount(4);

  await page.getByRole('combobox', { name: 'Sort by' }).selectOption('duration');
  await page.getByRole('button', { name: 'Sort descending' }).click();
  const firstTitle = table.getByRole('row').nth(1).getByRole('cell').first();
  await expect(firstTitle).toHaveText('Deep tone');
  await page.getByRole('button', { name: 'Sort ascending' }).click();
  await expect(firstTitle).toHaveText('Chords');

  // A removed file is kept and marked missing by the re-scan.
  unlinkSync(join(music, 'session', 'deeper', 'Deep tone.wav'));
  await page.getByRole('button', { name: 'Re-scan library' }).click();
  await expect(status).toContainText('1 missing');
  const missingRow = table.getByRole('row').filter({ hasText: 'Deep tone' });
  await expect(missingRow).toContainText('Missing');
  await expect(missingRow.getByRole('button', { name: 'Open Deep tone' })).toBeDisabled();
  await shot(page, `${prefix}-library-missing`);
}

/** Opens a track, plays it, drags a selection, sets its edges by number, loops it. */
export async function playerFlow(page: Page, prefix: string): Promise<void> {
  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: 'Open Blues riff' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Player' })).toBeVisible();
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await expect(play).toBeEnabled();
  const wave = page.getByRole('region', { name: 'Waveform' });
  await expect(wave.locator('canvas').first()).toBeVisible();

  // Playback moves the clock.
  await play.click();
  const clock = page.getByRole('timer', { name: 'Position' });
  await expect(clock).not.toHaveText(/^0:00\.0 /, { timeout: 15_000 });
  await page.getByRole('button', { name: 'Pause', exact: true }).click();

  // Drag on the waveform to select.
  const box = (await wave.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + 60);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.4, box.y + 60, { steps: 8 });
  await page.mouse.move(box.x + box.width * 0.5, box.y + 60, { steps: 8 });
  await page.mouse.up();
  const start = page.getByRole('spinbutton', { name: 'Selection start (s)' });
  const end = page.getByRole('spinbutton', { name: 'Selection end (s)' });
  await expect(start).not.toHaveValue('');
  expect(Number(await end.inputValue())).toBeGreaterThan(Number(await start.inputValue()));
  await expect(wave.locator('[part~="region"]')).toHaveCount(1);

  // Exact edges by number.
  await start.fill('1');
  await end.fill('3');
  await page.getByRole('button', { name: 'Set selection' }).click();
  await expect(start).toHaveValue('1.00');
  await expect(end).toHaveValue('3.00');
  await expect(wave.locator('[part~="region"]')).toHaveCount(1);

  // Zoom and loop controls.
  await page.getByRole('slider', { name: 'Zoom' }).fill('200');
  await page.getByRole('checkbox', { name: 'Loop selection' }).check();
  await shot(page, `${prefix}-player`);
  await page.getByRole('slider', { name: 'Zoom' }).fill('0');

  // Keyboard: Space plays the selection.
  await wave.focus();
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: 'Pause', exact: true })).toBeVisible();
  await page.keyboard.press(' ');
  await expect(page.getByRole('button', { name: 'Play', exact: true })).toBeVisible();
}

/** Attaches the selection, asks, watches the answer stream in, stops it. */
export async function chatFlow(page: Page, prefix: string): Promise<void> {
  await page.getByRole('button', { name: 'Attach selection to chat' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Attached Blues riff' })).toBeVisible();
  await gotoPage(page, 'Chat');
  await expect(page.getByText(/^Model: /)).toBeVisible();
  await expect(page.getByRole('list', { name: 'Attached audio' })).toContainText('Blues riff · 0:01.0–0:03.0');

  // A long answer that cannot end early (the tiny model's 512-token vocabulary makes an early
  // end token likely on some CPUs), so there is time to see it stream and to stop it.
  await page.getByText('Generation settings').click();
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('4096');
  await page.getByRole('spinbutton', { name: 'Min new tokens' }).fill('4096');
  await page.getByRole('button', { name: 'Save settings' }).click();

  await page.getByRole('textbox', { name: 'Question' }).fill('What instruments play in this passage?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const streaming = page.getByRole('article', { name: 'Answer in progress' });
  await expect(streaming).toBeVisible();
  await expect.poll(async () => (await streaming.locator('.text').textContent())?.length ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
  const first = (await streaming.locator('.text').textContent())!.length;
  await expect.poll(async () => (await streaming.locator('.text').textContent())?.length ?? 0).toBeGreaterThan(first);
  await shot(page, `${prefix}-chat-streaming`);
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(streaming).toHaveCount(0, { timeout: 5_000 });
  const answer = page.getByRole('article', { name: 'Answer' }).last();
  await expect(answer.locator('footer')).toContainText('stopped');
  await expect(answer.locator('.text')).not.toBeEmpty();

  // The question keeps its audio segment as an <audio> element.
  const question = page.getByRole('article', { name: 'Question' }).last();
  const audio = question.locator('audio');
  await expect(audio).toHaveAttribute('src', /\/media\/track\/\d+.*#t=1,3$/);
  await expect(audio).toHaveAccessibleName(/Blues riff/);

  // A short complete answer after it, in the same conversation.
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('12');
  await page.getByRole('spinbutton', { name: 'Min new tokens' }).fill('0');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('textbox', { name: 'Question' }).fill('And the tempo?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(page.getByRole('article', { name: 'Answer' })).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByRole('article', { name: 'Answer' }).last().locator('footer')).toContainText('12 tokens');
  await shot(page, `${prefix}-chat`);
}

/** After a restart: the conversation is listed and opens with its messages and model. */
export async function resumeFlow(page: Page, modelName: string, prefix: string): Promise<void> {
  await gotoPage(page, 'Chat');
  const conv = page.getByRole('navigation', { name: 'Conversations' }).getByRole('button', { name: /What instruments play/ });
  await expect(conv).toBeVisible();
  await conv.click();
  await expect(page.getByRole('article', { name: 'Question' })).toHaveCount(2);
  await expect(page.getByRole('article', { name: 'Answer' })).toHaveCount(2);
  await expect(page.getByRole('article', { name: 'Answer' }).first().locator('footer')).toContainText(modelName);
  await expect(page.getByRole('article', { name: 'Question' }).first().locator('audio')).toHaveAttribute('src', /#t=1,3$/);
  // And it can go on.
  await page.getByRole('textbox', { name: 'Question' }).fill('Is it in a major key?');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(page.getByRole('article', { name: 'Answer' })).toHaveCount(3, { timeout: 60_000 });
  await shot(page, `${prefix}-chat-resumed`);
  await gotoPage(page, 'Models');
  await expect(page.getByRole('status').filter({ hasText: `Chat uses ${modelName}` })).toBeVisible();
  await shot(page, `${prefix}-models`);
}
