// Rendering MIDI to 16 kHz mono WAV with FluidSynth and a General MIDI soundfont.
//
// FluidSynth renders offline ("fast render", -F) to raw 16-bit little-endian stereo; we downmix,
// cut or pad to the clip's exact length (with a 20 ms fade at the cut), set a seeded loudness
// and write a 16-bit mono WAV. FluidSynth exits 0 even when it cannot read the soundfont or the
// MIDI file, so the soundfont is checked up front and the output's size afterwards.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { encodeWav } from '../model/audio/wav.js';

export const SAMPLE_RATE = 16000;
export const DEBIAN_PACKAGES = 'fluidsynth fluid-soundfont-gm';

/** Where distributions put a GM soundfont (Debian/Ubuntu first: fluid-soundfont-gm). */
export const SOUNDFONT_CANDIDATES = [
  '/usr/share/sounds/sf2/FluidR3_GM.sf2',
  '/usr/share/sounds/sf2/default-GM.sf2',
  '/usr/share/soundfonts/FluidR3_GM.sf2',
  '/usr/share/soundfonts/default.sf2',
  '/usr/share/sounds/sf2/TimGM6mb.sf2',
];

export class SynthSetupError extends Error {}

export interface Renderer {
  fluidsynth: string; // executable
  soundfont: string;
  version: string;
}

/** The FluidSynth version line, or null when the executable is not there. */
export function fluidsynthVersion(exe = process.env.MUFUN_FLUIDSYNTH ?? 'fluidsynth'): string | null {
  try {
    const out = execFileSync(exe, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 20_000 });
    return /FluidSynth runtime version\s+(\S+)/.exec(out)?.[1] ?? out.split('\n')[0].trim();
  } catch {
    return null;
  }
}

export function findSoundfont(explicit?: string): string | null {
  const list = explicit ? [explicit] : process.env.MUFUN_SOUNDFONT ? [process.env.MUFUN_SOUNDFONT] : SOUNDFONT_CANDIDATES;
  return list.find((p) => existsSync(p) && statSync(p).isFile()) ?? null;
}

/** Finds FluidSynth and a soundfont, or throws a message that says what to install. */
/** Whether clips can be rendered here: FluidSynth and a General MIDI soundfont are installed. */
export function canRender(): boolean {
  return fluidsynthVersion() !== null && findSoundfont() !== null;
}

export function setupRenderer(opts: { soundfont?: string; fluidsynth?: string } = {}): Renderer {
  const exe = opts.fluidsynth ?? process.env.MUFUN_FLUIDSYNTH ?? 'fluidsynth';
  const version = fluidsynthVersion(exe);
  if (!version) {
    throw new SynthSetupError(
      `FluidSynth was not found (tried to run '${exe}'). Rendering synthetic clips needs FluidSynth and a General MIDI ` +
        `soundfont: on Debian/Ubuntu run 'apt-get install -y ${DEBIAN_PACKAGES}' (or set MUFUN_FLUIDSYNTH to the executable).`,
    );
  }
  const soundfont = findSoundfont(opts.soundfont);
  if (!soundfont) {
    throw new SynthSetupError(
      opts.soundfont || process.env.MUFUN_SOUNDFONT
        ? `soundfont ${opts.soundfont ?? process.env.MUFUN_SOUNDFONT} does not exist`
        : `no General MIDI soundfont found (looked for ${SOUNDFONT_CANDIDATES.join(', ')}): on Debian/Ubuntu run ` +
            `'apt-get install -y fluid-soundfont-gm', or pass --soundfont / set MUFUN_SOUNDFONT.`,
    );
  }
  return { fluidsynth: exe, soundfont, version };
}

export interface RenderOptions {
  seconds: number;
  /** Target RMS level of the clip in dBFS (a peak limit of −0.5 dBFS applies after). */
  rmsDb: number;
  /** FluidSynth master gain (its default 0.2 is quiet; the level is set afterwards anyway). */
  gain?: number;
}

export interface RenderResult {
  samples: number;
  rms: number; // of the written clip, linear full scale
  peak: number;
}

function run(exe: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(exe, args, { maxBuffer: 4 << 20, timeout: 300_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${exe} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

/** Mono float samples of exactly `seconds` from raw s16le stereo: downmix, cut/pad, fade at a cut. */
export function rawStereoToClip(raw: Buffer, seconds: number): Float32Array {
  const frames = Math.floor(raw.length / 4);
  const n = Math.round(seconds * SAMPLE_RATE);
  const out = new Float32Array(n);
  const m = Math.min(n, frames);
  for (let i = 0; i < m; i++) out[i] = (raw.readInt16LE(4 * i) + raw.readInt16LE(4 * i + 2)) / 65536;
  if (frames > n) {
    const fade = Math.min(n, Math.round(0.02 * SAMPLE_RATE));
    for (let i = 0; i < fade; i++) out[n - 1 - i] *= i / fade;
  }
  return out;
}

export function rmsOf(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Scales to the target RMS, then down to a −0.5 dBFS peak if that would clip. */
export function setLevel(x: Float32Array, rmsDb: number): { rms: number; peak: number } {
  const rms = rmsOf(x);
  if (rms < 1e-6) return { rms, peak: 0 };
  let g = 10 ** (rmsDb / 20) / rms;
  let peak = 0;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  const limit = 10 ** (-0.5 / 20);
  if (peak * g > limit) g = limit / peak;
  for (let i = 0; i < x.length; i++) x[i] *= g;
  return { rms: rms * g, peak: peak * g };
}

/**
 * Renders `midiPath` to a 16 kHz mono 16-bit WAV at `wavPath` (written to a temporary name, then
 * renamed, so a half-written file is never taken for a finished one).
 */
export async function renderMidi(r: Renderer, midiPath: string, wavPath: string, o: RenderOptions): Promise<RenderResult> {
  const rawPath = `${wavPath}.${process.pid}.raw`;
  try {
    await run(r.fluidsynth, [
      '-ni', '-q', // no MIDI input, no shell, no banner
      '-F', rawPath, '-T', 'raw', '-O', 's16', '-E', 'little', // offline render to raw s16le stereo
      '-r', String(SAMPLE_RATE),
      '-g', String(o.gain ?? 0.6),
      '-o', 'synth.cpu-cores=1', // we run several processes instead
      // Load only the samples the MIDI uses, not all 148 MB of FluidR3_GM (same output, ~40 % faster).
      '-o', 'synth.dynamic-sample-loading=1',
      r.soundfont, midiPath,
    ]);
    if (!existsSync(rawPath) || statSync(rawPath).size < 4) {
      throw new Error(`FluidSynth wrote no audio for ${midiPath} (soundfont ${r.soundfont}): is the MIDI file valid?`);
    }
    const clip = rawStereoToClip(readFileSync(rawPath), o.seconds);
    const { rms, peak } = setLevel(clip, o.rmsDb);
    const tmp = `${wavPath}.${process.pid}.tmp`;
    writeFileSync(tmp, encodeWav([clip], SAMPLE_RATE));
    renameSync(tmp, wavPath);
    return { samples: clip.length, rms, peak };
  } finally {
    rmSync(rawPath, { force: true });
  }
}

/**
 * Runs `tasks` with at most `jobs` at once; resolves with results in task order. After a task
 * fails no new one starts, and the promise rejects once those running have ended (nothing is
 * left writing behind the caller's back).
 */
export async function pool<T>(jobs: number, count: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0, failed = false;
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++;
      try {
        out[i] = await task(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const ends = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(jobs, count)) }, worker));
  const failure = ends.find((e) => e.status === 'rejected');
  if (failure) throw failure.reason;
  return out;
}
