// Training jobs through the API's dispatch (argument checks included), each run for real in the
// compiled training worker on the tiny fixture model: the queue runs one job at a time in order,
// cancel works for queued and running jobs, a job resumes from its newest checkpoint, a job left
// running by a killed studio comes back as interrupted, and the trained model is listed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJob } from '../src/shared/api-training.js';
import { openCatalog } from '../src/main/catalog/db.js';
import type { Studio } from '../src/main/services.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { QUICK, recorder, studioAt, tmp, toneData } from './helpers/training.js';

let model: string;
let data: ReturnType<typeof toneData>;

beforeAll(() => {
  model = tinyChatModel();
  data = toneData(4, 2);
});

const fileSource = () => ({ type: 'file' as const, dataPath: data.train, evalDataPath: data.eval, audioFolder: data.audio });

describe('the training queue', () => {
  let studio: Studio;
  afterAll(async () => studio?.close());

  it('runs one job at a time in queue order; cancel stops a queued job before it starts', async () => {
    studio = studioAt(join(tmp('db'), 'catalog.sqlite'));
    const rec = recorder(studio);
    const start = (name: string, steps: number) => call(studio, 'training.start', {
      kind: 'lora', source: fileSource(), baseModel: model, name, settings: { ...QUICK, max_steps: steps, eval_steps: 2 },
    });
    const a = await start('A', 2);
    const b = await start('B', 2);
    const c = await start('C', 2);
    expect(a.status).toBe('running');
    expect([b.status, b.queuePosition, c.status, c.queuePosition]).toEqual(['queued', 1, 'queued', 2]);
    const cancelled = await call(studio, 'training.cancel', { id: b.id });
    expect(cancelled).toMatchObject({ status: 'cancelled', startedAt: null });
    expect((await call(studio, 'training.get', { id: c.id })).queuePosition).toBe(1);
    await rec.settled(c.id);
    expect(rec.statuses(a.id)).toEqual(['queued', 'running', 'done']);
    expect(rec.statuses(c.id)).toEqual(['queued', 'running', 'done']);
    expect(rec.statuses(b.id)).toEqual(['queued', 'cancelled']);
    const jobs = await call(studio, 'training.jobs', {});
    const byId = new Map(jobs.map((j) => [j.id, j]));
    // C started only after A had finished
    expect(byId.get(c.id)!.startedAt!).toBeGreaterThanOrEqual(byId.get(a.id)!.finishedAt!);
    expect(byId.get(b.id)!.startedAt).toBeNull();
    // done: the final model, eval results, the whole curve in the catalog
    const done = byId.get(a.id)!;
    // totalSteps: max_steps 2 of the schedule's 4
    expect(done).toMatchObject({ step: 2, totalSteps: 2, error: null, eval: { step: 2, evalLoss: expect.any(Number) } });
    expect(existsSync(join(done.finalModel!, 'model.safetensors'))).toBe(true);
    const m = await call(studio, 'training.metrics', { id: a.id });
    expect(m.steps.map((p) => p.step)).toEqual([1, 2]);
    expect(m.steps[0]).toMatchObject({ loss: expect.any(Number), lr: expect.any(Number), gradNorm: expect.any(Number), reward: null });
    expect(m.evals).toHaveLength(1);
    const progress = rec.events.filter((e) => e.event === 'training.progress').map((e) => e.payload as { jobId: number; step: number });
    expect(progress.filter((p) => p.jobId === a.id).map((p) => p.step)).toEqual([1, 2]);
    // the trained models, newest first, ready for chat
    const models = await call(studio, 'training.models', {});
    expect(models.map((x) => x.jobId)).toEqual([c.id, a.id]);
    expect(models[0]).toMatchObject({ name: 'C', kind: 'lora', present: true, baseModel: model });
    const chosen = await call(studio, 'models.choose', { dir: models[0].dir });
    expect(chosen).toMatchObject({ dir: models[0].dir, problem: null });
    await expect(call(studio, 'training.resume', { id: a.id })).rejects.toThrow(/invalid-args: job \d+ is done/);
    await expect(call(studio, 'training.cancel', { id: a.id })).rejects.toThrow(/only a queued or running job can be cancelled/);
  }, 240_000);
});

