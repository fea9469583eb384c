// The other recipes as studio jobs, run for real on the tiny model: a connector warm-up, and
// GRPO whose reward reaches the job's curve; and a job that cannot run (its base model removed
// while it waited) fails with the reason while the queue goes on.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingProgress } from '../src/shared/api-training.js';
import type { Studio } from '../src/main/services.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { QUICK, recorder, studioAt, tmp, toneData } from './helpers/training.js';

let studio: Studio;
let model: string;
let data: ReturnType<typeof toneData>;

beforeAll(() => {
  model = tinyChatModel();
  data = toneData(4);
  studio = studioAt(join(tmp('db'), 'catalog.sqlite'));
});
afterAll(async () => studio?.close());

const source = () => ({ type: 'file' as const, dataPath: data.train, audioFolder: data.audio });

describe('recipes as jobs', () => {
  it('warm-up trains the connector; GRPO logs a reward per step; a job that cannot start fails and the queue goes on', async () => {
    const rec = recorder(studio);
    const gone = join(tmp('model'), 'copy');
    cpSync(model, gone, { recursive: true });
    const warm = await call(studio, 'training.start', { kind: 'warmup', source: source(), baseModel: model, settings: { ...QUICK, max_steps: 2, model_max_length: 512 } });
    const broken = await call(studio, 'training.start', { kind: 'lora', source: source(), baseModel: gone, settings: { ...QUICK, max_steps: 1 } });
    const g = await call(studio, 'training.start', {
      kind: 'grpo', source: source(), baseModel: model,
      settings: {
        per_device_train_batch_size: 2, gradient_accumulation_steps: 1, num_generations: 2, max_completion_length: 4, max_steps: 2,
        model_max_length: 512, learning_rate: 1e-4, beta: 0, reward: ['answer:1', 'format:0.5'], save_steps: 1,
      },
    });
    expect([warm.status, broken.status, g.status]).toEqual(['running', 'queued', 'queued']);
    rmSync(gone, { recursive: true });
    await rec.settled(g.id);
    expect((await call(studio, 'training.get', { id: warm.id })).status).toBe('done');
    const failed = await call(studio, 'training.get', { id: broken.id });
    expect(failed).toMatchObject({ status: 'failed', error: `the base model ${gone} is not there any more` });
    expect(rec.statuses(broken.id)).toEqual(['queued', 'failed']);

    const progress = rec.events.filter((e) => e.event === 'training.progress').map((e) => e.payload as TrainingProgress).filter((p) => p.jobId === g.id);
    expect(progress.map((p) => p.step)).toEqual([1, 2]);
    for (const p of progress) {
      expect(p.reward).toEqual(expect.any(Number));
      // what the policy answered: one sampled answer per prompt of the step, with its rewards
      expect(p.answers).toHaveLength(1);
      expect(p.answers![0]).toMatchObject({ id: expect.stringMatching(/^train-\d+$/), completion: expect.any(String), reward: expect.any(Number), groupReward: expect.any(Number) });
      expect(p.answers![0].question).toContain('<audio>');
    }
    const m = await call(studio, 'training.metrics', { id: g.id });
    expect(m.steps.map((p) => [p.step, typeof p.reward, typeof p.kl, p.answers?.length])).toEqual([[1, 'number', 'number', 1], [2, 'number', 'number', 1]]);
    const models = await call(studio, 'training.models', {});
    expect(models.map((x) => x.kind)).toEqual(['grpo', 'warmup']);
  }, 240_000);
});
