// Clip specs (the ground truth) and their music (MIDI events).
//
// A clip is one of two kinds:
//   piece  melody + chordal accompaniment (same instrument family) + bass, drums or not, in a key,
//          meter and tempo, with a melodic contour and a loudness ramp;
//   chord  one chord held (re-struck on decaying instruments) by one instrument, for the
//          "held chord" task.
// Every label is drawn class-balanced (see balancedClass) and everything else (program within
// the family, rhythms, voicings, kit, reverb) from a per-clip Prng, so a clip is a pure function
// of (dataset seed, split, index).

import { CC, type MidiEvent, TICKS_PER_QUARTER, keySignatureSharps } from './midi.js';
import { Prng, balancedClass } from './prng.js';
import {
  BASS_PROGRAMS, CHORD_INTERVALS, CHORD_QUALITIES, type ChordQuality, DIRECTIONS, DRUM, DRUM_KITS, DYNAMICS,
  type Direction, type Dynamics, FAMILIES, FAMILY_PROGRAMS, type Family, type GmProgram, METERS, METER_INFO, MODES,
  type Meter, type Mode, PROGRESSIONS, TEMPO_CLASSES, TEMPO_RANGES, type TempoClass, degreePitch, diatonicTriad, keyName,
  rootName,
} from './theory.js';

export type Split = 'train' | 'val' | 'test';
export const SPLITS: readonly Split[] = ['train', 'val', 'test'];

interface ClipBase {
  id: string;
  split: Split;
  index: number; // within the split
  seconds: number;
  family: Family;
  program: number;
  programName: string;
  levelDb: number; // RMS level the rendered clip is set to (dBFS)
}

export interface PieceSpec extends ClipBase {
  kind: 'piece';
  bpm: number; // felt beats per minute (dotted quarters in 6/8)
  tempoClass: TempoClass;
  meter: Meter;
  tonic: number; // pitch class, 0 = C
  mode: Mode;
  key: string; // "D minor"
  drums: boolean;
  direction: Direction;
  dynamics: Dynamics;
  // not asked about, recorded for reproducibility and analysis:
  compProgram: number;
  bassProgram: number;
  drumKit: number | null;
  progression: number[]; // scale degrees, one chord per bar, repeated
}

export interface ChordSpec extends ClipBase {
  kind: 'chord';
  root: number; // pitch class
  rootName: string;
  quality: ChordQuality;
  chordName: string; // "Eb minor 7th"
}

export type ClipSpec = PieceSpec | ChordSpec;

export interface SpecOptions {
  seed: number;
  seconds: number;
  /** Share of clips that are held chords (0 = none, 1 = all). */
  chordShare: number;
}

const SPLIT_SALT: Record<Split, number> = { train: 0x7a11, val: 0x7a12, test: 0x7a13 };

/**
 * Clip `index` of a split. Kinds interleave evenly: clip i is a chord clip when
 * ⌊(i+1)·share⌋ > ⌊i·share⌋, so the chord clips before i number ⌊i·share⌋ and each kind has its
 * own dense index for class balancing.
 */
export function clipSpec(split: Split, index: number, o: SpecOptions): ClipSpec {
  const s = Math.min(1, Math.max(0, o.chordShare));
  const isChord = Math.floor((index + 1) * s) > Math.floor(index * s);
  const salt = SPLIT_SALT[split];
  const id = `${split}-${String(index).padStart(6, '0')}`;
  const rng = Prng.for(o.seed, 'clip', salt, index);
  // A label's class: balanced within its kind's stream of this split.
  const cls = <T>(name: string, k: number, classes: readonly T[]): T =>
    classes[balancedClass(o.seed, `${split}:${name}`, k, classes.length)];

  if (isChord) {
    const k = Math.floor(index * s);
    const family = cls('chord.family', k, FAMILIES);
    const prog = rng.pick(FAMILY_PROGRAMS[family]);
    const root = cls('chord.root', k, [...Array(12).keys()]);
    const quality = cls('chord.quality', k, CHORD_QUALITIES);
    return {
      kind: 'chord', id, split, index, seconds: o.seconds, family, program: prog.program, programName: prog.name,
      levelDb: Number(rng.range(-24, -16).toFixed(2)), root, rootName: rootName(root), quality, chordName: `${rootName(root)} ${quality}`,
    };
  }
  const k = index - Math.floor(index * s);
  const family = cls('family', k, FAMILIES);
  const prog = rng.pick(FAMILY_PROGRAMS[family]);
  const tempoClass = cls('tempo', k, TEMPO_CLASSES);
  const [lo, hi] = TEMPO_RANGES[tempoClass];
  const bpm = rng.int(lo, hi);
  const meter = cls('meter', k, METERS);
  const tonic = cls('tonic', k, [...Array(12).keys()]);
  const mode = cls('mode', k, MODES);
  const drums = cls('drums', k, [true, false]);
  const direction = cls('direction', k, DIRECTIONS);
  const dynamics = cls('dynamics', k, DYNAMICS);
  const compProgram = rng.chance(0.6) ? prog.program : rng.pick(FAMILY_PROGRAMS[family]).program;
  const bassProgram = rng.pick(BASS_PROGRAMS).program;
  const drumKit = drums ? rng.pick(DRUM_KITS) : null;
  const progression = [...rng.pick(PROGRESSIONS[mode])];
  const levelDb = Number(rng.range(-24, -16).toFixed(2));
  return {
    kind: 'piece', id, split, index, seconds: o.seconds, family, program: prog.program, programName: prog.name, levelDb,
    bpm, tempoClass, meter, tonic, mode, key: keyName(tonic, mode), drums, direction, dynamics,
    compProgram, bassProgram, drumKit, progression,
  };
}

