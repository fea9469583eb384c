// A small streaming WAV (RIFF/RF64) reader: integer PCM 8/16/24/32-bit, IEEE float 32/64,
// plain or WAVE_FORMAT_EXTENSIBLE. Samples scale to [-1, 1) as ffmpeg does (int / 2^(bits-1);
// 8-bit is unsigned, centred on 128).
import type { FileHandle } from 'node:fs/promises';
import { AudioError } from './errors.js';

export interface WavFormat {
  codec: string; // pcm_s16le, pcm_f32le, ...
  sampleRate: number;
  channels: number;
  bits: number; // container bits per sample
  float: boolean;
  dataOffset: number;
  dataBytes: number;
  frames: number;
}

const PCM = 1, FLOAT = 3, EXTENSIBLE = 0xfffe;
const NAMES: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'µ-law', 0x11: 'IMA ADPCM', 0x55: 'MP3', 0x50: 'MPEG' };

async function readAt(fh: FileHandle, pos: number, n: number): Promise<Buffer> {
  const b = Buffer.alloc(n);
  const { bytesRead } = await fh.read(b, 0, n, pos);
  return b.subarray(0, bytesRead);
}

/** Walks the RIFF chunks up to `data`; checks the format and that the data is all there. */
export async function readWavHeader(fh: FileHandle, size: number, file: string): Promise<WavFormat> {
  const riff = await readAt(fh, 0, 12);
  if (riff.length < 12) throw new AudioError('truncated', file, 'the WAV header is cut short');
  const rf64 = riff.toString('latin1', 0, 4) === 'RF64';
  let pos = 12;
  let fmt: Buffer | null = null;
  let ds64Data = -1;
  while (pos + 8 <= size) {
    const h = await readAt(fh, pos, 8);
    if (h.length < 8) break;
    const id = h.toString('latin1', 0, 4);
    let len = h.readUInt32LE(4);
    if (id === 'ds64') {
      const d = await readAt(fh, pos + 8, 28);
      if (d.length >= 16) ds64Data = Number(d.readBigUInt64LE(8));
    } else if (id === 'fmt ') {
      fmt = await readAt(fh, pos + 8, Math.min(len, 64));
      if (fmt.length < 16) throw new AudioError('truncated', file, 'the WAV fmt chunk is cut short');
    } else if (id === 'data') {
      if (!fmt) throw new AudioError('corrupt', file, 'WAV data chunk before any fmt chunk');
      const start = pos + 8;
      if (rf64 && len === 0xffffffff && ds64Data >= 0) len = ds64Data;
      // 0 or 0xFFFFFFFF: a writer that never came back to fill in the size (streamed): to the end.
      if (len === 0xffffffff || (len === 0 && size > start)) len = size - start;
      const f = parseFmt(fmt, file);
      const frameBytes = (f.bits / 8) * f.channels;
      if (start + len > size) {
        const have = size - start;
        throw new AudioError('truncated', file, `the WAV data chunk says ${len} bytes but only ${have} are in the file (${((len - have) / frameBytes / f.sampleRate).toFixed(2)} s missing)`);
      }
      const frames = Math.floor(len / frameBytes);
      return { ...f, dataOffset: start, dataBytes: frames * frameBytes, frames };
    }
    pos += 8 + len + (len & 1); // chunks are word-aligned
  }
  if (!fmt) throw new AudioError(pos + 8 > size && size < 44 ? 'truncated' : 'corrupt', file, 'no fmt chunk in the WAV file');
  throw new AudioError('truncated', file, 'no data chunk in the WAV file (cut short?)');
}

function parseFmt(b: Buffer, file: string): Omit<WavFormat, 'dataOffset' | 'dataBytes' | 'frames'> {
  let tag = b.readUInt16LE(0);
  const channels = b.readUInt16LE(2), sampleRate = b.readUInt32LE(4), blockAlign = b.readUInt16LE(12), bits = b.readUInt16LE(14);
  if (tag === EXTENSIBLE) {
    if (b.length < 26) throw new AudioError('corrupt', file, 'WAVE_FORMAT_EXTENSIBLE header without its sub-format');
    tag = b.readUInt16LE(24); // the GUID's first two bytes are the format tag
  }
  if (tag !== PCM && tag !== FLOAT) {
    throw new AudioError('unsupported', file, `WAV with ${NAMES[tag] ?? `format tag 0x${tag.toString(16)}`} encoding is not supported (only integer PCM and IEEE float)`);
  }
  if (channels < 1 || sampleRate < 1) throw new AudioError('corrupt', file, `WAV header says ${channels} channels at ${sampleRate} Hz`);
  const float = tag === FLOAT;
  const ok = float ? bits === 32 || bits === 64 : [8, 16, 24, 32].includes(bits);
  if (!ok) throw new AudioError('unsupported', file, `${bits}-bit ${float ? 'float' : 'integer'} WAV is not supported`);
  if (blockAlign !== (bits / 8) * channels) throw new AudioError('corrupt', file, `WAV block align ${blockAlign} does not match ${channels} × ${bits} bits`);
  const codec = float ? `pcm_f${bits}le` : bits === 8 ? 'pcm_u8' : `pcm_s${bits}le`;
  return { codec, sampleRate, channels, bits, float };
}

