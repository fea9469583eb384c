// Frame labels: what sounds in each audio token's stretch of a clip, from the clip's MIDI and spec.
//
// A clip's labels (key, tempo, meter, …) are one answer for ten seconds of audio; learning to
// hear pitch and beat from 960 of those is what the from-scratch tower failed at (key at chance,
// although a linear probe reads it off the mean log-mel). The notes themselves give a label to
// every 0.1 s: which pitch classes sound, the bass note, the chord, where the beats fall. These
// local labels teach the tower to hear the ingredients; the clip labels then only combine them.
import { type ParsedMidi } from './midi.js';
import type { ClipSpec } from './compose.js';
import { CHORD_QUALITIES, METER_INFO, PITCH_NAMES_SHARP, diatonicTriad } from './theory.js';

const IGNORE = -100;
const DRUM_CHANNEL = 9;
/** A note counts as sounding in a token when it overlaps the token's stretch this long (s). */
const MIN_OVERLAP = 0.03;

/** The frame tasks, in label order: a token's labels are one class index per task (or −100). */
export const PITCH_CLASS_TASKS: readonly string[] = PITCH_NAMES_SHARP.map((n) => `sounds ${n}`);
export const FRAME_TASKS: readonly { task: string; classes: readonly string[] }[] = [
  ...PITCH_CLASS_TASKS.map((task) => ({ task, classes: ['no', 'yes'] })),
  { task: 'bass', classes: [...PITCH_NAMES_SHARP, 'none'] }, // lowest sounding pitch class
  { task: 'chord root', classes: [...PITCH_NAMES_SHARP] }, // the accompaniment's chord (piece) or the held chord
  { task: 'chord quality', classes: CHORD_QUALITIES },
  { task: 'beat', classes: ['none', 'beat', 'downbeat'] }, // a felt beat starts in the token (pieces)
  { task: 'onset', classes: ['no', 'yes'] }, // any note (drums included) starts in the token
  { task: 'melody', classes: ['low', 'mid-low', 'mid-high', 'high'] }, // where the melody note sits in the clip's melody range (pieces)
];

interface Note { start: number; end: number; channel: number; key: number }

/** The notes of a format-0/1 MIDI file in seconds (tempo map applied; unmatched note-ons end at the last event). */
export function midiNotes(midi: ParsedMidi): Note[] {
  const events = midi.tracks.flat().sort((a, b) => a.tick - b.tick);
  const tempos = events.filter((e) => e.type === 'tempo') as { tick: number; usPerQuarter: number }[];
  // seconds at a tick: piecewise linear over the tempo changes (120 bpm before the first)
  const secondsAt = (tick: number) => {
    let s = 0, lastTick = 0, us = 500_000;
    for (const t of tempos) {
      if (t.tick >= tick) break;
      s += ((t.tick - lastTick) * us) / 1e6 / midi.ticksPerQuarter;
      lastTick = t.tick;
      us = t.usPerQuarter;
    }
    return s + ((tick - lastTick) * us) / 1e6 / midi.ticksPerQuarter;
  };
  const open = new Map<string, { tick: number }[]>();
  const notes: Note[] = [];
  const last = events.length ? events[events.length - 1].tick : 0;
  for (const e of events) {
    if (e.type !== 'noteOn' && e.type !== 'noteOff') continue;
    const k = `${e.channel}:${e.key}`;
    if (e.type === 'noteOn') (open.get(k) ?? open.set(k, []).get(k)!).push({ tick: e.tick });
    else {
      const on = open.get(k)?.shift();
      if (on) notes.push({ start: secondsAt(on.tick), end: secondsAt(e.tick), channel: e.channel, key: e.key });
    }
  }
  for (const [k, ons] of open) {
    const [channel, key] = k.split(':').map(Number);
    for (const on of ons) notes.push({ start: secondsAt(on.tick), end: secondsAt(last), channel, key });
  }
  return notes.sort((a, b) => a.start - b.start);
}

/**
 * Labels [tokens × FRAME_TASKS.length] (row-major) for a clip whose audio tokens each cover
 * `tokenSeconds` from 0; tokens past the clip's end are −100 throughout.
 */
export function frameLabels(spec: ClipSpec, midi: ParsedMidi, tokens: number, tokenSeconds: number): Int32Array {
  const F = FRAME_TASKS.length;
  const out = new Int32Array(tokens * F).fill(IGNORE);
  const notes = midiNotes(midi);
  const pitched = notes.filter((n) => n.channel !== DRUM_CHANNEL);
  const melody = spec.kind === 'piece' ? pitched.filter((n) => n.channel === 0 && n.start < spec.seconds) : [];
  const mLo = Math.min(...melody.map((n) => n.key)), mHi = Math.max(...melody.map((n) => n.key));
  const col = (task: string) => FRAME_TASKS.findIndex((t) => t.task === task);
  const [BASS, ROOT, QUALITY, BEAT, ONSET, MELODY] = ['bass', 'chord root', 'chord quality', 'beat', 'onset', 'melody'].map(col);
  const beat = spec.kind === 'piece' ? 60 / spec.bpm : 0;
  const beatsPerBar = spec.kind === 'piece' ? METER_INFO[spec.meter].beatsPerBar : 1;
  // An instant belongs to the token it falls in; one on a boundary (0.5 s at 0.1 s a token, up
  // to rounding) starts the next token.
  const tokenAt = (sec: number) => Math.floor(sec / tokenSeconds + 1e-6);
  const onsets = new Set(notes.map((n) => tokenAt(n.start)));
  const beats = new Map<number, number>(); // token → 1 beat, 2 downbeat
  for (let k = 0; spec.kind === 'piece' && k * beat < tokens * tokenSeconds; k++) {
    const i = tokenAt(k * beat);
    beats.set(i, Math.max(beats.get(i) ?? 0, k % beatsPerBar === 0 ? 2 : 1));
  }

  for (let i = 0; i < tokens; i++) {
    const t0 = i * tokenSeconds, t1 = t0 + tokenSeconds;
    if (t0 >= spec.seconds) break;
    const row = out.subarray(i * F, (i + 1) * F);
    const sounding = pitched.filter((n) => Math.min(n.end, t1) - Math.max(n.start, t0) >= Math.min(MIN_OVERLAP, (n.end - n.start) / 2));
    for (let pc = 0; pc < 12; pc++) row[pc] = sounding.some((n) => n.key % 12 === pc) ? 1 : 0;
    row[BASS] = sounding.length ? sounding.reduce((a, b) => (b.key < a.key ? b : a)).key % 12 : 12;
    row[ONSET] = onsets.has(i) ? 1 : 0;
    if (spec.kind === 'chord') {
      row[ROOT] = spec.root;
      row[QUALITY] = CHORD_QUALITIES.indexOf(spec.quality);
      continue;
    }
    const mid = (t0 + t1) / 2;
    const bar = Math.floor(mid / (beat * beatsPerBar));
    const chord = diatonicTriad(spec.tonic, spec.mode, spec.progression[bar % spec.progression.length]);
    row[ROOT] = chord.root;
    row[QUALITY] = CHORD_QUALITIES.indexOf(chord.quality);
    row[BEAT] = beats.get(i) ?? 0;
    const m = melody.filter((n) => n.start < t1 && n.end > t0);
    if (m.length && mHi > mLo) {
      const key = m.reduce((a, b) => (Math.min(b.end, t1) - Math.max(b.start, t0) > Math.min(a.end, t1) - Math.max(a.start, t0) ? b : a)).key;
      row[MELODY] = Math.min(3, Math.floor((4 * (key - mLo)) / (mHi - mLo + 1)));
    }
  }
  return out;
}
