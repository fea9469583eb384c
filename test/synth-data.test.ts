// The synthetic music generator (src/synth): a valid MIDI writer, labels that are true of the
// music, determinism from the seed, balanced classes, MuCUE-style questions whose answers are
// options, and (where FluidSynth is installed) real renders of the right length and content.
//
// The render tests need the Debian packages fluidsynth and fluid-soundfont-gm; without them they
// are skipped with that message.

import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { synthDataCommand } from '../src/cli/commands/synth-data.js';
import { loadAudio } from '../src/model/audio/load.js';
import { parseOptions, scoreAnswer } from '../src/model/eval.js';
import { loadDataset } from '../src/model/train/data.js';
import { type ChordSpec, type ClipSpec, type PieceSpec, clipSpec, compose } from '../src/synth/compose.js';
import { type ClipPlan, effectiveChordShare, generateDataset, planSplit, splitCounts } from '../src/synth/dataset.js';
import { type MidiEvent, keySignatureSharps, readMidi, vlq, writeMidi } from '../src/synth/midi.js';
import { Prng, balancedClass } from '../src/synth/prng.js';
import { PARTIAL_OPTION_TASKS, type Sample, TASKS, TASK_CLASSES, type Task, answerLabel, bindingQuestion, unlabelledQuestion } from '../src/synth/questions.js';
import { DEBIAN_PACKAGES, SAMPLE_RATE, canRender, pool, renderMidi, setupRenderer } from '../src/synth/render.js';
import { CHORD_INTERVALS, SCALES, chordPitchClasses } from '../src/synth/theory.js';

const ALL = [...TASKS];

function notesOf(midi: Uint8Array, channel: number): { tick: number; key: number; velocity: number }[] {
  return readMidi(midi).tracks[0].flatMap((e) => (e.type === 'noteOn' && e.channel === channel ? [{ tick: e.tick, key: e.key, velocity: e.velocity }] : []));
}