// ---- composing --------------------------------------------------------------------------

const CH_MELODY = 0, CH_COMP = 1, CH_BASS = 2, CH_DRUMS = 9; // GM drums are MIDI channel 10

export interface Composition {
  events: MidiEvent[];
  /** Length of the music in seconds (the rendered audio is cut or padded to the clip's seconds). */
  musicSeconds: number;
}

function programOf(n: number): GmProgram {
  for (const f of FAMILIES) for (const p of FAMILY_PROGRAMS[f]) if (p.program === n) return p;
  throw new Error(`program ${n} is in no family`);
}

/** The notes of a clip, from its spec; same spec → same events (its Prng is seeded by the clip). */
export function compose(spec: ClipSpec, seed: number): Composition {
  const rng = Prng.for(seed, 'music', SPLIT_SALT[spec.split], spec.index);
  return spec.kind === 'chord' ? composeChord(spec, rng) : composePiece(spec, rng);
}

class Track {
  readonly events: MidiEvent[] = [];
  note(channel: number, key: number, start: number, dur: number, velocity: number): void {
    const v = Math.max(1, Math.min(127, Math.round(velocity)));
    const k = Math.max(0, Math.min(127, Math.round(key)));
    const s = Math.round(start), e = Math.max(s + 1, Math.round(start + dur));
    this.events.push({ tick: s, type: 'noteOn', channel, key: k, velocity: v });
    this.events.push({ tick: e, type: 'noteOff', channel, key: k });
  }
  control(channel: number, controller: number, value: number, tick = 0): void {
    this.events.push({ tick: Math.round(tick), type: 'control', channel, controller, value: Math.max(0, Math.min(127, Math.round(value))) });
  }
  program(channel: number, program: number): void {
    this.events.push({ tick: 0, type: 'program', channel, program });
  }
}

function setupChannel(t: Track, rng: Prng, channel: number, program: number, volume: number, pan: number): void {
  if (channel !== CH_DRUMS) t.control(channel, CC.bankSelect, 0);
  t.program(channel, program);
  t.control(channel, CC.volume, volume);
  t.control(channel, CC.pan, pan);
  t.control(channel, CC.reverb, rng.int(20, 70));
  t.control(channel, CC.chorus, rng.int(0, 30));
  t.control(channel, CC.expression, 127);
}

