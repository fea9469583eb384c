// What a file is, from its first bytes (never from its extension: an mp3 named .wav is an mp3).
import { type FileHandle, open } from 'node:fs/promises';
import { extname } from 'node:path';
import { AudioError } from './errors.js';

export type Container = 'wav' | 'mp3' | 'flac' | 'ogg-vorbis' | 'ogg-opus' | 'npy';

/** Extensions people use for audio we might be asked about; used only to word errors. */
const AUDIO_EXTENSIONS = new Set(['.wav', '.wave', '.mp3', '.flac', '.ogg', '.oga', '.opus', '.npy', '.m4a', '.aac', '.aif', '.aiff', '.wma', '.mp2', '.mpga']);

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

/** Skips ID3v2 tags (there may be several, and a "footer" flag adds 10 bytes). */
export function id3v2Length(b: Uint8Array, at = 0): number {
  let off = at;
  while (off + 10 <= b.length && ascii(b, off, 3) === 'ID3') {
    const size = ((b[off + 6] & 0x7f) << 21) | ((b[off + 7] & 0x7f) << 14) | ((b[off + 8] & 0x7f) << 7) | (b[off + 9] & 0x7f);
    off += 10 + size + (b[off + 5] & 0x10 ? 10 : 0);
  }
  return off - at;
}

/** A plausible MPEG audio frame header (layer I/II/III) at b[i]. */
export function isMpegFrameHeader(b: Uint8Array, i: number): boolean {
  if (i + 4 > b.length || b[i] !== 0xff || (b[i + 1] & 0xe0) !== 0xe0) return false;
  const version = (b[i + 1] >> 3) & 3, layer = (b[i + 1] >> 1) & 3;
  const bitrate = b[i + 2] >> 4, rate = (b[i + 2] >> 2) & 3;
  return version !== 1 && layer !== 0 && bitrate !== 0 && bitrate !== 15 && rate !== 3;
}

/** Classifies the first bytes of a file; null when they are no format we know. */
export function sniffBytes(b: Uint8Array): Container | 'aiff' | 'mp4' | 'flac-in-ogg' | 'ogg' | null {
  if (b.length >= 12 && (ascii(b, 0, 4) === 'RIFF' || ascii(b, 0, 4) === 'RF64') && ascii(b, 8, 4) === 'WAVE') return 'wav';
  if (b.length >= 6 && b[0] === 0x93 && ascii(b, 1, 5) === 'NUMPY') return 'npy';
  if (b.length >= 4 && ascii(b, 0, 4) === 'fLaC') return 'flac';
  if (b.length >= 4 && ascii(b, 0, 4) === 'OggS') {
    // The first page carries the codec's identification header.
    const segs = b[26] ?? 0;
    const body = 27 + segs;
    if (ascii(b, body, 8) === 'OpusHead') return 'ogg-opus';
    if (b[body] === 1 && ascii(b, body + 1, 6) === 'vorbis') return 'ogg-vorbis';
    if (ascii(b, body + 1, 4) === 'FLAC') return 'flac-in-ogg';
    return 'ogg';
  }
  if (b.length >= 12 && ascii(b, 0, 4) === 'FORM' && /^AIF[FC]$/.test(ascii(b, 8, 4))) return 'aiff';
  if (b.length >= 8 && ascii(b, 4, 4) === 'ftyp') return 'mp4';
  const skip = id3v2Length(b);
  if (skip > 0 && skip >= b.length) return 'mp3'; // an ID3 tag bigger than our peek: an mp3 with cover art
  // MPEG audio: a frame header, confirmed by a second one where the first frame ends if we can see it.
  for (let i = skip; i < Math.min(b.length, skip + 4096); i++) {
    if (isMpegFrameHeader(b, i)) {
      const len = mpegFrameLength(b, i);
      if (len > 0 && i + len + 4 <= b.length) {
        if (isMpegFrameHeader(b, i + len)) return 'mp3';
        continue;
      }
      return 'mp3';
    }
    if (skip === 0 && i > 0) break; // without an ID3 tag the stream must start with a frame
  }
  return null;
}

