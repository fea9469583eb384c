// The "done when" journey, written once against a Page (browser through `mufun serve`,
// and Electron): add a music folder, play and select a passage, ask the default model about it
// and watch the answer stream, label three passages into a dataset, export it as MuFun JSON and
// import it back, finetune briefly from the imported dataset while the loss chart moves, then
// choose the trained model and chat with it. Controls are found by role and name.
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import { gotoPage, shot } from './flows.js';
import { tempDir } from './helpers.js';

export interface JourneyResult {
  exportDir: string;
  /** Every text the streaming answer showed before it was done. */
  streamed: string[];
}

/** Opens a track in the Player and sets the selection by number. */
async function selectPassage(page: Page, title: string, start: number, end: number): Promise<void> {
  await gotoPage(page, 'Library');
  await page.getByRole('button', { name: `Open ${title}` }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Player' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Play', exact: true })).toBeEnabled();
  await page.getByRole('spinbutton', { name: 'Selection start (s)' }).fill(String(start));
  await page.getByRole('spinbutton', { name: 'Selection end (s)' }).fill(String(end));
  await page.getByRole('button', { name: 'Set selection' }).click();
  await expect(page.getByRole('spinbutton', { name: 'Selection end (s)' })).toHaveValue(end.toFixed(2));
}

