// The API contract: every call the UI can make, its arguments and result, and every event the
// services push, defined once. Transports (Electron IPC, HTTP + WebSocket in `mufun serve`) are
// generic over these tables.

import {
  array,
  boolean,
  id,
  nullable,
  number,
  object,
  oneOf,
  optional,
  refine,
  string,
  type Check,
} from './check.js';
import { type DatasetCalls, type DatasetEvents, datasetsArgChecks, datasetsEventNames } from './api-datasets.js';
import { type TrainingCalls, type TrainingEvents, trainingArgChecks, trainingEventNames } from './api-training.js';
import { type ModelCalls, type ModelEvents, modelsArgChecks, modelsEventNames } from './api-models.js';

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

export interface LibraryFolder {
  id: number;
  path: string;
  addedAt: number;
  lastScanAt: number | null;
  trackCount: number;
  missingCount: number;
}

export interface Track {
  id: number;
  folderId: number;
  path: string;
  /** The tag's title, else the file name without its extension. */
  title: string;
  artist: string | null;
  album: string | null;
  durationSec: number | null;
  sampleRate: number | null;
  channels: number | null;
  codec: string | null;
  size: number;
  mtimeMs: number;
  /** The file was not found by the last scan (the row is kept, never deleted). */
  missing: boolean;
  /** Why the file could not be read, when it could not. */
  error: string | null;
}

export const TRACK_SORTS = ['title', 'artist', 'album', 'duration', 'path'] as const;
export type TrackSort = (typeof TRACK_SORTS)[number];

export interface TrackQuery {
  /** Matches title, artist, album or path (case-insensitive, every word must match). */
  search?: string;
  sort?: TrackSort;
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export interface TrackPage {
  tracks: Track[];
  total: number;
}

export type ScanPhase = 'listing' | 'reading' | 'done' | 'cancelled' | 'failed';

export interface ScanProgress {
  scanId: number;
  phase: ScanPhase;
  folder: string;
  filesFound: number;
  filesDone: number;
  added: number;
  changed: number;
  unchanged: number;
  missing: number;
  failed: number;
  current?: string;
  error?: string;
}

/** Waveform peaks at one zoom level: interleaved [max, min] pairs, one pair per bucket. */
export interface WavePeaks {
  trackId: number;
  sampleRate: number;
  durationSec: number;
  samplesPerPeak: number;
  peaks: number[];
}

/**
 * A track's log-mel spectrogram, as the model hears it (Whisper's log-mel per 30 s clip at
 * the current model's mel bin count), averaged in time into columns and quantised to bytes.
 */
export interface MelSpectrogram {
  trackId: number;
  melBins: number;
  columns: number;
  /** Column c covers [c, c + 1) · secondsPerColumn of the track. */
  secondsPerColumn: number;
  durationSec: number;
  /** The log-mel values (Whisper's scale) that bytes 0 and 255 stand for, linear in between. */
  minValue: number;
  maxValue: number;
  /** Base64 of columns · melBins bytes, column-major: column c's bins at c · melBins, lowest frequency first. */
  data: string;
}

export interface GenerationSettings {
  maxNewTokens: number;
  /** No stop before this many tokens (transformers' min_new_tokens); 0 = none. */
  minNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  seed: number;
}

export const EXECUTION_PROVIDER_NAMES = ['cpu', 'webgpu', 'cuda'] as const;
export type ProviderName = (typeof EXECUTION_PROVIDER_NAMES)[number];

export interface Settings {
  /** The model chosen on the Models page; null = MUFUN_MODEL / --model, else the embedded one. */
  modelDir: string | null;
  provider: ProviderName;
  generation: GenerationSettings;
}

/** An audio attached to a question: a track, whole (start/end null) or one segment of it. */
export interface AttachmentRequest {
  trackId: number;
  start?: number | null;
  end?: number | null;
}

export interface Attachment {
  trackId: number;
  title: string;
  start: number | null;
  end: number | null;
}

export interface ChatStats {
  tokens: number;
  promptPositions: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
}

export interface ChatMessage {
  id: number;
  conversationId: number;
  role: 'user' | 'assistant';
  text: string;
  attachments: Attachment[];
  /** The model folder that answered (assistant messages). */
  model: string | null;
  stopReason: 'stop' | 'length' | 'cancelled' | 'error' | null;
  stats: ChatStats | null;
  createdAt: number;
}

export interface Conversation {
  id: number;
  title: string;
  /** The model of the latest answer. */
  model: string | null;
  createdAt: number;
  updatedAt: number;
  messageCount: number;
}

export interface ModelChoice {
  /** The folder that chat will use, or null when no model is installed or chosen. */
  dir: string | null;
  name: string | null;
  source: 'setting' | 'environment' | 'embedded' | 'none';
  /** Why no model is usable (none installed, a chosen folder that no longer loads). */
  problem: string | null;
  info: ModelInfo | null;
}

export interface ProviderStatus {
  name: ProviderName;
  installed: boolean;
}

// ── Calls ───────────────────────────────────────────────────────────────────

export type NoArgs = Record<string, never>;

/** name → { args, result }. Arguments are always one JSON object (the HTTP body). */
export interface ApiCalls extends DatasetCalls, TrainingCalls, ModelCalls {
  'app.version': { args: NoArgs; result: AppVersion };