/** A data set of `count` clips, questions and MIDI only, in a new folder; `read` parses one of its JSON files. */
async function unrenderedSet(prefix: string, count: number) {
  const out = mkdtempSync(join(tmpdir(), prefix));
  const o = { out, count, seed: 9, seconds: 3, splits: [0.5, 0.25, 0.25] as [number, number, number], tasks: ALL, noRender: true };
  await generateDataset(o);
  return { out, o, read: (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Sample[] };
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length, mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return num / den;
}

describe('MIDI writer', () => {
  it('writes variable-length quantities as the SMF spec examples', () => {
    expect(vlq(0)).toEqual([0x00]);
    expect(vlq(0x40)).toEqual([0x40]);
    expect(vlq(0x7f)).toEqual([0x7f]);
    expect(vlq(0x80)).toEqual([0x81, 0x00]);
    expect(vlq(0x2000)).toEqual([0xc0, 0x00]);
    expect(vlq(0x3fff)).toEqual([0xff, 0x7f]);
    expect(vlq(0x4000)).toEqual([0x81, 0x80, 0x00]);
    expect(vlq(0x0fffffff)).toEqual([0xff, 0xff, 0xff, 0x7f]);
    expect(() => vlq(-1)).toThrow(RangeError);
  });

  it('writes a format-0 SMF with header, meta events, programs, notes and the drum channel, and reads it back', () => {
    const events: MidiEvent[] = [
      { tick: 0, type: 'tempo', usPerQuarter: 500_000 },
      { tick: 0, type: 'timeSignature', numerator: 6, denominator: 8 },
      { tick: 0, type: 'keySignature', sharps: -3, minor: true },
      { tick: 0, type: 'program', channel: 0, program: 40 },
      { tick: 0, type: 'control', channel: 0, controller: 11, value: 100 },
      { tick: 480, type: 'noteOff', channel: 0, key: 60 },
      { tick: 0, type: 'noteOn', channel: 0, key: 60, velocity: 90 },
      { tick: 240, type: 'noteOn', channel: 9, key: 36, velocity: 110 },
      { tick: 300, type: 'noteOff', channel: 9, key: 36 },
    ];
    const b = writeMidi(events);
    // Header chunk: "MThd", length 6, format 0, one track, 480 ticks per quarter.
    expect([...b.subarray(0, 14)]).toEqual([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0]);
    expect(String.fromCharCode(...b.subarray(14, 18))).toBe('MTrk');
    const len = new DataView(b.buffer).getUint32(18);
    expect(22 + len).toBe(b.length);
    // Tempo first (500000 µs = 0x07A120), then the time signature 6/8 (dd = log2 8 = 3).
    expect([...b.subarray(22, 29)]).toEqual([0x00, 0xff, 0x51, 0x03, 0x07, 0xa1, 0x20]);
    expect([...b.subarray(29, 37)]).toEqual([0x00, 0xff, 0x58, 0x04, 6, 3, 36, 8]);
    expect([...b.subarray(b.length - 4)]).toEqual([0x00, 0xff, 0x2f, 0x00]); // end of track
    const m = readMidi(b);
    expect(m).toMatchObject({ format: 0, ticksPerQuarter: 480, endTicks: [480] });
    const sorted = [...events].sort((x, y) => x.tick - y.tick);
    expect(m.tracks[0]).toHaveLength(events.length);
    expect(new Set(m.tracks[0].map((e) => JSON.stringify(e)))).toEqual(new Set(sorted.map((e) => JSON.stringify(e))));
    // The drum hit is a note on channel index 9 (GM's channel 10): status byte 0x99.
    expect([...b].some((x, i) => x === 0x99 && b[i + 1] === 36 && b[i + 2] === 110)).toBe(true);
  });

  it('orders a re-struck key release before the new attack at the same tick', () => {
    const b = writeMidi([
      { tick: 0, type: 'noteOn', channel: 0, key: 60, velocity: 80 },
      { tick: 100, type: 'noteOn', channel: 0, key: 60, velocity: 80 },
      { tick: 100, type: 'noteOff', channel: 0, key: 60 },
      { tick: 200, type: 'noteOff', channel: 0, key: 60 },
    ]);
    expect(readMidi(b).tracks[0].map((e) => `${e.tick}:${e.type}`)).toEqual(['0:noteOn', '100:noteOff', '100:noteOn', '200:noteOff']);
  });

  it('rejects out-of-range values and truncated files', () => {
    expect(() => writeMidi([{ tick: 0, type: 'noteOn', channel: 16, key: 60, velocity: 1 }])).toThrow(/channel/);
    expect(() => writeMidi([{ tick: 0, type: 'noteOn', channel: 0, key: 128, velocity: 1 }])).toThrow(/key/);
    expect(() => writeMidi([{ tick: 0, type: 'timeSignature', numerator: 3, denominator: 3 }])).toThrow(/power of 2/);
    const b = writeMidi([{ tick: 0, type: 'noteOn', channel: 0, key: 60, velocity: 80 }]);
    expect(() => readMidi(b.subarray(0, b.length - 3))).toThrow();
    expect(() => readMidi(new Uint8Array([1, 2, 3]))).toThrow(/MThd/);
  });

  it('key signatures follow the circle of fifths', () => {
    expect(keySignatureSharps(0, false)).toBe(0); // C major
    expect(keySignatureSharps(7, false)).toBe(1); // G major
    expect(keySignatureSharps(5, false)).toBe(-1); // F major
    expect(keySignatureSharps(9, true)).toBe(0); // A minor
    expect(keySignatureSharps(0, true)).toBe(-3); // C minor
    expect(keySignatureSharps(6, false)).toBe(6); // F# major
  });
});

describe('pool (renders a few clips at once)', () => {
  const tick = () => new Promise((r) => setTimeout(r, 2));
  it('runs at most `jobs` tasks at once and returns results in task order', async () => {
    let running = 0, most = 0;
    const out = await pool(3, 10, async (i) => {
      most = Math.max(most, ++running);
      await tick();
      running--;
      return i * i;
    });
    expect(out).toEqual([0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
    expect(most).toBe(3);
  });

  it('after a failure starts nothing new, and rejects only once the running tasks have ended', async () => {
    const started: number[] = [], ended: number[] = [];
    const p = pool(3, 20, async (i) => {
      started.push(i);
      await tick();
      if (i === 1) throw new Error('clip 1 broke');
      await tick();
      ended.push(i);
    });
    await expect(p).rejects.toThrow('clip 1 broke');
    expect(started).toEqual([0, 1, 2]);
    expect(ended.sort()).toEqual([0, 2]); // both finished before the rejection
  });
});

describe('seeded generation', () => {
  it('Prng and balancedClass are pure functions of their seeds', () => {
    const a = Prng.for(7, 'x', 1), b = Prng.for(7, 'x', 1), c = Prng.for(7, 'x', 2);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextU32())).not.toEqual(xs);
    // Every block of K items takes each class exactly once.
    for (let block = 0; block < 5; block++) {
      const cls = Array.from({ length: 7 }, (_, i) => balancedClass(3, 'p', block * 7 + i, 7));
      expect([...cls].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
  });

  it('the same seed gives the same labels, MIDI bytes and questions; another seed does not', () => {
    const o = { seed: 11, seconds: 10, tasks: ALL };
    const a = planSplit('train', 30, o), b = planSplit('train', 30, o), c = planSplit('train', 30, { ...o, seed: 12 });
    expect(b.map((p) => p.spec)).toEqual(a.map((p) => p.spec));
    expect(b.map((p) => Buffer.from(p.midi).toString('hex'))).toEqual(a.map((p) => Buffer.from(p.midi).toString('hex')));
    expect(b.map((p) => p.samples)).toEqual(a.map((p) => p.samples));
    expect(c.map((p) => Buffer.from(p.midi).toString('hex'))).not.toEqual(a.map((p) => Buffer.from(p.midi).toString('hex')));
  });

  it('more clips keep the earlier ones (prefix-stable), and splits are disjoint streams', () => {
    const o = { seed: 5, seconds: 10, tasks: ALL };
    const small = planSplit('train', 12, o), big = planSplit('train', 40, o);
    expect(big.slice(0, 12).map((p) => p.spec)).toEqual(small.map((p) => p.spec));
    const train = new Set(big.map((p) => Buffer.from(p.midi).toString('hex')));
    const test = planSplit('test', 40, o);
    expect(test.filter((p) => train.has(Buffer.from(p.midi).toString('hex')))).toEqual([]);
    expect(new Set(test.map((p) => p.spec.id)).size).toBe(40);
  });

  it('split counts and chord shares', () => {
    expect(splitCounts(100, [0.8, 0.1, 0.1])).toEqual({ train: 80, val: 10, test: 10 });
    expect(splitCounts(7, [0.8, 0.1, 0.1])).toEqual({ train: 5, val: 1, test: 1 });
    expect(effectiveChordShare(ALL)).toBe(0.25);
    expect(effectiveChordShare(['chord', 'instrument'])).toBe(1);
    expect(effectiveChordShare(['tempo', 'instrument'])).toBe(0);
  });
});

describe('class balance', () => {
  const plans = planSplit('train', 420, { seed: 1, seconds: 10, tasks: ALL });
  const pieces = plans.map((p) => p.spec).filter((s): s is PieceSpec => s.kind === 'piece');
  const chords = plans.map((p) => p.spec).filter((s): s is ChordSpec => s.kind === 'chord');
  const spread = (xs: (string | number | boolean)[], classes: readonly (string | number | boolean)[]) => {
    const n = classes.map((c) => xs.filter((x) => x === c).length);
    return Math.max(...n) - Math.min(...n);
  };

  it('interleaves held-chord clips at the chord share', () => {
    expect(chords).toHaveLength(105);
    expect(pieces).toHaveLength(315);
  });

  it('every label is balanced within one of its share', () => {
    expect(spread(pieces.map((s) => s.family), TASK_CLASSES.instrument.classes)).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.tempoClass), TASK_CLASSES.tempo.classes)).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.mode), ['major', 'minor'])).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.tonic), [...Array(12).keys()])).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.meter), TASK_CLASSES.meter.classes)).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.drums), [true, false])).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.direction), TASK_CLASSES.direction.classes)).toBeLessThanOrEqual(1);
    expect(spread(pieces.map((s) => s.dynamics), TASK_CLASSES.dynamics.classes)).toBeLessThanOrEqual(1);
    expect(spread(chords.map((s) => s.quality), TASK_CLASSES.chord.classes)).toBeLessThanOrEqual(1);
    expect(spread(chords.map((s) => s.family), TASK_CLASSES.instrument.classes)).toBeLessThanOrEqual(1);
    expect(spread(chords.map((s) => s.root), [...Array(12).keys()])).toBeLessThanOrEqual(1);
  });

  it('labels are not confounded: each meter appears at every tempo class and with and without drums', () => {
    for (const m of TASK_CLASSES.meter.classes) {
      for (const t of TASK_CLASSES.tempo.classes) expect(pieces.filter((s) => s.meter === m && s.tempoClass === t).length).toBeGreaterThan(15);
      for (const d of [true, false]) expect(pieces.filter((s) => s.meter === m && s.drums === d).length).toBeGreaterThan(30);
    }
  });
});

