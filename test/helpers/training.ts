// What the training specs share: a studio whose jobs run in the compiled training worker
// (npm run build), a small tone dataset in MuFun's format, and waiting for job events.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiEvents } from '../../src/shared/api.js';
import type { TrainingJob } from '../../src/shared/api-training.js';
import { encodeWav } from '../../src/model/audio/wav.js';
import { createServices, type Studio } from '../../src/main/services.js';

export const TRAINING_WORKER = new URL('../../dist/src/main/training/worker.js', import.meta.url);

export function tmp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mufun-training-${prefix}-`));
}

export function studioAt(dbPath: string): Studio {
  if (!existsSync(TRAINING_WORKER)) throw new Error('the compiled training worker is missing: run npm run build first');
  return createServices({
    appVersion: 'test', dbPath, chatWorkerUrl: new URL('../../dist/src/main/chat/worker.js', import.meta.url), trainingWorkerUrl: TRAINING_WORKER,
  });
}

/** n one-second tones, high or low, asked about in MuFun's format: dir/train.json (+ eval.json) and dir/audio/. */
export function toneData(n: number, evalN = 0): { dir: string; train: string; eval: string | null; audio: string } {
  const dir = tmp('tones');
  const audio = join(dir, 'audio');
  mkdirSync(audio);
  const write = (name: string, count: number, offset: number) => {
    const samples = [];
    for (let i = 0; i < count; i++) {
      const high = (i + offset) % 2 === 0;
      const f = high ? 880 : 220;
      const x = Float32Array.from({ length: 16000 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * f * t) / 16000));
      writeFileSync(join(audio, `${name}-${i}.wav`), encodeWav([x], 16000));
      samples.push({
        id: `${name}-${i}`, audio: `${name}-${i}.wav`, task: 'pitch',
        conversations: [
          { from: 'human', value: '<audio>\nIs this tone high or low? (choose from: A. high, B. low)' },
          { from: 'gpt', value: high ? 'A. high' : 'B. low' },
        ],
      });
    }
    const p = join(dir, `${name}.json`);
    writeFileSync(p, JSON.stringify(samples));
    return p;
  };
  return { dir, audio, train: write('train', n, 0), eval: evalN ? write('eval', evalN, 1) : null };
}

/** Small, quick runner settings: LoRA r 4 on a tiny model, one sample per step. */
export const QUICK = {
  per_device_train_batch_size: 1, per_device_eval_batch_size: 2, gradient_accumulation_steps: 1, model_max_length: 512, lora_r: 4, lora_alpha: 8,
  lora_dropout: 0, learning_rate: 1e-3, warmup_ratio: 0, save_steps: 2, eval_accuracy_samples: 0,
};

/** Records every training event of a studio. */
export function recorder(studio: Studio) {
  const events: { event: keyof ApiEvents; payload: unknown }[] = [];
  const waiters: { test: () => boolean; resolve: () => void }[] = [];
  studio.onEvent((event, payload) => {
    if (!String(event).startsWith('training.')) return;
    events.push({ event, payload });
    for (const w of [...waiters]) if (w.test()) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
  });
  const statuses = (id: number) => events.filter((e) => e.event === 'training.status' && (e.payload as TrainingJob).id === id).map((e) => (e.payload as TrainingJob).status)
    .filter((s, i, all) => i === 0 || all[i - 1] !== s);
  const until = (test: () => boolean, what: string, ms = 120_000) => new Promise<void>((resolve, reject) => {
    if (test()) return resolve();
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; statuses: ${JSON.stringify(events.filter((e) => e.event === 'training.status').map((e) => [(e.payload as TrainingJob).id, (e.payload as TrainingJob).status, (e.payload as TrainingJob).error]))}`)), ms);
    waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
  });
  const last = (id: number) => [...events].reverse().find((e) => e.event === 'training.status' && (e.payload as TrainingJob).id === id)?.payload as TrainingJob | undefined;
  /** Waits for a job to reach `status`; fails at once when it fails instead. */
  const settled = async (id: number, status: TrainingJob['status'] = 'done') => {
    await until(() => last(id)?.status === status || (status !== 'failed' && last(id)?.status === 'failed'), `job ${id} ${status}`);
    if (last(id)!.status !== status) throw new Error(`job ${id} is ${last(id)!.status}: ${last(id)!.error}`);
  };
  return { events, statuses, until, settled, last };
}
