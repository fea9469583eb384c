// Bad input never crashes or hangs: each kind gives an AudioError with a code and the file name.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AudioError, type AudioErrorCode } from '../src/model/audio/errors.js';
import { audioInfo } from '../src/model/audio/info.js';
import { loadAudio } from '../src/model/audio/load.js';
import { npyBytes } from '../src/model/audio/npy.js';
import { encodeWav } from '../src/model/audio/wav.js';

const AUDIO = join(import.meta.dirname, 'fixtures/audio');
let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), 'mufun-audio-bad-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const put = (name: string, bytes: Uint8Array | string) => {
  const f = join(tmp, name);
  writeFileSync(f, bytes);
  return f;
};
const fixture = (f: string) => readFileSync(join(AUDIO, f));

/** Deterministic noise bytes. */
function noise(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let s = seed;
  for (let i = 0; i < n; i++) b[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return b;
}

async function expectAudioError(p: Promise<unknown>, code: AudioErrorCode, file: string, words?: RegExp) {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e, `expected an AudioError '${code}'`).toBeInstanceOf(AudioError);
  const ae = e as AudioError;
  expect(ae.code, ae.message).toBe(code);
  expect(ae.message).toContain(file);
  if (words) expect(ae.message).toMatch(words);
}

describe('bad input gives a typed error', () => {
  it('not-found: a missing file or a directory', async () => {
    await expectAudioError(loadAudio(join(tmp, 'nope.wav')), 'not-found', 'nope.wav');
    mkdirSync(join(tmp, 'dir.wav'));
    await expectAudioError(loadAudio(join(tmp, 'dir.wav')), 'not-found', 'dir.wav');
    await expectAudioError(audioInfo(join(tmp, 'nope.mp3')), 'not-found', 'nope.mp3');
  });

  it('empty: zero bytes, only zeros, a wav with no samples, an empty .npy', async () => {
    await expectAudioError(loadAudio(put('empty.mp3', '')), 'empty', 'empty.mp3', /empty/);
    await expectAudioError(audioInfo(put('empty2.flac', '')), 'empty', 'empty2.flac');
    await expectAudioError(loadAudio(put('zeros.wav', Buffer.alloc(4096))), 'empty', 'zeros.wav');
    await expectAudioError(loadAudio(put('nosamples.wav', encodeWav([new Float32Array(0)], 16000))), 'empty', 'nosamples.wav');
    await expectAudioError(loadAudio(put('empty.npy', npyBytes(new Float32Array(0)))), 'empty', 'empty.npy');
  });

  it.each([
    ['tone.wav', /only \d+ are in the file/],
    ['tone.flac', /STREAMINFO/],
    ['tone.mp3', /Xing/],
    ['tone.ogg', /Ogg/],
    ['tone.opus', /Ogg/],
  ])('truncated: %s cut to 60 %%', async (file, words) => {
    const b = fixture(file);
    const f = put(`cut-${file}`, b.subarray(0, Math.floor(b.length * 0.6)));
    await expectAudioError(loadAudio(f), 'truncated', `cut-${file}`, words);
  });

  it('truncated: a wav cut inside its header', async () => {
    await expectAudioError(loadAudio(put('hdr.wav', fixture('tone.wav').subarray(0, 30))), 'truncated', 'hdr.wav');
  });

  it.each(['tone.mp3', 'tone.flac', 'tone.ogg', 'tone.opus'])('corrupt: %s with its body overwritten by noise', async (file) => {
    const b = Buffer.from(fixture(file));
    const from = Math.floor(b.length * 0.3);
    noise(Math.floor(b.length * 0.4)).copy(b, from);
    const f = put(`noisy-${file}`, b);
    const e = await loadAudio(f).then(() => null, (x: unknown) => x);
    // A lossy stream may resync past the damage; then it decodes. Either way: no crash, no hang.
    console.log(`noisy ${file}: ${e ? (e as Error).message : 'decoded (resynced past the damage)'}`);
    if (e) {
      expect(e).toBeInstanceOf(AudioError);
      expect(['corrupt', 'truncated']).toContain((e as AudioError).code);
      expect((e as AudioError).message).toContain(`noisy-${file}`);
    }
  });

  it('corrupt: noise named like audio', async () => {
    for (const ext of ['wav', 'mp3', 'flac', 'ogg', 'opus']) {
      await expectAudioError(loadAudio(put(`noise.${ext}`, noise(50_000, 7))), 'corrupt', `noise.${ext}`, new RegExp(`not ${ext} audio`));
    }
  });

  it('corrupt: a wav whose block align contradicts its format', async () => {
    const b = encodeWav([new Float32Array(100)], 16000);
    b.writeUInt16LE(7, 32);
    await expectAudioError(loadAudio(put('align.wav', b)), 'corrupt', 'align.wav', /block align/);
  });

  it('wrong extension: an mp3 named .wav and a flac named .mp3 decode by content', async () => {
    const a = await loadAudio(put('really-mp3.wav', fixture('tone.mp3')));
    expect(a.codec).toBe('mp3');
    const b = await loadAudio(put('really-flac.mp3', fixture('tone.flac')));
    expect(b.codec).toBe('flac');
    expect(a.pcm.length).toBe(b.pcm.length);
    expect((await audioInfo(join(tmp, 'really-mp3.wav'))).codec).toBe('mp3');
  });

  it('unsupported: AIFF, MP4, ADPCM wav, 12-bit wav, a text file', async () => {
    const aiff = Buffer.concat([Buffer.from('FORM\0\0\0\x40AIFFCOMM', 'latin1'), Buffer.alloc(64)]);
    await expectAudioError(loadAudio(put('a.aiff', aiff)), 'unsupported', 'a.aiff', /AIFF/);
    const mp4 = Buffer.concat([Buffer.from('\0\0\0\x20ftypM4A ', 'latin1'), Buffer.alloc(64)]);
    await expectAudioError(loadAudio(put('a.m4a', mp4)), 'unsupported', 'a.m4a', /MP4/);
    const adpcm = encodeWav([new Float32Array(100)], 16000);
    adpcm.writeUInt16LE(2, 20);
    await expectAudioError(loadAudio(put('adpcm.wav', adpcm)), 'unsupported', 'adpcm.wav', /ADPCM/);
    const odd = encodeWav([new Float32Array(100)], 16000);
    odd.writeUInt16LE(12, 34);
    await expectAudioError(loadAudio(put('odd.wav', odd)), 'unsupported', 'odd.wav', /12-bit/);
    await expectAudioError(loadAudio(put('notes.txt', 'just some text, not audio at all\n'.repeat(20))), 'unsupported', 'notes.txt');
  });

  it('non-finite: NaN or Inf samples in a float wav or .npy, with where', async () => {
    const x = Float32Array.from({ length: 32000 }, (_, i) => Math.sin(i / 10));
    x[16000] = NaN;
    await expectAudioError(loadAudio(put('nan.wav', encodeWav([x], 16000, { float: true }))), 'non-finite', 'nan.wav', /1\.000 s.*NaN/);
    const y = Float32Array.from(x);
    y[16000] = 0;
    y[100] = Infinity;
    await expectAudioError(loadAudio(put('inf.wav', encodeWav([y, y], 16000, { bits: 64, float: true }))), 'non-finite', 'inf.wav', /Infinity/);
    await expectAudioError(loadAudio(put('nan.npy', npyBytes(x))), 'non-finite', 'nan.npy');
  });

  describe('segments', () => {
    const wav = () => join(AUDIO, 'tone.wav'); // 2.0 s
    it('end <= start, negative or non-finite', async () => {
      await expectAudioError(loadAudio(wav(), { segment: [1, 1] }), 'bad-segment', 'tone.wav', /ends at or before/);
      await expectAudioError(loadAudio(wav(), { segment: [1.5, 0.5] }), 'bad-segment', 'tone.wav');
      await expectAudioError(loadAudio(wav(), { segment: [-1, 1] }), 'bad-segment', 'tone.wav', /before 0/);
      await expectAudioError(loadAudio(wav(), { segment: [0, NaN] }), 'bad-segment', 'tone.wav');
    });
    it('beyond the end of the audio', async () => {
      await expectAudioError(loadAudio(wav(), { segment: [1, 2.5] }), 'bad-segment', 'tone.wav', /ends after the end of the audio \(2\.000 s\)/);
      await expectAudioError(loadAudio(wav(), { segment: [3, 4] }), 'bad-segment', 'tone.wav', /starts at or after/);
      await expectAudioError(loadAudio(join(AUDIO, 'tone.mp3'), { segment: [0.5, 9] }), 'bad-segment', 'tone.mp3');
    });
    it('up to the exact end is fine', async () => {
      const r = await loadAudio(wav(), { segment: [1, 2] });
      expect(r.durationSec).toBe(1);
      expect(r.pcm.length).toBe(16000);
    });
  });

  it('a copy of a good file still loads (the fixtures are fine)', async () => {
    copyFileSync(join(AUDIO, 'tone.ogg'), join(tmp, 'ok.ogg'));
    expect((await loadAudio(join(tmp, 'ok.ogg'))).pcm.length).toBe(32000);
  });
});