describe('questions', () => {
  const plans = [...planSplit('train', 120, { seed: 2, seconds: 10, tasks: ALL }), ...planSplit('test', 60, { seed: 2, seconds: 10, tasks: ALL })];
  const samples = plans.flatMap((p) => p.samples);
  const mc = samples.filter((s) => s.format === 'mc');

  it('every multiple-choice answer is one of the options, and its text after the last ". " is the label', () => {
    expect(mc.length).toBeGreaterThan(500);
    for (const s of mc) {
      const q = s.conversations[0].value, a = s.conversations[1].value;
      expect(q.startsWith('<audio>\n')).toBe(true);
      const m = /\(choose from: (.*)\)$/.exec(q);
      expect(m, q).not.toBeNull();
      const options = m![1].split(/, (?=[A-J]\. )/);
      expect(options.map((o) => o.slice(0, 1))).toEqual('ABCDEFGHIJ'.slice(0, options.length).split(''));
      expect(options).toContain(a);
      expect(answerLabel(a)).toBe(s.label);
      expect(new Set(options.map(answerLabel)).size).toBe(options.length);
      for (const o of options) expect(TASK_CLASSES[s.task as Exclude<Task, 'caption'>].classes).toContain(answerLabel(o));
    }
  });

  it('mufun eval reads the same options and scores the reference answer (letter or text) as correct', () => {
    for (const s of mc) {
      const q = s.conversations[0].value, a = s.conversations[1].value;
      const options = parseOptions(q);
      expect(options.map((o) => `${o.letter}. ${o.text}`).join(', ')).toBe(/\(choose from: (.*)\)$/.exec(q)![1]);
      expect(scoreAnswer(a, a, options).correct).toBe(true);
      expect(scoreAnswer(s.label, a, options).correct).toBe(true);
      const wrong = options.find((o) => o.text !== s.label)!;
      expect(scoreAnswer(`${wrong.letter}. ${wrong.text}`, a, options).correct).toBe(false);
    }
  });

  it('a question about an unlabelled recording asks in the same words and options, every class offered about as often', () => {
    const offered = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const q = unlabelledQuestion(Prng.for(5, `rec-${i}`), 'instrument');
      expect(q.prompt).toMatch(/^<audio>\n.+\? \(choose from: A\. .+\)$/);
      expect(parseOptions(q.prompt).map((o) => o.text)).toEqual(q.options);
      expect(q.options).toHaveLength(TASK_CLASSES.instrument.options);
      for (const o of q.options) offered.set(o, (offered.get(o) ?? 0) + 1);
    }
    expect([...offered.keys()].sort()).toEqual([...TASK_CLASSES.instrument.classes].sort());
    const share = 400 * TASK_CLASSES.instrument.options / TASK_CLASSES.instrument.classes.length;
    for (const n of offered.values()) expect(Math.abs(n - share)).toBeLessThan(share * 0.25);
    const key = unlabelledQuestion(Prng.for(5, 'key'), 'key').options; // keys: the parallel key is always offered
    expect(key.some((k) => k.endsWith(' major') && key.includes(k.replace(' major', ' minor')))).toBe(true);
    expect(unlabelledQuestion(Prng.for(5, 'caption'), 'caption')).toEqual({ prompt: expect.stringMatching(/^<audio>\n/), options: [] });
  });

  it('shuffles the answer position', () => {
    const letters = new Map<string, number>();
    for (const s of mc.filter((x) => x.task === 'instrument')) letters.set(s.conversations[1].value[0], (letters.get(s.conversations[1].value[0]) ?? 0) + 1);
    expect([...letters.keys()].sort()).toEqual(['A', 'B', 'C', 'D']);
    for (const n of letters.values()) expect(n).toBeGreaterThan(10);
  });

  it('questions per clip: the first question of each task is unchanged, the others ask the same label in other option orders; val and test ask once', () => {
    const o = { seed: 3, seconds: 10, tasks: ALL };
    const once = planSplit('train', 20, o).flatMap((p) => p.samples);
    const thrice = planSplit('train', 20, { ...o, questionsPerClip: 3 }).flatMap((p) => p.samples);
    expect(new Set(thrice.map((s) => s.id)).size).toBe(thrice.length);
    expect(thrice.filter((s) => once.some((x) => x.id === s.id))).toEqual(once); // same samples, same order
    expect(thrice.filter((s) => s.task === 'caption')).toHaveLength(20); // one caption per clip
    const byKey = new Map<string, typeof thrice>();
    for (const s of thrice) if (s.task !== 'caption') byKey.set(`${s.audio}|${s.task}`, [...(byKey.get(`${s.audio}|${s.task}`) ?? []), s]);
    for (const group of byKey.values()) {
      expect(group).toHaveLength(3);
      expect(new Set(group.map((s) => s.label)).size).toBe(1);
    }
    const orders = [...byKey.values()].filter((g) => g.every((s) => s.format === 'mc')).map((g) => new Set(g.map((s) => s.conversations[0].value)).size);
    expect(orders.filter((n) => n > 1).length).toBeGreaterThan(orders.length / 2); // mostly different questions
    expect(planSplit('test', 10, { ...o, questionsPerClip: 3 })).toEqual(planSplit('test', 10, o));
  });

  it('option orders per clip: further multiple-choice questions for instrument, key and chord only, each its own options and order, beside the clips\' questions; val and test without', () => {
    const o = { seed: 3, seconds: 10, tasks: ALL };
    const plain = planSplit('train', 40, o);
    const drilled = planSplit('train', 40, { ...o, optionOrders: 4 });
    expect(drilled.map((p) => p.samples)).toEqual(plain.map((p) => p.samples)); // the clips' questions unchanged
    expect(plain.every((p) => p.orders.length === 0)).toBe(true);
    const extra = drilled.flatMap((p) => p.orders), questions = plain.flatMap((p) => p.samples);
    expect(extra.every((s) => /-orders-\d$/.test(s.id))).toBe(true);
    expect(PARTIAL_OPTION_TASKS).toEqual(['instrument', 'key', 'chord']);
    const clipsOf = (task: string) => new Set(questions.filter((s) => s.task === task).map((s) => s.audio)).size;
    for (const task of PARTIAL_OPTION_TASKS) expect(extra.filter((s) => s.task === task)).toHaveLength(4 * clipsOf(task));
    for (const s of extra) {
      const options = parseOptions(s.conversations[0].value);
      expect(s.format).toBe('mc');
      expect(options.find((x) => `${x.letter}. ${x.text}` === s.conversations[1].value)?.text).toBe(s.label);
      expect(questions.find((x) => x.audio === s.audio && x.task === s.task)!.label).toBe(s.label);
    }
    const instrument = extra.filter((s) => s.task === 'instrument');
    expect(new Set(instrument.map((s) => `${s.audio}|${s.conversations[0].value.split('(choose from: ')[1]}`)).size).toBeGreaterThan(0.9 * instrument.length);
    expect(planSplit('test', 10, { ...o, optionOrders: 4 })).toEqual(planSplit('test', 10, o));
  });

  it('option orders for other tasks: only those asked, each task its own stream (adding tasks leaves the others\' orders as they were)', () => {
    const o = { seed: 3, seconds: 10, tasks: ALL, optionOrders: 2 };
    const byDefault = planSplit('train', 30, o).flatMap((p) => p.orders);
    const metered = planSplit('train', 30, { ...o, optionOrderTasks: ['meter', 'tempo'] }).flatMap((p) => p.orders);
    expect(new Set(metered.map((s) => s.task))).toEqual(new Set(['meter', 'tempo']));
    const every = planSplit('train', 30, { ...o, optionOrderTasks: ['instrument', 'tempo', 'mode', 'key', 'meter', 'chord', 'drums', 'direction', 'dynamics'] }).flatMap((p) => p.orders);
    expect(every.filter((s) => PARTIAL_OPTION_TASKS.includes(s.task as never))).toEqual(byDefault);
    expect(every.filter((s) => s.task === 'meter')).toEqual(metered.filter((s) => s.task === 'meter'));
    for (const s of metered) expect(parseOptions(s.conversations[0].value).find((x) => `${x.letter}. ${x.text}` === s.conversations[1].value)?.text).toBe(s.label);
  });

  it('no label of a task is inside another (MuFun\'s GRPO reward counts the label as a substring)', () => {
    for (const { classes } of Object.values(TASK_CLASSES)) {
      for (const a of classes) for (const b of classes) if (a !== b) expect(b.includes(a), `${a} in ${b}`).toBe(false);
    }
  });

  it('labels match the clip spec; open answers and captions say the same', () => {
    for (const p of plans) {
      const s = p.spec;
      for (const x of p.samples) {
        expect(x.audio).toBe(`${s.id}.wav`);
        expect(x.id).toBe(`${s.id}-${x.task}`);
        if (x.task === 'caption') {
          if (s.kind === 'piece') for (const w of [s.tempoClass, s.meter, s.key, s.drums ? 'with drums' : 'without drums']) expect(x.label).toContain(w);
          else expect(x.label).toContain(s.chordName);
        }
        if (x.task === 'tempo' && x.format === 'open' && s.kind === 'piece') expect(x.conversations[1].value).toBe(`About ${s.bpm} BPM, a ${s.tempoClass} tempo.`);
        if (x.task === 'key' && s.kind === 'piece') expect(x.label).toBe(s.key);
        if (x.task === 'chord' && s.kind === 'chord') expect(x.label).toBe(s.quality);
      }
    }
    // Train mixes open questions in; test is multiple choice only (plus captions).
    expect(plans.filter((p) => p.spec.split === 'train').flatMap((p) => p.samples).some((x) => x.format === 'open')).toBe(true);
    expect(plans.filter((p) => p.spec.split === 'test').flatMap((p) => p.samples).every((x) => x.format !== 'open')).toBe(true);
  });

  it('key questions always offer the parallel key as a distractor', () => {
    for (const x of mc.filter((s) => s.task === 'key')) {
      const [tonic, mode] = x.label.split(' ');
      // The parallel key's tonic may be spelled differently (Db major / C# minor): check the mode count.
      const opts = /\(choose from: (.*)\)$/.exec(x.conversations[0].value)![1];
      expect(opts.split(', ').filter((o) => o.endsWith(mode === 'major' ? 'minor' : 'major')).length).toBeGreaterThanOrEqual(1);
      expect(tonic).toBeTruthy();
    }
  });
});

