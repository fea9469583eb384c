// The studio window, locked down: isolated, sandboxed, no Node, no navigation, no popups.

import { BrowserWindow, shell } from 'electron';

export interface WindowOptions {
  preloadPath: string;
  /** The dev server, or the built renderer on the app:// scheme. */
  url: string;
}

export function createMainWindow(opts: WindowOptions): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 720,
    minHeight: 480,
    title: 'MuFun Studio',
    show: false,
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });

  win.once('ready-to-show', () => win.show());

  // The UI is a single page: links never navigate the window; http(s) links open in the browser.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event) => event.preventDefault());

  void win.loadURL(opts.url);
  return win;
}