  'library.folders': { args: NoArgs; result: LibraryFolder[] };
  'library.addFolder': { args: { path: string }; result: LibraryFolder };
  /** Starts a scan of one folder (or all); progress arrives as `library.scan` events. */
  'library.scan': { args: { folderId?: number }; result: ScanProgress };
  'library.cancelScan': { args: NoArgs; result: { cancelled: boolean } };
  'library.scanStatus': { args: NoArgs; result: ScanProgress | null };

  'tracks.list': { args: TrackQuery; result: TrackPage };
  'tracks.get': { args: { id: number }; result: Track };

  'peaks.get': { args: { trackId: number; maxPeaks?: number }; result: WavePeaks };
  /** Computed once per file version and mel bin count (can take a while for a long file), then cached. */
  'spectrogram.get': { args: { trackId: number; maxColumns?: number }; result: MelSpectrogram };

  'chat.list': { args: NoArgs; result: Conversation[] };
  'chat.start': { args: { title?: string }; result: Conversation };
  'chat.load': { args: { id: number }; result: { conversation: Conversation; messages: ChatMessage[] } };
  /** Saves the question and starts the answer: `chat.piece` events, then `chat.done`. */
  'chat.send': {
    args: { conversationId: number; text: string; attachments: AttachmentRequest[]; settings?: GenerationSettings };
    result: { question: ChatMessage; answerId: number };
  };
  'chat.cancel': { args: { conversationId: number }; result: { cancelled: boolean } };

  'models.describe': { args: { dir: string }; result: ModelInfo };
  'models.current': { args: NoArgs; result: ModelChoice };
  /** Chooses the model folder for chat (checked before it is saved); null = back to the default. */
  'models.choose': { args: { dir: string | null }; result: ModelChoice };
  'models.providers': { args: NoArgs; result: ProviderStatus[] };

