// Audio-in speed, next to its baselines from the same run: log-mel ms per 30 s clip (ours,
// WebAssembly SIMD on two threads, vs torch_mufun.py's `log_mel`, torch.stft), and decode + resample to 16 kHz of a
// 4-minute 44.1 kHz stereo mp3 (made here with ffmpeg or lame), vs ffmpeg doing the same; and of
// short clips (10 s wav, flac), where a decoder thread's start would cost more than decoding.
// The machine's load is printed too: on a shared machine timings move with it, so the log-mels
// take turns (ours, PyTorch's, five rounds) rather than running one after the other.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeMono } from '../src/model/audio/decode.js';
import { loadAudio } from '../src/model/audio/load.js';
import { CLIP_SAMPLES, LogMel } from '../src/model/audio/mel.js';
import { canDecodeMp3Parallel } from '../src/model/audio/mp3-parallel.js';
import { StreamResampler } from '../src/model/audio/resample.js';
import { encodeWav } from '../src/model/audio/wav.js';
import { BASELINE_SCRIPT, pythonWithTorch } from './baseline.js';
import { bestMs } from './timing.js';

export interface AudioBenchOptions {
  threads: number;
  melBins: number;
  seconds: number; // length of the mp3
  baseline: boolean;
}

const has = (cmd: string) => spawnSync(cmd, ['-version']).status === 0 || spawnSync(cmd, ['--version']).status === 0;

/** Rounds of ours then PyTorch's log-mel, each a best of 10: both meet the same load. */
const MEL_ROUNDS = 5;

interface TorchMel {
  info: { threads: number; torch: string };
  /** best of 10 calls of torch_mufun.py's log_mel on a random 30 s clip (after one warm-up), in ms */
  time(): Promise<number>;
  close(): void;
}

/**
 * torch_mufun.py's log_mel (torch.stft) in a child process that times a best of 10 each time it
 * is asked, so that ours and PyTorch's can take turns: on a shared machine the load moves over
 * seconds, and timing one after the other compared two different machines.
 */
async function torchMel(threads: number, melBins: number): Promise<TorchMel | { error: string }> {
  const py = pythonWithTorch();
  if (!py) return { error: 'no python3 with torch found (apt-get install python3-torch libopenblas0-pthread)' };
  const code = `
import sys, json, time, torch
sys.path.insert(0, ${JSON.stringify(dirname(BASELINE_SCRIPT))})
import torch_mufun as T
torch.set_num_threads(${threads})
fb = T.mel_filters(${melBins})
wave = torch.randn(T.CLIP) * 0.1
def timeit(fn, reps=10):
    fn(); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    return min(ts) * 1000
print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
for _ in sys.stdin:
    with torch.no_grad():
        ms = timeit(lambda: T.log_mel(wave, ${melBins}, fb))
    print(json.dumps({"ms": ms}), flush=True)
`;
  const child = spawn(py, ['-c', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error(`torch_mufun.py log_mel failed: ${stderr.trim().split('\n').slice(-2).join(' | ')}`);
    return JSON.parse(r.value);
  };
  try {
    const info = await next();
    return {
      info,
      time: async () => {
        child.stdin.write('\n');
        return (await next()).ms as number;
      },
      close: () => child.stdin.end(),
    };
  } catch (e) {
    child.kill();
    return { error: (e as Error).message };
  }
}

/** A music-like 44.1 kHz stereo signal: chords, a beat and a little noise. */
function testSignal(seconds: number): Float32Array[] {
  const rate = 44100, n = rate * seconds;
  const L = new Float32Array(n), R = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    const t = i / rate, bar = Math.floor(t / 2) % 4;
    const f = [220, 246.94, 196, 174.61][bar];
    const env = Math.exp(-8 * (t % 0.5));
    s = (s * 1103515245 + 12345) >>> 0;
    const noise = (s / 2 ** 32 - 0.5) * 0.02;
    const chord = Math.sin(2 * Math.PI * f * t) + 0.5 * Math.sin(2 * Math.PI * f * 1.5 * t) + 0.3 * Math.sin(2 * Math.PI * f * 2.52 * t);
    L[i] = 0.25 * chord + 0.3 * env * Math.sin(2 * Math.PI * 60 * t) + noise;
    R[i] = 0.25 * chord * 0.8 + 0.3 * env * Math.sin(2 * Math.PI * 62 * t) - noise;
  }
  return [L, R];
}

