// Electron IPC transport: carries the API table over one invoke channel and one event channel.

import { ipcMain, webContents, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { ApiEvents, ApiHandlers, ApiResponse, EventName } from '../shared/api.js';
import { API_CHANNEL, EVENT_CHANNEL } from '../shared/bridge.js';
import { dispatch } from '../shared/dispatch.js';
import type { Studio } from './services.js';

/** Answer `window.mufun.call(name, args)` from trusted frames only; args are checked in dispatch. */
export function registerIpc(handlers: ApiHandlers, isTrustedUrl: (url: string) => boolean): void {
  const answer = async (
    event: IpcMainInvokeEvent,
    name: unknown,
    args: unknown,
  ): Promise<ApiResponse<unknown>> => {
    const url = event.senderFrame?.url ?? '';
    if (!isTrustedUrl(url)) {
      const message = `Call refused from ${url || 'an unknown frame'}`;
      return { ok: false, error: { code: 'forbidden', message } };
    }
    return dispatch(handlers, name, args);
  };
  ipcMain.handle(API_CHANNEL, answer);
}

/** Push an event to one window's renderer (received by `window.mufun.on`). */
export function sendEvent<E extends EventName>(target: WebContents, name: E, payload: ApiEvents[E]): void {
  target.send(EVENT_CHANNEL, name, payload);
}

/** Forwards every service event to every renderer. */
export function broadcastEvents(studio: Studio): void {
  studio.onEvent((name, payload) => {
    for (const wc of webContents.getAllWebContents()) {
      if (!wc.isDestroyed()) sendEvent(wc, name, payload);
    }
  });
}
