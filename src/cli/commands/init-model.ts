import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { initCheckpoint } from '../../model/init.js';
import { writeReducedTokenizer } from '../../model/tokenizer-reduce.js';
import { parseSeed, parseThreads } from '../main.js';

export function initModelCommand(): Command {
  return new Command('init-model')
    .description('create a MuFun model folder with freshly initialised weights (training from scratch)')
    .requiredOption('--config <file>', 'MuFun config.json (TinyLLaVA style: text_config, vision_config, connector_type)')
    .requiredOption('--out <dir>', 'the new model folder')
    .option('--tokenizer <dir>', 'copy this tokenizer folder into the model')
    .option('--reduce-vocab-from <dir>', "cut this byte-level BPE tokenizer (e.g. Qwen3's) to the config's vocab_size")
    .option('--seed <n>', 'initialisation seed', parseSeed, 0)
    .action((o: { config: string; out: string; tokenizer?: string; reduceVocabFrom?: string; seed: number }) => {
      const raw = JSON.parse(readFileSync(o.config, 'utf8'));
      const { parameters } = initCheckpoint(raw, o.out, o.tokenizer ?? null, o.seed);
      if (o.reduceVocabFrom) writeReducedTokenizer(o.reduceVocabFrom, o.out, raw.text_config.vocab_size);
      console.log(JSON.stringify({ out: o.out, parameters }));
    });
}
