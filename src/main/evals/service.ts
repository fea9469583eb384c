// The evaluations services: `mufun eval` for the studio. What can be checked is checked on the
// main thread (the model folder loads, the samples are there); a studio dataset's split is
// exported to MuFun's JSON first (so the run reads exactly what `mufun eval --data` would, and
// later edits of the dataset do not change it). A worker (worker.ts) answers and scores; every
// answer goes into the catalog as it comes, with `models.evaluation` events. One at a time.
import { existsSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ApiHandlers } from '../../shared/api.js';
import { ServiceError } from '../../shared/api.js';
import type { Evaluation, EvaluationCallName, EvaluationSource } from '../../shared/api-models.js';
import { SettingsStore } from '../catalog/settings.js';
import { writeMufunSplit } from '../datasets/export.js';
import { DatasetStore } from '../datasets/store.js';
import { isInside } from '../library/paths.js';
import { describeFolder } from '../models.js';
import type { ServiceDeps } from '../services.js';
import { absoluteFile, checkDataFile } from '../training/source.js';
import { EVAL_WORKER_KIND, type EvalWorkerData, type FromEvalWorker } from './protocol.js';
import { EvaluationStore } from './store.js';

type Handlers = Pick<ApiHandlers, EvaluationCallName>;

/** The compiled evaluation worker: next to the chat worker (dist/src/main/{chat,evals}/worker.js) unless given. */
export function evalWorkerUrl(ctx: ServiceDeps['ctx']): URL {
  return ctx.evalWorkerUrl ?? new URL('../evals/worker.js', ctx.chatWorkerUrl);
}