/** Player → "Add selection to dataset" → Datasets → "Add to <dataset>". */
async function addPassage(page: Page, title: string, start: number, end: number, dataset: string, count: number): Promise<void> {
  await selectPassage(page, title, start, end);
  await page.getByRole('button', { name: 'Add selection to dataset' }).click();
  await expect(page.getByRole('heading', { level: 2, name: 'Datasets' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Passage from the Player' })).toContainText(title);
  await page.getByRole('button', { name: `Add to ${dataset}` }).click();
  await expect(page.getByRole('table', { name: 'Items' }).locator('tbody tr')).toHaveCount(count);
}

/**
 * Records, in the page, every value `read` gives as the DOM changes (so a streaming answer or a
 * moving chart is seen however fast it goes); `recorded` returns them.
 */
async function record(page: Page, key: string, selector: string, attribute: string | null): Promise<void> {
  await page.evaluate(([key, selector, attribute]) => {
    const seen: string[] = [];
    (window as unknown as Record<string, string[]>)[key!] = seen;
    new MutationObserver(() => {
      const el = document.querySelector(selector!);
      const v = (attribute ? el?.getAttribute(attribute) : el?.textContent) ?? '';
      if (v && seen.at(-1) !== v) seen.push(v);
    }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  }, [key, selector, attribute]);
}

const recorded = (page: Page, key: string) => page.evaluate((k) => (window as unknown as Record<string, string[]>)[k], key);

export async function journeyFlow(page: Page, music: string, prefix: string, embeddedName = 'mufun-nano'): Promise<JourneyResult> {
  // ── The default model is there with no setup ──
  await gotoPage(page, 'Models');
  await expect(page.getByRole('status').filter({ hasText: `Chat uses ${embeddedName}` })).toContainText('embedded');

  // ── A folder of music ──
  await gotoPage(page, 'Library');
  await page.getByRole('textbox', { name: 'Folder path' }).fill(music);
  await page.getByRole('button', { name: 'Add folder' }).click();
  await expect(page.getByRole('status', { name: 'Scan progress' })).toContainText('Scan finished: 3 added');
  await expect(page.getByRole('table', { name: 'Tracks' }).getByRole('row')).toHaveCount(4);
  await shot(page, `${prefix}-1-library`);

  // ── Play, and select a region by dragging, then exactly ──
  await page.getByRole('button', { name: 'Open Blues riff' }).click();
  const play = page.getByRole('button', { name: 'Play', exact: true });
  await expect(play).toBeEnabled();
  await play.click();
  await expect(page.getByRole('timer', { name: 'Position' })).not.toHaveText(/^0:00\.0 /, { timeout: 15_000 });
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  const wave = page.getByRole('region', { name: 'Waveform' });
  const box = (await wave.boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.2, box.y + 60);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.5, box.y + 60, { steps: 10 });
  await page.mouse.up();
  await expect(wave.locator('[part~="region"]')).toHaveCount(1);
  await page.getByRole('spinbutton', { name: 'Selection start (s)' }).fill('1');
  await page.getByRole('spinbutton', { name: 'Selection end (s)' }).fill('3');
  await page.getByRole('button', { name: 'Set selection' }).click();
  await expect(page.getByRole('spinbutton', { name: 'Selection start (s)' })).toHaveValue('1.00');
  await shot(page, `${prefix}-2-player`);

  // ── Ask the default model about it; the answer streams in ──
  await page.getByRole('button', { name: 'Attach selection to chat' }).click();
  await gotoPage(page, 'Chat');
  await expect(page.getByText(/^Model: /)).toContainText(embeddedName);
  await expect(page.getByRole('list', { name: 'Attached audio' })).toContainText('Blues riff · 0:01.0–0:03.0');
  await page.getByText('Generation settings').click();
  await page.getByRole('spinbutton', { name: 'Max new tokens' }).fill('48');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await record(page, '__streamed', 'article[aria-label="Answer in progress"] .text', null);
  await page.getByRole('textbox', { name: 'Question' }).fill('Describe this music.');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const answer = page.getByRole('article', { name: 'Answer' }).last();
  await expect(answer.locator('footer')).toContainText(embeddedName, { timeout: 60_000 });
  await expect(answer.locator('.text')).not.toBeEmpty();
  const finalText = (await answer.locator('.text').textContent())!.trim();
  const streamed = await recorded(page, '__streamed');
  // pieces arrived one after another, each a prefix of the final answer
  expect(streamed.length).toBeGreaterThan(1);
  for (const s of streamed) expect(finalText.startsWith(s.trim())).toBe(true);
  await expect(page.getByRole('article', { name: 'Question' }).last().locator('audio')).toHaveAttribute('src', /#t=1,3$/);
  await shot(page, `${prefix}-3-chat`);

  // ── Three regions labelled into a dataset ──
  await gotoPage(page, 'Datasets');
  await page.getByRole('textbox', { name: 'Dataset name' }).fill('Journey');
  await page.getByRole('button', { name: 'Create dataset' }).click();
  await expect(page.getByRole('heading', { level: 3, name: 'Journey' })).toBeVisible();
  await addPassage(page, 'Blues riff', 1, 3, 'Journey', 1);
  await addPassage(page, 'Chords', 0, 2, 'Journey', 2);
  await addPassage(page, 'Deep tone', 2, 6, 'Journey', 3);

  await page.getByText('Task templates').click();
  const template = page.getByRole('form', { name: 'Task template' });
  await template.getByRole('textbox', { name: 'Template name' }).fill('Register');
  await template.getByRole('textbox', { name: 'Question' }).fill('Is this passage high or low?');
  await template.getByRole('textbox', { name: 'Choices (one per line)' }).fill('high\nlow');
  await template.getByRole('checkbox', { name: 'Shuffle options per item' }).uncheck();
  await template.getByRole('textbox', { name: 'Task field' }).fill('register');
  await template.getByRole('button', { name: 'Add template' }).click();
  await expect(page.getByRole('toolbar', { name: 'Labelling' }).getByRole('button', { name: '1high' })).toBeVisible();
  const rows = page.getByRole('table', { name: 'Items' }).locator('tbody tr');
  // keyboard labelling: each key labels the item and moves to the next
  await rows.nth(0).getByRole('button').click();
  await page.keyboard.press('1');
  await expect(rows.nth(0)).toContainText('high');
  await page.keyboard.press('1');
  await expect(rows.nth(1)).toContainText('high');
  await page.keyboard.press('2');
  await expect(rows.nth(2)).toContainText('low');
  const counts = page.getByRole('status', { name: 'Dataset counts' });
  await expect(counts).toContainText('3 items · 3 train · 0 eval · 0 unlabelled · 0 with problems');
  await shot(page, `${prefix}-4-datasets`);

  // ── Export as MuFun JSON, import it back ──
  const exportDir = tempDir('journey-export');
  await page.getByRole('textbox', { name: 'Export folder' }).fill(exportDir);
  await page.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(page.getByRole('definition').filter({ hasText: 'mufun train --data' })).toContainText(`--audio-folder ${music}`);
  await page.getByText('Import MuFun JSON').click();
  await page.getByRole('textbox', { name: 'JSON file' }).fill(join(exportDir, 'train.json'));
  await page.getByRole('textbox', { name: 'Audio root folder' }).fill(music);
  await page.getByRole('textbox', { name: 'New dataset name' }).fill('Journey imported');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Imported 3 samples into Journey imported' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 3, name: 'Journey imported' })).toBeVisible();
  await expect(rows).toHaveCount(3);
  await expect(counts).toContainText('3 items · 3 train · 0 eval');
  await shot(page, `${prefix}-5-datasets-imported`);

  // ── A short finetune from the imported dataset; the loss chart moves ──
  await gotoPage(page, 'Training');
  const form = page.getByRole('form', { name: 'New training job' });
  await form.getByRole('radio', { name: 'Finetune (full)' }).check();
  await form.getByRole('radio', { name: 'Studio dataset' }).check();
  await form.getByRole('combobox', { name: 'Dataset' }).selectOption({ label: 'Journey imported (3 train, 0 eval)' });
  await form.getByRole('textbox', { name: 'Job name' }).fill('Journey finetune');
  for (const [flag, value] of Object.entries({
    learning_rate: '0.0005', num_train_epochs: '2', per_device_train_batch_size: '1', gradient_accumulation_steps: '1',
    model_max_length: '512', save_steps: '3', eval_accuracy_samples: '0',
  })) {
    await form.getByRole('textbox', { name: new RegExp(`\\b${flag}$`) }).fill(value);
  }
  await form.getByRole('combobox', { name: /tune_type_vision_tower$/ }).selectOption('frozen');
  await record(page, '__loss', 'svg[role="img"][aria-label^="Loss:"]', 'aria-label');
  await form.getByRole('button', { name: 'Start training' }).click();
  const job = page.getByRole('table', { name: 'Training jobs' }).getByRole('row').filter({ hasText: 'Journey finetune' });
  await expect(job).toBeVisible();
  await expect(job).toContainText('done', { timeout: 120_000 });
  const loss = page.getByRole('img', { name: /^Loss: / });
  await expect(loss).toHaveAttribute('aria-label', /Loss: 6 points, latest [\d.e+-]+ at step 6/);
  // the chart grew step by step while the job ran
  const points = new Set((await recorded(page, '__loss')).map((l) => /Loss: (\d+) point/.exec(l)?.[1]).filter(Boolean));
  expect(points.size).toBeGreaterThan(2);
  await shot(page, `${prefix}-6-training`);

  // ── Choose the trained model and chat with it ──
  await gotoPage(page, 'Models');
  const trained = page.getByRole('table', { name: 'Trained models' });
  await trained.getByRole('button', { name: 'Use Journey finetune for chat' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Chat uses final, trained by job “Journey finetune”' })).toBeVisible();
  await shot(page, `${prefix}-7-models`);
  await selectPassage(page, 'Chords', 0, 2);
  await page.getByRole('button', { name: 'Attach selection to chat' }).click();
  await gotoPage(page, 'Chat');
  await expect(page.getByText(/^Model: /)).toContainText('final');
  await page.getByRole('button', { name: 'New conversation' }).click();
  await expect(page.getByRole('list', { name: 'Attached audio' })).toContainText('Chords · 0:00.0–0:02.0');
  await page.getByRole('textbox', { name: 'Question' }).fill('Is this passage high or low? (choose from: A. high, B. low)');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  const trainedAnswer = page.getByRole('article', { name: 'Answer' }).last();
  await expect(trainedAnswer.locator('footer')).toContainText('final', { timeout: 60_000 });
  await expect(trainedAnswer.locator('.text')).not.toBeEmpty();
  await shot(page, `${prefix}-8-chat-trained`);
  return { exportDir, streamed };
}
