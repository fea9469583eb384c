// Decoding real files of every supported format to mono float32 at their own rate, the
// container/metadata reader, and agreement between formats of the same sound.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMono } from '../src/model/audio/decode.js';
import { audioInfo } from '../src/model/audio/info.js';
import { loadAudio } from '../src/model/audio/load.js';
import { LogMel, clipWaveform } from '../src/model/audio/mel.js';
import { npyBytes } from '../src/model/audio/npy.js';
import { encodeWav, readWavHeader, wavToChannels } from '../src/model/audio/wav.js';

const AUDIO = join(import.meta.dirname, 'fixtures/audio');
const fx = (f: string) => join(AUDIO, f);
let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), 'mufun-audio-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function decodeAll(path: string) {
  const parts: Float32Array[] = [];
  let rate = 0, channels = 0;
  for await (const b of decodeMono(path, { chunkBytes: 8192 })) {
    parts.push(b.samples);
    rate = b.sampleRate;
    channels = b.channels;
  }
  const n = parts.reduce((a, p) => a + p.length, 0);
  const x = new Float32Array(n);
  let o = 0;
  for (const p of parts) x.set(p, (o += p.length) - p.length);
  return { x, rate, channels };
}

/** Index of the first differing element (-1 if identical): no giant diffs in failures. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** The stereo 16-bit reference, read independently of our reader. */
function referenceStereo() {
  const b = readFileSync(fx('tone.wav'));
  const data = b.indexOf('data', 12, 'latin1');
  const n = b.readUInt32LE(data + 4) / 4;
  const L = new Float32Array(n), R = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    L[i] = b.readInt16LE(data + 8 + 4 * i) / 32768;
    R[i] = b.readInt16LE(data + 10 + 4 * i) / 32768;
  }
  return { L, R };
}

