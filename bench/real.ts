// MuFun-nano on real recordings it never heard (issue #7): music shipped in Debian's packages
// (the game soundtracks of extremetuxracer-data and frozen-bubble-data: produced mixes, several
// instruments at once, none of them FluidSynth). Nobody labelled them, so this measures what can
// be measured without labels: does every answer come in the format it was trained in (a letter,
// ". ", that letter's option; else which way it strays), what does it pick per task (graceful is spread over plausible
// options, not one letter for everything), what do its captions say, and what happens with a
// whole track, longer than its context. The same questions on the synthetic test clips, asked
// in the same run, are the reference for the format rate.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { audioInfo } from '../src/model/audio/info.js';
import { ChatError, Conversation, type ChatInput, drain } from '../src/model/chat.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { matchOption, normalizeAnswer, parseOptions } from '../src/model/eval.js';
import { MufunModel } from '../src/model/mufun.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { Prng } from '../src/synth/prng.js';
import { PIECE_TASKS, TASK_CLASSES, answerParts, unlabelledQuestion, type Task } from '../src/synth/questions.js';

/** Where Debian's packages put their music (sound effects there are shorter than MIN_SECONDS). */
export const DEBIAN_MUSIC = ['/usr/share/games/etr/music', '/usr/share/games/frozen-bubble/snd'];
const MIN_SECONDS = 30;
const AUDIO = /\.(ogg|oga|opus|mp3|flac|wav)$/i;

export interface RealOptions {
  audio: string[]; // files or folders
  model?: string;
  threads: number;
  seed: number;
  /** synthetic clips to ask the same questions of: a folder with test.json and audio/ (synth-data's output) */
  synthetic?: string;
  syntheticClips: number;
}

/**
 * The shape of a multiple-choice answer: `exact` is a trained format ("B. brass" or "brass (B)",
 * B being brass's letter, or an option's text alone, "brass"); `mismatch` a letter with another
 * option's label; `unoffered` a label the question does not offer (one of the task's `labels`
 * when alone); `malformed` anything else. Labels compare as `mufun eval` reads them (case and
 * spacing aside), so "B. Piano" is exact when B is piano. An answer given through the key ("In D
 * major, so major.") has the shape of what follows "so".
 */
type Form = 'exact' | 'mismatch' | 'unoffered' | 'malformed';
const FORMS: readonly Form[] = ['exact', 'mismatch', 'unoffered', 'malformed'];

export function formOf(answer: string, options: readonly string[], labels: readonly string[] = []): Form {
  const { letter, label } = answerParts(answer);
  const text = normalizeAnswer(label);
  const named = options.findIndex((o) => normalizeAnswer(o) === text);
  if (letter === null) return named >= 0 ? 'exact' : labels.some((l) => normalizeAnswer(l) === text) ? 'unoffered' : 'malformed';
  const at = 'ABCDEFGHIJ'.indexOf(letter);
  if (at >= options.length) return 'malformed';
  return named === at ? 'exact' : named >= 0 ? 'mismatch' : 'unoffered';
}

interface Answer { task: Task; prompt: string; answer: string; picked: string | null; form: Form | null }

async function ask(conv: Conversation, input: ChatInput): Promise<string> {
  return (await drain(conv.ask(input, { maxNewTokens: 48 }))).text.trim();
}

function recordings(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...readdirSync(p).filter((f) => AUDIO.test(f)).sort().map((f) => join(p, f)));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

