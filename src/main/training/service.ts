// The training services: the handlers of the calls in src/shared/api-training.ts. A job is checked
// whole (base model, data, settings) before it is saved, so bad input is refused with every
// problem named and nothing half-made stays behind; then the queue (queue.ts) runs it in a worker.
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { ApiHandlers } from '../../shared/api.js';
import { ServiceError } from '../../shared/api.js';
import type { TrainingCalls, TrainingJob, TrainingKind, TrainingSource } from '../../shared/api-training.js';
import { describeModel } from '../../model/describe.js';
import { MANIFEST } from '../../model/converted.js';
import { latestCheckpoint } from '../../model/train/trainer.js';
import { SettingsStore } from '../catalog/settings.js';
import type { ServiceDeps } from '../services.js';
import { resolveDatasetSource } from './dataset-source.js';
import { TrainingQueue } from './queue.js';
import { type RunPlan, SettingsError, defaultSettings, planRun } from './settings.js';
import { syntheticRoot } from '../datasets/synthesis.js';
import { type ResolvedSource, listSyntheticSets, resolveFileSource, resolveTaggingSource } from './source.js';
import { JobStore } from './store.js';

const KIND_LABEL: Record<TrainingKind, string> = { warmup: 'Warm-up', finetune: 'Finetune', lora: 'LoRA finetune', grpo: 'GRPO', tagging: 'Tagging' };
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** The compiled training worker: next to the chat worker (dist/src/main/{chat,training}/worker.js) unless given. */
export function trainingWorkerUrl(ctx: ServiceDeps['ctx']): URL {
  return ctx.trainingWorkerUrl ?? new URL('../training/worker.js', ctx.chatWorkerUrl);
}

/** Where jobs' checkpoints go unless a job says: a training/ folder next to the catalog. */
export function trainingRoot(dbPath: string): string {
  return dbPath === ':memory:' ? join(tmpdir(), 'mufun-training') : join(dirname(dbPath), 'training');
}

