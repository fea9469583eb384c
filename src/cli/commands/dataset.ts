// mufun dataset: the studio's datasets from the command line, on the same catalog as the app
// and `mufun serve` (--db, default the app's catalog): list, show (with per-item problems),
// import a MuFun JSON file with its audio root, export train.json/eval.json, random split, and
// synth: synthetic music with ground truth rendered and imported, as the Datasets page does.
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { type Db, openCatalog } from '../../main/catalog/db.js';
import { LibraryStore } from '../../main/catalog/library.js';
import { writeMufunDataset } from '../../main/datasets/export.js';
import { importMufunDataset } from '../../main/datasets/import.js';
import { randomSplit } from '../../main/datasets/split.js';
import { planSynthesis, synthesizeDataset } from '../../main/datasets/synthesis.js';
import { DatasetStore } from '../../main/datasets/store.js';
import { CATALOG_FILE, userDataDir } from '../../main/paths.js';
import { type Dataset, SYNTHESIS_DEFAULTS, type Split, type SynthesisChoiceTask, type McAnswerForm } from '../../shared/api-datasets.js';
import { parseChoiceTasks, parseMcAnswers, parseNonNegativeInt, parsePositiveInt, parseSeconds, parseSeed, parseShare } from '../main.js';

export const DB_HELP = `the studio's catalog (default: ${join(userDataDir(), CATALOG_FILE)})`;

const catalogPath = (db: string | undefined) => resolve(db ?? join(userDataDir(), CATALOG_FILE));

export function withCatalog<T>(db: string | undefined, fn: (db: Db) => T | Promise<T>): Promise<T> {
  const catalog = openCatalog(catalogPath(db));
  return Promise.resolve()
    .then(() => fn(catalog))
    .finally(() => catalog.close());
}

export function datasetOf(store: DatasetStore, ref: string): Dataset {
  const d = store.find(ref);
  if (!d) {
    const names = store.list().map((x) => `${x.id} ${x.name}`);
    throw new Error(`no dataset "${ref}"${names.length ? ` (there are: ${names.join(', ')})` : ' (the catalog has none)'}`);
  }
  return d;
}

const summary = (d: Dataset) =>
  `${d.id}\t${d.name}\t${d.counts.items} items (${d.counts.train} train, ${d.counts.eval} eval)` +
  `${d.counts.invalid ? `, ${d.counts.invalid} invalid` : ''}${d.rejects ? `, ${d.rejects} rejected at import` : ''}`;

