// MuFun's chat(): a prompt with <audio> placeholders, one audio (and optional segment) per
// placeholder, streamed text out. A Conversation keeps its turns, the embeddings of every
// audio it has heard (encoded once) and its KV cache, so a follow-up question only prefills
// what is new.
import { access, stat } from 'node:fs/promises';
import { audioInfo } from './audio/info.js';
import { type Segment, loadAudio } from './audio/load.js';
import { type GenerateOptions, generateTokens } from './generate.js';
import type { KvCache } from './kvcache.js';
import type { MufunModel } from './mufun.js';
import { AUDIO_TOKEN, planSplice } from './splice.js';
import { type TemplateName, type Turn, countAudioPlaceholders, encodeConversation, getTemplate, trailingSpaceOf } from './template.js';
import { TokenStreamDecoder, type Tokenizer } from './tokenizer.js';

export class ChatError extends Error {}

/** Runs an answer's stream to its end, for callers that want the record, not the pieces. */
export async function drain<R>(it: AsyncGenerator<string, R>): Promise<R> {
  let r = await it.next();
  while (!r.done) r = await it.next();
  return r.value;
}

export interface ChatInput {
  prompt: string;
  /** one path, one per <audio> in order, or none */
  audio?: string | readonly string[] | null;
  /** [start, end] seconds for a single audio, or one entry per audio (null = whole file) */
  segs?: Segment | readonly (Segment | null)[] | null;
}

export interface ChatRecord {
  text: string;
  tokens: number;
  promptPositions: number; // positions the model attended over (audio included)
  prefilledPositions: number; // of which computed in this turn (the rest came from the cache)
  /** from the question to the first answer token: audio decoding, log-mel, tower and prefill included */
  timeToFirstTokenMs: number;
  tokensPerSecond: number;
  stopReason: 'stop' | 'length' | 'cancelled';
}

interface HeardAudio {
  key: string;
  clips: number;
  embeds: Float32Array;
}

/** Normalises MuFun's (audio, segs) arguments to one entry per audio. */
export function audioList(input: ChatInput): { path: string; seg: Segment | null }[] {
  const paths = input.audio == null ? [] : typeof input.audio === 'string' ? [input.audio] : [...input.audio];
  const s = input.segs ?? null;
  let segs: (Segment | null)[];
  if (s === null) segs = paths.map(() => null);
  else if (s.length === 2 && typeof s[0] === 'number') segs = paths.length === 1 ? [s as Segment] : badSegs(paths.length);
  else segs = [...(s as readonly (Segment | null)[])];
  if (segs.length !== paths.length) throw new ChatError(`${segs.length} segments given for ${paths.length} audio files (give one per audio; null = whole file)`);
  return paths.map((path, i) => ({ path, seg: segs[i] }));
}

function badSegs(n: number): never {
  throw new ChatError(`segs [start, end] is for a single audio; with ${n} audio files give one entry per audio`);
}

export interface ConversationOptions {
  template?: TemplateName;
  /** positions the model may attend over; default: the config's tokenizer_model_max_length */
  maxContext?: number;
  /** continue the KV cache across turns (default); false recomputes every turn from scratch */
  reuseCache?: boolean;
  /**
   * End the generation prompt at "ASSISTANT:" instead of "ASSISTANT: " (see EncodeOptions.trailingSpace).
   * Default: the model config's choice, else MuFun's.
   */
  trailingSpace?: boolean;
}

export class Conversation {
  readonly turns: Turn[] = [];
  private heard: HeardAudio[] = []; // in order of appearance over the whole conversation
  private cache: KvCache | null = null;
  private cachedIds: number[] = []; // ids (with audio markers) whose positions are in the cache
  readonly template: TemplateName;
  readonly maxContext: number;
  private reuseCache: boolean;
  private trailingSpace: boolean;