const BITRATES: Record<string, number[]> = {
  // [version 1|2][layer 1|2|3], kbit/s for indices 0..14
  '1-1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  '1-2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  '1-3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  '2-1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  '2-2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  '2-3': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const RATES = [[11025, 12000, 8000], [0, 0, 0], [22050, 24000, 16000], [44100, 48000, 32000]]; // by version bits 0 (2.5), 2 (2), 3 (1)

/** Byte length of the MPEG frame whose header is at b[i] (0 if unknown). */
export function mpegFrameLength(b: Uint8Array, i: number): number {
  const vbits = (b[i + 1] >> 3) & 3, lbits = (b[i + 1] >> 1) & 3;
  const layer = 4 - lbits, v1 = vbits === 3;
  const kbps = BITRATES[`${v1 ? 1 : 2}-${layer}`]?.[b[i + 2] >> 4] ?? 0;
  const rate = RATES[vbits][(b[i + 2] >> 2) & 3];
  const pad = (b[i + 2] >> 1) & 1;
  if (!kbps || !rate) return 0;
  if (layer === 1) return Math.floor((12000 * kbps) / rate + pad) * 4;
  const coef = layer === 3 && !v1 ? 72 : 144;
  return Math.floor((coef * 1000 * kbps) / rate) + pad;
}

export interface Sniffed {
  container: Container;
  size: number;
}

/** Opens `path`, checks it exists and is non-empty, and classifies it by content. */
export async function sniffFile(path: string): Promise<Sniffed> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AudioError('not-found', path, 'no such file');
    if (code === 'EISDIR') throw new AudioError('not-found', path, 'is a directory, not an audio file');
    throw new AudioError('io', path, `cannot open: ${(e as Error).message}`);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new AudioError('not-found', path, 'not a regular file');
    if (st.size === 0) throw new AudioError('empty', path, 'the file is empty (0 bytes)');
    const head = new Uint8Array(Math.min(st.size, 64 * 1024));
    await fh.read(head, 0, head.length, 0);
    let kind = sniffBytes(head);
    if (kind === 'mp3' && id3v2Length(head) >= head.length) {
      // A big ID3 tag (cover art): look past it for the first frame.
      const skip = id3v2Length(head.subarray(0, 10)) || 0;
      const after = new Uint8Array(Math.min(4096, Math.max(0, st.size - skip)));
      await fh.read(after, 0, after.length, skip);
      if (!after.some((_, i) => isMpegFrameHeader(after, i))) kind = null;
    }
    const ext = extname(path).toLowerCase();
    switch (kind) {
      case 'wav': case 'mp3': case 'flac': case 'ogg-vorbis': case 'ogg-opus': case 'npy':
        return { container: kind, size: st.size };
      case 'aiff': throw new AudioError('unsupported', path, 'AIFF audio is not supported (convert it to wav or flac)');
      case 'mp4': throw new AudioError('unsupported', path, 'MP4/M4A (AAC or ALAC) audio is not supported (convert it to flac, mp3 or ogg)');
      case 'flac-in-ogg': throw new AudioError('unsupported', path, 'FLAC inside an Ogg container is not supported (use a plain .flac)');
      case 'ogg': throw new AudioError('unsupported', path, 'an Ogg stream whose codec is neither Vorbis nor Opus');
      default:
        if (head.every((x) => x === 0)) throw new AudioError('empty', path, `the file holds only zero bytes (${st.size})`);
        if (AUDIO_EXTENSIONS.has(ext)) throw new AudioError('corrupt', path, `the content is not ${ext.slice(1)} audio (nor any format we read: wav, mp3, flac, ogg, opus, npy)`);
        throw new AudioError('unsupported', path, 'not an audio format we read (wav, mp3, flac, ogg vorbis, opus, npy)');
    }
  } finally {
    await fh.close();
  }
}

export interface XingInfo {
  frames: number;
  samplesPerFrame: number;
  sampleRate: number;
  /** LAME's encoder delay and padding (0 when there is no LAME tag). */
  delay: number;
  padding: number;
  /** Samples a gapless decoder returns: frames·samplesPerFrame − delay − padding. */
  samples: number;
}

/**
 * The Xing/Info header (LAME, ffmpeg) in the first MPEG layer III frame of `b` (the file's
 * start, ID3v2 included), with LAME's delay/padding: the exact gapless length.
 */
export function readXing(b: Uint8Array): XingInfo | null {
  let j = id3v2Length(b);
  const end = Math.min(b.length - 4, j + 4096);
  while (j < end && !isMpegFrameHeader(b, j)) j++;
  if (j >= end || j + 200 > b.length) return null;
  const vbits = (b[j + 1] >> 3) & 3, v1 = vbits === 3, mono = b[j + 3] >> 6 === 3;
  if (((b[j + 1] >> 1) & 3) !== 1) return null; // not layer III
  const sampleRate = RATES[vbits][(b[j + 2] >> 2) & 3];
  const x = j + 4 + (v1 ? (mono ? 17 : 32) : mono ? 9 : 17);
  const tag = ascii(b, x, 4);
  if (tag !== 'Xing' && tag !== 'Info') return null;
  const flags = b[x + 7];
  if (!(flags & 1)) return null;
  const be32 = (p: number) => ((b[p] << 24) >>> 0) + (b[p + 1] << 16) + (b[p + 2] << 8) + b[p + 3];
  const frames = be32(x + 8);
  let p = x + 12;
  if (flags & 2) p += 4; // bytes
  if (flags & 4) p += 100; // seek table
  if (flags & 8) p += 4; // quality
  let delay = 0, padding = 0;
  if (p + 24 <= b.length && /^(LAME|Lavc|Lavf)/.test(ascii(b, p, 4))) {
    delay = (b[p + 21] << 4) | (b[p + 22] >> 4);
    padding = ((b[p + 22] & 0x0f) << 8) | b[p + 23];
  }
  const samplesPerFrame = v1 ? 1152 : 576;
  return { frames, samplesPerFrame, sampleRate, delay, padding, samples: Math.max(0, frames * samplesPerFrame - delay - padding) };
}