describe('decoding to mono float32 at the native rate', () => {
  it('wav: 16-bit stereo is the mean of the channels', async () => {
    const { L, R } = referenceStereo();
    const { x, rate, channels } = await decodeAll(fx('tone.wav'));
    expect([rate, channels, x.length]).toEqual([44100, 2, 88200]);
    for (let i = 0; i < x.length; i++) if (x[i] !== Math.fround((L[i] + R[i]) / 2)) throw new Error(`sample ${i}: ${x[i]}`);
  });

  it.each([
    [{ bits: 8 as const }, 1 / 128],
    [{ bits: 16 as const }, 1 / 32768],
    [{ bits: 24 as const }, 1 / 8388608],
    [{ bits: 32 as const }, 1e-7],
    [{ bits: 32 as const, float: true }, 0],
    [{ bits: 64 as const, float: true }, 0],
    [{ bits: 24 as const, extensible: true }, 1 / 8388608],
    [{ bits: 32 as const, float: true, extensible: true }, 0],
  ])('wav %o round-trips within its quantisation step', async (enc, tol) => {
    const n = 5000;
    const L = Float32Array.from({ length: n }, (_, i) => 0.6 * Math.sin(i * 0.01));
    const R = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.cos(i * 0.023));
    const f = join(tmp, `v${JSON.stringify(enc).replace(/\W/g, '')}.wav`);
    writeFileSync(f, encodeWav([L, R], 22050, enc));
    const { x, rate } = await decodeAll(f);
    expect(rate).toBe(22050);
    expect(x.length).toBe(n);
    let err = 0;
    for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(x[i] - (L[i] + R[i]) / 2));
    expect(err).toBeLessThanOrEqual(tol + 1e-7);
  });

  it('wav: 6-channel 24-bit WAVE_FORMAT_EXTENSIBLE (ffmpeg) equals the same audio as float64', async () => {
    const a = await decodeAll(fx('six24.wav'));
    const b = await decodeAll(fx('six-f64.wav'));
    expect([a.rate, a.channels, a.x.length]).toEqual([16000, 6, 1600]);
    expect(firstDiff(a.x, b.x)).toBe(-1);
    // and it is the mean of the six channels
    const buf = readFileSync(fx('six24.wav'));
    const { open } = await import('node:fs/promises');
    const fh = await open(fx('six24.wav'));
    const h = await readWavHeader(fh, buf.length, 'six24.wav');
    await fh.close();
    const ch = wavToChannels(buf.subarray(h.dataOffset, h.dataOffset + h.dataBytes), h);
    expect(ch.length).toBe(6);
    expect(a.x[100]).toBeCloseTo(ch.reduce((s, c) => s + c[100], 0) / 6, 7);
  });

  it('npy: a float32 16 kHz waveform is taken as is', async () => {
    const w = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 7));
    const f = join(tmp, 'w.npy');
    writeFileSync(f, npyBytes(w));
    const r = await loadAudio(f);
    expect(r.sourceRate).toBe(16000);
    expect(firstDiff(r.pcm, w)).toBe(-1);
    const info = await audioInfo(f);
    expect(info).toMatchObject({ container: 'npy', sampleRate: 16000, channels: 1, durationSec: 1 });
  });

  const formats = [
    ['tone.wav', 44100, 'pcm_s16le'],
    ['tone.flac', 44100, 'flac'],
    ['tone.mp3', 44100, 'mp3'],
    ['tone.ogg', 44100, 'vorbis'],
    ['tone.opus', 48000, 'opus'],
  ] as const;

  it.each(formats)('%s decodes at %i Hz; durations agree within 30 ms', async (file, rate, codec) => {
    const r = await loadAudio(fx(file));
    expect(r.sourceRate).toBe(rate);
    expect(r.codec).toBe(codec);
    expect(r.channels).toBe(2);
    expect(Math.abs(r.durationSec - 2)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(r.pcm.length - 32000)).toBeLessThanOrEqual(480);
    const info = await audioInfo(fx(file));
    expect(info.sampleRate).toBe(rate);
    expect(info.channels).toBe(2);
    expect(Math.abs(info.durationSec - r.durationSec)).toBeLessThanOrEqual(0.03);
  });

  it('lossy decodes stay close to the original waveform', async () => {
    const ref = (await loadAudio(fx('tone.wav'))).pcm;
    for (const f of ['tone.mp3', 'tone.ogg']) {
      const x = (await loadAudio(fx(f))).pcm;
      let num = 0, den = 0;
      for (let i = 0; i < Math.min(x.length, ref.length); i++) {
        num += (x[i] - ref[i]) ** 2;
        den += ref[i] ** 2;
      }
      expect(Math.sqrt(num / den), f).toBeLessThan(0.2); // aligned: gapless decode, no offset
    }
  });

  it('reads tags and format from the container', async () => {
    const i = await audioInfo(fx('tone.flac'));
    expect(i).toMatchObject({ container: 'flac', codec: 'flac', sampleRate: 44100, channels: 2, bitsPerSample: 16, lossless: true });
    expect(i.tags).toMatchObject({ title: 'Test Tone', artist: 'MuFun Studio', album: 'Fixtures' });
    expect((await audioInfo(fx('tone.mp3'))).tags).toMatchObject({ title: 'Test Tone', artist: 'MuFun Studio' });
    expect((await audioInfo(fx('tone.wav'))).codec).toBe('pcm_s16le');
  });

  it('the log-mel of a wav and a flac of the same PCM are identical', async () => {
    const a = await loadAudio(fx('tone.wav'));
    const b = await loadAudio(fx('tone.flac'));
    expect(firstDiff(b.pcm, a.pcm)).toBe(-1);
    const lm = await LogMel.create(128);
    try {
      const ma = await lm.compute(clipWaveform(a.pcm)[0]);
      const mb = await lm.compute(clipWaveform(b.pcm)[0]);
      expect(ma.length).toBe(128 * 3000);
      expect(Buffer.compare(Buffer.from(ma.buffer), Buffer.from(mb.buffer))).toBe(0);
    } finally {
      await lm.release();
    }
  });

  // MuFun reads through ffmpeg (torchaudio's backend) and takes the mean of the channels.
  // (Not `ffmpeg -ac 1`, which mixes stereo as (L + R)·√½.)
  const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;
  it.skipIf(!hasFfmpeg).each([
    ['tone.wav', 0], ['tone.flac', 0], ['tone.ogg', 1e-6], ['tone.mp3', 1e-5], ['tone.opus', 1e-4],
  ])('%s decodes like ffmpeg (channel mean, max abs error <= %f)', async (file, tol) => {
    const out = join(tmp, `ff-${file}.f32`);
    const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', fx(file), '-f', 'f32le', out]);
    expect(r.status).toBe(0);
    const b = readFileSync(out);
    const ff = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    const { x } = await decodeAll(fx(file));
    expect(x.length).toBe(ff.length / 2);
    let err = 0;
    for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i] - (ff[2 * i] + ff[2 * i + 1]) / 2));
    console.log(`${file}: max abs difference from ffmpeg ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(tol + 1e-7);
  });
});