export async function realBench(o: RealOptions) {
  const files = recordings(o.audio);
  const long: { file: string; seconds: number }[] = [];
  for (const f of files) {
    const seconds = (await audioInfo(f)).durationSec;
    if (seconds >= MIN_SECONDS) long.push({ file: f, seconds });
  }
  if (!long.length) {
    throw new Error(`no recordings of ${MIN_SECONDS} s or more in ${o.audio.join(', ')}: install Debian's extremetuxracer-data and frozen-bubble-data, or pass --audio`);
  }
  const dir = o.model ?? defaultModelDir();
  const model = MufunModel.load(dir, { threads: o.threads });
  const tokenizer = Tokenizer.fromDir(dir);
  const clipSeconds = model.clipSamples / 16000;
  const t0 = performance.now();
  let asked = 0;

  // One question per task, each in a fresh conversation, as `mufun eval` asks them.
  const askAll = async (audio: string, segs: [number, number] | null, key: string): Promise<Answer[]> => {
    const out: Answer[] = [];
    for (const task of PIECE_TASKS) {
      const q = unlabelledQuestion(Prng.for(o.seed, `real:${key}:${task}`), task);
      const answer = await ask(new Conversation(model, tokenizer), { prompt: q.prompt, audio, segs });
      asked++;
      const i = q.options.length ? matchOption(answer, parseOptions(q.prompt)) : null;
      out.push({ task, prompt: q.prompt.replace('<audio>\n', ''), answer, picked: i === null ? null : q.options[i], form: q.options.length ? formOf(answer, q.options, task === 'caption' ? [] : TASK_CLASSES[task].classes) : null });
    }
    return out;
  };

  const tracks = [];
  for (const { file, seconds } of long) {
    // a clip from the middle: past any intro, as a listener would sample a track
    const start = Math.max(0, seconds / 2 - clipSeconds / 2);
    const answers = await askAll(file, [start, start + clipSeconds], basename(file));
    // the whole track, as the studio sends it when nothing is selected
    let wholeTrack: { answer?: string; error?: string };
    try {
      wholeTrack = { answer: await ask(new Conversation(model, tokenizer), { prompt: `<audio>\n${answers[0].prompt}`, audio: file }) };
    } catch (e) {
      if (!(e instanceof ChatError)) throw e;
      wholeTrack = { error: e.message };
    }
    tracks.push({ file, seconds: +seconds.toFixed(1), segment: [+start.toFixed(2), +(start + clipSeconds).toFixed(2)], answers, wholeTrack });
  }
  const msPerAnswer = (performance.now() - t0) / asked;

  // The reference: the same kind of questions (other words and orders) on synthetic test clips.
  const synthetic = [];
  if (o.synthetic) {
    const test = JSON.parse(readFileSync(join(o.synthetic, 'test.json'), 'utf8')) as { audio?: string; task: string }[];
    const chordClips = new Set(test.filter((s) => s.task === 'chord').map((s) => s.audio)); // held chords: no piece questions
    const audios = [...new Set(test.map((s) => s.audio))].filter((a): a is string => !!a && !chordClips.has(a)).slice(0, o.syntheticClips);
    for (const a of audios) synthetic.push(...await askAll(join(o.synthetic, 'audio', a), null, a));
  }

  const summary = (answers: readonly Answer[]) => Object.fromEntries(PIECE_TASKS.map((task) => {
    const rs = answers.filter((a) => a.task === task);
    const counts: Record<string, number> = {};
    for (const r of rs) if (r.picked !== null) counts[r.picked] = (counts[r.picked] ?? 0) + 1;
    const forms = Object.fromEntries(FORMS.map((f) => [f, rs.filter((r) => r.form === f).length]));
    return [task, { asked: rs.length, picksAnOption: rs.filter((r) => r.picked !== null).length, forms, picked: counts }];
  }));
  await model.release();
  return {
    bench: 'real',
    model: dir,
    recordings: tracks.length,
    clipSeconds,
    tokensPerClip: model.tokensPerClip,
    maxContext: Math.min(model.config.maxLength, model.config.llm.maxPositions),
    msPerAnswer: Math.round(msPerAnswer),
    real: summary(tracks.flatMap((t) => t.answers)),
    synthetic: o.synthetic ? { clips: synthetic.length / PIECE_TASKS.length, tasks: summary(synthetic) } : null,
    tracks,
  };
}
