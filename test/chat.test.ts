// chat(): MuFun's API end to end on the tiny fixture model with a real (reduced Qwen3)
// tokenizer and real audio files: streaming, segments, several audios, follow-up turns
// that reuse the audio and the KV cache, cancellation, and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatError, type ChatRecord, Conversation, chat } from '../src/model/chat.js';
import { MufunModel } from '../src/model/mufun.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { tinyChatModel, toneWav } from './helpers/chat-model.js';

let model: MufunModel;
let tokenizer: Tokenizer;
let song: string; // 41 s: two clips
let short: string;

beforeAll(() => {
  const dir = tinyChatModel();
  model = MufunModel.load(dir, { noCache: true, threads: 2 });
  tokenizer = Tokenizer.fromDir(dir);
  song = toneWav(41);
  short = toneWav(3.5, 22050, [440]);
});
afterAll(() => model.release());

async function run(it: AsyncGenerator<string, ChatRecord>): Promise<{ pieces: string[]; record: ChatRecord }> {
  const pieces: string[] = [];
  let r = await it.next();
  while (!r.done) {
    pieces.push(r.value);
    r = await it.next();
  }
  return { pieces, record: r.value };
}

describe('chat', () => {
  it('streams pieces that add up to the answer, greedy and repeatable', async () => {
    const a = await run(chat(model, tokenizer, { prompt: '\n<audio>How is the rhythm of this music clip?', audio: short }, { maxNewTokens: 12 }));
    expect(a.pieces.length).toBeGreaterThan(0);
    expect(a.pieces.join('')).toBe(a.record.text);
    expect(a.record.tokens).toBeGreaterThan(0);
    expect(a.record.tokens).toBeLessThanOrEqual(12);
    expect(a.record.promptPositions).toBeGreaterThan(300); // one clip = 300 audio positions
    expect(a.record.timeToFirstTokenMs).toBeGreaterThan(0);
    const b = await run(chat(model, tokenizer, { prompt: '\n<audio>How is the rhythm of this music clip?', audio: short }, { maxNewTokens: 12 }));
    expect(b.record.text).toBe(a.record.text);
  });

  it('takes several audios, one segment each (null = whole file), long audio as several clips', async () => {
    const { record } = await run(chat(model, tokenizer, {
      prompt: '\n<audio> This is song1. <audio> This is song2. Which one is faster?', audio: [song, short], segs: [null, [0.5, 2.5]],
    }, { maxNewTokens: 4 }));
    // 2 clips of the 41 s song + 1 clip of the segment, 300 positions each
    expect(record.promptPositions).toBeGreaterThan(900);
    const seg = await run(chat(model, tokenizer, { prompt: '<audio>Key?', audio: song, segs: [10, 20] }, { maxNewTokens: 2 }));
    expect(seg.record.promptPositions).toBeLessThan(record.promptPositions - 600); // the 10 s segment is one clip, the song two
  });

  it('answers a follow-up from the cache exactly as a fresh computation would', async () => {
    const cached = new Conversation(model, tokenizer);
    const fresh = new Conversation(model, tokenizer, { reuseCache: false });
    const turns = [{ prompt: '<audio>\nWhat instrument is this?', audio: short }, { prompt: 'And the tempo?' }];
    const answers: string[][] = [[], []];
    for (const t of turns) {
      const a = await run(cached.ask(t, { maxNewTokens: 6 }));
      const b = await run(fresh.ask(t, { maxNewTokens: 6 }));
      answers[0].push(a.record.text);
      answers[1].push(b.record.text);
      if (t === turns[1]) {
        expect(a.record.prefilledPositions).toBeLessThan(a.record.promptPositions - 300); // audio not recomputed
        expect(b.record.prefilledPositions).toBe(b.record.promptPositions);
      }
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(cached.turns.map((t) => t.from)).toEqual(['human', 'gpt', 'human', 'gpt']);
  });

  it("can end the generation prompt at 'ASSISTANT:' so the answer's first token brings its space (models trained that way)", async () => {
    const ask = async (trailingSpace: boolean) => {
      const conv = new Conversation(model, tokenizer, { trailingSpace });
      return (await run(conv.ask({ prompt: 'Name the instrument.' }, { maxNewTokens: 3 }))).record;
    };
    const mufun = await ask(true), merged = await ask(false);
    expect(merged.promptPositions).toBe(mufun.promptPositions - 1);
    expect(merged.text).toBe(merged.text.trimStart());
  });

  it('stops at once when cancelled', async () => {
    const ctl = new AbortController();
    const it = chat(model, tokenizer, { prompt: 'Tell me about music.' }, { maxNewTokens: 200, signal: ctl.signal });
    let r = await it.next();
    ctl.abort();
    while (!r.done) r = await it.next();
    expect(r.value.stopReason).toBe('cancelled');
    expect(r.value.tokens).toBeLessThanOrEqual(3);
  });

  it('samples with a seed: the same seed repeats, settings are validated', async () => {
    const gen = { maxNewTokens: 8, temperature: 1.0, topP: 0.9, seed: 42 };
    const a = await run(chat(model, tokenizer, { prompt: 'Hi' }, gen));
    const b = await run(chat(model, tokenizer, { prompt: 'Hi' }, gen));
    expect(a.record.text).toBe(b.record.text);
    await expect(run(chat(model, tokenizer, { prompt: 'Hi' }, { temperature: -2 }))).rejects.toThrow(/temperature/);
  });
});

describe('chat rejects bad input before doing any work', () => {
  it('more or fewer <audio> than audio files', async () => {
    await expect(run(chat(model, tokenizer, { prompt: '<audio><audio>Compare', audio: short }))).rejects.toThrow(/2 <audio> placeholders but 1 audio file was given/);
    await expect(run(chat(model, tokenizer, { prompt: 'No placeholder', audio: [short, song] }))).rejects.toThrow(/0 <audio> placeholders but 2 audio files were given/);
  });

  it('an unreadable or missing audio file', async () => {
    await expect(run(chat(model, tokenizer, { prompt: '<audio>?', audio: '/no/such/file.mp3' }))).rejects.toThrow(/cannot read audio file \/no\/such\/file\.mp3/);
  });

  it('a segment outside the file, or segments that do not match the audios', async () => {
    await expect(run(chat(model, tokenizer, { prompt: '<audio>?', audio: short, segs: [10, 20] }))).rejects.toThrow(/not inside/);
    await expect(run(chat(model, tokenizer, { prompt: '<audio><audio>?', audio: [short, song], segs: [0, 1] }))).rejects.toThrow(ChatError);
  });

  it('a context longer than the model takes', async () => {
    const conv = new Conversation(model, tokenizer, { maxContext: 500 });
    await expect(run(conv.ask({ prompt: '<audio>?', audio: song }))).rejects.toThrow(/needs \d+ positions .* at most 500/);
  });

  it('audio longer than the context holds: says how much would fit', async () => {
    const clipSec = model.clipSamples / 16000;
    const oneClip = new Conversation(model, tokenizer, { maxContext: model.tokensPerClip + 160 }); // the song is two clips; the text takes ~100
    await expect(run(oneClip.ask({ prompt: '<audio>?', audio: song }))).rejects.toThrow(`ask about at most ${clipSec} s of audio (select a segment)`);
    // the same conversation takes the song's first clip, and then has no room for more audio
    await run(oneClip.ask({ prompt: '<audio>?', audio: song, segs: [0, clipSec] }, { maxNewTokens: 2 }));
    await expect(run(oneClip.ask({ prompt: '<audio>And this?', audio: short }))).rejects.toThrow(/no room for more audio in this conversation \(start a new one\)/);
  });
});
