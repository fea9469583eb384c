// The API contract: every call the UI can make, its arguments and result, defined once.
// Transports (Electron IPC today, HTTP in `mufun serve` later) are generic over this table.

import { object, string, type Check } from './check.js';

// ── Data types ──────────────────────────────────────────────────────────────

export interface AppVersion {
  version: string;
  /** Absent when the services run outside Electron (e.g. `mufun serve`). */
  electron?: string;
  node: string;
}

export interface ModelInfo {
  dir: string;
  modelType: string;
  llm: {
    type: string;
    hiddenSize: number;
    layers: number;
    heads: number;
    kvHeads: number;
    vocabSize: number;
  };
  audioTower: {
    type: string;
    dModel: number;
    layers: number;
    melBins: number;
    clipSeconds: number;
  };
  connector: string;
  parameters: number;
}

// ── Calls ───────────────────────────────────────────────────────────────────

export type NoArgs = Record<string, never>;

/** name → { args, result }. Arguments are always one JSON object (the HTTP body). */
export interface ApiCalls {
  'app.version': { args: NoArgs; result: AppVersion };
  'models.describe': { args: { dir: string }; result: ModelInfo };
}

export type CallName = keyof ApiCalls;
export type CallArgs<N extends CallName> = ApiCalls[N]['args'];
export type CallResult<N extends CallName> = ApiCalls[N]['result'];

/** Runtime checks for the arguments of every call; the receiving side runs them. */
export const argChecks: { [N in CallName]: Check<CallArgs<N>> } = {
  'app.version': object({}),
  'models.describe': object({ dir: string({ nonEmpty: true, maxLength: 4096 }) }),
};

export const callNames = Object.keys(argChecks) as CallName[];

export function isCallName(value: unknown): value is CallName {
  return typeof value === 'string' && Object.hasOwn(argChecks, value);
}

/** What the receiving side implements, whatever the transport. */
export type ApiHandlers = { [N in CallName]: (args: CallArgs<N>) => Promise<CallResult<N>> };

// ── Events (main → UI) ──────────────────────────────────────────────────────

/** name → payload. None yet: token streams, job progress and metrics will live here. */
export interface ApiEvents {}
export type EventName = keyof ApiEvents;

// ── Responses ───────────────────────────────────────────────────────────────

/**
 * unknown-call / invalid-args: the request was malformed; forbidden: the caller is not trusted
 * (wrong frame, missing token); failed: the service threw; transport: the answer never arrived.
 */
export type ApiErrorCode = 'unknown-call' | 'invalid-args' | 'forbidden' | 'failed' | 'transport';
export interface ApiError {
  code: ApiErrorCode;
  message: string;
}
/** Every call answers with this envelope, so errors survive any transport intact. */
export type ApiResponse<T> = { ok: true; value: T } | { ok: false; error: ApiError };

export function isApiResponse(value: unknown): value is ApiResponse<unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { ok?: unknown; error?: { code?: unknown; message?: unknown } | null };
  if (v.ok === true) return 'value' in v;
  return (
    v.ok === false &&
    typeof v.error === 'object' &&
    v.error !== null &&
    typeof v.error.code === 'string' &&
    typeof v.error.message === 'string'
  );
}
