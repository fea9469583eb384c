// Preload (sandboxed): exposes exactly one object, window.mufun, typed by the shared API.

import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_CHANNEL, EVENT_CHANNEL, type MufunBridge } from '../shared/bridge.js';

const bridge: MufunBridge = {
  call: (name, args) => ipcRenderer.invoke(API_CHANNEL, name, args),
  on: (event, listener) => {
    const forward = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (name === event) listener(payload as never);
    };
    ipcRenderer.on(EVENT_CHANNEL, forward);
    return () => {
      ipcRenderer.removeListener(EVENT_CHANNEL, forward);
    };
  },
};

contextBridge.exposeInMainWorld('mufun', bridge);
