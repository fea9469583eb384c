// The services behind the API: plain async functions, no Electron, no UI, no transport.
// The Electron main process and `mufun serve` both build them with createServices().

import type { ApiHandlers } from '../shared/api.js';
import { describeModel } from '../model/describe.js';

export interface ServiceContext {
  /** The application's version (Electron: app.getVersion(); CLI: package.json). */
  appVersion: string;
}

export function createServices(ctx: ServiceContext): ApiHandlers {
  return {
    'app.version': async () => ({
      version: ctx.appVersion,
      electron: process.versions.electron,
      node: process.versions.node,
    }),
    'models.describe': async ({ dir }) => describeModel(dir),
  };
}