describe('stopping and resuming', () => {
  it('a cancelled running job keeps its checkpoints and resumes from the newest one', async () => {
    const studio = studioAt(join(tmp('db'), 'catalog.sqlite'));
    try {
      const rec = recorder(studio);
      const job = await call(studio, 'training.start', {
        kind: 'lora', source: { type: 'file', dataPath: data.train, audioFolder: data.audio }, baseModel: model, settings: { ...QUICK, num_train_epochs: 2, save_steps: 2 },
      });
      const stepOf = () => rec.events.filter((e) => e.event === 'training.progress').length;
      await rec.until(() => stepOf() >= 3, 'step 3');
      expect((await call(studio, 'training.cancel', { id: job.id })).status).toBe('cancelled');
      // the next job of the queue starts only once this worker has stopped
      const other = await call(studio, 'training.start', { kind: 'lora', source: { type: 'file', dataPath: data.train, audioFolder: data.audio }, baseModel: model, settings: { ...QUICK, max_steps: 1 } });
      await rec.settled(other.id);
      const stopped = await call(studio, 'training.get', { id: job.id });
      expect(stopped).toMatchObject({ status: 'cancelled', finalModel: null });
      const ck = stopped.checkpoint!;
      expect(ck.step % 2).toBe(0);
      expect(ck.step).toBeGreaterThanOrEqual(2);
      expect(stopped.step).toBeGreaterThanOrEqual(ck.step); // steps past the checkpoint are redone on resume

      const seen = rec.events.length;
      expect((await call(studio, 'training.resume', { id: job.id })).status).toBe('running'); // nothing else queued: it starts at once
      await rec.settled(job.id);
      // the resumed run starts at the step after the checkpoint
      const resumed = rec.events.slice(seen).filter((e) => e.event === 'training.progress').map((e) => (e.payload as { step: number }).step);
      expect(resumed[0]).toBe(ck.step + 1);
      const done = await call(studio, 'training.get', { id: job.id });
      expect(done).toMatchObject({ status: 'done', step: 8, totalSteps: 8, checkpoint: null });
      // the curve has each step once, the resumed part continuing the first
      const m = await call(studio, 'training.metrics', { id: job.id });
      expect(m.steps.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const lines = readFileSync(join(done.outputDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(rec.statuses(job.id)).toEqual(['queued', 'running', 'cancelled', 'queued', 'running', 'done']);
    } finally {
      await studio.close();
    }
  }, 240_000);

  it('a job running when the studio stops is interrupted, then resumes from its checkpoint after a restart', async () => {
    const db = join(tmp('db'), 'catalog.sqlite');
    let studio = studioAt(db);
    let rec = recorder(studio);
    const job = await call(studio, 'training.start', {
      kind: 'finetune', source: { type: 'file', dataPath: data.train, audioFolder: data.audio }, baseModel: model, name: 'full finetune',
      settings: { ...QUICK, num_train_epochs: 2, save_steps: 2, tune_type_vision_tower: 'frozen', max_steps: 6 },
    });
    await rec.until(() => rec.events.some((e) => e.event === 'training.progress' && (e.payload as { step: number }).step >= 3), 'step 3');
    await studio.close(); // asks the run to stop; it is resumable
    const conn = openCatalog(db);
    expect(conn.prepare('SELECT status FROM training_jobs WHERE id = ?').get(job.id)).toEqual({ status: 'interrupted' });
    // a killed studio leaves the row 'running': the next start says interrupted
    conn.prepare("UPDATE training_jobs SET status = 'running' WHERE id = ?").run(job.id);
    conn.close();

    studio = studioAt(db);
    try {
      rec = recorder(studio);
      const back = await call(studio, 'training.get', { id: job.id });
      expect(back.status).toBe('interrupted');
      expect(back.checkpoint?.step).toBeGreaterThanOrEqual(2);
      const before = await call(studio, 'training.metrics', { id: job.id });
      expect(before.steps.length).toBeGreaterThanOrEqual(3); // the chart comes back after the restart
      await call(studio, 'training.resume', { id: job.id });
      await rec.settled(job.id);
      const start = (await call(studio, 'training.metrics', { id: job.id })).steps.map((p) => p.step);
      expect(start).toEqual([1, 2, 3, 4, 5, 6]);
      const done: TrainingJob = await call(studio, 'training.get', { id: job.id });
      expect(done).toMatchObject({ status: 'done', step: 6 });
      expect((await call(studio, 'training.models', {})).map((x) => x.dir)).toEqual([done.finalModel]);
    } finally {
      await studio.close();
    }
  }, 240_000);
});
