// The renderer's only way to reach the services: one typed `call` and one typed `on`, over
// whichever transport the page has — the Electron bridge (window.mufun) or HTTP + WebSocket
// (`mufun serve`, ?token=… in the URL).

import {
  isApiResponse,
  isEventName,
  type ApiErrorCode,
  type ApiEvents,
  type ApiResponse,
  type CallArgs,
  type CallName,
  type CallResult,
  type EventName,
} from '../../shared/api.js';
import { STYLE_NONCE_META } from '../../shared/csp.js';

export class ApiCallError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiCallError';
  }
}

const token = new URLSearchParams(window.location.search).get('token');

export async function call<N extends CallName>(name: N, args: CallArgs<N>): Promise<CallResult<N>> {
  const response = window.mufun ? await window.mufun.call(name, args) : await callOverHttp(name, args);
  if (!response.ok) throw new ApiCallError(response.error.code, response.error.message);
  return response.value;
}

async function callOverHttp<N extends CallName>(
  name: N,
  args: CallArgs<N>,
): Promise<ApiResponse<CallResult<N>>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers['x-mufun-token'] = token;
  let res: Response;
  try {
    res = await fetch(`/api/${encodeURIComponent(name)}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(args),
    });
  } catch (err) {
    throw new ApiCallError('transport', `Cannot reach the MuFun server: ${String(err)}`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!isApiResponse(body)) {
    throw new ApiCallError('transport', `The server answered ${res.status} ${res.statusText} without an API response`);
  }
  return body as ApiResponse<CallResult<N>>;
}

// ── Events ──────────────────────────────────────────────────────────────────

type Listener = (payload: never) => void;
const listeners = new Map<EventName, Set<Listener>>();
let socket: WebSocket | null = null;
let retry = 500;

const connectionListeners = new Set<(connected: boolean) => void>();
function setConnected(connected: boolean): void {
  for (const l of connectionListeners) l(connected);
}

/** Tells whether the event stream is connected (HTTP transport; always true under Electron). */
export function onConnection(listener: (connected: boolean) => void): () => void {
  connectionListeners.add(listener);
  listener(Boolean(window.mufun) || socket?.readyState === WebSocket.OPEN);
  connect();
  return () => connectionListeners.delete(listener);
}

function connect(): void {
  if (window.mufun || socket) return;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/events?token=${encodeURIComponent(token ?? '')}`);
  socket = ws;
  ws.onopen = () => {
    retry = 500;
    setConnected(true);
  };
  ws.onmessage = (m) => {
    let msg: { event?: unknown; payload?: unknown };
    try {
      msg = JSON.parse(String(m.data)) as typeof msg;
    } catch {
      return;
    }
    if (!isEventName(msg.event)) return;
    for (const l of listeners.get(msg.event) ?? []) l(msg.payload as never);
  };
  ws.onclose = () => {
    socket = null;
    setConnected(false);
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10_000);
  };
}

/** Subscribes to a service event; returns the unsubscribe function. */
export function on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
  if (window.mufun) return window.mufun.on(event, listener);
  connect();
  let set = listeners.get(event);
  if (!set) listeners.set(event, (set = new Set()));
  set.add(listener as Listener);
  return () => set.delete(listener as Listener);
}

/** The URL that streams a library track (Range requests work, so seeking does). */
export function mediaUrl(trackId: number): string {
  return `/media/track/${trackId}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** The per-launch nonce the page's CSP allows for <style> elements (wavesurfer's shadow DOM). */
export function styleNonce(): string | undefined {
  return document.querySelector<HTMLMetaElement>(`meta[name="${STYLE_NONCE_META}"]`)?.content || undefined;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