export function datasetCommand(): Command {
  const cmd = new Command('dataset').description("the studio's datasets: list, show, import and export MuFun's JSON format, split");
  const splitOption = () => new Option('--split <split>', 'the split of the imported items').choices(['train', 'eval']).default('train');

  cmd
    .command('list')
    .description('list the datasets (id, name, items per split, invalid items)')
    .option('--db <file>', DB_HELP)
    .option('--json', 'print JSON')
    .action((o: { db?: string; json?: boolean }) =>
      withCatalog(o.db, (db) => {
        const all = new DatasetStore(db).list();
        if (o.json) console.log(JSON.stringify(all, null, 2));
        else if (!all.length) console.log('no datasets yet');
        else for (const d of all) console.log(summary(d));
      }),
    );

  cmd
    .command('show')
    .description("a dataset's items with their audio, split, label and problems")
    .argument('<dataset>', 'id or name')
    .option('--db <file>', DB_HELP)
    .option('--json', 'print JSON')
    .action((ref: string, o: { db?: string; json?: boolean }) =>
      withCatalog(o.db, (db) => {
        const store = new DatasetStore(db);
        const d = datasetOf(store, ref);
        const items = store.items(d.id);
        if (o.json) {
          console.log(JSON.stringify({ dataset: d, items, rejects: store.rejects(d.id) }, null, 2));
          return;
        }
        console.log(summary(d));
        for (const i of items) {
          const audio = i.audios.map((a) => `${a.title}${a.start !== null ? ` ${a.start}–${a.end} s` : ''}`).join(' + ') || 'no audio';
          console.log(`  item ${i.id}${i.sampleId ? ` (${i.sampleId})` : ''} [${i.split}] ${audio}${i.label ? ` → ${i.label}` : ''}`);
          for (const p of i.problems) console.log(`    problem: ${p}`);
        }
        for (const r of store.rejects(d.id)) console.log(`  rejected at import: sample ${r.index}${r.sampleId ? ` (${r.sampleId})` : ''} of ${r.source}: ${r.message}`);
      }),
    );

  cmd
    .command('import')
    .description("read a MuFun JSON file (audio paths relative to --audio-root) into a new or an existing dataset")
    .argument('<file>', 'the JSON file (an array of MuFun samples)')
    .requiredOption('--audio-root <dir>', 'the folder the audio paths are relative to (added to the library when in none)')
    .option('--name <name>', 'create a dataset with this name (default: the file name)')
    .option('--into <dataset>', 'add to this dataset (id or name) instead')
    .addOption(splitOption())
    .option('--db <file>', DB_HELP)
    .action((file: string, o: { audioRoot: string; name?: string; into?: string; split: Split; db?: string }) =>
      withCatalog(o.db, async (db) => {
        if (o.name && o.into) throw new Error('give --name for a new dataset or --into for an existing one, not both');
        const store = new DatasetStore(db);
        const datasetId = o.into ? datasetOf(store, o.into).id : undefined;
        const name = datasetId === undefined ? (o.name ?? file.split(/[\\/]/).pop()!.replace(/\.json$/i, '')) : undefined;
        const r = await importMufunDataset(db, new LibraryStore(db), { path: resolve(file), audioRoot: resolve(o.audioRoot), name, datasetId, split: o.split });
        console.log(`imported ${r.imported} sample${r.imported === 1 ? '' : 's'} into ${r.dataset.name} (id ${r.dataset.id}) as ${o.split}`);
        if (r.tracksAdded) console.log(`added ${r.tracksAdded} track${r.tracksAdded === 1 ? '' : 's'} to the library`);
        for (const f of r.foldersAdded) console.log(`added the library folder ${f}`);
        if (r.dataset.counts.invalid) console.log(`${r.dataset.counts.invalid} item(s) need fixing before export (mufun dataset show ${r.dataset.id})`);
        if (r.problems.length) {
          console.error(`${r.problems.length} sample${r.problems.length === 1 ? ' was' : 's were'} not imported (kept in the catalog as rejects):`);
          for (const p of r.problems) console.error(`  sample ${p.index}${p.sampleId ? ` (${p.sampleId})` : ''}: ${p.message}`);
          process.exitCode = 2;
        }
      }),
    );

  cmd
    .command('synth')
    .description(
      'render synthetic music with ground truth (FluidSynth, as mufun synth-data) and import it as a new dataset: ' +
        'train → train, val → eval (test.json stays in the folder, for mufun eval); the same command again resumes a stopped one',
    )
    .argument('<name>', "the new dataset's name")
    .option('--clips <n>', `clips over all splits (default ${SYNTHESIS_DEFAULTS.clips})`, parsePositiveInt, SYNTHESIS_DEFAULTS.clips)
    .option('--seconds <s>', `seconds per clip (default ${SYNTHESIS_DEFAULTS.seconds})`, parseSeconds, SYNTHESIS_DEFAULTS.seconds)
    .option('--seed <s>', `the music's seed (default ${SYNTHESIS_DEFAULTS.seed})`, parseSeed, SYNTHESIS_DEFAULTS.seed)
    .option('--questions-per-clip <n>', `train questions per task and clip (default ${SYNTHESIS_DEFAULTS.questionsPerClip})`, parsePositiveInt, SYNTHESIS_DEFAULTS.questionsPerClip)
    .option('--option-orders-per-clip <n>', 'further multiple-choice questions per clip, each its own options and order (default 0)', parseNonNegativeInt, SYNTHESIS_DEFAULTS.optionOrders)
    .option('--option-order-tasks <list>', `the tasks those are asked for, comma-separated (default ${SYNTHESIS_DEFAULTS.optionOrderTasks.join(',')})`, parseChoiceTasks)
    .option('--binding-questions <n>', 'text-only train items that teach picking an option by its letter, the label given as a hint (default 0)', parseNonNegativeInt, SYNTHESIS_DEFAULTS.bindingQuestions)
    .option('--binding-any-label-share <f>', `share of them with options from every task's labels (default ${SYNTHESIS_DEFAULTS.bindingAnyLabelShare})`, parseShare, SYNTHESIS_DEFAULTS.bindingAnyLabelShare)
    .option('--mc-answers <form>', `multiple-choice answers as letter-first ("B. y", MuCUE's), label-first ("y (B)") or label-only ("y") (default ${SYNTHESIS_DEFAULTS.mcAnswers})`, parseMcAnswers, SYNTHESIS_DEFAULTS.mcAnswers)
    .option('--mode-via-key', 'answer the major/minor questions through the key: "In D major, so major."')
    .option('--out <dir>', 'folder for the clips, MIDI and JSON (default: synthetic/<name> beside the catalog)')
    .option('--db <file>', DB_HELP)
    .action((name: string, o: {
      clips: number; seconds: number; seed: number; questionsPerClip: number; optionOrdersPerClip: number; optionOrderTasks?: SynthesisChoiceTask[]; bindingQuestions: number; bindingAnyLabelShare: number; mcAnswers: McAnswerForm; modeViaKey?: boolean; out?: string; db?: string;
    }) =>
      withCatalog(o.db, async (db) => {
        const { clips, seconds, seed, questionsPerClip, optionOrderTasks, bindingQuestions, bindingAnyLabelShare, mcAnswers, modeViaKey } = o;
        const plan = planSynthesis(db, catalogPath(o.db), {
          name, clips, seconds, seed, questionsPerClip, optionOrders: o.optionOrdersPerClip, optionOrderTasks, bindingQuestions, bindingAnyLabelShare, mcAnswers, modeViaKey, outDir: o.out && resolve(o.out),
        });
        const ctrl = new AbortController();
        const stop = () => {
          console.error(`\nmufun dataset synth: stopping after the clips being rendered; the same command resumes (clips in ${plan.outDir})`);
          ctrl.abort();
        };
        process.once('SIGINT', stop);
        let last = 0;
        try {
          const r = await synthesizeDataset(db, new LibraryStore(db), plan, {
            signal: ctrl.signal,
            onProgress: (done, total) => {
              if (done < total && performance.now() - last < 2000) return;
              last = performance.now();
              console.error(`clips ${done}/${total}`);
            },
            onImporting: () => console.error(`importing into the catalog as ${plan.name}`),
          });
          console.log(`made ${plan.name} (id ${r.datasetId}): ${r.summary}`);
        } finally {
          process.off('SIGINT', stop);
        }
      }),
    );

  cmd
    .command('export')
    .description('write <out-dir>/train.json (and eval.json) in MuFun\'s JSON format, for mufun train --data … --audio-folder …')
    .argument('<dataset>', 'id or name')
    .argument('<out-dir>', 'where to write the files')
    .option('--db <file>', DB_HELP)
    .action((ref: string, out: string, o: { db?: string }) =>
      withCatalog(o.db, (db) => {
        const d = datasetOf(new DatasetStore(db), ref);
        const r = writeMufunDataset(db, d.id, out);
        console.log(`wrote ${r.train} (${r.counts.train} samples)`);
        if (r.eval) console.log(`wrote ${r.eval} (${r.counts.eval} samples)`);
        console.log(`audio folder: ${r.audioFolder}`);
        console.log(`train with: mufun train --data ${r.train}${r.eval ? ` --eval_data_path ${r.eval}` : ''} --audio-folder ${r.audioFolder}`);
      }),
    );

  cmd
    .command('split')
    .description('a seeded random train/eval split')
    .argument('<dataset>', 'id or name')
    .requiredOption('--eval <fraction>', 'the fraction of items for eval (0–1)', parseShare)
    .option('--seed <n>', 'the seed (the same seed gives the same split)', parseSeed, 0)
    .option('--db <file>', DB_HELP)
    .action((ref: string, o: { eval: number; seed: number; db?: string }) =>
      withCatalog(o.db, (db) => {
        const store = new DatasetStore(db);
        console.log(summary(randomSplit(store, datasetOf(store, ref).id, o.eval, o.seed)));
      }),
    );
  return cmd;
}