async function checkBaseModel(dir: string): Promise<void> {
  if (!isAbsolute(dir)) throw new ServiceError('invalid-args', `give the base model's full path (${dir} is relative)`);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ServiceError('not-found', `no model folder at ${dir}`);
  if (existsSync(join(dir, MANIFEST))) {
    throw new ServiceError('invalid-args', `${dir} is a converted model (for inference only); train from the Hugging Face folder it came from`);
  }
  try {
    await describeModel(dir);
  } catch (e) {
    throw new ServiceError('invalid-args', `${dir} is not a MuFun model folder: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!TOKENIZER_FILES.some((f) => existsSync(join(dir, f)))) throw new ServiceError('invalid-args', `${dir} has no tokenizer (tokenizer.json or tokenizer_config.json)`);
}

export function trainingHandlers(deps: ServiceDeps): Pick<ApiHandlers, keyof TrainingCalls> {
  const { db, ctx, models, emit } = deps;
  const store = new JobStore(db, trainingRoot(ctx.dbPath));
  const settings = new SettingsStore(db);
  const queue = new TrainingQueue({
    store,
    workerUrl: trainingWorkerUrl(ctx),
    provider: () => settings.all().provider,
    events: {
      status: (job) => emit('training.status', job),
      progress: (p) => emit('training.progress', p),
      eval: (jobId, result) => emit('training.eval', { jobId, result }),
    },
  });

  // A job that was running when the studio stopped (closed, crashed, killed) is said to be
  // interrupted; it resumes from its last checkpoint when asked. Queued jobs go on.
  store.markInterrupted();
  const startUp = setImmediate(() => queue.pump());
  deps.onClose(async () => {
    clearImmediate(startUp);
    await queue.close();
  });

  const job = (id: number): TrainingJob => {
    const j = store.get(id);
    if (!j) throw new ServiceError('not-found', `no training job ${id}`);
    return j;
  };

  // Synchronous on purpose: a dataset job's row exists while its export is written, and no
  // queue event may run in between and start it half-made.
  function resolveSource(source: TrainingSource, plan: RunPlan, onBadSample: 'skip' | 'fail', outputDir: string): ResolvedSource {
    if (plan.tagging) return resolveTaggingSource(source, plan.tagging);
    if (source.type === 'file') return resolveFileSource(source, onBadSample);
    return resolveDatasetSource(db, source.datasetId, join(outputDir, 'dataset'), onBadSample);
  }

  return {
    'training.jobs': async () => store.list(),
    'training.get': async ({ id }) => job(id),
    'training.defaults': async ({ kind }) => defaultSettings(kind),

    'training.start': async ({ kind, source, baseModel, settings: given, name, outputDir }) => {
      const base = baseModel ?? (await models.current()).dir;
      if (!base) throw new ServiceError('invalid-args', 'no model to start from: choose a base model folder (or a chat model on the Models page)');
      await checkBaseModel(base);
      if (outputDir) {
        if (!isAbsolute(outputDir)) throw new ServiceError('invalid-args', `give the output folder's full path (${outputDir} is relative)`);
        const held = latestCheckpoint(outputDir);
        if (held) throw new ServiceError('invalid-args', `${outputDir} already holds ${held.dir}; choose another output folder (or resume the job that wrote it)`);
      }
      // The settings first (no files touched), with stand-in paths: every problem at once.
      const onBadSample = given.bad_samples === 'skip' ? 'skip' : 'fail';
      const stand = { dataPath: '/data.json', evalDataPath: null, audioFolder: '/', baseModel: base, outputDir: outputDir ?? '/out' };
      let plan: RunPlan;
      try {
        plan = planRun(kind, given, stand, false);
      } catch (e) {
        if (e instanceof SettingsError) throw new ServiceError('invalid-args', e.message);
        throw e;
      }
      // A file source is checked before anything is saved; a dataset is exported into the job's folder.
      const early = source.type === 'file' || plan.tagging ? resolveSource(source, plan, onBadSample, '') : null;
      const created = store.create({
        name: name?.trim() || `${KIND_LABEL[kind]} of ${base.split(/[/\\]/).filter(Boolean).pop()}`,
        kind, source, sourceLabel: early?.label ?? `dataset ${source.type === 'dataset' ? source.datasetId : ''}`,
        dataPath: early?.dataPath ?? '', evalDataPath: early?.evalDataPath ?? null, audioFolder: early?.audioFolder ?? '',
        baseModel: base, settings: given, outputDir: outputDir ?? null,
      });
      try {
        const inputs = early ?? resolveSource(source, plan, onBadSample, created.outputDir);
        if (!early) store.setInputs(created.id, inputs, inputs.label);
        planRun(kind, given, { ...inputs, baseModel: base, outputDir: created.outputDir }, false);
      } catch (e) {
        store.discard(created.id);
        if (e instanceof SettingsError) throw new ServiceError('invalid-args', e.message);
        throw e;
      }
      emit('training.status', job(created.id));
      queue.pump();
      return job(created.id);
    },

    'training.cancel': async ({ id }) => {
      const j = job(id);
      if (j.status !== 'queued' && j.status !== 'running') {
        throw new ServiceError('invalid-args', `job ${id} is ${j.status}; only a queued or running job can be cancelled`);
      }
      queue.cancel(id);
      return job(id);
    },

    'training.resume': async ({ id }) => {
      const j = job(id);
      if (j.status === 'queued' || j.status === 'running') throw new ServiceError('invalid-args', `job ${id} is already ${j.status}`);
      if (j.status === 'done') throw new ServiceError('invalid-args', `job ${id} is done; its model is ${j.finalModel}`);
      store.requeue(id);
      emit('training.status', job(id));
      queue.pump();
      return job(id);
    },

    'training.metrics': async ({ id }) => {
      job(id);
      return store.metrics(id);
    },

    'training.models': async () => store.trainedModels(),
    'training.syntheticSets': async () => (ctx.dbPath === ':memory:' ? [] : listSyntheticSets(syntheticRoot(ctx.dbPath))),
  };
}