describe('binding questions (text alone, for the letter binding)', () => {
  const qs = Array.from({ length: 900 }, (_, i) => bindingQuestion(5, i, ALL));

  it('give the label as a hint in place of the audio and are answered with the letter of the option that holds it', () => {
    for (const s of qs) {
      const q = s.conversations[0].value, a = s.conversations[1].value;
      expect(s.audio).toBeUndefined();
      expect(q.startsWith(`Hint: ${s.label}.\n`)).toBe(true);
      expect(q).not.toContain('<audio>');
      const options = parseOptions(q);
      expect(options).toHaveLength(TASK_CLASSES[s.task as Exclude<Task, 'caption'>].options);
      expect(options.find((o) => `${o.letter}. ${o.text}` === a)?.text).toBe(s.label);
      expect(scoreAnswer(a, a, options).correct).toBe(true);
    }
  });

  it('favour no task, letter or label, and offer the parallel key in key questions, as audio questions do', () => {
    const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
    const tasks = count(qs.map((s) => s.task));
    expect([...tasks.keys()].sort()).toEqual(ALL.filter((t) => t !== 'caption').sort());
    for (const n of tasks.values()) expect(n).toBeGreaterThan(60); // 100 each on average
    const letters = count(qs.filter((s) => s.task === 'instrument').map((s) => s.conversations[1].value[0]));
    expect([...letters.keys()].sort()).toEqual(['A', 'B', 'C', 'D']);
    const drums = count(qs.filter((s) => s.task === 'drums').map((s) => s.label));
    expect(drums.get('yes')! / (drums.get('yes')! + drums.get('no')!)).toBeGreaterThan(0.3);
    for (const s of qs.filter((x) => x.task === 'key')) {
      const keys = parseOptions(s.conversations[0].value).map((o) => o.text);
      const [, mode] = s.label.split(' ');
      expect(keys.filter((k) => k.endsWith(mode === 'major' ? 'minor' : 'major')).length).toBeGreaterThanOrEqual(1);
    }
  });

  it('with an any-label share, take that share\'s 2 to 5 options from every task\'s labels, so that no option order recurs; the rest stay as they were', () => {
    const mixed = Array.from({ length: 900 }, (_, i) => bindingQuestion(5, i, ALL, 0.5));
    const any = mixed.filter((s) => s.id.endsWith('-any'));
    expect(any.length).toBeGreaterThan(350);
    expect(any.length).toBeLessThan(550);
    mixed.forEach((s, i) => s.id.endsWith('-any') || expect(s).toEqual(qs[i]));
    const taskOf = (label: string) => Object.entries(TASK_CLASSES).filter(([, c]) => c.classes.includes(label)).map(([t]) => t);
    const sizes = new Set<number>();
    let crossTask = 0;
    for (const s of any) {
      const q = s.conversations[0].value, a = s.conversations[1].value;
      expect(q.startsWith(`Hint: ${s.label}.\n`)).toBe(true);
      expect(taskOf(s.label)).toContain(s.task);
      const options = parseOptions(q);
      sizes.add(options.length);
      expect(new Set(options.map((o) => o.text)).size).toBe(options.length);
      expect(options.find((o) => `${o.letter}. ${o.text}` === a)?.text).toBe(s.label);
      if (options.some((o) => !taskOf(o.text).includes(s.task))) crossTask++;
    }
    expect([...sizes].sort()).toEqual([2, 3, 4, 5]);
    expect(crossTask / any.length).toBeGreaterThan(0.8);
    // within a task the same options in the same order recur (meter: 6 orders); here hardly ever
    const orders = new Set(any.map((s) => s.conversations[0].value.split('(choose from: ')[1]));
    expect(orders.size).toBeGreaterThan(0.95 * any.length);
  });

  it('are a pure function of (seed, index), with ids of their own', () => {
    expect(bindingQuestion(5, 17, ALL)).toEqual(qs[17]);
    expect(bindingQuestion(6, 17, ALL)).not.toEqual(qs[17]);
    expect(new Set(qs.map((s) => s.id)).size).toBe(qs.length);
    expect(bindingQuestion(5, 3, ['tempo', 'caption']).task).toBe('tempo');
    expect(() => bindingQuestion(5, 3, ['caption'])).toThrow(/multiple-choice task/);
  });

  it('are written alone to train-binding.json and after the clips\' questions to train-with-binding.json; train.json is unchanged', async () => {
    const { out, o, read } = await unrenderedSet('synth-binding-', 4);
    const train = read('train.json');
    const r = await generateDataset({ ...o, bindingQuestions: 30 });
    const binding = Array.from({ length: 30 }, (_, i) => bindingQuestion(9, i, ALL));
    expect(read('train.json')).toEqual(train);
    expect(read('train-binding.json')).toEqual(binding);
    expect(read('train-with-binding.json')).toEqual([...train, ...binding]);
    expect(r.samples.train).toBe(train.length);
    const meta = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(meta.settings.bindingQuestionsTrain).toBe(30);
    expect(meta.command).toContain('--binding-questions 30');
    const { samples, problems } = loadDataset(join(out, 'train-binding.json'), { audioRoot: join(out, 'audio') });
    expect(problems).toEqual([]);
    expect(samples).toHaveLength(30);
    expect(samples.every((s) => s.audios.length === 0)).toBe(true);
    await generateDataset(o); // asked again without them: none are left behind
    expect(existsSync(join(out, 'train-binding.json')) || existsSync(join(out, 'train-with-binding.json'))).toBe(false);
  });

  it('option orders are written to train-orders.json, train.json unchanged, and removed when no longer asked', async () => {
    const { out, o, read } = await unrenderedSet('synth-orders-', 8);
    const train = read('train.json');
    await generateDataset({ ...o, optionOrders: 3 });
    expect(read('train.json')).toEqual(train);
    expect(read('train-orders.json')).toEqual(planSplit('train', 4, { ...o, optionOrders: 3 }).flatMap((p) => p.orders));
    const meta = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(meta.settings.optionOrdersTrain).toBe(3);
    expect(meta.command).toContain('--option-orders-per-clip 3');
    await generateDataset(o);
    expect(existsSync(join(out, 'train-orders.json'))).toBe(false);
  });

  it('label-first answers ("brass (B)"): every file asks the same questions in the same order, only each multiple-choice answer is written label first', async () => {
    const { out: letterFirst, o, read } = await unrenderedSet('synth-letter-first-', 8);
    const more = { optionOrders: 2, bindingQuestions: 40, bindingAnyLabelShare: 0.5 };
    await generateDataset({ ...o, ...more });
    const out = mkdtempSync(join(tmpdir(), 'synth-label-first-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await synthDataCommand().exitOverride().parseAsync(
        ['--out', out, '--count', '8', '--seconds', '3', '--seed', '9', '--splits', '0.5,0.25,0.25', '--no-render',
          '--option-orders-per-clip', '2', '--binding-questions', '40', '--binding-any-label-share', '0.5', '--mc-answers', 'label-first'],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
    }
    const labelFirst = (f: string) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Sample[];
    let multipleChoice = 0;
    for (const f of ['train.json', 'val.json', 'test.json', 'train-orders.json', 'train-binding.json', 'train-with-binding.json']) {
      const before = read(f), after = labelFirst(f);
      expect(after.map((s) => s.conversations[0].value)).toEqual(before.map((s) => s.conversations[0].value));
      before.forEach((s, i) => {
        const a = s.conversations[1].value, b = after[i].conversations[1].value;
        if (s.format !== 'mc') return expect(b).toBe(a);
        multipleChoice++;
        expect(b).toBe(`${s.label} (${a[0]})`);
        expect(answerLabel(b)).toBe(s.label);
        const options = parseOptions(s.conversations[0].value);
        expect(scoreAnswer(b, a, options).correct).toBe(true);
      });
    }
    expect(multipleChoice).toBeGreaterThan(100);
    const meta = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(meta.settings.mcAnswers).toBe('label-first');
    expect(meta.command).toContain('--mc-answers label-first');
    expect(JSON.parse(readFileSync(join(letterFirst, 'dataset.json'), 'utf8')).settings.mcAnswers).toBe('letter-first');
    await expect(synthDataCommand().exitOverride().parseAsync(['--out', out, '--count', '8', '--no-render', '--mc-answers', 'label-last'], { from: 'user' }))
      .rejects.toThrow(/must be one of letter-first, label-first/);
  });

  it('label-only answers ("brass"): the same questions, each multiple-choice answer the option\'s text, which mufun eval scores as that option', () => {
    const o = { seed: 9, seconds: 3, tasks: ALL, optionOrders: 2 };
    const plain = planSplit('train', 16, o), labelOnly = planSplit('train', 16, { ...o, mcAnswers: 'label-only' });
    const samples = (ps: ClipPlan[]) => ps.flatMap((p) => [...p.samples, ...p.orders]);
    const before = samples(plain), after = samples(labelOnly);
    expect(after.map((s) => s.conversations[0].value)).toEqual(before.map((s) => s.conversations[0].value));
    const choices = before.filter((s) => s.format === 'mc');
    expect(choices.length).toBeGreaterThan(100);
    before.forEach((s, i) => {
      const b = after[i].conversations[1].value;
      if (s.format !== 'mc') return expect(b).toBe(s.conversations[1].value);
      expect(b).toBe(s.label);
      expect(scoreAnswer(b, s.conversations[1].value, parseOptions(s.conversations[0].value)).correct).toBe(true);
    });
    expect(bindingQuestion(5, 3, ALL, 0.5, 'label-only').conversations[1].value).toBe(bindingQuestion(5, 3, ALL, 0.5).label);
  });

  it('major/minor through the key: each mode question of a clip answered "In <its key>, so <the answer>.", scored as that answer; nothing else changes', async () => {
    const o = { seed: 9, seconds: 3, tasks: ALL, optionOrders: 2, optionOrderTasks: ['mode' as const], mcAnswers: 'label-only' as const };
    const samples = (ps: ClipPlan[]) => ps.flatMap((p) => [...p.samples, ...p.orders]);
    const plain = planSplit('train', 16, o), viaKey = planSplit('train', 16, { ...o, modeViaKey: true });
    const before = samples(plain), after = samples(viaKey);
    const keyOf = new Map(plain.map((p) => [`${p.spec.id}.wav`, p.spec.kind === 'piece' ? p.spec.key : '']));
    let modes = 0;
    before.forEach((s, i) => {
      const a = s.conversations[1].value, b = after[i].conversations[1].value;
      expect(after[i].conversations[0].value).toBe(s.conversations[0].value);
      if (s.task !== 'mode' || s.format !== 'mc') return expect(b).toBe(a);
      modes++;
      expect(b).toBe(`In ${keyOf.get(s.audio!)}, so ${a}.`);
      expect(keyOf.get(s.audio!)!.endsWith(s.label)).toBe(true);
      expect(scoreAnswer(b, a, parseOptions(s.conversations[0].value)).correct).toBe(true);
    });
    expect(modes).toBeGreaterThan(20);
    // an answer whose key says the other mode names no option
    expect(scoreAnswer('In D major, so minor.', 'minor', parseOptions('Mode? (choose from: A. minor, B. major)')).correct).toBe(false);
    const out = mkdtempSync(join(tmpdir(), 'synth-mode-via-key-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await synthDataCommand().exitOverride().parseAsync(['--out', out, '--count', '4', '--seconds', '3', '--seed', '9', '--no-render', '--mode-via-key'], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    const meta = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(meta.settings.modeViaKey).toBe(true);
    expect(meta.command).toContain('--mode-via-key');
    // the files written (4 clips: the test split may hold a held chord only, so train is read too)
    const written = ['train.json', 'test.json'].flatMap((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as Sample[]);
    const answers = written.filter((s) => s.task === 'mode' && s.format === 'mc').map((s) => s.conversations[1].value);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a) => /^In .+ (major|minor), so [A-J]\. (major|minor)\.$/.test(a))).toBe(true);
  });

  it('mufun synth-data --no-render writes the questions and MIDI without audio: further questions about clips rendered in another folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'synth-norender-'));
    const args = ['--count', '4', '--seconds', '3', '--seed', '9', '--splits', '0.5,0.25,0.25', '--no-render'];
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await synthDataCommand().exitOverride().parseAsync(['--out', out, ...args, '--option-orders-per-clip', '2', '--option-order-tasks', 'meter'], { from: 'user' });
    } finally {
      log.mockRestore();
    }
    expect(readdirSync(join(out, 'audio'))).toEqual([]);
    expect(readdirSync(join(out, 'midi'))).toHaveLength(4);
    const orders = JSON.parse(readFileSync(join(out, 'train-orders.json'), 'utf8')) as Sample[];
    const o = { count: 4, seed: 9, seconds: 3, tasks: ALL, optionOrders: 2, optionOrderTasks: ['meter' as const] };
    expect(orders).toEqual(planSplit('train', 2, o).flatMap((p) => p.orders));
    expect(orders.map((x) => x.audio)).toEqual(['train-000000.wav', 'train-000000.wav', 'train-000001.wav', 'train-000001.wav']);
    expect(JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')).command).toContain('--no-render');
  });
});

