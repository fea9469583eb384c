import { Command, InvalidArgumentError } from 'commander';
import { mergeLora } from '../../model/lora-merge.js';
import { parseThreads } from '../main.js';

const DTYPES = { keep: 'keep', float32: 'F32', float16: 'F16', bfloat16: 'BF16' } as const;

function parseSize(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$/i.exec(v);
  if (!m) throw new InvalidArgumentError('a size like 2GB, 500MB or a byte count');
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(m[2] ?? 'B').toUpperCase() as 'B'];
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw new InvalidArgumentError('must be positive');
  return n;
}

interface MergeCliOptions {
  model: string; adapter: string; out: string; tokenizer?: string; dtype: keyof typeof DTYPES; maxShardSize?: number; threads?: number; force?: boolean;
}

export function loraCommand(): Command {
  const lora = new Command('lora').description('LoRA adapters in PEFT\'s format');
  lora.command('merge')
    .description('merge a LoRA adapter into its base model: a Hugging Face MuFun folder with W + (alpha/r)·B·A')
    .requiredOption('--model <dir>', 'base model: a Hugging Face MuFun folder')
    .requiredOption('--adapter <dir>', 'PEFT adapter folder (adapter_config.json + adapter_model.safetensors)')
    .requiredOption('--out <dir>', 'new folder for the merged model')
    .option('--tokenizer <dir>', 'copy the tokenizer files from here (when the model folder has none)')
    .option('--dtype <type>', 'merged weights as stored in the base (keep), or float32, float16, bfloat16', (v: string) => {
      if (!(v in DTYPES)) throw new InvalidArgumentError(`must be one of ${Object.keys(DTYPES).join(', ')}`);
      return v as keyof typeof DTYPES;
    }, 'keep' as const)
    .option('--max-shard-size <size>', 'largest weight file (default 2GB); more become shards with an index', parseSize)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--force', 'write into a folder that already has files')
    .action(async (o: MergeCliOptions) => {
      const tty = process.stderr.isTTY;
      const r = await mergeLora(o.model, o.adapter, o.out, {
        tokenizerDir: o.tokenizer, dtype: DTYPES[o.dtype], maxShardBytes: o.maxShardSize, threads: o.threads, force: o.force,
        onTensor: (name, done, total) => {
          if (tty) process.stderr.write(`\r${done}/${total} tensors ${name.slice(-60).padEnd(60)}`);
        },
      });
      if (tty) process.stderr.write('\n');
      console.log(JSON.stringify({ out: o.out, mergedTensors: r.merged.length, tensors: r.tensors, shards: r.shards, bytes: r.bytes, scale: r.scale }));
    });
  return lora;
}