  'settings.get': { args: NoArgs; result: Settings };
  'settings.update': { args: { provider?: ProviderName; generation?: GenerationSettings }; result: Settings };
}

export type CallName = keyof ApiCalls;
export type CallArgs<N extends CallName> = ApiCalls[N]['args'];
export type CallResult<N extends CallName> = ApiCalls[N]['result'];

const path = () => string({ nonEmpty: true, maxLength: 4096 });

export const generationCheck: Check<GenerationSettings> = object({
  maxNewTokens: number({ min: 1, max: 4096, integer: true }),
  minNewTokens: number({ min: 0, max: 4096, integer: true }),
  temperature: number({ min: 0, max: 10 }),
  topK: number({ min: 0, max: 100_000, integer: true }),
  topP: refine(number({ min: 0, max: 1 }), (p) => (p > 0 ? null : 'expected more than 0')),
  repetitionPenalty: refine(number({ min: 0, max: 10 }), (r) => (r > 0 ? null : 'expected more than 0')),
  seed: number({ min: 0, max: 2 ** 32 - 1, integer: true }),
});

const attachmentCheck: Check<AttachmentRequest> = refine(
  object({
    trackId: id(),
    start: optional(nullable(number({ min: 0 }))),
    end: optional(nullable(number({ min: 0 }))),
  }),
  (a) => {
    const hasStart = a.start != null, hasEnd = a.end != null;
    if (hasStart !== hasEnd) return 'give both start and end, or neither (the whole track)';
    if (hasStart && !(a.end! > a.start!)) return 'end must be after start';
    return null;
  },
);

/** Runtime checks for the arguments of every call; the receiving side runs them. */
export const argChecks: { [N in CallName]: Check<CallArgs<N>> } = {
  'app.version': object({}),

  'library.folders': object({}),
  'library.addFolder': object({ path: path() }),
  'library.scan': object({ folderId: optional(id()) }),
  'library.cancelScan': object({}),
  'library.scanStatus': object({}),

  'tracks.list': object({
    search: optional(string({ maxLength: 500 })),
    sort: optional(oneOf(TRACK_SORTS)),
    order: optional(oneOf(['asc', 'desc'] as const)),
    limit: optional(number({ min: 1, max: 5000, integer: true })),
    offset: optional(number({ min: 0, integer: true })),
  }),
  'tracks.get': object({ id: id() }),

  'peaks.get': object({ trackId: id(), maxPeaks: optional(number({ min: 16, max: 1_000_000, integer: true })) }),
  'spectrogram.get': object({ trackId: id(), maxColumns: optional(number({ min: 16, max: 65_536, integer: true })) }),

  'chat.list': object({}),
  'chat.start': object({ title: optional(string({ maxLength: 200 })) }),
  'chat.load': object({ id: id() }),
  'chat.send': object({
    conversationId: id(),
    text: string({ nonEmpty: true, maxLength: 20_000 }),
    attachments: array(attachmentCheck, { maxLength: 8 }),
    settings: optional(generationCheck),
  }),
  'chat.cancel': object({ conversationId: id() }),

  'models.describe': object({ dir: path() }),
  'models.current': object({}),
  'models.choose': object({ dir: nullable(path()) }),
  'models.providers': object({}),

  'settings.get': object({}),
  'settings.update': object({
    provider: optional(oneOf(EXECUTION_PROVIDER_NAMES)),
    generation: optional(generationCheck),
  }),
  ...datasetsArgChecks,
  ...trainingArgChecks,
  ...modelsArgChecks,
};

export const callNames = Object.keys(argChecks) as CallName[];

export function isCallName(value: unknown): value is CallName {
  return typeof value === 'string' && Object.hasOwn(argChecks, value);
}

/** What the receiving side implements, whatever the transport. */
export type ApiHandlers = { [N in CallName]: (args: CallArgs<N>) => Promise<CallResult<N>> };

// ── Events (services → UI) ──────────────────────────────────────────────────

export interface ApiEvents extends DatasetEvents, TrainingEvents, ModelEvents {
  'library.scan': ScanProgress;
  /** What the answer is waiting for (loading the model, hearing the audio, generating). */
  'chat.status': { conversationId: number; answerId: number; phase: 'loading-model' | 'hearing' | 'generating' };
  'chat.piece': { conversationId: number; answerId: number; text: string };
  'chat.done': { conversationId: number; message: ChatMessage };
  'chat.error': { conversationId: number; answerId: number; message: string };
}
export type EventName = keyof ApiEvents;
export const eventNames: EventName[] = [
  'library.scan', 'chat.status', 'chat.piece', 'chat.done', 'chat.error', ...datasetsEventNames, ...trainingEventNames, ...modelsEventNames,
];

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (eventNames as string[]).includes(value);
}

/** One message on the event stream (the WebSocket of `mufun serve`). */
export interface EventMessage<E extends EventName = EventName> {
  event: E;
  payload: ApiEvents[E];
}

// ── Responses ───────────────────────────────────────────────────────────────

/**
 * unknown-call / invalid-args: the request was malformed; forbidden: the caller is not trusted
 * (wrong frame, missing token); not-found: no such row; failed: the service threw;
 * transport: the answer never arrived.
 */
export type ApiErrorCode = 'unknown-call' | 'invalid-args' | 'forbidden' | 'not-found' | 'failed' | 'transport';
export interface ApiError {
  code: ApiErrorCode;
  message: string;
}
/** Every call answers with this envelope, so errors survive any transport intact. */
export type ApiResponse<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Services throw this to answer with a specific error code (dispatch passes it through). */
export class ServiceError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

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
