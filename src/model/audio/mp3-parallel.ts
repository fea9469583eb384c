// Decoding one mp3 on several threads, bit-identical to decoding it in one go. The file is cut
// into jobs of whole frames; each job starts decoding WARMUP frames early (the bit reservoir
// reaches back at most 511 bytes; the IMDCT overlap and the synthesis filter one granule) and
// drops them. mpg123's synthesis ring buffer advances 36 slots of 16 per MPEG-1 frame, so its
// rounding repeats every 4 frames (8 for MPEG-2's 576-sample frames): every job starts on a
// multiple of 8 audio frames, so it rounds exactly like the serial decode. Gapless trimming
// (LAME delay + 529, the Xing sample count) is applied once for the whole file, as mpg123 does.
// Used only for mp3s whose frames walk cleanly and match their Xing/LAME header; anything
// else goes to the serial decoder (which also reports damage precisely).
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DecodeOptions, MonoBlock, StreamInfo } from './decode.js';
import { AudioError, type AudioErrorCode } from './errors.js';
import { id3v2Length, isMpegFrameHeader, mpegFrameLength, readXing } from './sniff.js';

const WARMUP = 8; // frames decoded and dropped before each job's first frame
const DECODER_DELAY = 529; // mpg123's own delay, trimmed along with LAME's encoder delay
const WORKER_URL = new URL('./mp3-worker.js', import.meta.url);

export interface Mp3Plan {
  frameOffsets: number[]; // byte offset of each frame, Info frame first when present
  first: number; // index of the first audio frame (1 after a Xing/Info frame)
  end: number; // byte offset where the last frame ends
  samplesPerFrame: number;
  sampleRate: number;
  skip: number; // gapless: samples to drop at the start
  samples: number; // gapless: samples to keep
}

/** Walks the frame headers; null when the file is not a clean, Xing-tagged stream of one layer. */
export async function planMp3(path: string): Promise<Mp3Plan | null> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(Math.min(size, 65536));
    await fh.read(head, 0, head.length, 0);
    const x = readXing(head);
    if (!x || x.frames < 16) return null;
    let p = id3v2Length(head);
    if (p >= head.length) return null;
    const offsets: number[] = [];
    const CH = 1 << 22;
    let buf = Buffer.alloc(0), bufAt = 0;
    const need = async (at: number, n: number) => {
      if (at >= bufAt && at + n <= bufAt + buf.length) return true;
      const len = Math.min(CH, size - at);
      if (len < n) return false;
      buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, at);
      bufAt = at;
      return true;
    };
    let hdr1 = -1;
    while (p + 4 <= size && (await need(p, 4))) {
      const i = p - bufAt;
      if (!isMpegFrameHeader(buf, i)) break;
      const h = buf[i + 1] & 0xfe; // version + layer must stay the same
      if (hdr1 < 0) hdr1 = h;
      else if (h !== hdr1) return null;
      const len = mpegFrameLength(buf, i);
      if (!len || p + len > size) break;
      offsets.push(p);
      p += len;
    }
    // What follows the last frame may only be tags (ID3v1 "TAG", APE, Lyrics3): else let the serial decoder judge.
    if (size - p > 0) {
      const tail = Buffer.alloc(Math.min(size - p, 8));
      await fh.read(tail, 0, tail.length, p);
      const t = tail.toString('latin1');
      if (!(t.startsWith('TAG') || t.startsWith('APETAGEX') || t.startsWith('LYRICS'))) return null;
    }
    const first = offsets.length - x.frames;
    if (first !== 0 && first !== 1) return null;
    return {
      frameOffsets: offsets, first, end: p, samplesPerFrame: x.samplesPerFrame, sampleRate: x.sampleRate,
      skip: x.delay + DECODER_DELAY, samples: x.samples,
    };
  } finally {
    await fh.close();
  }
}

export const canDecodeMp3Parallel = (): boolean => WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL)) && availableParallelism() > 1;

/** The same blocks as decodeMono on an mp3, decoded by `threads` workers, in order. */
export async function* decodeMp3Parallel(path: string, plan: Mp3Plan, opts: DecodeOptions = {}, info?: (i: StreamInfo & { sampleRate: number; channels: number }) => void, threads = Math.min(4, availableParallelism()), framesPerJob = 200): AsyncGenerator<MonoBlock> {
  const align = 8; // see above: jobs start on multiples of 8 audio frames
  const per = Math.max(align, Math.round(framesPerJob / align) * align); // frames per job (200 ≈ 5 s)
  const jobs: { from: number; to: number; skip: number; at: number }[] = [];
  const audio = plan.frameOffsets.length - plan.first;
  for (let f = 0; f < audio; f += per) {
    const start = Math.max(0, f - WARMUP); // warm-up keeps the alignment: WARMUP is a multiple of 8
    const last = Math.min(audio, f + per);
    jobs.push({
      from: plan.frameOffsets[plan.first + start],
      to: last < audio ? plan.frameOffsets[plan.first + last] : plan.end,
      skip: (f - start) * plan.samplesPerFrame,
      at: f * plan.samplesPerFrame,
    });
  }
  const workers = Array.from({ length: Math.max(1, Math.min(threads, jobs.length)) }, () => new Worker(WORKER_URL, { workerData: { path } }));
  type Result = { samples?: Float32Array; sampleRate?: number; channels?: number; error?: { code?: AudioErrorCode; detail: string } };
  const results = new Map<number, Result>();
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const inFlight = 2 * workers.length; // bounded: at most this many jobs decoded ahead of the consumer
  let next = 0;
  const send = () => {
    while (next < jobs.length && next < consumed + inFlight) {
      workers[next % workers.length].postMessage({ id: next, ...jobs[next] });
      next++;
    }
  };
  let consumed = 0;
  workers.forEach((w) => {
    w.on('message', (m: Result & { id: number }) => {
      results.set(m.id, m);
      wake?.();
      wake = null;
    });
    w.on('error', (e) => {
      failure = e;
      wake?.();
    });
  });
  try {
    send();
    let pos = 0; // non-gapless samples passed
    let out = 0; // gapless samples yielded
    for (; consumed < jobs.length; consumed++) {
      while (!results.has(consumed) && !failure) await new Promise<void>((r) => (wake = r));
      if (failure) throw failure;
      const r = results.get(consumed)!;
      results.delete(consumed);
      if (r.error) throw r.error.code ? new AudioError(r.error.code, path, r.error.detail) : new Error(`${path}: mp3 decoding failed: ${r.error.detail}`);
      send();
      if (consumed === 0) info?.({ container: 'mp3', codec: 'mp3', sampleRate: r.sampleRate!, channels: r.channels! });
      const x = r.samples!;
      const a = Math.max(0, plan.skip - pos), b = Math.min(x.length, plan.skip + plan.samples - pos);
      pos += x.length;
      opts.onProgress?.(Math.min(1, jobs[consumed].to / plan.end));
      if (b > a) {
        out += b - a;
        yield { samples: a === 0 && b === x.length ? x : x.slice(a, b), sampleRate: r.sampleRate!, channels: r.channels! };
      }
    }
    if (out < plan.samples - plan.samplesPerFrame) throw new AudioError('truncated', path, `the file is cut short or damaged: its Xing header counts ${plan.samples} samples but only ${out} were decoded`);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
