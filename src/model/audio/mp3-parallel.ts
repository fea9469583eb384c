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

interface Job {
  path: string;
  from: number; // byte range of whole frames
  to: number;
  skip: number; // warm-up samples to drop
  at: number; // first kept sample, in the whole file (for error messages)
}
type Result = { samples?: Float32Array; sampleRate?: number; channels?: number; error?: { code?: AudioErrorCode; detail: string } };

/**
 * Decoder threads kept between files: starting one (a Node worker and a ready mpg123) costs
 * more than a third of a 4-minute mp3's decode, and a studio decodes file after file. Idle
 * threads are unref'd, so they never keep a process alive.
 */
class Mp3Workers {
  private workers: { w: Worker; busy: number }[] = [];
  private pending = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void; worker: Worker }>();
  private nextId = 0;
  private turn = 0;

  constructor(readonly size: number) {}

  close(): void {
    for (const { w } of this.workers) void w.terminate();
    this.workers = [];
  }

  /** Starts the threads that are not running yet. */
  warm(): void {
    while (this.workers.length < this.size) {
      const w = new Worker(WORKER_URL);
      const slot = { w, busy: 0 };
      w.on('message', (m: Result & { id: number }) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--slot.busy === 0) w.unref();
        p.resolve(m);
      });
      const fail = (e: Error) => {
        this.workers = this.workers.filter((x) => x !== slot);
        for (const [id, p] of this.pending) if (p.worker === w) (this.pending.delete(id), p.reject(e));
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`an mp3 decoder thread exited (code ${code})`)));
      w.unref(); // after the listeners: adding a 'message' listener refs a worker again
      this.workers.push(slot);
    }
  }

  run(job: Job): Promise<Result> {
    this.warm();
    const slot = this.workers[this.turn++ % this.workers.length];
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.w.ref(); // a thread with work keeps the process alive
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: slot.w });
      slot.w.postMessage({ id, ...job });
    });
  }
}

let pool: Mp3Workers | null = null;
function workers(threads: number): Mp3Workers {
  if (pool?.size !== threads) {
    pool?.close();
    pool = new Mp3Workers(threads);
  }
  return pool;
}

/** Starts the mp3 decoder threads ahead of the first file (the chat worker does, while its model loads). */
export function warmMp3Decoders(threads = defaultThreads()): void {
  if (canDecodeMp3Parallel()) workers(threads).warm();
}

const defaultThreads = () => Math.min(4, availableParallelism());

/** The same blocks as decodeMono on an mp3, decoded by `threads` workers, in order. */
export async function* decodeMp3Parallel(path: string, plan: Mp3Plan, opts: DecodeOptions = {}, info?: (i: StreamInfo & { sampleRate: number; channels: number }) => void, threads = defaultThreads(), framesPerJob = 200): AsyncGenerator<MonoBlock> {
  const align = 8; // see above: jobs start on multiples of 8 audio frames
  const per = Math.max(align, Math.round(framesPerJob / align) * align); // frames per job (200 ≈ 5 s)
  const jobs: Job[] = [];
  const audio = plan.frameOffsets.length - plan.first;
  for (let f = 0; f < audio; f += per) {
    const start = Math.max(0, f - WARMUP); // warm-up keeps the alignment: WARMUP is a multiple of 8
    const last = Math.min(audio, f + per);
    jobs.push({
      path,
      from: plan.frameOffsets[plan.first + start],
      to: last < audio ? plan.frameOffsets[plan.first + last] : plan.end,
      skip: (f - start) * plan.samplesPerFrame,
      at: f * plan.samplesPerFrame,
    });
  }
  const pool = workers(threads);
  const inFlight = 2 * pool.size; // bounded: at most this many jobs decoded ahead of the consumer
  const queue: Promise<Result>[] = [];
  let next = 0;
  const fill = () => {
    while (next < jobs.length && queue.length < inFlight) {
      const r = pool.run(jobs[next++]);
      r.catch(() => undefined); // awaited in order below; a consumer that stops early drops the rest
      queue.push(r);
    }
  };
  fill();
  let pos = 0; // non-gapless samples passed
  let out = 0; // gapless samples yielded
  for (let i = 0; i < jobs.length; i++) {
    const r = await queue.shift()!;
    fill();
    if (r.error) throw r.error.code ? new AudioError(r.error.code, path, r.error.detail) : new Error(`${path}: mp3 decoding failed: ${r.error.detail}`);
    if (i === 0) info?.({ container: 'mp3', codec: 'mp3', sampleRate: r.sampleRate!, channels: r.channels! });
    const x = r.samples!;
    const a = Math.max(0, plan.skip - pos), b = Math.min(x.length, plan.skip + plan.samples - pos);
    pos += x.length;
    opts.onProgress?.(Math.min(1, jobs[i].to / plan.end));
    if (b > a) {
      out += b - a;
      yield { samples: a === 0 && b === x.length ? x : x.slice(a, b), sampleRate: r.sampleRate!, channels: r.channels! };
    }
  }
  if (out < plan.samples - plan.samplesPerFrame) throw new AudioError('truncated', path, `the file is cut short or damaged: its Xing header counts ${plan.samples} samples but only ${out} were decoded`);
}
