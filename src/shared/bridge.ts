// The Electron bridge between preload and main: channel names and the shape of window.mufun.
// Kept apart from api.ts so the sandboxed preload bundles no runtime code it does not use.

import type { ApiEvents, ApiResponse, CallArgs, CallName, CallResult, EventName } from './api.js';

export const API_CHANNEL = 'api';
export const EVENT_CHANNEL = 'api:event';

export interface MufunBridge {
  call<N extends CallName>(name: N, args: CallArgs<N>): Promise<ApiResponse<CallResult<N>>>;
  /** Subscribe to an event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
}
