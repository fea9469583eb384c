// Synthetic music into the catalog: renders a data set with ground truth (src/synth, what
// `mufun synth-data` writes) into a folder, then imports it as a new dataset (train → train,
// val → eval; test.json stays in the folder for `mufun eval`). One run at a time, with progress
// and cancellation. A stopped or failed run keeps its clips: the same settings resume it.
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { SYNTHESIS_DEFAULTS, type SynthesisArgs, type SynthesisProgress } from '../../shared/api-datasets.js';
import { ServiceError } from '../../shared/api.js';
import { generateDataset } from '../../synth/dataset.js';
import { TASKS } from '../../synth/questions.js';
import { SynthSetupError, setupRenderer } from '../../synth/render.js';
import type { Db } from '../catalog/db.js';
import type { LibraryStore } from '../catalog/library.js';
import type { ServiceDeps } from '../services.js';
import { importMufunDataset } from './import.js';
import { DatasetStore } from './store.js';

/** Progress events at most this often while rendering (the last clip always reports). */
const EVENT_MS = 200;

/** A folder name from a dataset name: letters, digits and dashes. */
export function folderName(name: string): string {
  const slug = name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60);
  return slug || 'synthetic';
}

/** A synthesis checked and ready to run. */
export interface SynthesisPlan extends SynthesisArgs {
  outDir: string;
}

/**
 * What can be checked before rendering: the name is free, the folder absolute, FluidSynth and a
 * soundfont there. The folder defaults to synthetic/<name> beside the catalog file.
 */
export function planSynthesis(db: Db, catalogPath: string, a: SynthesisArgs): SynthesisPlan {
  const name = a.name.trim();
  if (!name) throw new ServiceError('invalid-args', 'give the dataset a name');
  if (new DatasetStore(db).nameTaken(name)) throw new ServiceError('invalid-args', `a dataset named "${name}" already exists`);
  if (a.outDir !== undefined && !isAbsolute(a.outDir)) throw new ServiceError('invalid-args', `give the folder's full path (${a.outDir} is relative)`);
  try {
    setupRenderer();
  } catch (e) {
    if (e instanceof SynthSetupError) throw new ServiceError('failed', e.message);
    throw e;
  }
  return { ...a, name, outDir: a.outDir ?? join(syntheticRoot(catalogPath), folderName(name)) };
}

/** Where generated sets go unless a request says: synthetic/ beside the catalog file. */
export function syntheticRoot(catalogPath: string): string {
  return join(dirname(resolve(catalogPath)), 'synthetic');
}

export interface SynthesisResult {
  datasetId: number;
  train: number;
  eval: number;
  /** what was made, in a sentence */
  summary: string;
}

/** Renders the clips (resuming what is there), then imports train and val as a new dataset. */
export async function synthesizeDataset(
  db: Db, library: LibraryStore, p: SynthesisPlan,
  o: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; onImporting?: () => void } = {},
): Promise<SynthesisResult> {
  const d = SYNTHESIS_DEFAULTS;
  const orders = p.optionOrders ?? d.optionOrders;
  const orderTasks = [...new Set(p.optionOrderTasks ?? d.optionOrderTasks)];
  const binding = p.bindingQuestions ?? d.bindingQuestions;
  const anyLabel = p.bindingAnyLabelShare ?? d.bindingAnyLabelShare;
  const mcAnswers = p.mcAnswers ?? d.mcAnswers;
  const modeViaKey = p.modeViaKey ?? d.modeViaKey;
  await generateDataset({
    out: p.outDir, count: p.clips, seed: p.seed, seconds: p.seconds, splits: [0.8, 0.1, 0.1], tasks: [...TASKS],
    questionsPerClip: p.questionsPerClip ?? d.questionsPerClip, optionOrders: orders, optionOrderTasks: orderTasks, bindingQuestions: binding, bindingAnyLabelShare: anyLabel,
    mcAnswers, modeViaKey, signal: o.signal, onProgress: (x) => o.onProgress?.(x.done, x.total),
  });
  o.onImporting?.();
  const audioRoot = join(p.outDir, 'audio');
  // train: the clips' questions, then their further option orders, then the text-only binding items
  const files: (readonly [string, 'train' | 'eval'])[] = [['train.json', 'train']];
  if (orders) files.push(['train-orders.json', 'train']);
  if (binding) files.push(['train-binding.json', 'train']);
  files.push(['val.json', 'eval']);
  const first = await importMufunDataset(db, library, { path: join(p.outDir, files[0][0]), audioRoot, name: p.name, split: 'train' });
  const id = first.dataset.id;
  const imported = { train: first.imported, eval: 0, orders: 0 };
  try {
    for (const [file, split] of files.slice(1)) {
      const n = (await importMufunDataset(db, library, { path: join(p.outDir, file), audioRoot, datasetId: id, split })).imported;
      imported[split] += n;
      if (file === 'train-orders.json') imported.orders = n;
    }
  } catch (e) {
    new DatasetStore(db).delete(id); // not half a dataset: the same request can run again
    throw e;
  }
  const test = join(p.outDir, 'test.json');
  new DatasetStore(db).update(id, {
    description: `Synthetic music with ground truth: ${p.clips} clips of ${p.seconds} s (seed ${p.seed}), rendered by FluidSynth from generated MIDI. ` +
      (orders ? `Train holds ${orders} further option orders per clip of its ${listed(orderTasks)} questions. ` : '') +
      (binding ? `Train ends with ${binding} text-only letter-binding questions (${Math.round(anyLabel * 100)} % with options from every task's labels). ` : '') +
      (mcAnswers === 'label-first' ? 'Multiple-choice answers name the label, then its letter: "brass (B)". ' : '') +
      (mcAnswers === 'label-only' ? 'Multiple-choice answers are the option\'s text: "brass". ' : '') +
      (modeViaKey ? 'Major/minor is answered through the key: "In D major, so major." ' : '') +
      `Labels of every clip: ${join(p.outDir, 'labels.jsonl')}; held-out test questions: ${test} (mufun eval).`,
  });
  return {
    datasetId: id, train: imported.train, eval: imported.eval,
    summary: `${imported.train} train${ofThem([orders ? [imported.orders, 'further option orders'] : null, binding ? [binding, 'text-only letter binding'] : null])} and ${imported.eval} eval items from ${p.clips} clips; the test split is in ${test}`,
  };
}