/** Where a studio dataset is exported for its evaluations: evaluations/<id> next to the catalog. */
function evaluationsRoot(dbPath: string): string {
  return dbPath === ':memory:' ? join(tmpdir(), 'mufun-evaluations') : join(dirname(dbPath), 'evaluations');
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function evaluationsHandlers(deps: ServiceDeps): Handlers {
  const { db, ctx, models, emit } = deps;
  const store = new EvaluationStore(db);
  const settings = new SettingsStore(db);
  const workerUrl = evalWorkerUrl(ctx);
  /** The running evaluation's worker; `settled` once its row is (the worker may still be ending). */
  let active: { id: number; worker: Worker; exited: Promise<void>; stopping: 'cancel' | 'close' | null; settled: boolean } | null = null;

  // A run the studio stopped in the middle (closed, crashed) is interrupted; its answers stay.
  store.markInterrupted();

  const evaluation = (id: number): Evaluation => {
    const e = store.get(id);
    if (!e) throw new ServiceError('not-found', `no evaluation ${id}`);
    return e;
  };
  const changed = (id: number) => emit('models.evaluation', evaluation(id));

  async function modelFolder(dir: string | null): Promise<{ dir: string; name: string }> {
    if (dir === null) {
      const current = await models.current();
      if (!current.dir) throw new ServiceError('invalid-args', current.problem ?? 'no model is chosen for chat');
      return { dir: current.dir, name: current.source === 'embedded' ? `${current.name} (embedded)` : current.name ?? basename(current.dir) };
    }
    if (!isAbsolute(dir)) throw new ServiceError('invalid-args', `give the model folder's full path (${dir} is relative)`);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ServiceError('not-found', `no model folder at ${dir}`);
    try {
      await describeFolder(dir);
    } catch (e) {
      throw new ServiceError('invalid-args', `${dir} is not a MuFun model folder: ${errText(e)}`);
    }
    if (!existsSync(join(dir, 'tokenizer.json')) && !existsSync(join(dir, 'tokenizer_config.json'))) {
      throw new ServiceError('invalid-args', `${dir} has no tokenizer (tokenizer.json), so it cannot answer`);
    }
    return { dir, name: basename(dir) };
  }

  /** The file the run reads, its audio folder, and what to call it. */
  function samplesOf(source: EvaluationSource): { dataPath: string; audioFolder: string; label: string } {
    if (source.type === 'file') {
      const dataPath = absoluteFile(source.dataPath, 'question file');
      const audioFolder = source.audioFolder ?? dirname(dataPath);
      if (!isAbsolute(audioFolder)) throw new ServiceError('invalid-args', `give the audio folder's full path (${audioFolder} is relative)`);
      // malformed JSON, or no sample whose audio is there: said now, not by a failed run
      checkDataFile(dataPath, audioFolder, 'skip', 'question file');
      return { dataPath, audioFolder, label: basename(dataPath) };
    }
    const dataset = new DatasetStore(db).get(source.datasetId);
    if (!dataset) throw new ServiceError('not-found', `no dataset ${source.datasetId}`);
    let out: ReturnType<typeof writeMufunSplit>;
    try {
      // its own folder: later edits of the dataset do not change what this run read
      out = writeMufunSplit(db, source.datasetId, source.split, join(evaluationsRoot(ctx.dbPath), `${Date.now().toString(36)}-${source.datasetId}-${source.split}`));
    } catch (e) {
      throw new ServiceError('invalid-args', `${dataset.name} cannot be evaluated on: ${errText(e)}`);
    }
    return { dataPath: out.file, audioFolder: out.audioFolder, label: `${dataset.name} (${source.split}, ${out.count} items)` };
  }

  function run(id: number, data: EvalWorkerData): void {
    const worker = new Worker(workerUrl, { workerData: data });
    let ended = false;
    const settle = (status: 'done' | 'failed' | 'cancelled' | 'interrupted', error: string | null = null) => {
      if (ended) return;
      ended = true;
      if (active?.id === id) active.settled = true;
      store.finish(id, status, error);
      changed(id);
    };
    worker.on('message', (m: FromEvalWorker) => {
      if (m.type === 'start') {
        store.started(id, m.total, m.skipped);
        changed(id);
      } else if (m.type === 'answer') {
        const r = m.result;
        store.answered(id, { id: r.id, task: r.task, question: r.question, reference: r.reference, prediction: r.prediction, correct: r.correct }, m.done, m.scores);
        changed(id);
      } else if (m.type === 'end') {
        settle(m.cancelled ? (active?.stopping === 'close' ? 'interrupted' : 'cancelled') : 'done');
      } else {
        settle('failed', m.message);
      }
    });
    worker.on('error', (e) => settle('failed', errText(e)));
    const exited = new Promise<void>((resolve) => {
      worker.once('exit', () => {
        settle(active?.stopping === 'close' ? 'interrupted' : active?.stopping === 'cancel' ? 'cancelled' : 'failed', 'the evaluation worker stopped');
        active = null;
        resolve();
      });
    });
    active = { id, worker, exited, stopping: null, settled: false };
  }

  /** Asks the worker to stop after its current answer; ends it if it does not within a moment. */
  async function stop(why: 'cancel' | 'close'): Promise<void> {
    const a = active;
    if (!a) return;
    a.stopping = why;
    a.worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void a.worker.terminate(), 10_000);
    await a.exited;
    clearTimeout(timer);
  }
  deps.onClose(() => stop('close'));

  return {
    'models.evaluate': async ({ model, source, limit }) => {
      if (active?.settled) await active.exited; // finished, its worker still letting go of the model
      if (active) throw new ServiceError('failed', `evaluation ${active.id} is running; wait for it or stop it`);
      const m = await modelFolder(model);
      const s = samplesOf(source);
      const e = store.create({ model: m.dir, modelName: m.name, sourceLabel: s.label, dataPath: s.dataPath, audioFolder: s.audioFolder });
      run(e.id, { kind: EVAL_WORKER_KIND, modelDir: m.dir, dataPath: s.dataPath, audioFolder: s.audioFolder, limit, provider: settings.all().provider });
      changed(e.id);
      return evaluation(e.id);
    },
    'models.cancelEvaluation': async ({ id }) => {
      evaluation(id);
      if (active?.id === id) await stop('cancel');
      return evaluation(id);
    },
    'models.evaluations': async () => store.list(),
    'models.evaluationAnswers': async ({ id }) => {
      evaluation(id);
      return store.answers(id);
    },
    'models.deleteEvaluation': async ({ id }) => {
      if (active?.id === id && !active.settled) throw new ServiceError('invalid-args', 'stop the evaluation before deleting it');
      const { deleted, dataPath } = store.delete(id);
      // a dataset's split exported for it goes too (a file of the user's stays)
      if (dataPath && isInside(dataPath, evaluationsRoot(ctx.dbPath))) rmSync(dirname(dataPath), { recursive: true, force: true });
      return { deleted };
    },
  };
}
