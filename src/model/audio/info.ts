// What a file is, without decoding it: codec, rate, channels, duration and tags, from the
// container (music-metadata, the role mutagen plays in MuFun). The container is identified by
// content first, so a mislabelled file is described as what it is.
import { createReadStream } from 'node:fs';
import { parseStream } from 'music-metadata';
import { AudioError } from './errors.js';
import { NPY_RATE, readNpy } from './npy.js';
import { open } from 'node:fs/promises';
import { type Container, readXing, sniffFile } from './sniff.js';

export interface AudioTags {
  title?: string;
  artist?: string;
  album?: string;
  albumartist?: string;
  genre?: string[];
  year?: number;
  track?: number;
}

export interface AudioInfo {
  container: Container;
  codec: string;
  sampleRate: number;
  channels: number;
  durationSec: number;
  bitsPerSample?: number;
  bitrate?: number;
  lossless?: boolean;
  tags: AudioTags;
}

const MIME: Record<Container, string> = { wav: 'audio/wav', mp3: 'audio/mpeg', flac: 'audio/flac', 'ogg-vorbis': 'audio/ogg', 'ogg-opus': 'audio/ogg', npy: '' };
const CODECS: Record<Container, string> = { wav: 'pcm', mp3: 'mp3', flac: 'flac', 'ogg-vorbis': 'vorbis', 'ogg-opus': 'opus', npy: 'npy_f32' };

export async function audioInfo(path: string): Promise<AudioInfo> {
  const { container, size } = await sniffFile(path);
  if (container === 'npy') {
    const x = await readNpy(path);
    return { container, codec: CODECS.npy, sampleRate: NPY_RATE, channels: 1, durationSec: x.length / NPY_RATE, lossless: true, tags: {} };
  }
  let m;
  try {
    // The parser is chosen by the sniffed content, not the extension (an mp3 named .wav).
    const stream = createReadStream(path);
    try {
      m = await parseStream(stream, { mimeType: MIME[container], size }, { duration: true, skipCovers: true });
    } finally {
      stream.destroy();
    }
  } catch (e) {
    throw new AudioError('corrupt', path, `cannot read the ${container} container: ${(e as Error).message}`);
  }
  const f = m.format, c = m.common;
  if (!f.sampleRate || !f.numberOfChannels) throw new AudioError('corrupt', path, `the ${container} header gives no sample rate or channel count`);
  const tags: AudioTags = {};
  if (c.title) tags.title = c.title;
  if (c.artist) tags.artist = c.artist;
  if (c.album) tags.album = c.album;
  if (c.albumartist) tags.albumartist = c.albumartist;
  if (c.genre?.length) tags.genre = c.genre;
  if (c.year) tags.year = c.year;
  if (c.track?.no) tags.track = c.track.no;
  // Opus always decodes at 48 kHz (the header's rate is only the encoder's input rate).
  const sampleRate = container === 'ogg-opus' ? 48000 : f.sampleRate;
  let durationSec = f.duration ?? (f.numberOfSamples ? f.numberOfSamples / f.sampleRate : NaN);
  if (container === 'mp3') {
    // Gapless length from the LAME tag (music-metadata counts the encoder's delay and padding).
    const fh = await open(path, 'r');
    const head = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(head, 0, head.length, 0).finally(() => fh.close());
    const x = readXing(head.subarray(0, bytesRead));
    if (x && x.samples > 0) durationSec = x.samples / x.sampleRate;
  }
  const codec = container === 'wav' ? wavCodec(f.codec, f.bitsPerSample) : CODECS[container];
  return {
    container, codec, sampleRate, channels: f.numberOfChannels,
    durationSec,
    ...(f.bitsPerSample ? { bitsPerSample: f.bitsPerSample } : {}),
    ...(f.bitrate ? { bitrate: Math.round(f.bitrate) } : {}),
    ...(f.lossless !== undefined ? { lossless: f.lossless } : {}),
    tags,
  };
}

function wavCodec(codec: string | undefined, bits: number | undefined): string {
  const c = (codec ?? '').toLowerCase();
  if (c.includes('float')) return `pcm_f${bits ?? 32}le`;
  if (bits === 8) return 'pcm_u8';
  return bits ? `pcm_s${bits}le` : c || 'pcm';
}
