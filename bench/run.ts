// `npm run bench -- <name> [options]`: runs a benchmark and its baseline in one process run,
// printing one JSON object.
import { join } from 'node:path';
import { Command } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../src/model/runtime.js';
import { QUANT_MODES, type QuantMode } from '../src/model/quant.js';
import type { ChatVariant } from './chat.js';
import { engineBench } from './engine.js';

function parseQuant(v: string): QuantMode {
  if (!QUANT_MODES.includes(v as QuantMode)) throw new Error(`--quant: ${v} is not one of ${QUANT_MODES.join(', ')}`);
  return v as QuantMode;
}

const CONFIGS = join(import.meta.dirname, '..', '..', 'bench', 'configs');

const p = new Command('bench').description('benchmarks, each next to its baseline from the same run');

/** A benchmark on a model config with random weights: --config, --threads and (with `ep`) --ep. */
function modelBench(name: string, description: string, o: { ep: boolean }): Command {
  const c = p.command(name).description(description)
    .option('--config <file>', 'model config (random weights)', join(CONFIGS, 'small.json'))
    .option('--threads <n>', 'CPU threads, ours and PyTorch', '2');
  return o.ep ? c.option('--ep <provider>', `execution provider (${EXECUTION_PROVIDERS.join(', ')})`, 'cpu') : c;
}

modelBench('engine', 'audio tower ms per clip and prefill ms (plus log-mel and decode) vs torch_mufun.py', { ep: true })
  .option('--prompt <n>', 'prompt tokens for prefill', '64')
  .option('--new <n>', 'decoded tokens', '32')
  .option('--quant <modes>', 'also time the LLM weight-only quantized: comma-separated int8,int4 ("none" to skip)', 'int8,int4')
  .option('--no-baseline', 'skip PyTorch')
  .action(async (o) => {
    const r = await engineBench({
      config: o.config, threads: Number(o.threads), ep: o.ep as ExecutionProvider,
      prompt: Number(o.prompt), newTokens: Number(o.new), baseline: o.baseline,
      quant: o.quant === 'none' ? [] : String(o.quant).split(',').map(parseQuant),
    });
    console.log(JSON.stringify(r, null, 1));
  });

p.command('audio')
  .description('log-mel ms per 30 s clip vs torch_mufun.py log_mel, and decode + resample of a 4-minute 44.1 kHz stereo mp3')
  .option('--threads <n>', 'CPU threads, ours and PyTorch', '2')
  .option('--mel-bins <n>', 'mel bins', '128')
  .option('--seconds <n>', 'length of the generated mp3', '240')
  .option('--no-baseline', 'skip PyTorch and ffmpeg')
  .action(async (o) => {
    const { audioBench } = await import('./audio.js');
    const r = await audioBench({ threads: Number(o.threads), melBins: Number(o.melBins), seconds: Number(o.seconds), baseline: o.baseline });
    console.log(JSON.stringify(r, null, 1));
  });

p.command('real')
  .description('the embedded model (or --model) on real recordings it never heard: answer format and picks per task, captions, a whole track; the same questions on synthetic test clips as the reference')
  .option('--audio <paths...>', 'recordings (files or folders)')
  .option('--model <dir>', 'model folder (default: the embedded model)')
  .option('--synthetic <dir>', 'a synth-data folder (test.json, audio/) whose test clips get the same questions')
  .option('--synthetic-clips <n>', 'how many of its piece clips', '40')
  .option('--threads <n>', 'CPU threads', '2')
  .option('--seed <n>', 'question seed', '1')
  .action(async (o) => {
    const { realBench, DEBIAN_MUSIC } = await import('./real.js');
    const r = await realBench({
      audio: o.audio ?? DEBIAN_MUSIC, model: o.model, synthetic: o.synthetic, syntheticClips: Number(o.syntheticClips),
      threads: Number(o.threads), seed: Number(o.seed),
    });
    console.log(JSON.stringify(r, null, 1));
  });