  constructor(
    readonly model: MufunModel,
    readonly tokenizer: Tokenizer,
    opts: ConversationOptions = {},
  ) {
    this.template = opts.template ?? 'qwen2_instruct';
    this.maxContext = opts.maxContext ?? Math.min(model.config.maxLength, model.config.llm.maxPositions);
    this.reuseCache = opts.reuseCache ?? true;
    this.trailingSpace = opts.trailingSpace ?? trailingSpaceOf(model.config.raw);
    getTemplate(this.template, tokenizer); // fail now on an unknown template
  }

  /** Asks the next question; yields text pieces as they are decoded, returns the record. */
  async *ask(input: ChatInput, gen: GenerateOptions = {}): AsyncGenerator<string, ChatRecord> {
    const t0 = performance.now(); // time to first token counts audio decoding and the tower too
    let firstTokenAt = 0;
    const audios = audioList(input);
    const markers = countAudioPlaceholders(input.prompt);
    if (markers !== audios.length) {
      throw new ChatError(`the prompt has ${markers} <audio> placeholder${markers === 1 ? '' : 's'} but ${audios.length} audio file${audios.length === 1 ? ' was' : 's were'} given`);
    }
    // Everything that can fail cheaply is checked before any decoding or model work.
    const newClips: number[] = [];
    for (const a of audios) {
      try {
        await access(a.path);
      } catch {
        throw new ChatError(`cannot read audio file ${a.path}`);
      }
      const info = await audioInfo(a.path);
      const [s, e] = a.seg ?? [0, info.durationSec];
      if (a.seg && (!(e > s) || s < 0 || s >= info.durationSec)) {
        throw new ChatError(`segment [${s}, ${e}] is not inside ${a.path} (${info.durationSec.toFixed(2)} s)`);
      }
      newClips.push(clipCount(Math.round((Math.min(e, info.durationSec) - s) * 16000), this.model.clipSamples));
    }
    const turns: Turn[] = [...this.turns, { from: 'human', value: input.prompt }];
    const enc = encodeConversation(this.tokenizer, this.template, turns, { generation: true, trailingSpace: this.trailingSpace });
    const merged = enc.spaceDropped; // the answer's first token brings its own space
    const tpc = this.model.tokensPerClip;
    const needed = (clips: number[]) => enc.ids.length - enc.audioCount + tpc * clips.reduce((a, b) => a + b, 0);
    const fits = (n: number) => {
      if (n < this.maxContext) return;
      // Say what would fit: a whole song is more than a small model's context holds.
      const room = Math.floor((this.maxContext - 1 - needed([])) / tpc) - this.heard.reduce((k, h) => k + h.clips, 0);
      const clipSec = this.model.clipSamples / 16000;
      const hint = !newClips.length ? ''
        : room > 0 ? `: ask about at most ${room * clipSec} s of audio (select a segment)`
        : ': there is no room for more audio in this conversation (start a new one)';
      throw new ChatError(`the conversation needs ${n} positions (audio included) but the model takes at most ${this.maxContext}${hint}`);
    };
    fits(needed([...this.heard.map((h) => h.clips), ...newClips])); // from the headers, before decoding
    const heard = [...this.heard];
    for (const a of audios) heard.push(await this.hear(a.path, a.seg));
    const positions = needed(heard.map((h) => h.clips)); // exact, now that the audio is decoded
    fits(positions);
    this.heard = heard;
    const maxNew = gen.maxNewTokens ?? 256;

    // Reuse the cache up to where it agrees with the new prompt (a re-tokenized answer can
    // differ from the generated tokens near its end); recompute only from there.
    let start = 0;
    if (this.cache && this.reuseCache) {
      start = commonPrefix(this.cachedIds, enc.ids);
      if (start === enc.ids.length) start--; // at least one new position must be computed for logits
      const keep = start - enc.ids.slice(0, start).filter((t) => t === AUDIO_TOKEN).length + tpc * this.heard
        .slice(0, enc.ids.slice(0, start).filter((t) => t === AUDIO_TOKEN).length).reduce((n, h) => n + h.clips, 0);
      await this.cache.truncate(keep);
    } else {
      this.cache?.dispose();
      this.cache = this.model.newCache();
    }
    const suffix = enc.ids.slice(start);
    const audioBefore = enc.ids.slice(0, start).filter((t) => t === AUDIO_TOKEN).length;
    const suffixAudio = this.heard.slice(audioBefore);
    const plan = planSplice([{ ids: suffix }], suffixAudio.map((h) => h.clips), tpc);
    const embeds = concat(suffixAudio.map((h) => h.embeds));

    const t = getTemplate(this.template, this.tokenizer);
    const stops = new Set<number>();
    const endId = t.kind === 'mufun' && t.end ? this.tokenizer.tokenToId(t.end) : undefined;
    if (endId !== undefined) stops.add(endId);
    if (this.tokenizer.eosTokenId !== undefined) stops.add(this.tokenizer.eosTokenId);
    const opts: GenerateOptions = { ...gen, maxNewTokens: Math.min(maxNew, this.maxContext - positions), stopTokens: [...stops, ...(gen.stopTokens ?? [])] };

    const decoder = new TokenStreamDecoder(this.tokenizer, { skipSpecialTokens: false });
    const tokens: number[] = [];
    let text = '';
    const it = generateTokens(this.model, plan, embeds, this.cache, opts);
    let r = await it.next();
    while (!r.done) {
      const id = r.value;
      tokens.push(id);
      firstTokenAt ||= performance.now();
      if (!stops.has(id)) {
        let piece = decoder.push(id);
        if (merged && !text) piece = piece.trimStart();
        if (piece) {
          text += piece;
          yield piece;
        }
      }
      r = await it.next();
    }
    let rest = decoder.flush();
    if (merged && !text) rest = rest.trimStart();
    if (rest) {
      text += rest;
      yield rest;
    }
    const stats = r.value;
    // The cache now holds the prompt and every generated token but the last (never fed back).
    this.cachedIds = [...enc.ids, ...tokens.slice(0, -1)];
    this.turns.push({ from: 'human', value: input.prompt }, { from: 'gpt', value: text });
    return {
      text,
      tokens: tokens.length,
      promptPositions: positions,
      prefilledPositions: stats.promptPositions,
      timeToFirstTokenMs: firstTokenAt ? firstTokenAt - t0 : 0,
      tokensPerSecond: stats.tokensPerSecond,
      stopReason: stats.stopReason,
    };
  }