function composeChord(spec: ChordSpec, rng: Prng): Composition {
  const t = new Track();
  const usPerQuarter = 500_000; // 120 quarter notes a minute; ticks ↔ seconds is then 960 ticks/s
  const tps = (TICKS_PER_QUARTER * 1e6) / usPerQuarter;
  t.events.push({ tick: 0, type: 'trackName', text: spec.chordName });
  t.events.push({ tick: 0, type: 'tempo', usPerQuarter });
  t.events.push({ tick: 0, type: 'timeSignature', numerator: 4, denominator: 4 });
  setupChannel(t, rng, CH_MELODY, spec.program, 110, 64);
  const prog = programOf(spec.program);
  // Close root-position voicing with the root in the lower part of the instrument's range,
  // plus the root an octave below where the instrument reaches it (a clear bass note).
  let rootPitch = Math.max(prog.lo, 48);
  while (rootPitch % 12 !== spec.root) rootPitch++;
  const keys = CHORD_INTERVALS[spec.quality].map((i) => rootPitch + i);
  if (rootPitch - 12 >= prog.lo - 5) keys.unshift(rootPitch - 12);
  // Decaying instruments re-strike the chord; sustaining ones hold it (re-struck once or twice).
  const decaying = spec.family === 'piano' || spec.family === 'guitar';
  const every = decaying ? rng.range(1.6, 2.6) : rng.range(3, spec.seconds + 0.5);
  const vel = rng.int(70, 100);
  const strum = spec.family === 'guitar' ? rng.range(0.012, 0.03) : 0; // seconds between strings
  let strikes = 0;
  for (let s = 0; s < spec.seconds + 0.5; s += every, strikes++) {
    const start = s * tps, dur = Math.min(every, spec.seconds + 0.5 - s) * tps - 10;
    keys.forEach((k, i) => t.note(CH_MELODY, k, start + i * strum * tps, dur - i * strum * tps, vel + rng.int(-4, 4)));
  }
  return { events: t.events, musicSeconds: spec.seconds + 0.5 };
}

/** Loudness ramp over the clip (0..1 of its seconds) → multiplier of velocities and expression. */
function dynamicsCurve(d: Dynamics, rng: Prng): (u: number) => number {
  const lo = rng.range(0.3, 0.42), hi = rng.range(0.9, 1), mid = rng.range(0.7, 0.85);
  const clamp = (u: number) => Math.max(0, Math.min(1, u));
  if (d === 'crescendo') return (u) => lo + (hi - lo) * clamp(u);
  if (d === 'diminuendo') return (u) => hi - (hi - lo) * clamp(u);
  return () => mid;
}

/** Melodic contour in scale degrees above the lowest melody degree, u ∈ [0, 1]. */
function contour(d: Direction, span: number): (u: number) => number {
  if (d === 'ascending') return (u) => span * u;
  if (d === 'descending') return (u) => span * (1 - u);
  return (u) => span * (1 - Math.abs(2 * u - 1)); // arch: up to the middle, then down
}

