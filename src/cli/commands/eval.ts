import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { writeMufunSplit } from '../../main/datasets/export.js';
import { DatasetStore } from '../../main/datasets/store.js';
import { defaultModelDir } from '../../model/default-model.js';
import { evaluate, formatReport, loadEvalSet } from '../../model/eval.js';
import { MufunModel } from '../../model/mufun.js';
import type { ExecutionProvider } from '../../model/runtime.js';
import { TEMPLATE_NAMES, type TemplateName } from '../../model/template.js';
import { Tokenizer } from '../../model/tokenizer.js';
import { parseDtype, parseEp, parseThreads } from '../main.js';
import { DB_HELP, datasetOf, withCatalog } from './dataset.js';

interface EvalCliOptions {
  model?: string; data?: string; dataset?: string; split: 'train' | 'eval'; db?: string; audioFolder?: string; tokenizer?: string; limit?: number; json?: boolean;
  template: TemplateName; maxNewTokens: number; badSamples: 'skip' | 'fail'; ep: ExecutionProvider; dtype: 'float32' | 'float16'; threads?: number;
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('accuracy per task on a multiple-choice dataset in MuFun\'s JSON format (answers by greedy generation)')
    .option('--data <file>', 'eval set: a JSON array of MuFun samples whose answers name an option ("B. blues", "B" or "blues")')
    .option('--dataset <dataset>', "or a studio dataset's split (id or name), as the Models page evaluates it")
    .addOption(new Option('--split <split>', 'with --dataset: which split').choices(['eval', 'train']).default('eval'))
    .option('--db <file>', `with --dataset: ${DB_HELP}`)
    .option('--model <dir>', 'MuFun model folder (default: the embedded model, or MUFUN_MODEL)')
    .option('--audio-folder <dir>', 'root for relative audio paths (default: the data file\'s folder)')
    .option('--tokenizer <dir>', 'tokenizer folder when the model folder has none')
    .option('--limit <n>', 'evaluate the first n samples only', parseThreads)
    .option('--template <name>', `prompt template (${TEMPLATE_NAMES.join(', ')})`, 'qwen2_instruct')
    .option('--max-new-tokens <n>', 'answer length limit', parseThreads, 32)
    .option('--bad-samples <what>', 'samples with missing audio or broken turns: skip (reported) or fail', 'skip')
    .option('--ep <provider>', 'execution provider: cpu, webgpu or cuda', parseEp, 'cpu' as ExecutionProvider)
    .option('--dtype <type>', 'float32 or float16', parseDtype, 'float32' as const)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--json', 'print the report (per task, overall, every sample) as JSON')
    .action(async (o: EvalCliOptions) => {
      if (!TEMPLATE_NAMES.includes(o.template)) throw new Error(`unknown template ${o.template} (known: ${TEMPLATE_NAMES.join(', ')})`);
      if (o.badSamples !== 'skip' && o.badSamples !== 'fail') throw new Error('--bad-samples must be skip or fail');
      if (!o.data === !o.dataset) throw new Error('give --data FILE (a MuFun JSON file) or --dataset NAME (a studio dataset), one of them');
      let data = o.data!, audioRoot = o.audioFolder ?? dirname(data ?? '.');
      if (o.dataset) {
        // the split as MuFun JSON, as the studio's evaluations read it
        const exported = await withCatalog(o.db, (db) => writeMufunSplit(db, datasetOf(new DatasetStore(db), o.dataset!).id, o.split, mkdtempSync(join(tmpdir(), 'mufun-eval-'))));
        [data, audioRoot] = [exported.file, exported.audioFolder];
      }
      const { samples, problems } = loadEvalSet(data, { audioRoot, onBadSample: o.badSamples });
      for (const p of problems) console.error(`mufun eval: skipped ${p.id}: ${p.message}`);
      const dir = o.model ?? defaultModelDir();
      const model = MufunModel.load(dir, { ep: o.ep, dtype: o.dtype, threads: o.threads });
      const tokenizer = Tokenizer.fromDir(o.tokenizer ?? dir);
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      const tty = process.stderr.isTTY;
      let right = 0;
      try {
        const report = await evaluate(model, tokenizer, samples, { template: o.template, maxNewTokens: o.maxNewTokens, limit: o.limit, signal: controller.signal }, (done, total, r) => {
          if (r.correct) right++;
          if (tty) process.stderr.write(`\r${done}/${total} answered, ${((100 * right) / done).toFixed(1)}% correct `);
        });
        if (tty) process.stderr.write('\n');
        if (report.cancelled) console.error(`mufun eval: cancelled after ${report.results.length} samples; the report covers those`);
        if (o.json) {
          console.log(JSON.stringify({ model: dir, data, skipped: problems.map((p) => ({ id: p.id, message: p.message })), ...report }, null, 2));
        } else {
          console.log(formatReport(report));
          if (problems.length) console.log(`(${problems.length} bad sample${problems.length > 1 ? 's' : ''} skipped)`);
        }
      } finally {
        process.off('SIGINT', stop);
        await model.release();
      }
    });
}