function makeMp3(dir: string, seconds: number): { path: string; encoder: string } | { error: string } {
  const wav = join(dir, 'song.wav'), mp3 = join(dir, 'song.mp3');
  writeFileSync(wav, encodeWav(testSignal(seconds), 44100));
  if (has('ffmpeg')) {
    const r = spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '192k', mp3]);
    if (r.status === 0) return { path: mp3, encoder: 'ffmpeg libmp3lame 192k' };
  }
  if (has('lame')) {
    const r = spawnSync('lame', ['--silent', '-b', '192', wav, mp3]);
    if (r.status === 0) return { path: mp3, encoder: 'lame 192k' };
  }
  return { error: 'no mp3 encoder (apt-get install ffmpeg, or lame)' };
}

/**
 * Short files, as training, eval and a library's clips are: a 10 s 16 kHz mono WAV (synth-data's)
 * and a 10 s 44.1 kHz stereo flac, loaded to 16 kHz as loadAudio chooses (in the caller's thread,
 * below WORKER_MIN_BYTES), in a worker (what it did for every file before), and by an ffmpeg pipe.
 */
async function clipBench(dir: string, ffmpeg: boolean): Promise<Record<string, unknown>> {
  const [L, R] = testSignal(10);
  const wav = join(dir, 'clip.wav'), stereo = join(dir, 'clip-44k.wav'), flac = join(dir, 'clip.flac');
  writeFileSync(wav, encodeWav([L.subarray(0, 160000)], 16000));
  writeFileSync(stereo, encodeWav([L, R], 44100));
  const files: [string, string][] = [['wav_16k_mono_10s', wav]];
  if (ffmpeg && spawnSync('ffmpeg', ['-loglevel', 'error', '-y', '-i', stereo, flac]).status === 0) files.push(['flac_44k_stereo_10s', flac]);
  const out: Record<string, unknown> = {};
  for (const [name, path] of files) {
    const ms = (fn: () => Promise<unknown>) => bestMs(fn, 5, false).then((x) => Number(x.toFixed(2)));
    out[name] = {
      bytes: statSync(path).size,
      ours_ms: await ms(() => loadAudio(path)),
      ours_in_a_worker_ms: await ms(() => loadAudio(path, { worker: true })),
      ffmpeg_to_16k_ms: ffmpeg ? await ms(async () => spawnSync('ffmpeg', ['-loglevel', 'error', '-i', path, '-ac', '1', '-ar', '16000', '-f', 'f32le', '-'], { maxBuffer: 1 << 26 })) : null,
    };
  }
  return out;
}

/** Best of reps runs, no warm-up: decoding is timed as a user meets it. */
const bestMsCold = (fn: () => Promise<unknown>, reps = 3) => bestMs(fn, reps, false);