describe('the music says what the labels say (MIDI level)', () => {
  const plans = planSplit('train', 240, { seed: 4, seconds: 10, tasks: ALL });
  const pieces = plans.filter((p): p is ClipPlan & { spec: PieceSpec } => p.spec.kind === 'piece');

  it('tempo, time signature, key signature, and drums on channel 10 only when labelled', () => {
    for (const { spec, midi } of pieces) {
      const ev = readMidi(midi).tracks[0];
      const tempo = ev.find((e) => e.type === 'tempo') as Extract<MidiEvent, { type: 'tempo' }>;
      const quarterBpm = 60e6 / tempo.usPerQuarter;
      expect(quarterBpm / (spec.meter === '6/8' ? 1.5 : 1)).toBeCloseTo(spec.bpm, 3);
      expect(ev.find((e) => e.type === 'timeSignature')).toMatchObject({ numerator: Number(spec.meter[0]), denominator: Number(spec.meter[2]) });
      expect(ev.find((e) => e.type === 'keySignature')).toMatchObject({ minor: spec.mode === 'minor' });
      expect(notesOf(midi, 9).length > 0).toBe(spec.drums);
      const program = ev.find((e) => e.type === 'program' && e.channel === 0) as Extract<MidiEvent, { type: 'program' }>;
      expect(program.program).toBe(spec.program);
    }
  });

  it('melody, chords and bass stay in the key (minor may raise its 7th)', () => {
    for (const { spec, midi } of pieces) {
      const allowed = new Set(SCALES[spec.mode].map((s) => (spec.tonic + s) % 12));
      if (spec.mode === 'minor') allowed.add((spec.tonic + 11) % 12);
      for (const ch of [0, 1, 2]) for (const n of notesOf(midi, ch)) expect(allowed.has(n.key % 12), `${spec.id} ch${ch} key ${n.key}`).toBe(true);
    }
  });

  it('the melody rises, falls or arches as labelled', () => {
    for (const { spec, midi } of pieces) {
      const tps = (480 * 1e6) / readMidi(midi).tracks[0].filter((e) => e.type === 'tempo').map((e) => (e as { usPerQuarter: number }).usPerQuarter)[0];
      const notes = notesOf(midi, 0).filter((n) => n.tick / tps < spec.seconds);
      const t = notes.map((n) => n.tick / tps), k = notes.map((n) => n.key);
      const half = spec.seconds / 2;
      const first = notes.filter((_, i) => t[i] < half), second = notes.filter((_, i) => t[i] >= half);
      if (spec.direction === 'ascending') expect(slope(t, k), spec.id).toBeGreaterThan(0.7);
      if (spec.direction === 'descending') expect(slope(t, k), spec.id).toBeLessThan(-0.7);
      if (spec.direction === 'arch') {
        expect(slope(first.map((n) => n.tick / tps), first.map((n) => n.key)), spec.id).toBeGreaterThan(0.7);
        expect(slope(second.map((n) => n.tick / tps), second.map((n) => n.key)), spec.id).toBeLessThan(-0.7);
      }
    }
  });

  it('velocities ramp up for a crescendo, down for a diminuendo, and stay level when steady', () => {
    for (const { spec, midi } of pieces) {
      const tps = (480 * 1e6) / (readMidi(midi).tracks[0].find((e) => e.type === 'tempo') as { usPerQuarter: number }).usPerQuarter;
      const notes = notesOf(midi, 0).filter((n) => n.tick / tps < spec.seconds);
      const v = slope(notes.map((n) => n.tick / tps / spec.seconds), notes.map((n) => n.velocity));
      if (spec.dynamics === 'crescendo') expect(v, spec.id).toBeGreaterThan(35);
      if (spec.dynamics === 'diminuendo') expect(v, spec.id).toBeLessThan(-35);
      if (spec.dynamics === 'steady') expect(Math.abs(v), spec.id).toBeLessThan(12);
    }
  });

  it('the bass plays the root on every downbeat; a held chord has exactly its quality\'s pitch classes', () => {
    for (const { spec, midi } of pieces.slice(0, 40)) {
      const m = readMidi(midi).tracks[0];
      const ts = m.find((e) => e.type === 'timeSignature') as { numerator: number; denominator: number };
      const barTicks = (ts.numerator * 4 * 480) / ts.denominator;
      const downbeats = notesOf(midi, 2).filter((n) => n.tick % barTicks === 0);
      expect(downbeats.length).toBeGreaterThanOrEqual(3);
      expect(downbeats[0].key % 12).toBe(spec.tonic);
    }
    for (const { spec, midi } of plans.filter((p) => p.spec.kind === 'chord')) {
      const c = spec as ChordSpec;
      expect(new Set(notesOf(midi, 0).map((n) => n.key % 12))).toEqual(new Set(chordPitchClasses(c.root, c.quality)));
      expect(CHORD_INTERVALS[c.quality].length).toBeGreaterThanOrEqual(3);
    }
  });
});

