// `mufun audio info` and `mufun audio features`, driven through the command itself.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { audioCommand } from '../src/cli/commands/audio.js';
import { loadAudio } from '../src/model/audio/load.js';
import { LogMel, clipWaveform } from '../src/model/audio/mel.js';
import { encodeWav } from '../src/model/audio/wav.js';
import { SafetensorsFile } from '../src/model/safetensors.js';

const AUDIO = join(import.meta.dirname, 'fixtures/audio');
let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), 'mufun-audio-cli-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function run(...args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  try {
    const cmd = audioCommand().exitOverride();
    for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeErr: () => {} });
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out.join('\n');
}

describe('mufun audio', () => {
  it('info prints codec, rate, channels, duration and tags as JSON', async () => {
    const j = JSON.parse(await run('info', join(AUDIO, 'tone.mp3')));
    expect(j).toMatchObject({ codec: 'mp3', sampleRate: 44100, channels: 2, tags: { title: 'Test Tone', artist: 'MuFun Studio', album: 'Fixtures' } });
    expect(j.durationSec).toBeCloseTo(2, 3);
  });

  it('info on a bad file rejects with the typed error', async () => {
    await expect(run('info', join(tmp, 'missing.flac'))).rejects.toMatchObject({ code: 'not-found' });
  });

  it('features writes mel.0, mel.1 … equal to the library pipeline, with a segment', async () => {
    // 35 s at 22.05 kHz, stereo -> segment [1, 33.2] = 32.2 s -> two clips (the second 2.2 s)
    const rate = 22050, n = rate * 35;
    const L = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.02) * Math.sin(i * 1e-4));
    const R = Float32Array.from({ length: n }, (_, i) => 0.2 * Math.sin(i * 0.031));
    const wav = join(tmp, 'long.wav');
    writeFileSync(wav, encodeWav([L, R], rate));
    const out = join(tmp, 'f.safetensors');
    const j = JSON.parse(await run('features', wav, '--seg', '1,33.2', '--mel-bins', '80', '--out', out));
    expect(j).toMatchObject({ clips: 2, shape: [80, 3000], sourceRate: 22050 });
    const st = SafetensorsFile.open(out);
    try {
      expect([...st.tensors.keys()].sort()).toEqual(['mel.0', 'mel.1']);
      expect(st.entry('mel.1').shape).toEqual([80, 3000]);
      expect(st.metadata.segment).toBe('1,33.2');
      const a = await loadAudio(wav, { segment: [1, 33.2] });
      const clips = clipWaveform(a.pcm);
      const lm = await LogMel.create(80);
      const want = await lm.compute(clips[1]);
      await lm.release();
      const got = st.float32('mel.1');
      let same = got.length === want.length;
      for (let i = 0; same && i < got.length; i++) same = got[i] === want[i];
      expect(same).toBe(true);
    } finally {
      st.close();
    }
  });

  it('features rejects a malformed --seg before reading anything', async () => {
    await expect(run('features', join(AUDIO, 'tone.wav'), '--seg', '5', '--out', join(tmp, 'x.safetensors'))).rejects.toThrow(/start,end/);
  });

  it('features on a segment past the end gives the bad-segment error', async () => {
    await expect(run('features', join(AUDIO, 'tone.wav'), '--seg', '1,3', '--out', join(tmp, 'y.safetensors'))).rejects.toMatchObject({ code: 'bad-segment' });
  });
});
