// Any supported file -> a stream of mono float32 blocks at the file's own rate, read in
// chunks so a long file never sits in memory whole. Downmix = mean of the channels (what
// MuFun's ffmpeg read does for stereo: (L + R) / 2).
import { existsSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AudioError, type AudioErrorCode } from './errors.js';
import { NPY_RATE, readNpy } from './npy.js';
import { type Container, readXing, sniffFile } from './sniff.js';
import { readWavHeader, wavToChannels } from './wav.js';

export interface MonoBlock {
  /** Mono samples at `sampleRate`; a fresh array the caller may keep. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

export interface DecodeOptions {
  /** Bytes read from disk per step (default 1 MiB). */
  chunkBytes?: number;
  /** Called after each chunk with the fraction of the file's bytes read so far. */
  onProgress?: (fraction: number) => void;
}

export interface StreamInfo {
  container: Container;
  codec: string;
}

/** Mean of the channels; throws 'non-finite' on NaN/Inf (position reported in seconds). */
export function downmix(channelData: Float32Array[], n: number, file: string, at: number, rate: number): Float32Array {
  const C = channelData.length;
  const out = new Float32Array(n);
  if (C === 1) out.set(channelData[0].subarray(0, n));
  else if (C === 2) {
    const [l, r] = channelData;
    for (let i = 0; i < n; i++) out[i] = (l[i] + r[i]) * 0.5;
  } else {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += channelData[c][i];
      out[i] = s / C;
    }
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i])) {
      throw new AudioError('non-finite', file, `sample ${at + i} (${((at + i) / rate).toFixed(3)} s) is ${out[i]}: the audio holds NaN or infinite values`);
    }
  }
  return out;
}

/**
 * The FLAC decoder scales by 1/(2^(bits−1) − 1); ffmpeg and every WAV reader by 1/2^(bits−1).
 * Recover the integer and rescale, so a flac decodes bit-identical to the wav it came from.
 */
function unscaleFlac(channelData: Float32Array[], n: number, bits: number): void {
  const down = 2 ** (bits - 1) - 1, up = 2 ** (bits - 1);
  for (const ch of channelData) {
    for (let i = 0; i < n; i++) {
      const v = ch[i] * down, r = Math.round(v);
      ch[i] = (Math.abs(v - r) < 1e-3 ? r : v) / up;
    }
  }
}

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: { message: string; frameNumber?: number; inputBytes?: number }[];
}
interface WasmDecoder {
  ready: Promise<void>;
  decode(b: Uint8Array): Decoded | Promise<Decoded>;
  flush?(): Promise<Decoded>;
  free(): void;
}

async function wasmDecoder(container: Container): Promise<{ dec: WasmDecoder; codec: string }> {
  switch (container) {
    case 'mp3': {
      const { MPEGDecoder } = await import('mpg123-decoder');
      return { dec: new MPEGDecoder() as unknown as WasmDecoder, codec: 'mp3' };
    }
    case 'flac': {
      const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
      return { dec: new FLACDecoder() as unknown as WasmDecoder, codec: 'flac' };
    }
    case 'ogg-vorbis': {
      const { OggVorbisDecoder } = await import('@wasm-audio-decoders/ogg-vorbis');
      return { dec: new OggVorbisDecoder() as unknown as WasmDecoder, codec: 'vorbis' };
    }
    case 'ogg-opus': {
      const { OggOpusDecoder } = await import('ogg-opus-decoder');
      return { dec: new OggOpusDecoder() as unknown as WasmDecoder, codec: 'opus' };
    }
    default:
      throw new Error(`no wasm decoder for ${container}`);
  }
}

async function readAt(fh: FileHandle, pos: number, n: number): Promise<Uint8Array> {
  const b = Buffer.alloc(n);
  const { bytesRead } = await fh.read(b, 0, n, pos);
  return b.subarray(0, bytesRead);
}