const listed = (xs: readonly string[]) => (xs.length > 1 ? `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}` : xs.join(''));
/** " (n of them what, …)" for the parts that are there. */
const ofThem = (parts: ([number, string] | null)[]) => {
  const xs = parts.filter((x) => x !== null).map(([n, what]) => `${n} of them ${what}`);
  return xs.length ? ` (${xs.join(', ')})` : '';
};

/** One synthesis at a time for the studio, reported as `datasets.synthesis` events. */
export class SynthesisRunner {
  private nextId = 1;
  private running: { ctrl: AbortController; progress: SynthesisProgress; done: Promise<void> } | null = null;
  private last: SynthesisProgress | null = null;

  constructor(private readonly deps: Pick<ServiceDeps, 'ctx' | 'db' | 'library' | 'emit'>) {}

  /** Checks what can be checked at once (planSynthesis), then renders and imports in the background. */
  start(a: SynthesisArgs): SynthesisProgress {
    if (this.running) throw new ServiceError('failed', `synthetic music for "${this.running.progress.name}" is being made; wait for it or cancel it`);
    const plan = planSynthesis(this.deps.db, this.deps.ctx.dbPath, a);
    const progress: SynthesisProgress = {
      runId: this.nextId++, name: plan.name, outDir: plan.outDir, phase: 'rendering', done: 0, total: plan.clips, datasetId: null, message: null,
    };
    const ctrl = new AbortController();
    const emit = () => this.deps.emit('datasets.synthesis', { ...progress });
    const run = async () => {
      let lastEvent = 0;
      try {
        const r = await synthesizeDataset(this.deps.db, this.deps.library, plan, {
          signal: ctrl.signal,
          onProgress: (done, total) => {
            Object.assign(progress, { done, total });
            const now = performance.now();
            if (done === total || now - lastEvent >= EVENT_MS) {
              lastEvent = now;
              emit();
            }
          },
          onImporting: () => {
            progress.phase = 'importing';
            emit();
          },
        });
        this.deps.emit('datasets.changed', { datasetId: r.datasetId });
        Object.assign(progress, { phase: 'done', datasetId: r.datasetId, message: r.summary });
      } catch (e) {
        const stopped = ctrl.signal.aborted;
        Object.assign(progress, {
          phase: stopped ? 'cancelled' : 'failed',
          message: stopped ? `stopped after ${progress.done} of ${progress.total} clips; they stay in ${plan.outDir} and the same settings resume` : e instanceof Error ? e.message : String(e),
        });
      }
      this.last = { ...progress };
      emit();
    };
    const done = run().finally(() => (this.running = null));
    this.running = { ctrl, progress, done };
    emit();
    return { ...progress };
  }

  cancel(): boolean {
    if (!this.running || this.running.progress.phase !== 'rendering') return false;
    this.running.ctrl.abort();
    return true;
  }

  status(): SynthesisProgress | null {
    return this.running ? { ...this.running.progress } : this.last;
  }

  /** Stops a run and waits for it (the studio is closing). */
  async close(): Promise<void> {
    this.running?.ctrl.abort();
    await this.running?.done;
  }
}