/** Converts whole frames of interleaved little-endian samples to per-channel float32. */
export function wavToChannels(buf: Buffer, f: Pick<WavFormat, 'bits' | 'float' | 'channels'>): Float32Array[] {
  const bps = f.bits / 8, C = f.channels;
  const n = Math.floor(buf.length / (bps * C));
  const out = Array.from({ length: C }, () => new Float32Array(n));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let c = 0; c < C; c++) {
    const ch = out[c];
    let p = c * bps;
    const step = bps * C;
    if (f.float && f.bits === 32) for (let i = 0; i < n; i++, p += step) ch[i] = dv.getFloat32(p, true);
    else if (f.float) for (let i = 0; i < n; i++, p += step) ch[i] = dv.getFloat64(p, true);
    else if (f.bits === 8) for (let i = 0; i < n; i++, p += step) ch[i] = (buf[p] - 128) / 128;
    else if (f.bits === 16) for (let i = 0; i < n; i++, p += step) ch[i] = dv.getInt16(p, true) / 32768;
    else if (f.bits === 24) for (let i = 0; i < n; i++, p += step) ch[i] = (((buf[p + 2] << 24) | (buf[p + 1] << 16) | (buf[p] << 8)) >> 8) / 8388608;
    else for (let i = 0; i < n; i++, p += step) ch[i] = dv.getInt32(p, true) / 2147483648;
  }
  return out;
}

export interface WavEncoding {
  bits?: 8 | 16 | 24 | 32 | 64; // default 16
  float?: boolean; // IEEE float (32 or 64 bits)
  extensible?: boolean; // WAVE_FORMAT_EXTENSIBLE header
}

/** Encodes per-channel float samples as a WAV file (integers rounded and clipped, like sox). */
export function encodeWav(channels: Float32Array[], sampleRate: number, enc: WavEncoding = {}): Buffer {
  const bits = enc.bits ?? (enc.float ? 32 : 16), float = !!enc.float;
  const C = channels.length, n = channels[0]?.length ?? 0, bps = bits / 8;
  const fmtLen = enc.extensible ? 40 : 16;
  const dataLen = n * C * bps;
  const b = Buffer.alloc(12 + 8 + fmtLen + 8 + dataLen);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(b.length - 8, 4);
  b.write('WAVE', 8, 'latin1');
  b.write('fmt ', 12, 'latin1');
  b.writeUInt32LE(fmtLen, 16);
  const tag = float ? FLOAT : PCM;
  b.writeUInt16LE(enc.extensible ? EXTENSIBLE : tag, 20);
  b.writeUInt16LE(C, 22);
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * C * bps, 28);
  b.writeUInt16LE(C * bps, 32);
  b.writeUInt16LE(bits, 34);
  if (enc.extensible) {
    b.writeUInt16LE(22, 36); // cbSize
    b.writeUInt16LE(bits, 38); // valid bits
    b.writeUInt32LE(C === 2 ? 3 : C === 1 ? 4 : 0, 40); // channel mask
    Buffer.from([tag, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(b, 44);
  }
  let p = 20 + fmtLen;
  b.write('data', p, 'latin1');
  b.writeUInt32LE(dataLen, p + 4);
  p += 8;
  const q = (v: number, full: number) => Math.max(-full, Math.min(full - 1, Math.round(v * full)));
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++, p += bps) {
      const v = channels[c][i];
      if (float && bits === 32) b.writeFloatLE(v, p);
      else if (float) b.writeDoubleLE(v, p);
      else if (bits === 8) b[p] = q(v, 128) + 128;
      else if (bits === 16) b.writeInt16LE(q(v, 32768), p);
      else if (bits === 24) b.writeIntLE(q(v, 8388608), p, 3);
      else b.writeInt32LE(q(v, 2147483648), p);
    }
  }
  return b;
}
