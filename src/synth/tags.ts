// A synth-data folder as tagging data (src/model/train/tagging.ts): the generator's labels and
// classes for each clip task and, with frame tasks, each audio token's labels from the clip's
// MIDI. Shared by `mufun tag-train` and the studio's tagging jobs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FrameTargets, type TagTask, type TaggedClip, synthTags } from '../model/train/tagging.js';
import { TrainError } from '../model/train/trainer.js';
import type { ClipSpec } from './compose.js';
import { FRAME_TASKS, frameLabels } from './frames.js';
import { readMidi } from './midi.js';
import { TASK_CLASSES, labelOf } from './questions.js';

/** The clip tasks tagging can learn (every labelled task of the generator). */
export const TAG_TASKS: readonly string[] = Object.keys(TASK_CLASSES);

export interface SynthTagSet {
  tasks: TagTask[];
  splits: Record<'train' | 'val' | 'test', TaggedClip[]>;
  frames?: FrameTargets;
  /** the numbers each clip has for `values` (TaggedClip.values) */
  valueTasks?: string[];
}

/**
 * The numbers tagging can regress per clip: a piece's tempo as log2(bpm / 100), so that half and
 * double time are equally wrong (the tempo class alone lets the tower hear a 62-BPM piece in
 * eighths as fast, and tells it nothing of how near a boundary it is). Held chords have none.
 */
export const VALUE_TASKS = { 'log2 bpm / 100': (spec: ClipSpec) => (spec.kind === 'piece' ? Math.log2(spec.bpm / 100) : NaN) } as const;
/** `tag-train --tempo_weight`'s default, for the CLI and the studio alike: no tempo regression. */
export const TEMPO_WEIGHT_DEFAULT = 0;
/** `tag-train --tempo_token_weight`'s default: no tempo regression from each audio token. */
export const TEMPO_TOKEN_WEIGHT_DEFAULT = 0;
/** Whether a run with these weights regresses the tempo at all, and so needs every clip's BPM. */
export const regressesTempo = (tempoWeight: number, tempoTokenWeight: number) => tempoWeight > 0 || tempoTokenWeight > 0;

/**
 * The folder's labels.jsonl as tagging tasks and clips by split. `tasks` null: all of them.
 * With `frames`, every clip's MIDI file must be there (checked now, not halfway through a run).
 */
export function synthTagSet(dataDir: string, o: { tasks?: readonly string[] | null; frames?: boolean; values?: boolean } = {}): SynthTagSet {
  const classes = Object.fromEntries(Object.entries(TASK_CLASSES).map(([k, v]) => [k, v.classes]));
  const midiFile = (spec: ClipSpec & { midi?: string }) => {
    const file = spec.midi ? join(dataDir, spec.midi) : null;
    if (!file || !existsSync(file)) {
      throw new TrainError(`clip ${spec.id}: ${file ? `its MIDI file ${file} is missing` : `${join(dataDir, 'labels.jsonl')} names no MIDI file`} (frame tasks read the notes from it; make the set again, or train without frame tasks)`);
    }
    return file;
  };
  const midiOf = (spec: ClipSpec) => {
    const file = midiFile(spec);
    try {
      return readMidi(readFileSync(file));
    } catch (e) {
      throw new TrainError(`clip ${spec.id}: ${file} is not a MIDI file we can read (${(e as Error).message})`);
    }
  };
  const frames = o.frames ? { tasks: FRAME_TASKS, of: (spec: ClipSpec, tokens: number, sec: number) => frameLabels(spec, midiOf(spec), tokens, sec) } : undefined;
  const values = o.values ? { tasks: Object.keys(VALUE_TASKS), of: (spec: ClipSpec) => Object.values(VALUE_TASKS).map((f) => f(spec)) } : undefined;
  const set = synthTags<ClipSpec>(dataDir, o.tasks ?? null, (spec, task) => labelOf(spec, task as never), classes, frames, values);
  if (o.frames) {
    const specs = readFileSync(join(dataDir, 'labels.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as ClipSpec);
    for (const spec of specs) midiFile(spec);
  }
  return set;
}