  /** Decodes, cuts and resamples an audio, then runs the tower once; reused across turns. */
  private async hear(path: string, seg: Segment | null): Promise<HeardAudio> {
    const st = await stat(path);
    const key = `${path}|${seg ? seg.join(',') : 'all'}|${st.size}|${st.mtimeMs}`;
    const known = this.heard.find((h) => h.key === key);
    if (known) return known;
    const { pcm } = await loadAudio(path, { segment: seg });
    const mels = await this.model.melClips(pcm);
    return { key, clips: mels.length, embeds: await this.model.encodeClips(mels) };
  }
}

/** Clips of an audio of n samples at 16 kHz: MuFun's 30 s rule (a trailing ≤ 0.5 s clip is dropped). */
export function clipCount(n: number, clipSamples: number): number {
  if (n <= clipSamples) return 1;
  const full = Math.floor(n / clipSamples);
  return full + (n - full * clipSamples > 8000 ? 1 : 0);
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function concat(parts: Float32Array[]): Float32Array | null {
  if (!parts.length) return null;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** MuFun's `chat(prompt, audio_files, segs)`: one question, optionally after earlier turns. */
export async function* chat(
  model: MufunModel, tokenizer: Tokenizer,
  input: ChatInput & { history?: readonly Turn[]; template?: TemplateName }, gen: GenerateOptions = {},
): AsyncGenerator<string, ChatRecord> {
  if ((input.history ?? []).some((t) => countAudioPlaceholders(t.value) > 0)) {
    throw new ChatError('history turns with <audio> need their audio: ask them through one Conversation instead');
  }
  const conv = new Conversation(model, tokenizer, { template: input.template });
  conv.turns.push(...(input.history ?? []));
  return yield* conv.ask(input, gen);
}
