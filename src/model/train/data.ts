// Training data in MuFun's JSON format: an array of samples
//   {"id", "audio": "a.wav" | ["a.mp3", "b.mp3"], "time": [s, e] | [[s, e], …] (optional),
//    "conversations": [{"from": "human", "value": "<audio>\n…"}, {"from": "gpt", "value": "…"}]}
// with audio paths relative to an audio root. Bad samples are reported by id, then skipped
// or fail the run; nothing is silently wrong.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { Segment } from '../audio/load.js';
import { rng } from '../sampling.js';
import { type TemplateName, type Turn, countAudioPlaceholders, encodeConversation } from '../template.js';
import type { Tokenizer } from '../tokenizer.js';

export interface MufunSample {
  id: string;
  audio?: string | string[];
  time?: Segment | Segment[];
  conversations: { from: string; value: string }[];
}

export interface SampleProblem {
  index: number;
  id: string;
  message: string;
}

export class DatasetError extends Error {
  constructor(message: string, readonly problems: SampleProblem[] = []) {
    super(message);
  }
}

export interface AudioRef {
  path: string;
  seg: Segment | null;
}

export interface PreparedSample {
  id: string;
  turns: Turn[];
  audios: AudioRef[];
  /** the sample's `task` field, if any (per-task evaluation) */
  task?: string;
}

export interface EncodedSample extends PreparedSample {
  ids: number[]; // AUDIO_TOKEN at each <audio>
  labels: number[];
  truncated: boolean;
}

/** Reads and parses a dataset file; malformed JSON names the file and the position. */
export function readDatasetFile(path: string): unknown[] {
  if (!existsSync(path)) throw new DatasetError(`dataset ${path} does not exist`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DatasetError(`dataset ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new DatasetError(`dataset ${path} must be a JSON array of samples (MuFun's format)`);
  return data;
}

const isSeg = (x: unknown): x is Segment => Array.isArray(x) && x.length === 2 && x.every((v) => typeof v === 'number' && Number.isFinite(v));

/**
 * Checks one raw sample and resolves its audio paths. Returns the problem, or the sample as
 * turns and audio references. A leading non-human turn is skipped, as MuFun does.
 */
export function prepareSample(raw: unknown, index: number, audioRoot: string): PreparedSample | SampleProblem {
  const s = raw as Partial<MufunSample> | null;
  const id = typeof s?.id === 'string' || typeof s?.id === 'number' ? String(s.id) : `#${index}`;
  const bad = (message: string): SampleProblem => ({ index, id, message });
  if (!s || typeof s !== 'object') return bad('not an object');
  if (!Array.isArray(s.conversations) || s.conversations.length === 0) return bad('no conversations');
  let conv = s.conversations;
  if (conv[0]?.from !== 'human') conv = conv.slice(1);
  const turns: Turn[] = [];
  for (const [i, t] of conv.entries()) {
    if (!t || typeof t.value !== 'string' || (t.from !== 'human' && t.from !== 'gpt')) return bad(`turn ${i} is not {"from": "human"|"gpt", "value": string}`);
    const want = i % 2 === 0 ? 'human' : 'gpt';
    if (t.from !== want) return bad(`turns must alternate human/gpt: turn ${i} is "${t.from}", expected "${want}"`);
    turns.push({ from: t.from, value: t.value });
  }
  if (turns.length < 2 || turns.length % 2) return bad(`unbalanced turns: ${turns.length} turns (every question needs an answer)`);
  const files = s.audio === undefined || s.audio === null ? [] : typeof s.audio === 'string' ? [s.audio] : s.audio;
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string')) return bad('"audio" must be a path or a list of paths');
  const markers = turns.reduce((n, t) => n + countAudioPlaceholders(t.value), 0);
  if (markers !== files.length) return bad(`${markers} <audio> placeholders but ${files.length} audio files`);
  let segs: (Segment | null)[] = files.map(() => null);
  if (s.time !== undefined && s.time !== null) {
    if (isSeg(s.time) && files.length === 1) segs = [s.time];
    else if (Array.isArray(s.time) && s.time.length === files.length && s.time.every((x) => x === null || isSeg(x))) segs = s.time as (Segment | null)[];
    else return bad(`"time" must be [start, end] for one audio or one [start, end] per audio`);
    for (const seg of segs) if (seg && !(seg[1] > seg[0] && seg[0] >= 0)) return bad(`"time" segment [${seg}] is empty or negative`);
  }
  const audios: AudioRef[] = [];
  for (const [i, f] of files.entries()) {
    const path = isAbsolute(f) ? f : join(audioRoot, f);
    if (!existsSync(path)) return bad(`audio file ${f} not found under ${audioRoot}`);
    audios.push({ path, seg: segs[i] });
  }
  const task = (s as { task?: unknown }).task;
  return typeof task === 'string' && task ? { id, turns, audios, task } : { id, turns, audios };
}

export interface LoadDatasetOptions {
  audioRoot: string;
  /** 'skip' reports bad samples and goes on; 'fail' stops before training. */
  onBadSample?: 'skip' | 'fail';
}

export function loadDataset(path: string, o: LoadDatasetOptions): { samples: PreparedSample[]; problems: SampleProblem[] } {
  const raw = readDatasetFile(path);
  const samples: PreparedSample[] = [];
  const problems: SampleProblem[] = [];
  raw.forEach((r, i) => {
    const p = prepareSample(r, i, o.audioRoot);
    if ('message' in p) problems.push(p);
    else samples.push(p);
  });
  if (problems.length && (o.onBadSample ?? 'fail') === 'fail') {
    const list = problems.slice(0, 10).map((p) => `  ${p.id}: ${p.message}`).join('\n');
    throw new DatasetError(`${problems.length} bad sample${problems.length > 1 ? 's' : ''} in ${path}:\n${list}${problems.length > 10 ? '\n  …' : ''}`, problems);
  }
  if (!samples.length) throw new DatasetError(`${path} has no usable samples`, problems);
  return { samples, problems };
}

/** Template + tokenizer: ids with audio markers and MuFun's labels, cut to maxLength. */
export function encodeSample(s: PreparedSample, tokenizer: Tokenizer, template: TemplateName, maxLength: number): EncodedSample {
  const enc = encodeConversation(tokenizer, template, s.turns, { maxLength });
  return { ...s, ids: enc.ids, labels: enc.labels, truncated: enc.truncated };
}

/** A seeded permutation (Fisher–Yates with mulberry32), so epochs shuffle reproducibly. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rnd = rng(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