modelBench('chat', 'chat(): time to first token (30 s clip + 50-token question) and decode tokens/s vs torch_mufun.py', { ep: true })
  .option('--new <n>', 'decoded tokens', '32')
  .option('--variants <list>', 'weights: comma-separated float32 (screened LM head on the CPU), float32-full-head, int8, int4', 'float32,float32-full-head,int4')
  .option('--no-baseline', 'skip PyTorch')
  .action(async (o) => {
    const { chatBench, CHAT_VARIANTS } = await import('./chat.js');
    const r = await chatBench({
      config: o.config, threads: Number(o.threads), ep: o.ep as ExecutionProvider, newTokens: Number(o.new), baseline: o.baseline,
      variants: String(o.variants).split(',').map((v) => {
        if (!(CHAT_VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v} (known: ${CHAT_VARIANTS.join(', ')})`);
        return v as ChatVariant;
      }),
    });
    console.log(JSON.stringify(r, null, 1));
  });

p.command('learn')
  .description('a real run through the CLI: MuFun-nano learns the pitch register of tones (warm-up, finetune, optionally GRPO); held-out accuracy before and after')
  .option('--threads <n>', 'CPU threads', '2')
  .option('--train <n>', 'training tones', '240')
  .option('--eval <n>', 'held-out tones', '60')
  .option('--epochs <n>', 'finetune epochs', '6')
  .option('--lr <x>', 'finetune learning rate', '1e-3')
  .option('--grpo <steps>', 'GRPO steps after the finetune, on tones of their own', '0')
  .option('--grpo-lr <x>', 'GRPO learning rate', '3e-4')
  .option('--grpo-beta <x>', 'GRPO KL coefficient to the starting model', '0.04')
  .option('--grpo-reward <spec>', 'GRPO reward: answer (MuFun\'s: the label text) or choice (the option, as mufun eval scores it)', 'answer:1')
  .option('--seed <n>', 'data, shuffling and sampling seed', '1')
  .option('--keep', 'keep the run folder')
  .action(async (o) => {
    const { learnBench } = await import('./learn.js');
    const r = await learnBench({
      threads: Number(o.threads), trainClips: Number(o.train), evalClips: Number(o.eval), epochs: Number(o.epochs),
      learningRate: Number(o.lr), grpoSteps: Number(o.grpo), grpoLearningRate: Number(o.grpoLr), grpoBeta: Number(o.grpoBeta), grpoReward: String(o.grpoReward), seed: Number(o.seed), keep: !!o.keep,
    });
    console.log(JSON.stringify(r, null, 1));
  });

p.command('probe')
  .description('what a model\'s audio path keeps: linear probes per tagging task on the log-mel (the baseline), each feature layer and the audio tokens of a synth-data folder\'s clips')
  .requiredOption('--data <dir>', 'a synth-data folder (labels.jsonl, audio/)')
  .option('--model <dirs...>', 'model folders (default: the embedded model)')
  .option('--train-clips <n>', 'fit on the first n train clips (default: all)')
  .option('--epochs <n>', 'probe training epochs', '60')
  .option('--threads <n>', 'CPU threads', '2')
  .action(async (o) => {
    const { probeBench } = await import('./probe.js');
    const { defaultModelDir } = await import('../src/model/default-model.js');
    const r = await probeBench({
      models: o.model ?? [defaultModelDir()], data: o.data, threads: Number(o.threads), epochs: Number(o.epochs),
      trainClips: o.trainClips ? Number(o.trainClips) : undefined,
    });
    console.log(JSON.stringify(r, null, 1));
  });

modelBench('train', 'training step (full finetune and LoRA) for batch × seq tokens vs torch_mufun.py train step', { ep: false })
  .option('--batch <n>', 'rows per micro-batch', '2')
  .option('--seq <n>', 'tokens per row', '128')
  .option('--lora-r <n>', 'LoRA rank (MuFun recipe: 64)', '64')
  .option('--no-baseline', 'skip PyTorch')
  .action(async (o) => {
    const { trainBench } = await import('./train.js');
    const r = await trainBench({ config: o.config, threads: Number(o.threads), batch: Number(o.batch), seq: Number(o.seq), loraR: Number(o.loraR), baseline: o.baseline });
    console.log(JSON.stringify(r, null, 1));
  });

p.parseAsync(process.argv).catch((e) => {
  console.error(`bench: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