function composePiece(spec: PieceSpec, rng: Prng): Composition {
  const t = new Track();
  const m = METER_INFO[spec.meter];
  const Q = TICKS_PER_QUARTER;
  const usPerQuarter = 60e6 / (spec.bpm * m.beatQuarters);
  const tps = (Q * 1e6) / usPerQuarter; // ticks per second
  const beatTicks = m.beatQuarters * Q, subTicks = beatTicks / m.subdivision, barTicks = m.beatsPerBar * beatTicks;
  const clipTicks = spec.seconds * tps;
  const bars = Math.ceil(clipTicks / barTicks) + 1; // music runs past the cut: no ending inside the clip
  const endTick = bars * barTicks;
  const curve = dynamicsCurve(spec.dynamics, rng);
  const gain = (tick: number) => curve(tick / clipTicks);

  t.events.push({ tick: 0, type: 'trackName', text: `${spec.key}, ${spec.meter}, ${spec.bpm} bpm` });
  t.events.push({ tick: 0, type: 'tempo', usPerQuarter });
  t.events.push({ tick: 0, type: 'timeSignature', numerator: m.numerator, denominator: m.denominator });
  t.events.push({ tick: 0, type: 'keySignature', sharps: keySignatureSharps(spec.tonic, spec.mode === 'minor'), minor: spec.mode === 'minor' });
  setupChannel(t, rng, CH_MELODY, spec.program, 115, rng.int(54, 74));
  setupChannel(t, rng, CH_COMP, spec.compProgram, 88, rng.int(40, 88));
  setupChannel(t, rng, CH_BASS, spec.bassProgram, 100, 64);
  if (spec.drums) setupChannel(t, rng, CH_DRUMS, spec.drumKit ?? 0, 92, 64);
  // Expression (CC11) follows the loudness ramp too, so held notes swell and fade, not only attacks.
  const channels = spec.drums ? [CH_MELODY, CH_COMP, CH_BASS, CH_DRUMS] : [CH_MELODY, CH_COMP, CH_BASS];
  const steps = 24;
  for (let i = 0; i <= steps; i++) {
    const tick = (clipTicks * i) / steps;
    for (const c of channels) t.control(c, CC.expression, 40 + 87 * curve(i / steps), tick);
  }

  const chordAt = (bar: number) => diatonicTriad(spec.tonic, spec.mode, spec.progression[bar % spec.progression.length]);
  const chordDegAt = (bar: number) => spec.progression[bar % spec.progression.length];

  // ---- melody: a rhythm of cells per beat, pitches following the contour on the scale ----
  const prog = programOf(spec.program);
  let span = 0, tonicPitch = 0;
  for (const sp of [9, 8, 7, 6]) {
    const fits: number[] = [];
    for (let p = spec.tonic; p <= 127; p += 12) if (p >= prog.lo && degreePitch(p, spec.mode, sp) <= prog.hi) fits.push(p);
    if (fits.length) { span = sp; tonicPitch = rng.pick(fits); break; }
  }
  if (!span) { span = 6; tonicPitch = spec.tonic + 60; }
  const shape = contour(spec.direction, span);
  // Rhythm cells in subdivisions of one beat (or two beats for the long ones). Slower tempi get
  // busier cells so notes come at a similar rate; the cell set shows the meter's subdivision.
  const simpleCells = [[2], [1, 1], [1, 1], [4]];
  const compoundCells = [[3], [2, 1], [1, 1, 1], [6]];
  const busy = spec.tempoClass === 'slow' ? 0.6 : spec.tempoClass === 'medium' ? 0.35 : 0.15;
  const melodyVel = rng.int(92, 110);
  let lastDeg = Math.round(shape(0));
  for (let beat = 0; beat * beatTicks < endTick; ) {
    const tick = beat * beatTicks, bar = Math.floor(tick / barTicks);
    const onDownbeat = tick % barTicks === 0;
    let cell: number[];
    const cells = m.subdivision === 2 ? simpleCells : compoundCells;
    if (rng.chance(busy)) cell = cells[rng.int(1, 2)];
    else cell = rng.chance(0.25) && (beat % m.beatsPerBar) + 1 < m.beatsPerBar ? cells[3] : cells[0];
    let sub = 0;
    for (const len of cell) {
      const st = tick + sub * subTicks, dur = len * subTicks;
      sub += len;
      if (st >= endTick) break;
      const u = Math.min(1, st / clipTicks);
      let deg = Math.round(shape(u) + (rng.chance(0.3) ? rng.pick([-1, 1]) : 0));
      // Strong beats land on a chord tone nearest the contour.
      if (st % beatTicks === 0 && (onDownbeat || rng.chance(0.5))) {
        const root = chordDegAt(bar);
        let best = deg, bestD = 99;
        for (let d = deg - 3; d <= deg + 3; d++) {
          const rel = (((d - root) % 7) + 7) % 7;
          if ((rel === 0 || rel === 2 || rel === 4) && Math.abs(d - shape(u)) < bestD) { best = d; bestD = Math.abs(d - shape(u)); }
        }
        deg = best;
      }
      deg = Math.max(-1, Math.min(span + 1, deg));
      // Avoid long repeated notes (they blur the contour): step toward the contour instead.
      if (deg === lastDeg && rng.chance(0.5)) deg += shape(u) >= deg ? 1 : -1;
      lastDeg = deg;
      let key = degreePitch(tonicPitch, spec.mode, deg);
      // Harmonic minor: the leading tone is raised over the V chord.
      if (spec.mode === 'minor' && (((deg % 7) + 7) % 7) === 6 && chordDegAt(bar) === 4) key += 1;
      const accent = onDownbeat && st === tick ? 1.12 : st % beatTicks === 0 ? 1.0 : 0.9;
      t.note(CH_MELODY, key, st, dur * rng.range(0.8, 0.95), melodyVel * accent * gain(st));
    }
    beat += cell === cells[3] ? 2 : 1;
  }

  // ---- accompaniment: chords in a meter-specific pattern, accent on the downbeat ----
  const compVel = rng.int(58, 76);
  const compLow = 50 + rng.int(0, 5);
  const voicing = (bar: number): number[] => {
    const { root, quality } = chordAt(bar);
    let r = compLow;
    while (r % 12 !== root) r++;
    return CHORD_INTERVALS[quality].map((i) => r + i);
  };
  const compStyle = rng.int(0, 1); // 0: block chords, 1: broken chord (arpeggio) on the subdivisions
  for (let bar = 0; bar < bars; bar++) {
    const b0 = bar * barTicks, v = voicing(bar);
    const block = (st: number, dur: number, acc: number) => v.forEach((k) => t.note(CH_COMP, k, st, dur * 0.85, compVel * acc * gain(st)));
    if (compStyle === 0) {
      if (spec.meter === '4/4') [1.2, 0.75, 0.95, 0.75].forEach((a, i) => block(b0 + i * beatTicks, beatTicks, a));
      else if (spec.meter === '3/4') { block(b0, beatTicks, 1.2); block(b0 + beatTicks, beatTicks, 0.7); block(b0 + 2 * beatTicks, beatTicks, 0.7); }
      else for (let e = 0; e < 6; e++) if (e !== 1 && e !== 4) block(b0 + e * subTicks, subTicks, e === 0 ? 1.2 : e === 3 ? 0.95 : 0.65);
    } else {
      // Broken chord: one note per subdivision, the pattern restarting on every beat group.
      const pattern = spec.meter === '6/8' ? [0, 1, 2, 3, 2, 1] : spec.meter === '3/4' ? [0, 2, 1, 2, 1, 2] : [0, 2, 1, 2, 0, 2, 1, 2];
      const notes = [...v, v[0] + 12];
      pattern.forEach((pi, e) => {
        const st = b0 + e * subTicks;
        const acc = e === 0 ? 1.25 : (e * subTicks) % beatTicks === 0 ? 0.95 : 0.7;
        t.note(CH_COMP, notes[Math.min(pi, notes.length - 1)], st, subTicks * 1.6, compVel * acc * gain(st));
      });
    }
  }

  // ---- bass: root on the downbeat, the fifth on the secondary strong beat ----
  const bassVel = rng.int(85, 105);
  for (let bar = 0; bar < bars; bar++) {
    const b0 = bar * barTicks, { root, quality } = chordAt(bar);
    let r = 36;
    while (r % 12 !== root) r++;
    const fifth = r + CHORD_INTERVALS[quality][2];
    if (spec.meter === '4/4') {
      t.note(CH_BASS, r, b0, 2 * beatTicks * 0.9, bassVel * 1.1 * gain(b0));
      t.note(CH_BASS, rng.chance(0.5) ? fifth : r, b0 + 2 * beatTicks, 2 * beatTicks * 0.9, bassVel * 0.85 * gain(b0 + 2 * beatTicks));
    } else if (spec.meter === '3/4') {
      t.note(CH_BASS, r, b0, beatTicks * 0.95, bassVel * 1.1 * gain(b0));
    } else {
      t.note(CH_BASS, r, b0, beatTicks * 0.9, bassVel * 1.1 * gain(b0));
      t.note(CH_BASS, fifth, b0 + beatTicks, beatTicks * 0.9, bassVel * 0.8 * gain(b0 + beatTicks));
    }
  }

  // ---- drums: kick on the downbeat, backbeat per meter, hi-hat on the subdivisions ----
  if (spec.drums) {
    const dv = rng.int(85, 105);
    const ride = rng.chance(0.25);
    const hit = (key: number, st: number, vel: number) => t.note(CH_DRUMS, key, st, subTicks * 0.5, dv * vel * gain(st));
    for (let bar = 0; bar < bars; bar++) {
      const b0 = bar * barTicks;
      if (bar === 0 && rng.chance(0.5)) hit(DRUM.crash, b0, 0.9);
      const subs = m.beatsPerBar * m.subdivision;
      for (let e = 0; e < subs; e++) {
        const st = b0 + e * subTicks;
        const onBeat = e % m.subdivision === 0;
        hit(ride ? DRUM.ride : DRUM.closedHat, st, e === 0 ? 0.95 : onBeat ? 0.8 : 0.55);
      }
      if (spec.meter === '4/4') {
        hit(DRUM.kick, b0, 1.1);
        hit(DRUM.kick, b0 + 2 * beatTicks, 0.95);
        if (rng.chance(0.3)) hit(DRUM.kick, b0 + 2 * beatTicks + subTicks, 0.7);
        hit(DRUM.snare, b0 + beatTicks, 0.95);
        hit(DRUM.snare, b0 + 3 * beatTicks, 0.95);
      } else if (spec.meter === '3/4') {
        hit(DRUM.kick, b0, 1.1);
        hit(DRUM.snare, b0 + beatTicks, 0.6);
        hit(DRUM.snare, b0 + 2 * beatTicks, 0.6);
      } else {
        hit(DRUM.kick, b0, 1.1);
        hit(DRUM.snare, b0 + beatTicks, 0.9);
      }
    }
  }
  return { events: t.events, musicSeconds: endTick / tps };
}