export async function audioBench(o: AudioBenchOptions): Promise<Record<string, unknown>> {
  const round = (x: number) => Number(x.toFixed(2));
  // ---- log-mel
  const lm = await LogMel.create(o.melBins, { threads: o.threads >= 2 ? 2 : 1 }); // PyTorch gets o.threads too
  const wave = Float32Array.from({ length: CLIP_SAMPLES }, () => (Math.random() - 0.5) * 0.2);
  // steady state: V8 compiles WebAssembly in tiers, in each thread, over the first calls
  for (let i = 0; i < 5; i++) await lm.compute(wave);
  const torch = o.baseline ? await torchMel(o.threads, o.melBins) : null;
  const rounds: { ours: number; pytorch: number | null }[] = [];
  for (let r = 0; r < MEL_ROUNDS; r++) {
    // PyTorch's OpenMP threads spin a while after its turn before they sleep: let them
    if (r > 0) await new Promise((res) => setTimeout(res, 1000));
    const ours = await bestMs(() => lm.compute(wave), 10);
    rounds.push({ ours, pytorch: torch && 'time' in torch ? await torch.time() : null });
  }
  if (torch && 'close' in torch) torch.close();
  await lm.release();
  const oursMel = Math.min(...rounds.map((r) => r.ours));
  const torchMs = rounds.every((r) => r.pytorch !== null) ? Math.min(...rounds.map((r) => r.pytorch!)) : null;

  // ---- mp3 decode + resample
  const dir = mkdtempSync(join(tmpdir(), 'mufun-bench-audio-'));
  let mp3: Record<string, unknown>;
  let clips: Record<string, unknown> = {};
  try {
    const made = makeMp3(dir, o.seconds);
    if ('error' in made) mp3 = made;
    else {
      let samples = 0;
      // the process's first mp3 starts the decoder threads; the chat worker starts them ahead (warmMp3Decoders)
      const t0 = performance.now();
      await loadAudio(made.path);
      const firstFile = performance.now() - t0;
      const total = await bestMsCold(async () => (samples = (await loadAudio(made.path)).pcm.length));
      const decodeSerial = await bestMsCold(async () => {
        for await (const _ of decodeMono(made.path)) void _;
      });
      const serial = await bestMsCold(async () => loadAudio(made.path, { worker: false }));
      // the resampler alone, on the same length at 44.1 kHz, fed as decoding feeds it (0.1 s blocks)
      const x = new Float32Array(44100 * o.seconds).map((_, i) => Math.sin(i * 0.01));
      const rs = await bestMsCold(async () => {
        const r = new StreamResampler(44100, 16000);
        for (let i = 0; i < x.length; i += 4410) await r.push(x.subarray(i, i + 4410));
        await r.end();
      }, 2);
      let ffmpegMs: number | null = null;
      if (has('ffmpeg') && o.baseline) {
        // what an ffmpeg pipe to 16 kHz mono float costs (its own resampler, not torchaudio's)
        ffmpegMs = await bestMsCold(async () => {
          spawnSync('ffmpeg', ['-loglevel', 'error', '-threads', String(o.threads), '-i', made.path, '-ac', '1', '-ar', '16000', '-f', 'f32le', '-'], { maxBuffer: 1 << 30 });
        });
      }
      mp3 = {
        seconds: o.seconds, encoder: made.encoder, bytes: statSync(made.path).size, samples_16k: samples,
        ours_decode_resample_ms: round(total),
        ours_decode_resample_with_thread_start_ms: round(firstFile),
        decode_threads: canDecodeMp3Parallel() ? Math.min(4, availableParallelism()) : 1,
        ours_one_thread_decode_resample_ms: round(serial), ours_one_thread_decode_only_ms: round(decodeSerial), ours_resample_only_ms: round(rs),
        ffmpeg_to_16k_ms: ffmpegMs === null ? null : round(ffmpegMs),
        goal_under_ms: 1000, meets_goal: total < 1000, meets_goal_with_thread_start: firstFile < 1000,
      };
    }
    clips = await clipBench(dir, o.baseline && has('ffmpeg'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    bench: 'audio',
    threads: o.threads,
    cpus: availableParallelism(),
    load_average: loadavg().map((x) => Number(x.toFixed(2))),
    mel_bins: o.melBins,
    mel: {
      ours_ms_per_clip: round(oursMel),
      pytorch_ms_per_clip: torchMs === null ? null : round(torchMs),
      ours_over_pytorch: torchMs ? Number((oursMel / torchMs).toFixed(3)) : null,
      goal_ratio: 0.5,
      meets_goal: torchMs ? oursMel <= 0.5 * torchMs : null,
      // each round: ours (best of 10), then PyTorch's (best of 10); the figures above are the best rounds
      rounds: rounds.map((r) => ({ ours_ms: round(r.ours), pytorch_ms: r.pytorch === null ? null : round(r.pytorch), ratio: r.pytorch ? Number((r.ours / r.pytorch).toFixed(3)) : null })),
      pytorch: torch === null ? null : 'info' in torch ? torch.info : torch,
    },
    mp3,
    clips,
  };
}
