// The chat worker: owns the loaded model and the live conversations (their heard audio and KV
// caches), so generation never runs on the thread that answers the UI. Started by ChatEngine.
import { parentPort, workerData } from 'node:worker_threads';
import { warmMp3Decoders } from '../../model/audio/mp3-parallel.js';
import { Conversation } from '../../model/chat.js';
import { MufunModel } from '../../model/mufun.js';
import { Tokenizer } from '../../model/tokenizer.js';
import { CHAT_WORKER_KIND, type FromWorker, type ToWorker, type Turn } from './protocol.js';

export interface ChatWorkerData {
  kind: typeof CHAT_WORKER_KIND;
}

interface Loaded {
  key: string;
  model: MufunModel;
  tokenizer: Tokenizer;
}

warmMp3Decoders(); // while the first model loads, so the first mp3 asked about decodes at once

let loaded: Loaded | null = null;
const conversations = new Map<number, { conv: Conversation; turns: number }>();
const running = new Map<number, AbortController>();

function post(m: FromWorker): void {
  parentPort!.postMessage(m);
}

function load(dir: string, provider: Extract<ToWorker, { type: 'ask' }>['provider']): Loaded {
  const key = `${provider}\0${dir}`;
  if (loaded?.key === key) return loaded;
  conversations.clear(); // their caches belong to the previous model
  loaded = { key, model: MufunModel.load(dir, { ep: provider }), tokenizer: Tokenizer.fromDir(dir) };
  return loaded;
}

/** Saved turns, made safe to replay as text: audio heard before a restart is not heard again. */
function textOnly(history: Turn[]): Turn[] {
  return history.map((t) => ({ from: t.from, value: t.value.replace(/<audio>\s*/g, '') }));
}

async function ask(m: Extract<ToWorker, { type: 'ask' }>): Promise<void> {
  const ctrl = new AbortController();
  running.set(m.reqId, ctrl);
  try {
    if (!loaded || loaded.key !== `${m.provider}\0${m.modelDir}`) post({ type: 'status', reqId: m.reqId, phase: 'loading-model' });
    const { model, tokenizer } = load(m.modelDir, m.provider);
    let held = conversations.get(m.conversationId);
    if (!held || held.turns !== m.history.length) {
      const conv = new Conversation(model, tokenizer);
      conv.turns.push(...textOnly(m.history));
      held = { conv, turns: m.history.length };
      conversations.set(m.conversationId, held);
    }
    post({ type: 'status', reqId: m.reqId, phase: 'hearing' });
    const it = held.conv.ask(
      { prompt: m.input.prompt, audio: m.input.audio, segs: m.input.segs },
      { ...m.gen, topK: m.gen.topK || undefined, signal: ctrl.signal },
    );
    let first = true;
    let r = await it.next();
    while (!r.done) {
      if (first) post({ type: 'status', reqId: m.reqId, phase: 'generating' });
      first = false;
      post({ type: 'piece', reqId: m.reqId, text: r.value });
      r = await it.next();
    }
    held.turns = held.conv.turns.length;
    const rec = r.value;
    post({
      type: 'done',
      reqId: m.reqId,
      record: {
        text: rec.text, tokens: rec.tokens, promptPositions: rec.promptPositions,
        timeToFirstTokenMs: rec.timeToFirstTokenMs, tokensPerSecond: rec.tokensPerSecond, stopReason: rec.stopReason,
      },
    });
  } catch (e) {
    conversations.delete(m.conversationId); // its state may be half-updated: rebuild from the saved turns
    post({ type: 'error', reqId: m.reqId, message: e instanceof Error ? e.message : String(e) });
  } finally {
    running.delete(m.reqId);
  }
}

if (parentPort && (workerData as ChatWorkerData | undefined)?.kind === CHAT_WORKER_KIND) {
  let queue = Promise.resolve();
  parentPort.on('message', (m: ToWorker) => {
    if (m.type === 'cancel') running.get(m.reqId)?.abort();
    else queue = queue.then(() => ask(m));
  });
}
