// Music theory for the synthetic data: the label vocabularies (the classes a listener can tell)
// and what each class means in notes. Labels are plain lower-case words or key names; none
// contains ". ", because MuFun's GRPO reward takes the text after the last ". " as the label.

export const PITCH_NAMES_SHARP = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;
// Conventional key names: flats for Db/Eb/Ab/Bb major, F# major; minor keys as on the circle of fifths.
const MAJOR_KEY_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const MINOR_KEY_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];
// Chord roots (any pitch class) named with the spelling most common in lead sheets.
const ROOT_NAMES = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

export type Mode = 'major' | 'minor';
export const MODES: readonly Mode[] = ['major', 'minor'];

export function keyName(tonic: number, mode: Mode): string {
  return `${(mode === 'major' ? MAJOR_KEY_NAMES : MINOR_KEY_NAMES)[tonic]} ${mode}`;
}
export const ALL_KEYS: readonly string[] = MODES.flatMap((m) => [...Array(12).keys()].map((t) => keyName(t, m)));

export function rootName(pc: number): string {
  return ROOT_NAMES[((pc % 12) + 12) % 12];
}

/** Semitones of the scale degrees 0..6. Minor is natural minor (the V chord raises the 7th). */
export const SCALES: Record<Mode, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
};

/** MIDI pitch of scale degree `deg` (any integer; 7 = the octave) above `tonicPitch`. */
export function degreePitch(tonicPitch: number, mode: Mode, deg: number): number {
  const oct = Math.floor(deg / 7);
  return tonicPitch + 12 * oct + SCALES[mode][deg - 7 * oct];
}

// ---- instrument families ------------------------------------------------------------------

export type Family = 'piano' | 'guitar' | 'strings' | 'brass' | 'woodwind' | 'organ' | 'synth lead';
export const FAMILIES: readonly Family[] = ['piano', 'guitar', 'strings', 'brass', 'woodwind', 'organ', 'synth lead'];

export interface GmProgram {
  program: number; // General MIDI program, 0-based (GM's "1 Acoustic Grand Piano" is 0)
  name: string;
  lo: number; // comfortable melody range (MIDI pitches)
  hi: number;
}

/**
 * GM programs per family (FluidR3_GM has all of them). Melody ranges follow each instrument's
 * usual written range, kept away from the extremes where the samples get thin.
 */
export const FAMILY_PROGRAMS: Record<Family, readonly GmProgram[]> = {
  piano: [
    { program: 0, name: 'acoustic grand piano', lo: 55, hi: 84 },
    { program: 1, name: 'bright acoustic piano', lo: 55, hi: 84 },
    { program: 2, name: 'electric grand piano', lo: 55, hi: 84 },
    { program: 4, name: 'electric piano 1', lo: 55, hi: 84 },
  ],
  guitar: [
    { program: 24, name: 'acoustic guitar (nylon)', lo: 52, hi: 79 },
    { program: 25, name: 'acoustic guitar (steel)', lo: 52, hi: 79 },
    { program: 26, name: 'electric guitar (jazz)', lo: 52, hi: 79 },
    { program: 27, name: 'electric guitar (clean)', lo: 52, hi: 79 },
  ],
  strings: [
    { program: 40, name: 'violin', lo: 57, hi: 88 },
    { program: 41, name: 'viola', lo: 50, hi: 79 },
    { program: 48, name: 'string ensemble 1', lo: 52, hi: 84 },
    { program: 49, name: 'string ensemble 2', lo: 52, hi: 84 },
  ],
  brass: [
    { program: 56, name: 'trumpet', lo: 58, hi: 82 },
    { program: 57, name: 'trombone', lo: 43, hi: 70 },
    { program: 60, name: 'french horn', lo: 48, hi: 74 },
    { program: 61, name: 'brass section', lo: 50, hi: 79 },
  ],
  woodwind: [
    { program: 65, name: 'alto sax', lo: 52, hi: 79 },
    { program: 68, name: 'oboe', lo: 60, hi: 86 },
    { program: 71, name: 'clarinet', lo: 53, hi: 84 },
    { program: 73, name: 'flute', lo: 62, hi: 91 },
  ],
  organ: [
    { program: 16, name: 'drawbar organ', lo: 52, hi: 84 },
    { program: 17, name: 'percussive organ', lo: 52, hi: 84 },
    { program: 18, name: 'rock organ', lo: 52, hi: 84 },
    { program: 19, name: 'church organ', lo: 52, hi: 84 },
  ],
  'synth lead': [
    { program: 80, name: 'lead 1 (square)', lo: 55, hi: 86 },
    { program: 81, name: 'lead 2 (sawtooth)', lo: 55, hi: 86 },
    { program: 83, name: 'lead 4 (chiff)', lo: 55, hi: 86 },
    { program: 87, name: 'lead 8 (bass + lead)', lo: 55, hi: 84 },
  ],
};

/** Bass programs under the melody (not a labelled family: the question is about the melody). */
export const BASS_PROGRAMS: readonly GmProgram[] = [
  { program: 32, name: 'acoustic bass', lo: 28, hi: 52 },
  { program: 33, name: 'electric bass (finger)', lo: 28, hi: 52 },
  { program: 34, name: 'electric bass (pick)', lo: 28, hi: 52 },
];

