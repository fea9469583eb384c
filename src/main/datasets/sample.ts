// One item ↔ one sample of MuFun's JSON format:
//   {"id", "audio": "a.wav" | ["a.wav", "b.wav"], "time": [s, e] | [[s, e] | null, …] (optional),
//    "conversations": [{"from": "human", "value": "<audio>\n…"}, {"from": "gpt", "value": "…"}], …}
// The item keeps whether its audio was one path or a list, its task and label fields, and every
// other field verbatim, so a sample read and written again comes back the same.
import { relative, sep } from 'node:path';
import type { DatasetTurn } from '../../shared/api-datasets.js';
import type { StoredItem } from './store.js';

export type Segment = [number, number];

/** A sample as the import reads it, before its audio paths are resolved to tracks. */
export interface ParsedSample {
  sampleId: string | null;
  audioPaths: string[];
  audioForm: 'single' | 'list';
  segs: (Segment | null)[];
  turns: DatasetTurn[];
  task: string | null;
  label: string | null;
  extra: Record<string, unknown>;
}

const KNOWN = new Set(['id', 'audio', 'time', 'conversations']);
const isSeg = (x: unknown): x is Segment => Array.isArray(x) && x.length === 2 && x.every((v) => typeof v === 'number' && Number.isFinite(v));

/** Reads one sample of a MuFun JSON array; a string says why it cannot be taken. */
export function parseSample(raw: unknown): ParsedSample | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'not a JSON object';
  const s = raw as Record<string, unknown>;
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!KNOWN.has(k)) extra[k] = v;

  let sampleId: string | null = null;
  if (typeof s.id === 'string') sampleId = s.id;
  else if (typeof s.id === 'number') {
    sampleId = String(s.id);
    extra.id = s.id; // written back as the number it was
  } else if (s.id !== undefined && s.id !== null) return '"id" must be a string or a number';

  if (!Array.isArray(s.conversations)) return '"conversations" must be a list of {"from", "value"} turns';
  for (const [i, t] of s.conversations.entries()) {
    const turn = t as { from?: unknown; value?: unknown } | null;
    if (typeof turn !== 'object' || turn === null || typeof turn.from !== 'string' || typeof turn.value !== 'string') {
      return `turn ${i + 1} is not {"from": string, "value": string}`;
    }
  }
  const turns = s.conversations as DatasetTurn[];

  let audioPaths: string[];
  let audioForm: 'single' | 'list' = 'single';
  if (s.audio === undefined || s.audio === null) audioPaths = [];
  else if (typeof s.audio === 'string') audioPaths = [s.audio];
  else if (Array.isArray(s.audio) && s.audio.every((a) => typeof a === 'string')) {
    audioPaths = s.audio as string[];
    audioForm = 'list';
  } else return '"audio" must be a path or a list of paths';
  if (audioPaths.some((p) => p.trim() === '')) return '"audio" has an empty path';
  if (s.audio === null) extra.audio = null;

  let segs: (Segment | null)[] = audioPaths.map(() => null);
  if (s.time !== undefined && s.time !== null) {
    if (isSeg(s.time) && audioPaths.length === 1) segs = [s.time];
    else if (Array.isArray(s.time) && s.time.length === audioPaths.length && s.time.every((x) => x === null || isSeg(x))) {
      segs = s.time as (Segment | null)[];
    } else return '"time" must be [start, end] for one audio or one [start, end] (or null) per audio';
    for (const seg of segs) if (seg && !(seg[1] > seg[0] && seg[0] >= 0)) return `"time" segment [${seg.join(', ')}] is empty or negative`;
  } else if (s.time === null) extra.time = null;

  let task: string | null = null, label: string | null = null;
  if (typeof extra.task === 'string') {
    task = extra.task;
    delete extra.task;
  }
  if (typeof extra.label === 'string') {
    label = extra.label;
    delete extra.label;
  }
  return { sampleId, audioPaths, audioForm, segs, turns, task, label, extra };
}

/** An audio path as MuFun's JSON writes it: relative to the root, with forward slashes. */
export function relativeAudioPath(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

/** The MuFun sample of an item, its audio paths relative to `audioRoot`. */
export function toSample(item: StoredItem, audioRoot: string, fallbackId: string): Record<string, unknown> {
  const { id: keptId, ...extra } = item.extra;
  const out: Record<string, unknown> = { id: keptId ?? item.sampleId ?? fallbackId };
  const list = item.audioForm === 'list' || item.audios.length > 1;
  const paths = item.audios.map((a) => relativeAudioPath(audioRoot, a.path));
  const segs = item.audios.map((a) => (a.start !== null && a.end !== null ? [a.start, a.end] : null));
  if (paths.length) out.audio = list ? paths : paths[0];
  if (segs.some((s) => s !== null)) out.time = list ? segs : segs[0];
  out.conversations = item.turns;
  if (item.task !== null) out.task = item.task;
  if (item.label !== null) out.label = item.label;
  return { ...out, ...extra };
}
