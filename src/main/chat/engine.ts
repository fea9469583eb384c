// The main-thread side of chat: one worker_thread that holds the model, a queue of questions,
// streamed pieces out through callbacks, and cancellation that answers at once (a worker that
// does not stop within a moment is terminated and restarted on the next question).
import { Worker } from 'node:worker_threads';
import type { ProviderName } from '../../shared/api.js';
import type { ChatWorkerData } from './worker.js';
import { type AskGeneration, type AskInput, type AskRecord, CHAT_WORKER_KIND, type FromWorker, type ToWorker, type Turn } from './protocol.js';

export interface AskRequest {
  conversationId: number;
  modelDir: string;
  provider: ProviderName;
  history: Turn[];
  input: AskInput;
  gen: AskGeneration;
  onStatus(phase: 'loading-model' | 'hearing' | 'generating'): void;
  onPiece(text: string): void;
}

export type AskOutcome = { ok: true; record: AskRecord } | { ok: false; message: string };

interface Pending {
  req: AskRequest;
  text: string;
  settle(o: AskOutcome): void;
}

/** How long a cancelled generation may take to stop before its worker is terminated. */
const CANCEL_GRACE_MS = 1500;

export class ChatEngine {
  private worker: Worker | null = null;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** Cancelled requests the worker has not yet acknowledged. */
  private cancelling = new Set<number>();

  constructor(private readonly workerUrl: URL) {}

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const data: ChatWorkerData = { kind: CHAT_WORKER_KIND };
    const w = new Worker(this.workerUrl, { workerData: data });
    w.on('message', (m: FromWorker) => this.receive(m));
    w.on('error', (e) => this.failAll(`the chat worker failed: ${e.message}`));
    w.on('exit', (code) => {
      if (this.worker === w) this.worker = null;
      this.failAll(`the chat worker stopped (exit code ${code})`);
    });
    this.worker = w;
    return w;
  }

  private receive(m: FromWorker): void {
    if (m.type === 'done' || m.type === 'error') this.cancelling.delete(m.reqId);
    const p = this.pending.get(m.reqId);
    if (!p) return; // answered already (cancelled)
    if (m.type === 'status') p.req.onStatus(m.phase);
    else if (m.type === 'piece') {
      p.text += m.text;
      p.req.onPiece(m.text);
    } else {
      this.pending.delete(m.reqId);
      p.settle(m.type === 'done' ? { ok: true, record: m.record } : { ok: false, message: m.message });
    }
  }

  private failAll(message: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.settle({ ok: false, message });
    }
  }

  /** Asks in the worker; resolves when the answer ends, fails, or is cancelled. */
  ask(req: AskRequest): { reqId: number; done: Promise<AskOutcome> } {
    const reqId = this.nextId++;
    const done = new Promise<AskOutcome>((settle) => {
      this.pending.set(reqId, { req, text: '', settle });
    });
    const msg: ToWorker = {
      type: 'ask', reqId, conversationId: req.conversationId, modelDir: req.modelDir, provider: req.provider,
      history: req.history, input: req.input, gen: req.gen,
    };
    this.ensureWorker().postMessage(msg);
    return { reqId, done };
  }

  /** Stops an answer now: it settles at once with the text so far (stopReason 'cancelled'). */
  cancel(reqId: number): boolean {
    const p = this.pending.get(reqId);
    if (!p) return false;
    this.pending.delete(reqId);
    const w = this.worker;
    w?.postMessage({ type: 'cancel', reqId } satisfies ToWorker);
    p.settle({
      ok: true,
      record: { text: p.text, tokens: 0, promptPositions: 0, timeToFirstTokenMs: 0, tokensPerSecond: 0, stopReason: 'cancelled' },
    });
    if (w) {
      // The worker stops between tokens; one stuck in a long prefill or audio decode is ended
      // (its model and conversations are rebuilt on the next question).
      this.cancelling.add(reqId);
      setTimeout(() => {
        if (this.worker === w && this.cancelling.delete(reqId)) void w.terminate();
      }, CANCEL_GRACE_MS).unref();
    }
    return true;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    this.failAll('the studio is closing');
    if (w) await w.terminate();
  }
}
