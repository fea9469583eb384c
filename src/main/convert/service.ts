// The models services: the handlers of the calls in src/shared/api-models.ts. A Hugging Face
// MuFun folder is checked on the main thread (config, weights, tokenizer) so a folder that is
// not a MuFun checkpoint is refused with the reason before anything is written; then a worker
// (worker.ts) converts it into the studio's models folder (next to the catalog), reporting
// progress as `models.conversion` events. Cancelling ends the worker and removes its folder.
// A new model (fresh weights in an existing folder's architecture) is made on the main thread:
// small architectures only, a fraction of a second.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ApiHandlers } from '../../shared/api.js';
import { ServiceError } from '../../shared/api.js';
import { type Conversion, type ConvertDtypeName, type EvaluationCallName, type InstalledModel, MAX_NEW_MODEL_PARAMETERS, type ModelCalls } from '../../shared/api-models.js';
import { describeModel } from '../../model/describe.js';
import { initCheckpoint } from '../../model/init.js';
import { MANIFEST, isConverted, readManifest } from '../../model/converted.js';
import { estimateMemory } from '../memory.js';
import { STUDIO_NOTE, type StudioNote, describeFolder, readStudioNote } from '../models.js';
import type { ServiceDeps } from '../services.js';
import { CONVERT_WORKER_KIND, type FromConvertWorker } from './protocol.js';
import type { ConvertWorkerData } from './worker.js';

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

/** Where installed models go: a models/ folder next to the catalog. */
export function modelsRoot(dbPath: string): string {
  return dbPath === ':memory:' ? join(tmpdir(), 'mufun-models') : join(dirname(dbPath), 'models');
}

/** The compiled conversion worker: next to the chat worker (dist/src/main/{chat,convert}/worker.js) unless given. */
export function convertWorkerUrl(ctx: ServiceDeps['ctx']): URL {
  return ctx.convertWorkerUrl ?? new URL('../convert/worker.js', ctx.chatWorkerUrl);
}

