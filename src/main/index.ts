// Electron main process: app lifecycle, security policy, and wiring services to IPC.

import { app, BrowserWindow, session } from 'electron';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contentSecurityPolicy } from '../shared/csp.js';
import { registerIpc } from './ipc.js';
import { createServices } from './services.js';
import { createMainWindow } from './window.js';

const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const indexHtmlPath = fileURLToPath(new URL('../renderer/index.html', import.meta.url));

/** Only our own page may call the API. */
function isTrustedUrl(url: string): boolean {
  if (devServerUrl) return url.startsWith(new URL(devServerUrl).origin + '/');
  const page = pathToFileURL(indexHtmlPath).href;
  return url === page || url.startsWith(page + '#') || url.startsWith(page + '?');
}

function applySessionPolicy(): void {
  const csp = contentSecurityPolicy({ dev: Boolean(devServerUrl) });
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
}

app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  void app.whenReady().then(() => {
    applySessionPolicy();
    registerIpc(createServices({ appVersion: app.getVersion() }), isTrustedUrl);
    const open = () => createMainWindow({ preloadPath, devServerUrl, indexHtmlPath });
    open();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) open();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
