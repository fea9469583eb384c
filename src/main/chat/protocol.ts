// Messages between the chat host (main thread) and the chat worker (worker_thread).
import type { GenerationSettings, ProviderName } from '../../shared/api.js';

export interface AskInput {
  prompt: string;
  audio: string[];
  segs: ([number, number] | null)[];
}

export type AskGeneration = GenerationSettings;

export interface Turn {
  from: 'human' | 'gpt';
  value: string;
}

export type ToWorker =
  | {
      type: 'ask';
      reqId: number;
      conversationId: number;
      modelDir: string;
      provider: ProviderName;
      /** Earlier turns, as saved; used when the worker does not hold this conversation. */
      history: Turn[];
      input: AskInput;
      gen: AskGeneration;
    }
  | { type: 'cancel'; reqId: number };

export interface AskRecord {
  text: string;
  tokens: number;
  promptPositions: number;
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  stopReason: 'stop' | 'length' | 'cancelled';
}

export type FromWorker =
  | { type: 'status'; reqId: number; phase: 'loading-model' | 'hearing' | 'generating' }
  | { type: 'piece'; reqId: number; text: string }
  | { type: 'done'; reqId: number; record: AskRecord }
  | { type: 'error'; reqId: number; message: string };

export const CHAT_WORKER_KIND = 'mufun-chat-worker';
