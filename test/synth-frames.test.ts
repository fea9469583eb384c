// Frame labels (src/synth/frames.ts): what sounds in each audio token's 0.1 s of a synthetic clip,
// read from the clip's own MIDI and spec. They are only worth training on if they are true of the
// music, so these checks hold them against the theory that generated it.
import { describe, expect, it } from 'vitest';
import type { ChordSpec, PieceSpec } from '../src/synth/compose.js';
import { planSplit } from '../src/synth/dataset.js';
import { FRAME_TASKS, frameLabels, midiNotes } from '../src/synth/frames.js';
import { readMidi } from '../src/synth/midi.js';
import { TASKS } from '../src/synth/questions.js';
import { CHORD_QUALITIES, METER_INFO, SCALES, chordPitchClasses, diatonicTriad } from '../src/synth/theory.js';

const F = FRAME_TASKS.length;
const col = (task: string) => FRAME_TASKS.findIndex((t) => t.task === task);
const plans = planSplit('train', 48, { seed: 7, seconds: 10, tasks: [...TASKS] });
const pieces = plans.filter((p) => p.spec.kind === 'piece');
const chords = plans.filter((p) => p.spec.kind === 'chord');
/** Token rows of a clip's labels at 0.1 s a token (MuFun-nano: 10 s, 100 tokens). */
const rows = (p: (typeof plans)[number], tokens = 100, sec = 0.1) => {
  const L = frameLabels(p.spec, readMidi(p.midi), tokens, sec);
  return Array.from({ length: tokens }, (_, i) => L.subarray(i * F, (i + 1) * F));
};

describe('frame labels', () => {
  // An instant at t seconds belongs to token ⌊t / 0.1⌋ (on a boundary: the later token).
  const tokenAt = (t: number) => Math.floor(t / 0.1 + 1e-6);

  it('beats fall every 60/bpm seconds from the start, the first of each bar a downbeat', () => {
    for (const p of pieces) {
      const s = p.spec as PieceSpec, beat = 60 / s.bpm, perBar = METER_INFO[s.meter].beatsPerBar;
      const r = rows(p);
      const expected = new Array(100).fill(0);
      for (let k = 0; k * beat < 10; k++) expected[tokenAt(k * beat)] = k % perBar === 0 ? 2 : 1;
      expect(r.map((x) => x[col('beat')])).toEqual(expected);
      const beats = expected.filter((b) => b > 0).length;
      expect(Math.abs(beats - (10 * s.bpm) / 60)).toBeLessThanOrEqual(1);
      expect(r[0][col('beat')]).toBe(2); // the music starts on a downbeat
    }
  });

  it("a piece's chord follows its progression bar by bar and opens on the tonic triad: major in major keys, minor in minor", () => {
    for (const p of pieces) {
      const s = p.spec as PieceSpec;
      const r = rows(p);
      const tonic = diatonicTriad(s.tonic, s.mode, 0);
      expect([r[0][col('chord root')], CHORD_QUALITIES[r[0][col('chord quality')]]]).toEqual([s.tonic, s.mode === 'major' ? 'major triad' : 'minor triad']);
      expect(tonic.root).toBe(s.tonic);
      const barSec = (60 / s.bpm) * METER_INFO[s.meter].beatsPerBar;
      r.forEach((x, i) => {
        const c = diatonicTriad(s.tonic, s.mode, s.progression[Math.floor(((i + 0.5) * 0.1) / barSec) % s.progression.length]);
        expect([x[col('chord root')], x[col('chord quality')]]).toEqual([c.root, CHORD_QUALITIES.indexOf(c.quality)]);
      });
    }
  });

  it('the pitch classes that sound are in the key (plus the raised leading tone in minor), and the chord tones sound with the chord', () => {
    let chordToneHits = 0, tokens = 0;
    for (const p of pieces) {
      const s = p.spec as PieceSpec;
      const inKey = new Set(SCALES[s.mode].map((i) => (s.tonic + i) % 12));
      if (s.mode === 'minor') inKey.add((s.tonic + 11) % 12);
      for (const x of rows(p)) {
        for (let pc = 0; pc < 12; pc++) if (x[pc] === 1) expect(inKey.has(pc), `${s.key}: pitch class ${pc}`).toBe(true);
        const chord = chordPitchClasses(x[col('chord root')], CHORD_QUALITIES[x[col('chord quality')]]);
        tokens++;
        if (chord.every((pc) => x[pc] === 1)) chordToneHits++;
      }
    }
    expect(chordToneHits / tokens).toBeGreaterThan(0.5); // block chords sound whole; broken ones a note at a time
  });

  it("a held chord sounds its pitch classes and no others, all of them but where it is re-struck; its lowest note is the root; it has no beats or melody", () => {
    expect(chords.length).toBeGreaterThan(0);
    let whole = 0, tokens = 0;
    for (const p of chords) {
      const s = p.spec as ChordSpec;
      const pcs = chordPitchClasses(s.root, s.quality);
      for (const x of rows(p)) {
        const sounding = [...x.subarray(0, 12)].flatMap((v, pc) => (v ? [pc] : []));
        expect(sounding.every((pc) => pcs.includes(pc))).toBe(true);
        tokens++;
        if (sounding.length === pcs.length) whole++;
        expect(x[col('bass')]).toBe(s.root);
        expect([x[col('chord root')], x[col('chord quality')]]).toEqual([s.root, CHORD_QUALITIES.indexOf(s.quality)]);
        expect([x[col('beat')], x[col('melody')]]).toEqual([-100, -100]);
      }
    }
    expect(whole / tokens).toBeGreaterThan(0.9); // a strummed re-strike reaches its top string a token late
  });

  it('onsets are the tokens where notes start; the melody height rises over an ascending clip', () => {
    for (const p of pieces) {
      const starts = midiNotes(readMidi(p.midi)).map((n) => n.start);
      const onsets = new Set(starts.map(tokenAt));
      rows(p).forEach((x, i) => expect(x[col('onset')]).toBe(onsets.has(i) ? 1 : 0));
    }
    const up = pieces.find((p) => (p.spec as PieceSpec).direction === 'ascending')!;
    const m = rows(up).map((x) => x[col('melody')]).filter((v) => v >= 0);
    const half = Math.floor(m.length / 2), mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(m.slice(half))).toBeGreaterThan(mean(m.slice(0, half)) + 1);
  });

  it('tokens past the end of a shorter clip are −100 throughout', () => {
    const r = rows(pieces[0], 120, 0.1); // 12 s of tokens over a 10 s clip
    expect(r.slice(100).every((x) => x.every((v) => v === -100))).toBe(true);
    expect(r.slice(0, 100).every((x) => x[0] >= 0)).toBe(true);
  });
});
