// Audio files for playback, with HTTP Range support (seeking): the same answer for
// `mufun serve` and the Electron app's app:// scheme.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';

const AUDIO_TYPES: Record<string, string> = {
  '.wav': 'audio/wav', '.wave': 'audio/wav', '.mp3': 'audio/mpeg', '.flac': 'audio/flac',
  '.ogg': 'audio/ogg', '.oga': 'audio/ogg', '.opus': 'audio/ogg',
};

export interface MediaReply {
  status: 200 | 206 | 416;
  headers: Record<string, string>;
  body: Readable | null;
}

/** Parses one `bytes=a-b` range (multi-range requests get the whole file). */
export function parseRange(header: string | undefined | null, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number, end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export async function mediaReply(file: string, rangeHeader: string | undefined | null, headOnly = false): Promise<MediaReply> {
  const { size } = await stat(file);
  const type = AUDIO_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
  const base = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  const range = parseRange(rangeHeader, size);
  if (range === 'unsatisfiable') return { status: 416, headers: { ...base, 'content-range': `bytes */${size}` }, body: null };
  if (!range) return { status: 200, headers: { ...base, 'content-length': String(size) }, body: headOnly ? null : createReadStream(file) };
  return {
    status: 206,
    headers: { ...base, 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${size}` },
    body: headOnly ? null : createReadStream(file, { start: range.start, end: range.end }),
  };
}
