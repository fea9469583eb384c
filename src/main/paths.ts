// Where the studio keeps its files when not told: the same folder Electron's
// app.getPath('userData') gives the desktop app, so `mufun serve` opens the same catalog.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const APP_DIR_NAME = 'mufun-studio';
export const CATALOG_FILE = 'catalog.sqlite';

export function userDataDir(): string {
  const home = homedir();
  if (process.platform === 'win32') return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return join(process.env.XDG_CONFIG_HOME || join(home, '.config'), APP_DIR_NAME);
}

