// The services behind the API: plain async functions over the catalog and the engine, no
// Electron, no UI, no transport. The Electron main process and `mufun serve` both build them
// with createServices() and carry their calls and events over IPC or HTTP + WebSocket.

import { realpath, stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import type {
  ApiEvents,
  ApiHandlers,
  Attachment,
  AttachmentRequest,
  EventName,
  Track,
} from '../shared/api.js';
import { ServiceError } from '../shared/api.js';
import { providersAvailable } from '../model/runtime.js';
import { openCatalog } from './catalog/db.js';
import { ConversationStore } from './catalog/conversations.js';
import { LibraryStore } from './catalog/library.js';
import { PeaksStore } from './catalog/peaks.js';
import { SpectrogramStore } from './catalog/spectrograms.js';
import { SettingsStore } from './catalog/settings.js';
import { ChatEngine } from './chat/engine.js';
import type { Turn } from './chat/protocol.js';
import { pieceStream } from './chat/pieces.js';
import { ScanManager } from './library/scans.js';
import { isInside } from './library/paths.js';
import { ModelResolver, describeFolder } from './models.js';
import { trackPeaks } from './peaks.js';
import { DEFAULT_MEL_BINS, trackSpectrogram } from './spectrogram.js';
import { datasetsHandlers } from './datasets/service.js';
import { trainingHandlers } from './training/service.js';
import { modelsHandlers } from './convert/service.js';
import { evaluationsHandlers } from './evals/service.js';
import type { Db } from './catalog/db.js';

export interface ServiceContext {
  /** The application's version (Electron: app.getVersion(); CLI: package.json). */
  appVersion: string;
  /** The SQLite catalog file (created with its folder when absent). */
  dbPath: string;
  /** The compiled chat worker (src/main/chat/worker.ts), as a file URL. */
  chatWorkerUrl: URL;
  /** The compiled training worker (src/main/training/worker.ts); default: next to the chat worker. */
  trainingWorkerUrl?: URL;
  /** The compiled conversion worker (src/main/convert/worker.ts); default: next to the chat worker. */
  convertWorkerUrl?: URL;
  /** The compiled evaluation worker (src/main/evals/worker.ts); default: next to the chat worker. */
  evalWorkerUrl?: URL;
  /** A model folder given on the command line (`mufun serve --model`), before MUFUN_MODEL. */
  modelDir?: string;
  /** Where the embedded default model lives, when not the engine's resources/ folder. */
  embeddedModelDir?: string;
}

export type EventListener = <E extends EventName>(event: E, payload: ApiEvents[E]) => void;

/** What the datasets and training services share with the rest (one catalog, one event stream). */
export interface ServiceDeps {
  ctx: ServiceContext;
  db: Db;
  library: LibraryStore;
  models: ModelResolver;
  emit: EventListener;
  /** Runs `fn` when the studio closes (stop workers, finish writes), before the catalog closes. */
  onClose(fn: () => Promise<void> | void): void;
}

export interface Studio {
  handlers: ApiHandlers;
  /** Every event the services emit; returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void;
  /** The file of a catalogued, present track inside a library folder (for audio streaming). */
  mediaFile(trackId: number): Promise<string>;
  close(): Promise<void>;
}

const NEW_TITLE = 'New conversation';

export function createServices(ctx: ServiceContext): Studio {
  const db = openCatalog(ctx.dbPath);
  const library = new LibraryStore(db);
  const peaks = new PeaksStore(db);
  const spectrograms = new SpectrogramStore(db);
  const conversations = new ConversationStore(db);
  const settings = new SettingsStore(db);
  const models = new ModelResolver(settings, ctx.modelDir, ctx.embeddedModelDir);
  const engine = new ChatEngine(ctx.chatWorkerUrl);

  // Answers cut short by a restart have no stop reason: say so, rather than leave them open.
  db.prepare("UPDATE messages SET stop_reason = 'cancelled' WHERE role = 'assistant' AND stop_reason IS NULL").run();

  const listeners = new Set<EventListener>();
  const emit: EventListener = (event, payload) => {
    for (const l of listeners) l(event, payload);
  };
  const scans = new ScanManager(library, (p) => emit('library.scan', p));

  /** The answer in progress, if any: one at a time (the worker holds one model). */
  let active: { conversationId: number; reqId: number } | null = null;

  async function presentTrack(trackId: number): Promise<{ track: Track; file: string }> {
    const track = library.track(trackId);
    if (!track) throw new ServiceError('not-found', `no track ${trackId} in the library`);
    if (track.missing) throw new ServiceError('not-found', `${track.path} is missing (not found by the last scan)`);
    let file: string;
    try {
      file = await realpath(track.path);
    } catch {
      throw new ServiceError('not-found', `${track.path} cannot be read`);
    }
    const roots = await Promise.all(library.folders().map((f) => realpath(f.path).catch(() => null)));
    if (!roots.some((r) => r !== null && isInside(file, r))) {
      throw new ServiceError('forbidden', `${track.path} is not inside a library folder`);
    }
    return { track, file };
  }

  async function resolveAttachments(reqs: AttachmentRequest[]): Promise<{ saved: Attachment[]; files: string[]; segs: ([number, number] | null)[] }> {
    const saved: Attachment[] = [], files: string[] = [], segs: ([number, number] | null)[] = [];
    for (const a of reqs) {
      const { track, file } = await presentTrack(a.trackId);
      let seg: [number, number] | null = null;
      if (a.start != null && a.end != null) {
        const dur = track.durationSec ?? Infinity;
        if (a.start >= dur) throw new ServiceError('invalid-args', `the segment starts at ${a.start} s, after the end of ${track.title} (${dur.toFixed(2)} s)`);
        seg = [a.start, Math.min(a.end, dur)];
      }
      saved.push({ trackId: track.id, title: track.title, start: seg?.[0] ?? null, end: seg?.[1] ?? null });
      files.push(file);
      segs.push(seg);
    }
    return { saved, files, segs };
  }

  const withAudio = (text: string, n: number) => '<audio>\n'.repeat(n) + text;

  function savedTurns(conversationId: number): Turn[] {
    const turns: Turn[] = [];
    const msgs = conversations.messages(conversationId);
    for (let i = 0; i + 1 < msgs.length; i++) {
      const q = msgs[i], a = msgs[i + 1];
      if (q.role !== 'user' || a.role !== 'assistant') continue;
      if (a.stopReason !== 'error') {
        turns.push({ from: 'human', value: withAudio(q.text, q.attachments.length) }, { from: 'gpt', value: a.text });
      }
      i++;
    }
    return turns;
  }

  const closing: (() => Promise<void> | void)[] = [];
  const deps: ServiceDeps = { ctx, db, library, models, emit, onClose: (fn) => closing.push(fn) };
  const handlers: ApiHandlers = {
    'app.version': async () => ({
      version: ctx.appVersion,
      electron: process.versions.electron,
      node: process.versions.node,
    }),

    'library.folders': async () => library.folders(),
    'library.addFolder': async ({ path }) => {
      if (!isAbsolute(path)) throw new ServiceError('invalid-args', `give the folder's full path (${path} is relative)`);
      let real: string;
      try {
        real = await realpath(path);
      } catch {
        throw new ServiceError('not-found', `no folder at ${path}`);
      }
      if (!(await stat(real)).isDirectory()) throw new ServiceError('invalid-args', `${path} is a file, not a folder`);
      return library.addFolder(real);
    },
    'library.scan': async ({ folderId }) => {
      const folders = folderId === undefined ? library.folders() : [library.folder(folderId)].filter((f) => f !== undefined);
      if (folderId !== undefined && !folders.length) throw new ServiceError('not-found', `no library folder ${folderId}`);
      if (!folders.length) throw new ServiceError('invalid-args', 'add a folder to the library first');
      return scans.start(folders);
    },
    'library.cancelScan': async () => ({ cancelled: scans.cancel() }),
    'library.scanStatus': async () => scans.status(),

    'tracks.list': async (q) => library.list(q),
    'tracks.get': async ({ id }) => {
      const t = library.track(id);
      if (!t) throw new ServiceError('not-found', `no track ${id} in the library`);
      return t;
    },

    'peaks.get': async ({ trackId, maxPeaks }) => {
      const { track, file } = await presentTrack(trackId);
      return trackPeaks(peaks, track, file, maxPeaks ?? 32768);
    },
    'spectrogram.get': async ({ trackId, maxColumns }) => {
      const { track, file } = await presentTrack(trackId);
      const melBins = (await models.current()).info?.audioTower.melBins ?? DEFAULT_MEL_BINS;
      return trackSpectrogram(spectrograms, track, file, melBins, maxColumns);
    },

    'chat.list': async () => conversations.list(),
    'chat.start': async ({ title }) => conversations.create(title?.trim() || NEW_TITLE),
    'chat.load': async ({ id }) => {
      const conversation = conversations.get(id);
      if (!conversation) throw new ServiceError('not-found', `no conversation ${id}`);
      return { conversation, messages: conversations.messages(id) };
    },
    'chat.send': async ({ conversationId, text, attachments, settings: gen }) => {
      const conversation = conversations.get(conversationId);
      if (!conversation) throw new ServiceError('not-found', `no conversation ${conversationId}`);
      if (active) throw new ServiceError('failed', 'the model is still answering; wait for it or stop it first');
      const choice = await models.current();
      if (!choice.dir) throw new ServiceError('failed', choice.problem ?? 'no model is installed');
      if (/<audio>/.test(text)) throw new ServiceError('invalid-args', 'attach audio with the attach buttons instead of typing <audio>');
      const { saved, files, segs } = await resolveAttachments(attachments);
      const history = savedTurns(conversationId);
      const s = settings.all();
      const question = conversations.addMessage({
        conversationId, role: 'user', text, attachments: saved, model: null, stopReason: null, stats: null,
      });
      if (conversation.title === NEW_TITLE) conversations.rename(conversationId, text.length > 60 ? `${text.slice(0, 57)}…` : text);
      const answer = conversations.addMessage({
        conversationId, role: 'assistant', text: '', attachments: [], model: choice.dir, stopReason: null, stats: null,
      });
      const answerId = answer.id;
      const pieces = pieceStream((piece) => emit('chat.piece', { conversationId, answerId, text: piece }));
      const { reqId, done } = engine.ask({
        conversationId, modelDir: choice.dir, provider: s.provider, history,
        input: { prompt: withAudio(text, files.length), audio: files, segs },
        gen: gen ?? s.generation,
        onStatus: (phase) => emit('chat.status', { conversationId, answerId, phase }),
        onPiece: (piece) => pieces.push(piece),
      });
      active = { conversationId, reqId };
      void done.then((o) => {
        pieces.flush(); // the page has all the text before it hears the answer ended
        if (active?.reqId === reqId) active = null;
        if (o.ok) {
          const r = o.record;
          const stats = r.tokens ? { tokens: r.tokens, promptPositions: r.promptPositions, timeToFirstTokenMs: r.timeToFirstTokenMs, tokensPerSecond: r.tokensPerSecond } : null;
          emit('chat.done', { conversationId, message: conversations.finishMessage(answerId, r.text, r.stopReason, stats) });
        } else {
          conversations.finishMessage(answerId, '', 'error', null);
          emit('chat.error', { conversationId, answerId, message: o.message });
        }
      });
      return { question, answerId };
    },
    'chat.cancel': async ({ conversationId }) => {
      if (!active || active.conversationId !== conversationId) return { cancelled: false };
      return { cancelled: engine.cancel(active.reqId) };
    },

    'models.describe': async ({ dir }) => describeFolder(dir),
    'models.current': async () => models.current(),
    'models.choose': async ({ dir }) => models.choose(dir),
    'models.providers': async () => providersAvailable(),

    'settings.get': async () => settings.all(),
    'settings.update': async ({ provider, generation }) => {
      if (provider !== undefined) settings.set('provider', provider);
      if (generation !== undefined) settings.set('generation', generation);
      return settings.all();
    },
    ...datasetsHandlers(deps),
    ...trainingHandlers(deps),
    ...modelsHandlers(deps),
    ...evaluationsHandlers(deps),
  };

  return {
    handlers,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    mediaFile: async (trackId) => (await presentTrack(trackId)).file,
    async close() {
      scans.cancel();
      await scans.idle();
      await engine.close();
      for (const fn of closing) await fn();
      db.close();
    },
  };
}
