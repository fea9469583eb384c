// The datasets services: the handlers of the calls in src/shared/api-datasets.ts, over the
// catalog (store.ts), the task templates (templates.ts), MuFun's JSON files (import/export) and
// synthetic music made and imported (synthesis.ts).
import { isAbsolute } from 'node:path';
import type { ApiHandlers } from '../../shared/api.js';
import { ServiceError } from '../../shared/api.js';
import type { AudioRefArgs, DatasetCalls, DatasetItem } from '../../shared/api-datasets.js';
import type { ServiceDeps } from '../services.js';
import { writeMufunDataset } from './export.js';
import { importMufunDataset } from './import.js';
import { randomSplit } from './split.js';
import { SynthesisRunner } from './synthesis.js';
import { DatasetStore, DatasetStoreError, type StoredItem } from './store.js';
import { TemplateError, renderTemplate } from './templates.js';

type Handlers = Pick<ApiHandlers, keyof DatasetCalls>;

/** The item as the API shows it (without the store's bookkeeping). */
export function publicItem(i: StoredItem): DatasetItem {
  const { audioForm: _form, audioFacts: _facts, ...item } = i;
  return item;
}

/** Store and template errors become the API's error codes; anything else stays 'failed'. */
function guarded(handlers: Handlers): Handlers {
  const out: Record<string, (args: never) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(handlers) as [string, (args: never) => Promise<unknown>][]) {
    out[name] = async (args: never) => {
      try {
        return await fn(args);
      } catch (e) {
        if (e instanceof DatasetStoreError) throw new ServiceError(e.code, e.message);
        if (e instanceof TemplateError) throw new ServiceError('invalid-args', e.message);
        throw e;
      }
    };
  }
  return out as unknown as Handlers;
}

export function datasetsHandlers(deps: ServiceDeps): Handlers {
  const { db, library, emit } = deps;
  const store = new DatasetStore(db);
  const changed = (datasetId: number | null) => emit('datasets.changed', { datasetId });
  const synthesis = new SynthesisRunner(deps);
  deps.onClose(() => synthesis.close());

  /** Segments must start inside their track (the end may not pass it either). */
  function checkAudio(audios: AudioRefArgs[]): void {
    for (const a of audios) {
      const t = library.track(a.trackId);
      if (!t) throw new ServiceError('not-found', `no track ${a.trackId} in the library`);
      const dur = t.durationSec;
      if (a.start != null && a.end != null && dur !== null) {
        if (a.start >= dur) throw new ServiceError('invalid-args', `the segment starts at ${a.start} s, after the end of ${t.title} (${dur.toFixed(2)} s)`);
        if (a.end > dur + 0.01) throw new ServiceError('invalid-args', `the segment ends at ${a.end} s, after the end of ${t.title} (${dur.toFixed(2)} s)`);
      }
    }
  }

  /** Paths typed into the page are the server's: relative ones would depend on where it runs. */
  function absolute(path: string, what: string): void {
    if (!isAbsolute(path)) throw new ServiceError('invalid-args', `give ${what}'s full path (${path} is relative)`);
  }

  function labelled(item: StoredItem, templateId: number, label: string) {
    const t = store.requireTemplate(templateId);
    const r = renderTemplate(t, label, { audios: item.audios.length, seedKey: item.sampleId ?? `item-${item.id}` });
    return { template: t, ...r };
  }

  return guarded({
    'datasets.list': async () => store.list(),
    'datasets.get': async ({ id }) => store.require(id),
    'datasets.create': async ({ name, description }) => {
      const d = store.create(name, description ?? '');
      changed(d.id);
      return d;
    },
    'datasets.update': async ({ id, name, description }) => {
      const d = store.update(id, { name, description });
      changed(id);
      return d;
    },
    'datasets.delete': async ({ id }) => {
      const deleted = store.delete(id);
      if (deleted) changed(id);
      return { deleted };
    },

    'datasets.items': async ({ datasetId, split }) => {
      store.require(datasetId);
      return store.items(datasetId, split).map(publicItem);
    },
    'datasets.addItem': async ({ datasetId, audios, turns, split, sampleId }) => {
      store.require(datasetId);
      if (!audios.length) throw new ServiceError('invalid-args', 'an item needs its audio (a track, whole or a segment)');
      checkAudio(audios);
      const item = store.addItem(datasetId, { audios, turns, split, sampleId });
      changed(datasetId);
      return publicItem(item);
    },
    'datasets.updateItem': async ({ id, ...patch }) => {
      if (patch.audios) checkAudio(patch.audios);
      const item = store.updateItem(id, patch);
      changed(item.datasetId);
      return publicItem(item);
    },
    'datasets.deleteItem': async ({ id }) => {
      const r = store.deleteItem(id);
      if (r.deleted) changed(r.datasetId);
      return { deleted: r.deleted };
    },
    'datasets.label': async ({ itemIds, templateId, label }) => {
      const items = itemIds.map((id) => store.requireItem(id));
      const updates = items.map((item) => ({ item, ...labelled(item, templateId, label) }));
      const out = db.transaction(() =>
        updates.map(({ item, template, turns, label: l }) =>
          store.updateItem(item.id, { turns, label: l, task: template.task ?? item.task, templateId }),
        ),
      )();
      for (const d of new Set(out.map((i) => i.datasetId))) changed(d);
      return out.map(publicItem);
    },
    'datasets.setSplit': async ({ itemIds, split }) => {
      const out = store.setSplit(itemIds, split);
      for (const d of new Set(out.map((i) => i.datasetId))) changed(d);
      return out.map(publicItem);
    },
    'datasets.randomSplit': async ({ datasetId, evalFraction, seed }) => {
      const d = randomSplit(store, datasetId, evalFraction, seed);
      changed(datasetId);
      return d;
    },

    'datasets.templates': async () => store.templates(),
    'datasets.saveTemplate': async (t) => store.saveTemplate(t),
    'datasets.deleteTemplate': async ({ id }) => ({ deleted: store.deleteTemplate(id) }),
    'datasets.previewLabel': async ({ itemId, templateId, label }) => labelled(store.requireItem(itemId), templateId, label).turns,

    'datasets.import': async (args) => {
      absolute(args.path, 'the JSON file');
      absolute(args.audioRoot, 'the audio root folder');
      const r = await importMufunDataset(db, library, args);
      changed(r.dataset.id);
      return r;
    },
    'datasets.export': async ({ id, outDir }) => {
      store.require(id);
      absolute(outDir, 'the export folder');
      try {
        return writeMufunDataset(db, id, outDir);
      } catch (e) {
        throw new ServiceError('failed', e instanceof Error ? e.message : String(e));
      }
    },
    'datasets.rejects': async ({ datasetId }) => {
      store.require(datasetId);
      return store.rejects(datasetId);
    },
    'datasets.clearRejects': async ({ datasetId }) => {
      store.require(datasetId);
      const cleared = store.clearRejects(datasetId);
      changed(datasetId);
      return { cleared };
    },

    'datasets.synthesize': async (args) => synthesis.start(args),
    'datasets.cancelSynthesis': async () => ({ cancelled: synthesis.cancel() }),
    'datasets.synthesisStatus': async () => synthesis.status(),
  });
}
