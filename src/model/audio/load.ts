// A file (and an optional segment) -> MuFun's 16 kHz mono input, in MuFun's order:
// decode at the native rate -> cut [start, end] at the native rate -> resample to 16 kHz.
// Streams: the decoder yields blocks, the cut and the resampler work block by block, so only
// the 16 kHz mono result is held (a one-hour 44.1 kHz stereo file never sits in memory whole).
import { type DecodeOptions, type MonoBlock, type StreamInfo, canDecodeInWorker, decodeInWorker, decodeMono } from './decode.js';
import { canDecodeMp3Parallel, decodeMp3Parallel, planMp3, warmMp3Decoders } from './mp3-parallel.js';
import { sniffFile } from './sniff.js';
import { AudioError } from './errors.js';
import { SAMPLE_RATE } from './mel.js';
import type { PeakBuilder } from './peaks.js';
import { StreamResampler } from './resample.js';

export type Segment = readonly [start: number, end: number];

export interface LoadOptions extends DecodeOptions {
  /** [start, end] in seconds of the source; omitted or null = the whole file. */
  segment?: Segment | null;
  /** Output rate (default 16 kHz, what the Whisper tower takes). */
  rate?: number;
  /** Fed every decoded native-rate mono block of the whole file (disables stopping early). */
  peaks?: PeakBuilder;
  /**
   * Decode in worker threads (an mp3 on several), overlapping the resampling. Default: for
   * compressed files of WORKER_MIN_BYTES or more, when the compiled workers are there; true
   * forces them wherever they are there, false never.
   */
  worker?: boolean;
  /** Receives each block of output as it is produced; with it, `pcm` is not kept (returned empty). */
  onPcm?: (block: Float32Array) => void;
}

export interface LoadedAudio {
  /** Mono float32 at `rate` (16 kHz by default). */
  pcm: Float32Array;
  rate: number;
  sourceRate: number;
  channels: number;
  codec: string;
  container: StreamInfo['container'];
  /** Seconds of source audio returned: the segment's length, or the whole file's. */
  durationSec: number;
  /** The whole file's length, when it was decoded to the end (always, unless a segment let us stop early). */
  fileDurationSec?: number;
}

/** Native-rate sample indices of a segment, as MuFun slices: wav[int(start·sr) : int(end·sr)]. */
export function segmentFrames(seg: Segment, rate: number): [number, number] {
  return [Math.floor(seg[0] * rate), Math.floor(seg[1] * rate)];
}

function checkSegment(seg: Segment, file: string): void {
  const [s, e] = seg;
  if (!Number.isFinite(s) || !Number.isFinite(e)) throw new AudioError('bad-segment', file, `segment [${s}, ${e}] is not two finite numbers of seconds`);
  if (s < 0) throw new AudioError('bad-segment', file, `segment [${s}, ${e}] starts before 0 s`);
  if (e <= s) throw new AudioError('bad-segment', file, `segment [${s}, ${e}] ends at or before its start`);
}

/**
 * A worker starts in ~50 ms: below this size a compressed file decodes sooner in the caller's
 * thread (a 10 s flac: 56 ms here, 194 ms in a worker). PCM (wav, npy) has nothing to decode:
 * a worker only adds its start (a 10 s clip: 3 ms here, 55 ms in a worker).
 */
export const WORKER_MIN_BYTES = 1 << 20;

/**
 * The file's mono blocks at its own rate, pulled, from the right decoder: threads where the
 * compiled build has them and the file is worth one (mp3s on several, anything else beside the
 * caller), else the caller's.
 */
export async function decodeBlocks(path: string, opts: LoadOptions = {}, info?: (i: StreamInfo & { sampleRate: number; channels: number }) => void): Promise<AsyncGenerator<MonoBlock>> {
  if (opts.worker !== false) {
    const { container, size } = await sniffFile(path);
    const pcm = container === 'wav' || container === 'npy';
    if (opts.worker === undefined && (pcm || size < WORKER_MIN_BYTES)) return decodeMono(path, opts, info);
    if (canDecodeMp3Parallel() && container === 'mp3') {
      warmMp3Decoders(); // threads not running yet start while the frames are walked
      const plan = await planMp3(path);
      if (plan) return decodeMp3Parallel(path, plan, opts, info);
    }
    if (canDecodeInWorker()) return decodeInWorker(path, opts, info);
  }
  return decodeMono(path, opts, info);
}

export async function loadAudio(path: string, opts: LoadOptions = {}): Promise<LoadedAudio> {
  const seg = opts.segment ?? null;
  if (seg) checkSegment(seg, path);
  const rate = opts.rate ?? SAMPLE_RATE;
  let info: (StreamInfo & { sampleRate: number; channels: number }) | undefined;
  let rs: StreamResampler | undefined;
  let from = 0, to = Infinity; // native frames to keep
  let pos = 0; // native frames decoded
  let stoppedEarly = false;
  const parts: Float32Array[] = [];
  let outLen = 0;
  const emit = (y: Float32Array) => {
    if (!y.length) return;
    outLen += y.length;
    if (opts.onPcm) opts.onPcm(y);
    else parts.push(y);
  };

  const blocks = await decodeBlocks(path, opts, (i) => (info = i));
  for await (const blk of blocks) {
    if (!rs) {
      rs = new StreamResampler(blk.sampleRate, rate);
      if (seg) [from, to] = segmentFrames(seg, blk.sampleRate);
    }
    opts.peaks?.push(blk.samples);
    const x = blk.samples;
    const a = Math.max(0, from - pos), b = Math.min(x.length, to - pos);
    if (b > a) emit(await rs.push(a === 0 && b === x.length ? x : x.subarray(a, b)));
    pos += x.length;
    if (pos >= to && !opts.peaks) {
      stoppedEarly = true;
      break;
    }
  }
  if (!rs || !info) throw new AudioError('empty', path, 'no audio samples in the file');
  const sr = info.sampleRate;
  if (seg) {
    const dur = (pos / sr).toFixed(3);
    if (from >= pos) throw new AudioError('bad-segment', path, `segment [${seg[0]}, ${seg[1]}] starts at or after the end of the audio (${dur} s)`);
    if (to > pos) throw new AudioError('bad-segment', path, `segment [${seg[0]}, ${seg[1]}] ends after the end of the audio (${dur} s)`);
  }
  emit(await rs.end());
  const kept = Math.min(pos, to) - from;
  let pcm: Float32Array;
  if (opts.onPcm) pcm = new Float32Array(0);
  else if (parts.length === 1) pcm = parts[0];
  else {
    pcm = new Float32Array(outLen);
    let o = 0;
    for (const p of parts) {
      pcm.set(p, o);
      o += p.length;
    }
  }
  opts.onProgress?.(1);
  return {
    pcm, rate, sourceRate: sr, channels: info.channels, codec: info.codec, container: info.container,
    durationSec: kept / sr, fileDurationSec: stoppedEarly ? undefined : pos / sr,
  };
}
