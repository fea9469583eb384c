import { Command } from 'commander';
import { defaultModelDir } from '../../model/default-model.js';
import type { ExecutionProvider } from '../../model/runtime.js';
import { addTrainOptions, parseTrainOptions } from '../../model/train/options.js';
import { type TrainEvent, train, trainerConfigFrom } from '../../model/train/trainer.js';
import { parseEp, parseThreads } from '../main.js';

const fmt = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`);

/** One status line on stderr: a bar, then loss, lr, tokens/s and the time left. */
function progress(e: TrainEvent & { type: 'step' }): string {
  const width = 24;
  const done = Math.round((e.step / e.totalSteps) * width);
  const bar = '█'.repeat(done) + '░'.repeat(width - done);
  return `\r${bar} ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(2)} ${e.tokensPerSecond.toFixed(0)} tok/s ETA ${fmt(e.etaSec)}  `;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description("train or finetune a MuFun model with MuFun's recipes (warm-up, full, finetune, LoRA); flags use MuFun's train.py names")
    .option('--tokenizer <dir>', 'tokenizer folder when the model folder has none')
    .option('--ep <provider>', 'execution provider: cpu, webgpu or cuda', parseEp, 'cpu' as ExecutionProvider)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--json', 'print each event as a JSON line on stdout instead of the progress bar');
  addTrainOptions(cmd);
  return cmd.action(async (raw: Record<string, unknown>) => {
    const opts = parseTrainOptions({ ...raw, pretrained_model_path: raw.pretrained_model_path ?? raw.model ?? defaultModelDir() });
    const cfg = trainerConfigFrom(opts, { tokenizerDir: raw.tokenizer as string | undefined, runtime: { ep: raw.ep as ExecutionProvider, threads: raw.threads as number | undefined } });
    const controller = new AbortController();
    process.once('SIGINT', () => {
      console.error('\nmufun train: stopping after this step (the last checkpoint stays; resume with --resume_from_checkpoint last)');
      controller.abort();
    });
    const json = !!raw.json;
    const r = await train(cfg, (e) => {
      if (json) return console.log(JSON.stringify(e));
      if (e.type === 'start') {
        console.error(`mufun train: ${e.trainSamples} samples (${e.skipped.length} skipped), ${e.evalSamples} eval, ${e.totalSteps} steps, ${e.trainable.toLocaleString()} trainable values, audio in as ${e.audioInput}${e.resumedFrom ? `, resuming at step ${e.resumedFrom}` : ''}`);
        for (const p of e.skipped) console.error(`  skipped ${p.id}: ${p.message}`);
      } else if (e.type === 'step') {
        process.stderr.write(progress(e));
      } else if (e.type === 'eval') {
        const acc = e.evalAccuracy !== undefined ? ` accuracy ${(e.evalAccuracy * 100).toFixed(1)} %` : '';
        console.error(`\n  eval at step ${e.step}: loss ${e.evalLoss.toFixed(4)}${acc}`);
      } else if (e.type === 'save') {
        console.error(`\n  saved ${e.dir}`);
      } else {
        console.error(`\nmufun train: done at step ${e.step}; model in ${e.finalDir} (metrics: ${e.outputDir}/metrics.jsonl)`);
      }
    }, controller.signal);
    if (json) console.log(JSON.stringify({ type: 'result', ...r }));
  });
}