/** A folder name from what the user typed: letters, digits, dot, dash and underscore. */
function folderName(name: string): string {
  return name.trim().replace(/[^\w.-]+/g, '-').replace(/^[.-]+|-+$/g, '').slice(0, 100);
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function checkSource(source: string): Promise<number> {
  if (!isAbsolute(source)) throw new ServiceError('invalid-args', `give the model folder's full path (${source} is relative)`);
  if (!existsSync(source) || !statSync(source).isDirectory()) throw new ServiceError('not-found', `no folder at ${source}`);
  if (isConverted(source)) {
    throw new ServiceError('invalid-args', `${source} is already a converted model (${MANIFEST}); give the Hugging Face folder it came from`);
  }
  let parameters: number;
  try {
    parameters = (await describeModel(source)).parameters;
  } catch (e) {
    throw new ServiceError('invalid-args', `${source} is not a MuFun checkpoint: ${errText(e)}`);
  }
  if (!TOKENIZER_FILES.some((f) => existsSync(join(source, f)))) {
    throw new ServiceError('invalid-args', `${source} has no tokenizer (tokenizer.json or tokenizer_config.json), so a model made from it could not chat`);
  }
  return parameters;
}

export function modelsHandlers(deps: ServiceDeps): Pick<ApiHandlers, Exclude<keyof ModelCalls, EvaluationCallName>> {
  const { ctx, emit } = deps;
  const root = modelsRoot(ctx.dbPath);
  const workerUrl = convertWorkerUrl(ctx);
  const conversions = new Map<number, Conversion>();
  let nextId = 1;
  /** The running conversion; `cancelled` says why it is being stopped, when it is. */
  let active: { id: number; worker: Worker; exited: Promise<void>; cancelled: string | null } | null = null;

  const changed = (c: Conversion) => emit('models.conversion', { ...c });

  function finish(c: Conversion, status: Conversion['status'], error: string | null = null): void {
    if (c.status !== 'running') return;
    c.status = status;
    c.error = error;
    c.finishedAt = Date.now();
    if (status !== 'done') rmSync(c.outDir, { recursive: true, force: true });
    changed(c);
  }

  /** Ends the worker; its exit settles the conversion as cancelled and removes the folder. */
  function stop(id: number, why: string): Promise<void> {
    const a = active;
    if (!a || a.id !== id) return Promise.resolve();
    a.cancelled ??= why;
    void a.worker.terminate();
    return a.exited;
  }

  deps.onClose(async () => {
    if (active) await stop(active.id, 'the studio closed during the conversion');
  });

  function installed(): InstalledModel[] {
    if (!existsSync(root)) return [];
    const out: InstalledModel[] = [];
    // a folder still being written is not a model yet
    const running = new Set([...conversions.values()].filter((c) => c.status === 'running').map((c) => c.outDir));
    for (const name of readdirSync(root).sort((a, b) => a.localeCompare(b))) {
      const dir = join(root, name);
      if (running.has(dir) || !statSync(dir).isDirectory()) continue;
      const note = readStudioNote(dir);
      const m: InstalledModel = {
        name, dir, format: 'huggingface', dtype: 'float32', source: note?.source ?? null, createdAt: null,
        parameters: note?.parameters ?? null, estimate: null, problem: null,
      };
      try {
        if (isConverted(dir)) {
          const manifest = readManifest(dir);
          m.format = 'converted';
          m.dtype = manifest.dtype;
          m.source = manifest.source.dir;
          m.createdAt = Date.parse(manifest.created) || null;
        } else if (!existsSync(join(dir, 'config.json'))) {
          throw new Error(`an unfinished conversion (no ${MANIFEST}); remove the folder`);
        } else {
          m.createdAt = statSync(join(dir, 'config.json')).mtimeMs;
        }
        m.estimate = estimateMemory(dir);
      } catch (e) {
        m.problem = errText(e);
      }
      out.push(m);
    }
    return out;
  }

  /** A free folder under the models folder, named after what the user typed or else `fallback`. */
  function newFolder(name: string | undefined, fallback: string): { folder: string; dir: string } {
    const base = folderName(name ?? '') || folderName(fallback) || 'model';
    mkdirSync(root, { recursive: true });
    let folder = base;
    for (let i = 2; existsSync(join(root, folder)); i++) folder = `${base}-${i}`;
    return { folder, dir: join(root, folder) };
  }

  return {
    'models.create': async ({ template, name, seed }) => {
      const parameters = await checkSource(template);
      if (parameters > MAX_NEW_MODEL_PARAMETERS) {
        throw new ServiceError('invalid-args', `${template} has ${(parameters / 1e6).toFixed(1)} M parameters; a new model trained from scratch here can have at most ${MAX_NEW_MODEL_PARAMETERS / 1e6} M (start from its weights instead: a finetune)`);
      }
      const { folder, dir } = newFolder(name, `${basename(template)}-new`);
      try {
        initCheckpoint(JSON.parse(readFileSync(join(template, 'config.json'), 'utf8')), dir, template, seed ?? 0);
        const note: StudioNote = { parameters, source: template, name: folder };
        writeFileSync(join(dir, STUDIO_NOTE), JSON.stringify(note, null, 1) + '\n');
      } catch (e) {
        rmSync(dir, { recursive: true, force: true });
        throw new ServiceError('failed', `could not create ${folder}: ${errText(e)}`);
      }
      return installed().find((m) => m.dir === dir)!;
    },

    'models.installed': async () => {
      const list = installed();
      // Hugging Face folders here say their parameter count from the safetensors headers.
      for (const m of list) {
        if (m.parameters === null && !m.problem) m.parameters = await describeFolder(m.dir).then((i) => i.parameters || null, () => null);
      }
      return list;
    },

    'models.estimate': async ({ dir }) => {
      if (!isAbsolute(dir)) throw new ServiceError('invalid-args', `give the model folder's full path (${dir} is relative)`);
      if (!existsSync(dir)) throw new ServiceError('not-found', `no model folder at ${dir}`);
      try {
        return estimateMemory(dir);
      } catch (e) {
        throw new ServiceError('invalid-args', `cannot estimate ${dir}: ${errText(e)}`);
      }
    },

    'models.convert': async ({ source, dtype, name }) => {
      // A finished conversion's worker may still be exiting: only a running one blocks the next.
      const running = active && conversions.get(active.id)!;
      if (running && running.status === 'running') {
        throw new ServiceError('failed', `a conversion is running (${running.name}); wait for it or cancel it first`);
      }
      const parameters = await checkSource(source);
      const { folder, dir: outDir } = newFolder(name, `${basename(source)}-${dtype}`);
      const c: Conversion = {
        id: nextId++, source, name: folder, dtype: dtype as ConvertDtypeName, outDir, status: 'running',
        tensors: 0, totalTensors: 0, bytes: 0, totalBytes: 0, current: '', error: null, startedAt: Date.now(), finishedAt: null,
      };
      const data: ConvertWorkerData = { kind: CONVERT_WORKER_KIND, source, outDir, dtype };
      let worker: Worker;
      try {
        worker = new Worker(workerUrl, { workerData: data });
      } catch (e) {
        throw new ServiceError('failed', `the conversion worker could not start: ${errText(e)}`);
      }
      conversions.set(c.id, c);
      let exit!: () => void;
      const a = { id: c.id, worker, exited: new Promise<void>((r) => (exit = r)), cancelled: null as string | null };
      active = a;
      worker.on('message', (m: FromConvertWorker) => {
        if (m.type === 'progress') {
          const p = m.progress;
          Object.assign(c, { tensors: p.tensors, totalTensors: p.totalTensors, bytes: p.bytes, totalBytes: p.totalBytes, current: p.name });
          if (c.status === 'running') changed(c);
        } else if (m.type === 'done') {
          const note: StudioNote = { parameters, source, name: folder };
          writeFileSync(join(outDir, STUDIO_NOTE), JSON.stringify(note, null, 1) + '\n');
          finish(c, 'done');
        } else {
          finish(c, 'failed', m.message);
        }
      });
      worker.on('error', (e) => finish(c, 'failed', `the conversion worker failed: ${e.message}`));
      worker.on('exit', () => {
        if (a.cancelled !== null) finish(c, 'cancelled', a.cancelled || null);
        else finish(c, 'failed', 'the conversion worker stopped before it finished');
        if (active?.id === c.id) active = null;
        exit();
      });
      changed(c);
      return { ...c };
    },

    'models.cancelConvert': async ({ id }) => {
      const c = conversions.get(id);
      if (!c) throw new ServiceError('not-found', `no conversion ${id}`);
      if (c.status === 'running') await stop(id, '');
      return { ...c };
    },

    'models.conversions': async () => [...conversions.values()].reverse().map((c) => ({ ...c })),
  };
}