// ---- real renders --------------------------------------------------------------------------

const haveFluidsynth = canRender();
if (!haveFluidsynth) {
  console.warn(`synth-data render tests skipped: FluidSynth or a GM soundfont is missing (Debian: apt-get install -y ${DEBIAN_PACKAGES})`);
}

/** Energy per pitch class: Goertzel at every semitone from C2 to C7 over Hann-windowed 0.5 s frames. */
function chroma(x: Float32Array): number[] {
  const out = new Array(12).fill(0), N = 8000;
  const w = Float32Array.from({ length: N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (N - 1)));
  for (let start = 0; start + N <= x.length; start += N) {
    for (let midi = 36; midi <= 96; midi++) {
      const f = 440 * 2 ** ((midi - 69) / 12), c = 2 * Math.cos((2 * Math.PI * f) / SAMPLE_RATE);
      let s1 = 0, s2 = 0;
      for (let i = 0; i < N; i++) { const s0 = x[start + i] * w[i] + c * s1 - s2; s2 = s1; s1 = s0; }
      out[midi % 12] += s1 * s1 + s2 * s2 - c * s1 * s2;
    }
  }
  const total = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / total);
}

/** Onset strength (10 ms frames) autocorrelated; the lag in [lo, hi] seconds with the highest value. */
function strongestPeriod(x: Float32Array, lo: number, hi: number): number {
  const hop = SAMPLE_RATE / 100, frames = Math.floor(x.length / hop);
  const env = new Float64Array(frames);
  for (let f = 0; f < frames; f++) { let s = 0; for (let i = 0; i < hop; i++) s += x[f * hop + i] ** 2; env[f] = Math.log(1e-8 + s); }
  const onset = new Float64Array(frames);
  for (let f = 1; f < frames; f++) onset[f] = Math.max(0, env[f] - env[f - 1]);
  let best = 0, bestLag = 0;
  for (let lag = Math.round(lo * 100); lag <= Math.round(hi * 100); lag++) {
    let s = 0;
    for (let f = 0; f + lag < frames; f++) s += onset[f] * onset[f + lag];
    s /= frames - lag;
    if (s > best) { best = s; bestLag = lag; }
  }
  return bestLag / 100;
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / (to - from));
}

