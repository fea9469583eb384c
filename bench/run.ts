// `npm run bench -- <name> [options]`: runs a benchmark and its baseline in one process run,
// printing one JSON object.
import { join } from 'node:path';
import { Command } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../src/model/runtime.js';
import { engineBench } from './engine.js';

const CONFIGS = join(import.meta.dirname, '..', '..', 'bench', 'configs');

const p = new Command('bench').description('benchmarks, each next to its baseline from the same run');
p.command('engine')
  .description('audio tower ms per clip and prefill ms (plus log-mel and decode) vs torch_mufun.py')
  .option('--config <file>', 'model config (random weights)', join(CONFIGS, 'small.json'))
  .option('--threads <n>', 'CPU threads, ours and PyTorch', '2')
  .option('--ep <provider>', `execution provider (${EXECUTION_PROVIDERS.join(', ')})`, 'cpu')
  .option('--prompt <n>', 'prompt tokens for prefill', '64')
  .option('--new <n>', 'decoded tokens', '32')
  .option('--no-baseline', 'skip PyTorch')
  .action(async (o) => {
    const r = await engineBench({
      config: o.config, threads: Number(o.threads), ep: o.ep as ExecutionProvider,
      prompt: Number(o.prompt), newTokens: Number(o.new), baseline: o.baseline,
    });
    console.log(JSON.stringify(r, null, 1));
  });

p.parseAsync(process.argv).catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
