/// <reference types="svelte" />
/// <reference types="vite/client" />

import type { MufunBridge } from '../../shared/bridge.js';

declare global {
  interface Window {
    /** Present only inside the Electron app (set by the preload script). */
    mufun?: MufunBridge;
  }
}