describe.skipIf(!haveFluidsynth)('rendering with FluidSynth', () => {
  const renderer = haveFluidsynth ? setupRenderer() : null!;
  const dir = mkdtempSync(join(tmpdir(), 'synth-'));

  async function render(spec: ClipSpec, seed: number, name: string): Promise<Float32Array> {
    const midi = join(dir, `${name}.mid`), wav = join(dir, `${name}.wav`);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(midi, writeMidi(compose(spec, seed).events));
    await renderMidi(renderer, midi, wav, { seconds: spec.seconds, rmsDb: -20 });
    return (await loadAudio(wav, { worker: false })).pcm;
  }

  it('writes a data set: 3 s WAVs that are not silent, MuFun JSON that loads, labels and baselines; a re-run renders nothing', async () => {
    const out = join(dir, 'ds');
    const o = { out, count: 4, seed: 9, seconds: 3, splits: [0.5, 0.25, 0.25] as [number, number, number], tasks: ALL, chordShare: 0.5 };
    const r = await generateDataset(o);
    expect(r).toMatchObject({ clips: 4, rendered: 4, counts: { train: 2, val: 1, test: 1 } });
    const labels = readFileSync(join(out, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(labels.map((l) => l.kind)).toEqual(['piece', 'chord', 'piece', 'piece']);
    for (const l of labels) {
      const a = await loadAudio(join(out, 'audio', l.audio), { worker: false });
      expect(a.sourceRate).toBe(16000);
      expect(a.channels).toBe(1);
      expect(a.pcm.length).toBe(3 * 16000);
      expect(rms(a.pcm)).toBeGreaterThan(0.03);
      // Music fills the clip: neither the first nor the last half second is silent.
      expect(rms(a.pcm, 0, 8000)).toBeGreaterThan(0.005);
      expect(rms(a.pcm, 40000, 48000)).toBeGreaterThan(0.005);
    }
    for (const s of ['train', 'val', 'test', 'val-captions', 'test-captions']) {
      const { samples } = loadDataset(join(out, `${s}.json`), { audioRoot: join(out, 'audio') });
      const raw = JSON.parse(readFileSync(join(out, `${s}.json`), 'utf8')) as Sample[];
      expect(samples.length).toBe(raw.length);
      expect(raw.length).toBeGreaterThan(0);
      expect(raw.every((x) => TASKS.includes(x.task))).toBe(true);
      if (s === 'val' || s === 'test') expect(raw.every((x) => x.format === 'mc')).toBe(true);
      if (s.endsWith('captions')) expect(raw.every((x) => x.format === 'caption')).toBe(true);
    }
    const meta = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8'));
    expect(meta.tasks.instrument.chance.test).toBe(0.25);
    expect(meta.tasks.mode.chance.test).toBe(0.5);
    expect(meta.settings).toMatchObject({ seed: 9, seconds: 3, chordShare: 0.5 });
    // Resumable: nothing is rendered again, the files are untouched.
    const before = statSync(join(out, 'audio', 'train-000000.wav')).mtimeMs;
    const again = await generateDataset(o);
    expect(again).toMatchObject({ rendered: 0, skipped: 4 });
    expect(statSync(join(out, 'audio', 'train-000000.wav')).mtimeMs).toBe(before);
    // Another seed in the same folder would mix two data sets: refused.
    await expect(generateDataset({ ...o, seed: 10 })).rejects.toThrow(/seed/);
  });

  it('a held chord\'s strongest pitch classes are its chord tones', async () => {
    const base = clipSpec('test', 0, { seed: 1, seconds: 3, chordShare: 1 }) as ChordSpec;
    const cases: [ChordSpec['family'], number, ChordSpec['quality']][] = [
      ['piano', 0, 'major triad'], ['organ', 2, 'minor triad'], ['strings', 7, 'major triad'], ['guitar', 9, 'minor triad'], ['piano', 5, 'dominant seventh'],
    ];
    const programs = { piano: 0, organ: 19, strings: 48, guitar: 25 } as Record<string, number>;
    for (const [family, root, quality] of cases) {
      const spec: ChordSpec = { ...base, family, program: programs[family], root, quality };
      const c = chroma(await render(spec, 1, `chord-${family}-${root}`));
      const pcs = chordPitchClasses(root, quality);
      const top = c.indexOf(Math.max(...c));
      expect(pcs, `${family} ${root} ${quality}: strongest ${top}, chroma ${c.map((v) => v.toFixed(2))}`).toContain(top);
      expect(pcs.reduce((a, p) => a + c[p], 0), `${family} ${root} ${quality}`).toBeGreaterThan(0.75);
    }
  });

  it('a piece sounds in its key, its beat period is the labelled tempo, and a crescendo gets louder', async () => {
    const base = clipSpec('test', 0, { seed: 1, seconds: 8, chordShare: 0 }) as PieceSpec;
    // No drums: the chroma is the notes'. E minor (raised 7th D# allowed), strings.
    const keyed: PieceSpec = { ...base, seconds: 8, family: 'strings', program: 48, compProgram: 48, tonic: 4, mode: 'minor', key: 'E minor', drums: false, drumKit: null, dynamics: 'steady' };
    const c = chroma(await render(keyed, 1, 'piece-key'));
    const scale = new Set([...SCALES.minor.map((s) => (4 + s) % 12), 3]);
    expect([...scale].reduce((a, p) => a + c[p], 0)).toBeGreaterThan(0.9);
    // Drums in 4/4 at 100 BPM: the strongest onset period near the beat is 0.6 s.
    for (const bpm of [75, 100, 130]) {
      const beat: PieceSpec = { ...base, seconds: 8, meter: '4/4', bpm, drums: true, drumKit: 0, dynamics: 'steady' };
      const P = 60 / bpm;
      expect(strongestPeriod(await render(beat, 1, `piece-beat-${bpm}`), 0.6 * P, 1.4 * P) / P, `${bpm} BPM`).toBeCloseTo(1, 1);
    }
    const cresc: PieceSpec = { ...base, seconds: 8, dynamics: 'crescendo' };
    const x = await render(cresc, 1, 'piece-cresc');
    expect(rms(x, 6 * 16000, 8 * 16000) / rms(x, 0, 2 * 16000)).toBeGreaterThan(2);
    const dim = await render({ ...cresc, dynamics: 'diminuendo' }, 1, 'piece-dim');
    expect(rms(dim, 0, 2 * 16000) / rms(dim, 6 * 16000, 8 * 16000)).toBeGreaterThan(2);
  });

  it('mufun synth-data passes its question options through: questions per clip, option orders and their tasks, binding questions', async () => {
    const out = join(dir, 'cli');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await synthDataCommand().exitOverride().parseAsync(
        ['--out', out, '--count', '4', '--seconds', '1', '--seed', '2', '--questions-per-clip', '2', '--option-orders-per-clip', '3', '--option-order-tasks', 'instrument,meter', '--binding-questions', '5', '--binding-any-label-share', '0.4'],
        { from: 'user' },
      );
    } finally {
      log.mockRestore();
    }
    const settings = JSON.parse(readFileSync(join(out, 'dataset.json'), 'utf8')).settings;
    expect(settings).toMatchObject({ questionsPerClipTrain: 2, optionOrdersTrain: 3, optionOrderTasks: ['instrument', 'meter'], bindingQuestionsTrain: 5, bindingAnyLabelShare: 0.4 });
    const orders = JSON.parse(readFileSync(join(out, 'train-orders.json'), 'utf8')) as Sample[];
    expect(new Set(orders.map((x) => x.task))).toEqual(new Set(['instrument', 'meter']));
    expect(JSON.parse(readFileSync(join(out, 'train-binding.json'), 'utf8'))).toHaveLength(5);
  });
});