/** What the container says the length should be (frames), to tell a cut-short file. */
async function expectedFrames(fh: FileHandle, container: Container, size: number): Promise<{ min: number; what: string } | { incomplete: string } | null> {
  if (container === 'flac') {
    const b = await readAt(fh, 0, 26);
    if (b.length < 26 || (b[4] & 0x7f) !== 0) return null;
    const total = (b[21] & 0x0f) * 2 ** 32 + ((b[22] << 24) >>> 0) + (b[23] << 16) + (b[24] << 8) + b[25];
    return total > 0 ? { min: total, what: `its STREAMINFO says ${total} samples` } : null;
  }
  if (container === 'ogg-vorbis' || container === 'ogg-opus') {
    // The last page must be complete and flagged end-of-stream.
    const n = Math.min(size, 65536 + 282);
    const tail = await readAt(fh, size - n, n);
    for (let i = tail.length - 27; i >= 0; i--) {
      if (tail[i] === 0x4f && tail[i + 1] === 0x67 && tail[i + 2] === 0x67 && tail[i + 3] === 0x53 && tail[i + 4] === 0) {
        const segs = tail[i + 26];
        if (i + 27 + segs > tail.length) return { incomplete: 'its last Ogg page is cut short' };
        let len = 27 + segs;
        for (let s = 0; s < segs; s++) len += tail[i + 27 + s];
        if (i + len > tail.length) return { incomplete: 'its last Ogg page is cut short' };
        if (!(tail[i + 5] & 4)) return { incomplete: 'the Ogg stream has no end-of-stream page' };
        return null;
      }
    }
    return null;
  }
  if (container === 'mp3') {
    const x = readXing(await readAt(fh, 0, 65536));
    // A decoder may keep up to a frame of padding; anything shorter than that is missing audio.
    return x && x.frames > 0 ? { min: Math.max(0, x.samples - x.samplesPerFrame), what: `its Xing header counts ${x.samples} samples` } : null;
  }
  return null;
}

/**
 * Decodes `path` (by content, not extension) into mono blocks at its own sample rate.
 * Call `info()` on the returned object after the first block for the codec.
 */
export async function* decodeMono(path: string, opts: DecodeOptions = {}, info?: (i: StreamInfo & { sampleRate: number; channels: number }) => void): AsyncGenerator<MonoBlock> {
  const { container, size } = await sniffFile(path);
  const chunk = opts.chunkBytes ?? 1 << 20;
  const progress = opts.onProgress ?? (() => {});

  if (container === 'npy') {
    const samples = await readNpy(path);
    info?.({ container, codec: 'npy_f32', sampleRate: NPY_RATE, channels: 1 });
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i])) throw new AudioError('non-finite', path, `sample ${i} (${(i / NPY_RATE).toFixed(3)} s) is ${samples[i]}: the audio holds NaN or infinite values`);
    }
    progress(1);
    yield { samples, sampleRate: NPY_RATE, channels: 1 };
    return;
  }

  const fh = await open(path, 'r');
  try {
    if (container === 'wav') {
      const f = await readWavHeader(fh, size, path);
      info?.({ container, codec: f.codec, sampleRate: f.sampleRate, channels: f.channels });
      if (f.frames === 0) throw new AudioError('empty', path, 'the WAV file has no samples');
      const frameBytes = (f.bits / 8) * f.channels;
      const step = Math.max(1, Math.floor(chunk / frameBytes)) * frameBytes;
      let done = 0;
      for (let off = 0; off < f.dataBytes; off += step) {
        const b = Buffer.alloc(Math.min(step, f.dataBytes - off));
        const { bytesRead } = await fh.read(b, 0, b.length, f.dataOffset + off);
        if (bytesRead < b.length) throw new AudioError('truncated', path, 'the file shrank while being read');
        const ch = wavToChannels(b, f);
        const n = ch[0].length;
        yield { samples: downmix(ch, n, path, done, f.sampleRate), sampleRate: f.sampleRate, channels: f.channels };
        done += n;
        progress((f.dataOffset + off + b.length) / size);
      }
      return;
    }

    const expect = await expectedFrames(fh, container, size);
    if (expect && 'incomplete' in expect) throw new AudioError('truncated', path, `the file is cut short or damaged: ${expect.incomplete}`);
    const { dec, codec } = await wasmDecoder(container);
    try {
      await dec.ready;
      let total = 0, rate = 0, channels = 0;
      const take = (r: Decoded, where: string): MonoBlock | null => {
        if (r.errors.length) {
          const e = r.errors[0];
          throw new AudioError('corrupt', path, `${codec} decoding failed in ${where}: ${e.message}${r.errors.length > 1 ? ` (and ${r.errors.length - 1} more errors)` : ''}`);
        }
        if (!r.samplesDecoded) return null;
        if (container === 'flac') unscaleFlac(r.channelData, r.samplesDecoded, (r as { bitDepth?: number }).bitDepth ?? 16);
        if (!rate) {
          rate = r.sampleRate;
          channels = r.channelData.length;
          info?.({ container, codec, sampleRate: rate, channels });
        } else if (r.sampleRate !== rate) {
          throw new AudioError('unsupported', path, `the sample rate changes mid-stream (${rate} -> ${r.sampleRate} Hz)`);
        }
        const samples = downmix(r.channelData, r.samplesDecoded, path, total, rate);
        total += r.samplesDecoded;
        return { samples, sampleRate: rate, channels };
      };
      for (let off = 0; off < size; off += chunk) {
        const b = await readAt(fh, off, Math.min(chunk, size - off));
        const blk = take(await dec.decode(b), `bytes ${off}–${off + b.length}`);
        progress((off + b.length) / size);
        if (blk) yield blk;
      }
      if (dec.flush) {
        const blk = take(await dec.flush(), 'the last frames');
        if (blk) yield blk;
      }
      if (total === 0) throw new AudioError('corrupt', path, `no ${codec} audio could be decoded from the file (${size} bytes)`);
      if (expect && 'min' in expect && total < expect.min) {
        throw new AudioError('truncated', path, `the file is cut short or damaged: ${expect.what} but only ${total} were decoded (${((expect.min - total) / rate).toFixed(2)} s missing)`);
      }
    } finally {
      dec.free();
    }
  } finally {
    await fh.close();
  }
}