/** GM drum kits (bank 128 programs in FluidR3_GM): standard, room, power, jazz, brush. */
export const DRUM_KITS: readonly number[] = [0, 8, 16, 32, 40];

/** GM percussion keys (channel 10) used by the patterns. */
export const DRUM = {
  kick: 36,
  snare: 38,
  sideStick: 37,
  closedHat: 42,
  pedalHat: 44,
  openHat: 46,
  ride: 51,
  crash: 49,
} as const;

// ---- tempo, meter, contour, dynamics ------------------------------------------------------

export type TempoClass = 'slow' | 'medium' | 'fast';
export const TEMPO_CLASSES: readonly TempoClass[] = ['slow', 'medium', 'fast'];
/** BPM ranges per class, [lo, hi] inclusive: slow < 80 ≤ medium < 120 ≤ fast. */
export const TEMPO_RANGES: Record<TempoClass, readonly [number, number]> = {
  slow: [56, 79],
  medium: [80, 119],
  fast: [120, 160],
};
export function tempoClassOf(bpm: number): TempoClass {
  return bpm < 80 ? 'slow' : bpm < 120 ? 'medium' : 'fast';
}

export type Meter = '3/4' | '4/4' | '6/8';
export const METERS: readonly Meter[] = ['3/4', '4/4', '6/8'];

export interface MeterInfo {
  numerator: number;
  denominator: number;
  /** Felt beats per bar (6/8 is two dotted-quarter beats) and beat length in quarter notes. */
  beatsPerBar: number;
  beatQuarters: number;
  /** Subdivisions per beat: 2 (simple meters) or 3 (compound). */
  subdivision: 2 | 3;
}
export const METER_INFO: Record<Meter, MeterInfo> = {
  '3/4': { numerator: 3, denominator: 4, beatsPerBar: 3, beatQuarters: 1, subdivision: 2 },
  '4/4': { numerator: 4, denominator: 4, beatsPerBar: 4, beatQuarters: 1, subdivision: 2 },
  '6/8': { numerator: 6, denominator: 8, beatsPerBar: 2, beatQuarters: 1.5, subdivision: 3 },
};

export type Direction = 'ascending' | 'descending' | 'arch';
export const DIRECTIONS: readonly Direction[] = ['ascending', 'descending', 'arch'];

// "diminuendo" (= decrescendo) because "crescendo" is inside "decrescendo" (see ChordQuality).
export type Dynamics = 'crescendo' | 'diminuendo' | 'steady';
export const DYNAMICS: readonly Dynamics[] = ['crescendo', 'diminuendo', 'steady'];

// ---- chords -----------------------------------------------------------------------------

// Quality names are written out so that no label contains another ("major" is inside
// "major 7th"): MuFun's GRPO reward counts the label as a substring of the completion.
export type ChordQuality =
  | 'major triad' | 'minor triad' | 'diminished triad' | 'augmented triad' | 'dominant seventh' | 'major seventh' | 'minor seventh';
export const CHORD_QUALITIES: readonly ChordQuality[] = [
  'major triad', 'minor triad', 'diminished triad', 'augmented triad', 'dominant seventh', 'major seventh', 'minor seventh',
];
/** Semitones above the root, root position. */
export const CHORD_INTERVALS: Record<ChordQuality, readonly number[]> = {
  'major triad': [0, 4, 7],
  'minor triad': [0, 3, 7],
  'diminished triad': [0, 3, 6],
  'augmented triad': [0, 4, 8],
  'dominant seventh': [0, 4, 7, 10],
  'major seventh': [0, 4, 7, 11],
  'minor seventh': [0, 3, 7, 10],
};

/** Pitch classes of a chord. */
export function chordPitchClasses(root: number, quality: ChordQuality): number[] {
  return CHORD_INTERVALS[quality].map((i) => (root + i) % 12);
}

/**
 * Diatonic progressions, one chord per bar, as scale degrees (0 = tonic). Each starts on the
 * tonic and has a dominant or subdominant to make the key clear. In minor, degree 4 (V) is
 * played major (harmonic minor's raised leading tone), which is what marks a minor key.
 */
export const PROGRESSIONS: Record<Mode, readonly (readonly number[])[]> = {
  major: [[0, 3, 4, 0], [0, 5, 3, 4], [0, 4, 5, 3], [0, 3, 0, 4], [0, 1, 4, 0]],
  minor: [[0, 3, 4, 0], [0, 5, 3, 4], [0, 6, 5, 4], [0, 3, 0, 4], [0, 5, 1, 4]],
};

/** The chord on scale degree `deg` of a key: root pitch class and triad quality. */
export function diatonicTriad(tonic: number, mode: Mode, deg: number): { root: number; quality: ChordQuality } {
  const s = SCALES[mode];
  const root = (tonic + s[deg % 7]) % 12;
  if (mode === 'minor' && deg % 7 === 4) return { root, quality: 'major triad' }; // V in harmonic minor
  const third = (s[(deg + 2) % 7] - s[deg % 7] + 12) % 12;
  const fifth = (s[(deg + 4) % 7] - s[deg % 7] + 12) % 12;
  const quality: ChordQuality = fifth === 6 ? 'diminished triad' : third === 4 ? 'major triad' : 'minor triad';
  return { root, quality };
}
