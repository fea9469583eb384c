// Streaming: the block resampler (ONNX Runtime convolutions) equals the one-shot loop to float
// rounding, loadAudio (decode -> cut at the native rate -> resample) equals doing the same steps
// on whole arrays, memory stays bounded on a long file, progress is reported; and waveform peaks.
import { createHook } from 'node:async_hooks';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMono } from '../src/model/audio/decode.js';
import { loadAudio, segmentFrames } from '../src/model/audio/load.js';
import { FilePeakStore, PeakBuilder, computePeaks } from '../src/model/audio/peaks.js';
import { StreamResampler, resample } from '../src/model/audio/resample.js';
import { encodeWav } from '../src/model/audio/wav.js';
import { filePeaks } from '../src/model/audio/waveform.js';
import { SafetensorsFile } from '../src/model/safetensors.js';

const AUDIO = join(import.meta.dirname, 'fixtures/audio');
let tmp: string;
beforeAll(() => void (tmp = mkdtempSync(join(tmpdir(), 'mufun-audio-stream-'))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/** Largest |a − b| (Infinity when the lengths differ). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function streamed(x: Float32Array, from: number, to: number, sizes: number[], batchSeconds?: number): Promise<Float32Array> {
  const rs = new StreamResampler(from, to, batchSeconds);
  const parts: Float32Array[] = [];
  let i = 0, k = 0;
  while (i < x.length) {
    const n = sizes[k++ % sizes.length];
    parts.push(await rs.push(x.subarray(i, i + n)));
    i += n;
  }
  parts.push(await rs.end());
  const y = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) y.set(p, (o += p.length) - p.length);
  return y;
}

async function decodeWhole(path: string) {
  const parts: Float32Array[] = [];
  let rate = 0;
  for await (const b of decodeMono(path)) {
    parts.push(b.samples);
    rate = b.sampleRate;
  }
  const x = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) x.set(p, (o += p.length) - p.length);
  return { x, rate };
}

describe('StreamResampler', () => {
  const x = Float32Array.from({ length: 20011 }, (_, i) => Math.sin(i * 0.05) * 0.5 + Math.sin(i * 1.3) * 0.2);
  it.each([
    [44100, 16000], [48000, 16000], [22050, 16000], [8000, 16000], [16000, 16000], [32000, 44100], [11025, 16000], [96000, 16000],
  ])('%i -> %i block by block equals the one-shot loop (same length, ≤ 1e-6)', async (from, to) => {
    const want = resample(x, from, to);
    for (const [sizes, batch] of [[[x.length]], [[1], 0.01], [[0, 7, 1000, 3], 0.05], [[4096]], [[333, 1], 0]] as [number[], number?][]) {
      expect(maxDiff(await streamed(x, from, to, sizes, batch), want), `blocks ${sizes}`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('matches the torchaudio fixture (resample.wave44100 -> wave16000) within 1e-4', async () => {
    const dir = join(import.meta.dirname, 'fixtures/public-a');
    const inp = SafetensorsFile.open(join(dir, 'inputs.safetensors'));
    const exp = SafetensorsFile.open(join(dir, 'expected.safetensors'));
    const got = await streamed(inp.float32('resample.wave44100'), 44100, 16000, [4410]);
    const want = exp.float32('resample.wave16000');
    inp.close();
    exp.close();
    expect(got.length).toBe(want.length);
    let err = 0;
    for (let i = 0; i < got.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
    expect(err).toBeLessThanOrEqual(1e-4);
  });

  it('holds back only a kernel plus less than one batch of input', async () => {
    const rs = new StreamResampler(44100, 16000, 2);
    for (let i = 0; i < 200; i++) await rs.push(new Float32Array(44100));
    expect(rs.held).toBeLessThan(2 * 44100 + 1000);
  });

  it('refuses a push before the previous one finished', async () => {
    const rs = new StreamResampler(44100, 16000, 0);
    const first = rs.push(new Float32Array(44100));
    expect(() => rs.push(new Float32Array(10))).toThrow(/await each push/);
    await first;
  });
});

describe('loadAudio: decode -> cut at the native rate -> resample', () => {
  it.each(['tone.wav', 'tone.flac', 'tone.mp3', 'tone.ogg', 'tone.opus'])('%s whole and [0.25, 1.5] equal the array pipeline', async (file) => {
    const path = join(AUDIO, file);
    const { x, rate } = await decodeWhole(path);
    const whole = await loadAudio(path, { chunkBytes: 4096 });
    expect(maxDiff(whole.pcm, resample(x, rate, 16000))).toBeLessThanOrEqual(1e-6);
    const seg = [0.25, 1.5] as const;
    const [a, b] = segmentFrames(seg, rate);
    const cut = await loadAudio(path, { segment: seg, chunkBytes: 4096 });
    expect(maxDiff(cut.pcm, resample(x.subarray(a, b), rate, 16000))).toBeLessThanOrEqual(1e-6);
    expect(cut.durationSec).toBeCloseTo(1.25, 4);
    expect(cut.fileDurationSec).toBeUndefined(); // stopped decoding after the segment
  });

  it('a long file: bounded memory, progress reported, output streamed', async () => {
    // 6 minutes of 44.1 kHz stereo 16-bit (64 MB of wav, 127 MB as stereo float32).
    const rate = 44100, seconds = 360, n = rate * seconds;
    const f = join(tmp, 'long.wav');
    const header = encodeWav([new Float32Array(0), new Float32Array(0)], rate).subarray(0, 44);
    header.writeUInt32LE(36 + n * 4, 4);
    header.writeUInt32LE(n * 4, 40);
    const fd = openSync(f, 'w');
    writeSync(fd, header);
    const sec = Buffer.alloc(rate * 4);
    for (let s = 0; s < seconds; s++) {
      for (let i = 0; i < rate; i++) {
        const v = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (s * rate + i)) / rate));
        sec.writeInt16LE(v, 4 * i);
        sec.writeInt16LE(-v, 4 * i + 2);
      }
      writeSync(fd, sec);
    }
    closeSync(fd);

    const progress: number[] = [];
    let samples = 0, maxHeap = 0;
    const before = process.memoryUsage();
    const r = await loadAudio(f, {
      onProgress: (p) => progress.push(p),
      onPcm: (blk) => {
        samples += blk.length;
        const m = process.memoryUsage();
        maxHeap = Math.max(maxHeap, m.arrayBuffers - before.arrayBuffers, m.heapUsed - before.heapUsed);
      },
    });
    expect(samples).toBe(16000 * seconds);
    expect(r.pcm.length).toBe(0);
    expect(r.durationSec).toBe(seconds);
    expect(progress.length).toBeGreaterThan(50);
    expect(progress.at(-1)).toBe(1);
    expect(progress.every((p, i) => i === 0 || p >= progress[i - 1])).toBe(true);
    expect(maxHeap).toBeLessThan(48 * 2 ** 20); // the stereo float file would be 127 MB
  });
});

describe('waveform peaks', () => {
  const x = Float32Array.from({ length: 100_003 }, (_, i) => Math.sin(i * 0.001) * (i % 7 === 0 ? 1 : 0.5));

  it('min/max per bucket at each level, one pass, blocks or whole', () => {
    const p = computePeaks(x, 44100, [64, 256, 1024]);
    expect(p.length).toBe(x.length);
    for (const l of p.levels) {
      expect(l.min.length).toBe(Math.ceil(x.length / l.samplesPerPeak));
      for (const b of [0, 17, l.min.length - 1]) {
        const s = x.subarray(b * l.samplesPerPeak, (b + 1) * l.samplesPerPeak);
        expect(l.min[b]).toBe(Math.min(...s));
        expect(l.max[b]).toBe(Math.max(...s));
      }
    }
    const pb = new PeakBuilder(44100, [64, 256, 1024]);
    for (let i = 0; i < x.length; i += 999) pb.push(x.subarray(i, i + 999));
    const q = pb.finish();
    for (let l = 0; l < 3; l++) {
      expect(firstDiff(q.levels[l].min, p.levels[l].min)).toBe(-1);
      expect(firstDiff(q.levels[l].max, p.levels[l].max)).toBe(-1);
    }
    expect(() => new PeakBuilder(44100, [100, 250])).toThrow(/multiple/);
  });

  it('a file decodes once; the second call reads the cache', async () => {
    const f = join(tmp, 'peaks.wav');
    writeFileSync(f, encodeWav([x], 22050));
    const dir = join(tmp, 'peak-cache');
    const a = await filePeaks(f, { store: dir });
    expect(a.cached).toBe(false);
    const b = await filePeaks(f, { store: dir });
    expect(b.cached).toBe(true);
    expect(b.sampleRate).toBe(22050);
    expect(b.levels.map((l) => l.samplesPerPeak)).toEqual(a.levels.map((l) => l.samplesPerPeak));
    for (let l = 0; l < a.levels.length; l++) expect(firstDiff(b.levels[l].max, a.levels[l].max)).toBe(-1);
    // a changed file is a miss
    writeFileSync(f, encodeWav([x.subarray(0, 5000)], 22050));
    const c = await filePeaks(f, { store: dir });
    expect(c.cached).toBe(false);
    expect(c.length).toBe(5000);
    // a damaged cache file is a miss, not an error
    const store = new FilePeakStore(dir);
    writeFileSync(join(dir, 'deadbeef.peaks.safetensors'), 'garbage');
    expect(store.get('deadbeef')).toBeUndefined();
  });
});

// The compiled build decodes in a worker thread (the TS sources cannot start one): when dist/
// is there (`npm test` builds it first), check that path gives the same samples and errors.
const DIST_LOAD = join(import.meta.dirname, '..', 'dist', 'src', 'model', 'audio', 'load.js');
describe.skipIf(!existsSync(DIST_LOAD))('decoding in a worker thread (compiled build)', () => {
  it('gives the same samples, segments and typed errors', async () => {
    const dist = (await import(pathToFileURL(DIST_LOAD).href)) as typeof import('../src/model/audio/load.js');
    for (const f of ['tone.mp3', 'tone.flac']) {
      const path = join(AUDIO, f);
      const a = await loadAudio(path, { worker: false });
      const progress: number[] = [];
      const b = await dist.loadAudio(path, { worker: true, chunkBytes: 4096, onProgress: (p) => progress.push(p) });
      expect(firstDiff(b.pcm, a.pcm)).toBe(-1);
      expect(progress.at(-1)).toBe(1);
      const s = await dist.loadAudio(path, { worker: true, segment: [0.5, 1] });
      expect(firstDiff(s.pcm, (await loadAudio(path, { worker: false, segment: [0.5, 1] })).pcm)).toBe(-1);
    }
    // an mp3 on several threads, in jobs of 8 frames (10 jobs for this 2 s file): bit-identical
    const mp3 = (await import(pathToFileURL(DIST_LOAD.replace('load.js', 'mp3-parallel.js')).href)) as typeof import('../src/model/audio/mp3-parallel.js');
    const plan = await mp3.planMp3(join(AUDIO, 'tone.mp3'));
    expect(plan).not.toBeNull();
    for (const threads of [1, 3]) {
      const parts: Float32Array[] = [];
      for await (const b of mp3.decodeMp3Parallel(join(AUDIO, 'tone.mp3'), plan!, {}, undefined, threads, 8)) parts.push(b.samples);
      const got = Float32Array.from(parts.flatMap((p) => Array.from(p)));
      const { x } = await decodeWhole(join(AUDIO, 'tone.mp3'));
      expect(firstDiff(got, x), `${threads} threads`).toBe(-1);
    }
    // the threads live on between files: two different mp3s at once, and a reader that stops
    // early, each still get exactly their own samples
    const other = join(tmp, 'other.mp3');
    execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=330:duration=3', '-c:a', 'libmp3lame', '-b:a', '96k', other]);
    const all = async (file: string, stopAfter = Infinity) => {
      const parts: Float32Array[] = [];
      for await (const b of mp3.decodeMp3Parallel(file, (await mp3.planMp3(file))!, {}, undefined, 3, 8)) {
        parts.push(b.samples);
        if (parts.length >= stopAfter) break;
      }
      return Float32Array.from(parts.flatMap((p) => Array.from(p)));
    };
    await all(other, 2);
    const [a, b] = await Promise.all([all(join(AUDIO, 'tone.mp3')), all(other)]);
    expect(firstDiff(a, (await decodeWhole(join(AUDIO, 'tone.mp3'))).x)).toBe(-1);
    expect(firstDiff(b, (await decodeWhole(other)).x)).toBe(-1);
    const cut = join(tmp, 'cut.flac');
    const bytes = readFileSync(join(AUDIO, 'tone.flac'));
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    const e = await dist.loadAudio(cut, { worker: true }).then(() => null, (x: unknown) => x);
    expect((e as { name: string }).name).toBe('AudioError');
    expect((e as { code: string }).code).toBe('truncated');
    expect((e as Error).message).toContain('cut.flac');
  });

  it('idle decoder threads never keep a process alive', () => {
    // warmed threads with no job (the chat worker warms them as it starts; a short mp3 gives some none)
    const url = pathToFileURL(DIST_LOAD.replace('load.js', 'mp3-parallel.js')).href;
    const script = join(tmp, 'warm.mjs'); // a file (node -e exits even with threads referenced)
    writeFileSync(script, `const m = await import(${JSON.stringify(url)});\nm.warmMp3Decoders(2);\n`);
    const r = spawnSync(process.execPath, [script], { timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
  });

  it('starts a worker only where one pays: for compressed files of WORKER_MIN_BYTES or more, never for PCM', async () => {
    const dist = (await import(pathToFileURL(DIST_LOAD).href)) as typeof import('../src/model/audio/load.js');
    const big = (ext: string) => {
      const f = join(tmp, `noise-20s.${ext}`); // noise does not compress: well over 1 MB either way
      execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'anoisesrc=d=20:r=44100', '-ac', '2', f]);
      return f;
    };
    const [bigFlac, bigWav] = [big('flac'), big('wav')];
    expect(statSync(bigFlac).size).toBeGreaterThan(dist.WORKER_MIN_BYTES);
    expect(statSync(join(AUDIO, 'tone.flac')).size).toBeLessThan(dist.WORKER_MIN_BYTES);
    let workers = 0;
    const hook = createHook({ init: (_id, type) => { if (type === 'WORKER') workers++; } }).enable();
    const startsWorker = async (file: string, worker?: boolean) => {
      const before = workers;
      const got = await dist.loadAudio(file, { worker });
      expect(firstDiff(got.pcm, (await loadAudio(file, { worker: false })).pcm), file).toBe(-1);
      return workers > before;
    };
    try {
      expect(await startsWorker(join(AUDIO, 'tone.wav'))).toBe(false);
      expect(await startsWorker(bigWav)).toBe(false);
      expect(await startsWorker(join(AUDIO, 'tone.flac'))).toBe(false);
      expect(await startsWorker(bigFlac)).toBe(true);
      expect(await startsWorker(join(AUDIO, 'tone.wav'), true)).toBe(true); // asked for
      expect(await startsWorker(bigFlac, false)).toBe(false);
    } finally {
      hook.disable();
    }
  });
});