/** decode-worker.js next to this file (present in the compiled build, not when running the TS sources). */
const WORKER_URL = new URL('./decode-worker.js', import.meta.url);
export const canDecodeInWorker = (): boolean => WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));

/**
 * decodeMono in a worker thread: the same blocks, while the caller works on the previous
 * ones. At most `window` blocks wait in between (memory stays bounded). Ending the loop early
 * stops the worker.
 */
export async function* decodeInWorker(path: string, opts: DecodeOptions = {}, info?: (i: StreamInfo & { sampleRate: number; channels: number }) => void, window = 4): AsyncGenerator<MonoBlock> {
  const w = new Worker(WORKER_URL, { workerData: { path, chunkBytes: opts.chunkBytes, window } });
  type Msg = { block?: MonoBlock; info?: StreamInfo & { sampleRate: number; channels: number }; progress?: number; done?: true; error?: { code?: AudioErrorCode; file?: string; detail: string } };
  const queue: Msg[] = [];
  let notify: (() => void) | null = null;
  let failure: Error | null = null;
  w.on('message', (m: Msg) => {
    if (m.progress !== undefined) opts.onProgress?.(m.progress);
    else if (m.info) info?.(m.info);
    else queue.push(m);
    notify?.();
    notify = null;
  });
  w.on('error', (e) => {
    failure = e;
    notify?.();
  });
  w.on('exit', () => {
    queue.push({ done: true });
    notify?.();
  });
  try {
    for (;;) {
      while (!queue.length && !failure) await new Promise<void>((r) => (notify = r));
      if (failure) throw failure;
      const m = queue.shift()!;
      if (m.error) throw m.error.code ? new AudioError(m.error.code, m.error.file ?? path, m.error.detail) : new Error(`${path}: decoding failed: ${m.error.detail}`);
      if (m.done) return;
      if (m.block) {
        w.postMessage('more');
        yield m.block;
      }
    }
  } finally {
    await w.terminate();
  }
}
