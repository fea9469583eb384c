// Electron main process: app lifecycle, security policy, and wiring services to IPC.

import { app, BrowserWindow, session } from 'electron';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { contentSecurityPolicy } from '../shared/csp.js';
import { broadcastEvents, registerIpc } from './ipc.js';
import { CATALOG_FILE } from './paths.js';
import { APP_ORIGIN, handleAppScheme, registerAppScheme } from './protocol.js';
import { createServices, type Studio } from './services.js';
import { RendererFiles } from './web/page.js';
import { createMainWindow } from './window.js';
// electron-vite bundles each of the services' workers as its own file and gives its path (see training/modules.d.ts).
import trainingWorkerPath from './training/worker?modulePath';
import convertWorkerPath from './convert/worker?modulePath';
import evalWorkerPath from './evals/worker?modulePath';

const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer', import.meta.url));
// electron.vite.config.ts builds the chat worker next to this file.
const chatWorkerUrl = new URL('./chat-worker.js', import.meta.url);

/** Only our own page may call the API. */
function isTrustedUrl(url: string): boolean {
  if (devServerUrl) return url.startsWith(new URL(devServerUrl).origin + '/');
  return url.startsWith(APP_ORIGIN + '/');
}

function applySessionPolicy(): void {
  if (devServerUrl) {
    // The dev server's page: its CSP (with Vite's inline styles) as a header too.
    const csp = contentSecurityPolicy({ dev: true });
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
  }
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
}

registerAppScheme();
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let studio: Studio | null = null;
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });

  void app.whenReady().then(() => {
    applySessionPolicy();
    const resources = app.isPackaged ? process.resourcesPath : join(app.getAppPath(), 'resources');
    studio = createServices({
      appVersion: app.getVersion(),
      dbPath: process.env.MUFUN_DB ?? join(app.getPath('userData'), CATALOG_FILE),
      chatWorkerUrl,
      trainingWorkerUrl: pathToFileURL(trainingWorkerPath),
      convertWorkerUrl: pathToFileURL(convertWorkerPath),
      evalWorkerUrl: pathToFileURL(evalWorkerPath),
      embeddedModelDir: join(resources, 'mufun-nano'),
    });
    registerIpc(studio.handlers, isTrustedUrl);
    broadcastEvents(studio);
    handleAppScheme(new RendererFiles(rendererDir), studio);
    const open = () => createMainWindow({ preloadPath, url: devServerUrl ?? `${APP_ORIGIN}/index.html` });
    open();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) open();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => {
    void studio?.close();
  });
}
