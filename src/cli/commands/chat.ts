import { createInterface } from 'node:readline/promises';
import { Command, InvalidArgumentError } from 'commander';
import { type ChatInput, type ChatRecord, Conversation } from '../../model/chat.js';
import { defaultModelDir } from '../../model/default-model.js';
import type { Segment } from '../../model/audio/load.js';
import type { GenerateOptions } from '../../model/generate.js';
import { MufunModel } from '../../model/mufun.js';
import type { ExecutionProvider } from '../../model/runtime.js';
import { TEMPLATE_NAMES, type TemplateName, countAudioPlaceholders } from '../../model/template.js';
import { Tokenizer } from '../../model/tokenizer.js';
import { parseDtype, parseEp, parseThreads } from '../main.js';

const collect = (v: string, prev: string[]) => [...prev, v];

function parseSeg(v: string): Segment | null {
  if (v === 'all' || v === '-') return null;
  const m = /^\s*([\d.]+)\s*,\s*([\d.]+)\s*$/.exec(v);
  if (!m) throw new InvalidArgumentError('a segment is start,end in seconds (or "all")');
  return [Number(m[1]), Number(m[2])];
}

const num = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${what} must be a number`);
  return n;
};

interface ChatCliOptions {
  model?: string; tokenizer?: string; audio: string[]; seg: string[]; ep: ExecutionProvider; dtype: 'float32' | 'float16';
  threads?: number; template: TemplateName; maxNewTokens: number; minNewTokens?: number; temperature: number; topK?: number; topP?: number;
  repetitionPenalty?: number; seed?: number; json?: boolean;
}

export function chatCommand(): Command {
  return new Command('chat')
    .description('ask a MuFun model about songs and passages (interactive when no prompt is given)')
    .argument('[prompt]', 'the question; <audio> marks where each audio goes (added in front when absent)')
    .option('--model <dir>', 'MuFun model folder (default: the embedded model, or MUFUN_MODEL)')
    .option('--tokenizer <dir>', 'tokenizer folder when the model folder has none')
    .option('--audio <file>', 'an audio file, once per <audio> in order (repeatable)', collect, [])
    .option('--seg <start,end>', 'segment of the matching --audio in seconds, or "all" (repeatable)', collect, [])
    .option('--ep <provider>', 'execution provider: cpu, webgpu or cuda', parseEp, 'cpu' as ExecutionProvider)
    .option('--dtype <type>', 'float32 or float16', parseDtype, 'float32' as const)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--template <name>', `prompt template (${TEMPLATE_NAMES.join(', ')})`, 'qwen2_instruct')
    .option('--max-new-tokens <n>', 'answer length limit', parseThreads, 256)
    .option('--min-new-tokens <n>', 'no end of answer before this many tokens', parseThreads)
    .option('--temperature <t>', '0 = greedy', num('temperature'), 0)
    .option('--top-k <k>', 'sample from the k most likely tokens', parseThreads)
    .option('--top-p <p>', 'nucleus sampling', num('top-p'))
    .option('--repetition-penalty <r>', '> 1 discourages repeats', num('repetition penalty'))
    .option('--seed <n>', 'sampling seed', parseThreads)
    .option('--json', 'print the final record as JSON instead of streaming the text')
    .action(async (prompt: string | undefined, o: ChatCliOptions) => {
      if (!TEMPLATE_NAMES.includes(o.template)) throw new Error(`unknown template ${o.template} (known: ${TEMPLATE_NAMES.join(', ')})`);
      const dir = o.model ?? defaultModelDir();
      const model = MufunModel.load(dir, { ep: o.ep, dtype: o.dtype, threads: o.threads });
      const tokenizer = Tokenizer.fromDir(o.tokenizer ?? dir);
      const conv = new Conversation(model, tokenizer, { template: o.template });
      const gen: GenerateOptions = {
        maxNewTokens: o.maxNewTokens, minNewTokens: o.minNewTokens, temperature: o.temperature, topK: o.topK, topP: o.topP,
        repetitionPenalty: o.repetitionPenalty, seed: o.seed,
      };
      const segs = o.seg.map(parseSeg);
      const withAudio = (q: string): ChatInput => {
        const text = o.audio.length && countAudioPlaceholders(q) === 0 ? '<audio>\n'.repeat(o.audio.length) + q : q;
        return { prompt: text, audio: o.audio, segs: segs.length ? segs : null };
      };
      const controller = new AbortController();
      process.once('SIGINT', () => controller.abort());
      const ask = async (input: ChatInput): Promise<ChatRecord> => {
        const it = conv.ask(input, { ...gen, signal: controller.signal });
        let r = await it.next();
        while (!r.done) {
          if (!o.json) process.stdout.write(r.value);
          r = await it.next();
        }
        if (o.json) console.log(JSON.stringify({ model: dir, ...r.value }));
        else process.stdout.write('\n');
        return r.value;
      };
      try {
        if (prompt !== undefined) {
          await ask(withAudio(prompt));
          return;
        }
        // Interactive: the audio goes with the first question; later ones continue the conversation.
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        let first = true;
        for (;;) {
          const q = (await rl.question('> ').catch(() => null))?.trim();
          if (q === undefined || q === null || q === '/exit') break;
          if (!q) continue;
          try {
            await ask(first ? withAudio(q) : { prompt: q });
            first = false;
          } catch (e) {
            console.error(`mufun: ${(e as Error).message}`);
          }
        }
        rl.close();
      } finally {
        await model.release();
      }
    });
}
