// A small Standard MIDI File (SMF) writer, and a reader for checking what it wrote.
//
// An SMF is big-endian chunks: a header "MThd" (format, number of tracks, ticks per quarter note)
// then one "MTrk" chunk per track. A track is a list of events, each preceded by its delta time
// (ticks since the previous event) as a variable-length quantity (VLQ: 7 bits per byte, most
// significant group first, bit 7 set on every byte but the last). Events:
//   channel messages  0x8n note off, 0x9n note on, 0xBn control change, 0xCn program change
//                     (n = channel 0..15; GM's drum channel "10" is n = 9)
//   meta events       0xFF type len data: 0x51 tempo (µs per quarter note, 3 bytes),
//                     0x58 time signature (nn, log2 dd, clocks per click, 32nds per quarter),
//                     0x59 key signature (sharps/flats as int8, 0 major / 1 minor),
//                     0x03 track name, 0x2F end of track (required, last).
// We write format 0 (one track holding every channel), no running status: simple and what
// FluidSynth and every sequencer read.

export const TICKS_PER_QUARTER = 480;

export type MidiEvent =
  | { tick: number; type: 'noteOn'; channel: number; key: number; velocity: number }
  | { tick: number; type: 'noteOff'; channel: number; key: number }
  | { tick: number; type: 'program'; channel: number; program: number }
  | { tick: number; type: 'control'; channel: number; controller: number; value: number }
  | { tick: number; type: 'tempo'; usPerQuarter: number }
  | { tick: number; type: 'timeSignature'; numerator: number; denominator: number }
  | { tick: number; type: 'keySignature'; sharps: number; minor: boolean }
  | { tick: number; type: 'trackName'; text: string };

/** GM controller numbers we use. */
export const CC = { bankSelect: 0, volume: 7, pan: 10, expression: 11, reverb: 91, chorus: 93, allNotesOff: 123 } as const;

/** Variable-length quantity: 7 bits a byte, high groups first, continuation bit on all but the last. */
export function vlq(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0x0fffffff) throw new RangeError(`VLQ out of range: ${n}`);
  const out = [n & 0x7f];
  for (n >>>= 7; n > 0; n >>>= 7) out.unshift((n & 0x7f) | 0x80);
  return out;
}

function check7(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 127) throw new RangeError(`${name} must be an integer 0..127, got ${v}`);
  return v;
}
function checkChannel(c: number): number {
  if (!Number.isInteger(c) || c < 0 || c > 15) throw new RangeError(`channel must be 0..15, got ${c}`);
  return c;
}

/** Bytes of one event after its delta time. */
function eventBytes(e: MidiEvent): number[] {
  switch (e.type) {
    case 'noteOn':
      return [0x90 | checkChannel(e.channel), check7('key', e.key), check7('velocity', e.velocity)];
    case 'noteOff':
      return [0x80 | checkChannel(e.channel), check7('key', e.key), 0];
    case 'program':
      return [0xc0 | checkChannel(e.channel), check7('program', e.program)];
    case 'control':
      return [0xb0 | checkChannel(e.channel), check7('controller', e.controller), check7('value', e.value)];
    case 'tempo': {
      const t = Math.round(e.usPerQuarter);
      if (t < 1 || t > 0xffffff) throw new RangeError(`tempo ${t} µs/quarter out of range`);
      return [0xff, 0x51, 3, (t >> 16) & 0xff, (t >> 8) & 0xff, t & 0xff];
    }
    case 'timeSignature': {
      const dd = Math.log2(e.denominator);
      if (!Number.isInteger(dd) || dd < 0) throw new RangeError(`time signature denominator must be a power of 2, got ${e.denominator}`);
      // 24 MIDI clocks per metronome click on a quarter (36 on a dotted quarter for x/8), 8 32nds per quarter.
      const clocks = e.denominator === 8 && e.numerator % 3 === 0 ? 36 : 24;
      return [0xff, 0x58, 4, e.numerator, dd, clocks, 8];
    }
    case 'keySignature':
      if (!Number.isInteger(e.sharps) || e.sharps < -7 || e.sharps > 7) throw new RangeError(`key signature sharps must be -7..7, got ${e.sharps}`);
      return [0xff, 0x59, 2, e.sharps & 0xff, e.minor ? 1 : 0];
    case 'trackName': {
      const b = [...Buffer.from(e.text, 'utf8')];
      return [0xff, 0x03, ...vlq(b.length), ...b];
    }
  }
}

// At one tick: meta first, then program/controls, note-offs before note-ons (a repeated key
// re-strikes instead of being cut by its own release).
const ORDER: Record<MidiEvent['type'], number> = {
  trackName: 0, tempo: 1, timeSignature: 2, keySignature: 3, program: 4, control: 5, noteOff: 6, noteOn: 7,
};

