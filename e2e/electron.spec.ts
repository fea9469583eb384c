// The same flows in the desktop app, through Playwright's Electron support. The Electron
// binary is not downloaded by default (DEVELOPERS.md): where it is missing these tests skip.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { _electron as electron, test, type ElectronApplication } from '@playwright/test';
import { chatFlow, libraryFlow, playerFlow, resumeFlow } from './flows.js';
import { journeyFlow } from './journey.js';
import { ROOT, tempDir, tinyChatModel, writeMusic } from './helpers.js';

const ELECTRON_DIST = join(ROOT, 'node_modules', 'electron', 'dist');
const hasElectron = existsSync(ELECTRON_DIST);

const SKIP_REASON =
  `SKIPPED: the Electron binary is not installed (${ELECTRON_DIST} is missing). ` +
  'Install it with `npm install-scripts approve electron && npm rebuild electron` to run the desktop e2e tests.';
if (!hasElectron) console.warn(`e2e/electron.spec.ts: ${SKIP_REASON}`);

test.describe.configure({ mode: 'serial' });
test.skip(!hasElectron, SKIP_REASON);

let model: string;
let music: string;
let db: string;

async function launch(): Promise<ElectronApplication> {
  return electron.launch({
    args: [join(ROOT, 'out', 'main', 'index.js')],
    cwd: ROOT,
    env: { ...process.env, MUFUN_DB: db, MUFUN_MODEL: model } as Record<string, string>,
  });
}

test.beforeAll(() => {
  model = tinyChatModel();
  music = writeMusic();
  db = join(tempDir('electron-db'), 'catalog.sqlite');
});

test('library, player and chat in the desktop app', async () => {
  const app = await launch();
  try {
    const page = await app.firstWindow();
    await libraryFlow(page, music, 'electron');
    await playerFlow(page, 'electron');
    await chatFlow(page, 'electron');
  } finally {
    await app.close();
  }
});

test('conversations persist across an app restart', async () => {
  const app = await launch();
  try {
    await resumeFlow(await app.firstWindow(), basename(model), 'electron');
  } finally {
    await app.close();
  }
});

test('the whole journey on the embedded model: ask, label, export/import, finetune, chat with the trained model', async () => {
  // a fresh catalog and no MUFUN_MODEL, so the app uses its embedded model (resources/mufun-nano)
  const env = { ...process.env, MUFUN_DB: join(tempDir('electron-journey-db'), 'catalog.sqlite') } as Record<string, string>;
  delete env.MUFUN_MODEL;
  const app = await electron.launch({ args: [join(ROOT, 'out', 'main', 'index.js')], cwd: ROOT, env });
  try {
    await journeyFlow(await app.firstWindow(), writeMusic(), 'electron-journey');
  } finally {
    await app.close();
  }
});
