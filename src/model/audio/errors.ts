// Typed errors for everything that can go wrong between a file on disk and 16 kHz PCM.
// Every message names the file; callers switch on `code`, people read `message`.

export type AudioErrorCode =
  | 'not-found' // no such file, or not a regular file
  | 'empty' // zero bytes, or a valid container with no samples
  | 'truncated' // the file ends before its header says it should
  | 'corrupt' // the bytes claim a format but do not decode as it
  | 'unsupported' // a format (or a variant of one) we do not decode
  | 'bad-segment' // [start, end] outside the audio, or end <= start
  | 'non-finite' // NaN or ±Inf samples
  | 'io'; // any other read failure

export class AudioError extends Error {
  override readonly name = 'AudioError';
  constructor(
    readonly code: AudioErrorCode,
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

export const isAudioError = (e: unknown, code?: AudioErrorCode): e is AudioError =>
  e instanceof AudioError && (code === undefined || e.code === code);