/** A format-0 SMF holding `events` (any order; sorted stably by tick, then by kind). */
export function writeMidi(events: readonly MidiEvent[], ticksPerQuarter = TICKS_PER_QUARTER): Uint8Array {
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.tick - b.e.tick || ORDER[a.e.type] - ORDER[b.e.type] || a.i - b.i)
    .map((x) => x.e);
  const track: number[] = [];
  let last = 0;
  for (const e of sorted) {
    if (!Number.isInteger(e.tick) || e.tick < 0) throw new RangeError(`event tick must be a non-negative integer, got ${e.tick}`);
    track.push(...vlq(e.tick - last), ...eventBytes(e));
    last = e.tick;
  }
  track.push(0, 0xff, 0x2f, 0); // end of track
  const out = new Uint8Array(14 + 8 + track.length);
  const dv = new DataView(out.buffer);
  out.set([0x4d, 0x54, 0x68, 0x64], 0); // "MThd"
  dv.setUint32(4, 6);
  dv.setUint16(8, 0); // format 0
  dv.setUint16(10, 1); // one track
  dv.setUint16(12, ticksPerQuarter);
  out.set([0x4d, 0x54, 0x72, 0x6b], 14); // "MTrk"
  dv.setUint32(18, track.length);
  out.set(track, 22);
  return out;
}

// ---- reader (for tests and checks) --------------------------------------------------------

export interface ParsedMidi {
  format: number;
  ticksPerQuarter: number;
  tracks: MidiEvent[][]; // absolute ticks; unknown meta and sysex events are skipped
  endTicks: number[]; // tick of each track's end-of-track event
}

/** Parses an SMF (formats 0/1, running status, note-on velocity 0 as note-off). Throws on bad bytes. */
export function readMidi(bytes: Uint8Array): ParsedMidi {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (p: number) => String.fromCharCode(...bytes.subarray(p, p + 4));
  if (bytes.length < 14 || tag(0) !== 'MThd' || dv.getUint32(4) !== 6) throw new Error('not a Standard MIDI File (no MThd header)');
  const format = dv.getUint16(8), ntrks = dv.getUint16(10), division = dv.getUint16(12);
  if (division & 0x8000) throw new Error('SMPTE time division is not supported');
  const tracks: MidiEvent[][] = [], endTicks: number[] = [];
  let p = 14;
  for (let t = 0; t < ntrks; t++) {
    if (p + 8 > bytes.length || tag(p) !== 'MTrk') throw new Error(`track ${t}: missing MTrk chunk`);
    const end = p + 8 + dv.getUint32(p + 4);
    if (end > bytes.length) throw new Error(`track ${t}: chunk runs past the end of the file`);
    p += 8;
    const evs: MidiEvent[] = [];
    let tick = 0, status = 0, ended = false;
    const readVlq = () => {
      let v = 0;
      for (let i = 0; i < 4; i++) {
        if (p >= end) throw new Error(`track ${t}: truncated variable-length quantity`);
        const b = bytes[p++];
        v = (v << 7) | (b & 0x7f);
        if (!(b & 0x80)) return v;
      }
      throw new Error(`track ${t}: variable-length quantity longer than 4 bytes`);
    };
    while (p < end && !ended) {
      tick += readVlq();
      let b = bytes[p];
      if (b & 0x80) p++;
      else if (status) b = status; // running status
      else throw new Error(`track ${t}: data byte without a status`);
      if (b === 0xff) {
        const type = bytes[p++], len = readVlq(), d = bytes.subarray(p, p + len);
        p += len;
        if (type === 0x2f) { ended = true; endTicks.push(tick); }
        else if (type === 0x51) evs.push({ tick, type: 'tempo', usPerQuarter: (d[0] << 16) | (d[1] << 8) | d[2] });
        else if (type === 0x58) evs.push({ tick, type: 'timeSignature', numerator: d[0], denominator: 2 ** d[1] });
        else if (type === 0x59) evs.push({ tick, type: 'keySignature', sharps: (d[0] << 24) >> 24, minor: d[1] === 1 });
        else if (type === 0x03) evs.push({ tick, type: 'trackName', text: Buffer.from(d).toString('utf8') });
      } else if (b === 0xf0 || b === 0xf7) {
        p += readVlq();
      } else {
        status = b;
        const kind = b & 0xf0, channel = b & 0x0f;
        const d1 = bytes[p++];
        if (kind === 0xc0) evs.push({ tick, type: 'program', channel, program: d1 });
        else if (kind === 0xd0) { /* channel pressure: skipped */ }
        else {
          const d2 = bytes[p++];
          if (kind === 0x90 && d2 > 0) evs.push({ tick, type: 'noteOn', channel, key: d1, velocity: d2 });
          else if (kind === 0x90 || kind === 0x80) evs.push({ tick, type: 'noteOff', channel, key: d1 });
          else if (kind === 0xb0) evs.push({ tick, type: 'control', channel, controller: d1, value: d2 });
        }
      }
      if (p > end) throw new Error(`track ${t}: event runs past the chunk`);
    }
    if (!ended) throw new Error(`track ${t}: no end-of-track event`);
    tracks.push(evs);
    p = end;
  }
  return { format, ticksPerQuarter: division, tracks, endTicks };
}

/** Key signature sharps (negative = flats) of a key: tonic pitch class, major or minor. */
export function keySignatureSharps(tonic: number, minor: boolean): number {
  const major = minor ? (tonic + 3) % 12 : tonic; // relative major
  const sharps = (major * 7) % 12; // position on the circle of fifths: C=0, G=1, D=2, …
  return sharps > 6 ? sharps - 12 : sharps; // Db/Ab/Eb/Bb/F as flats; F# major as 6 sharps
}
