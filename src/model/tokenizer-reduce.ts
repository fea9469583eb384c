// A smaller byte-level BPE cut from a larger one (e.g. Qwen3's 151k vocabulary): the 256
// byte tokens, the first merges in rank order, and a few special tokens. Every string still
// tokenizes (byte-level BPE needs only the bytes), and the first merges are the most common
// pieces, so small models (MuFun-nano, the test fixture) get a real tokenizer that fits them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'];

interface BpeJson {
  added_tokens: { id: number; content: string; special: boolean; [k: string]: unknown }[];
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[]; [k: string]: unknown };
  [k: string]: unknown;
}

export function reduceBpe(tokenizer: BpeJson, vocabSize: number, specials = DEFAULT_SPECIALS): BpeJson {
  if (tokenizer.model?.type !== 'BPE') throw new Error(`tokenizer reduce: only BPE tokenizers can be reduced (got ${tokenizer.model?.type})`);
  const keep = vocabSize - specials.length;
  if (keep < 256) throw new Error(`tokenizer reduce: ${vocabSize} ids cannot hold 256 byte tokens and ${specials.length} special tokens`);
  const vocab = tokenizer.model.vocab;
  const byId = new Map(Object.entries(vocab).map(([tok, id]) => [id, tok]));
  // Byte-level BPE: ids 0…255 are the bytes; merge i creates the token with id 256 + i.
  const newVocab: Record<string, number> = {};
  for (let id = 0; id < 256; id++) {
    const tok = byId.get(id);
    if (tok === undefined || [...tok].length !== 1) throw new Error('tokenizer reduce: ids 0…255 are not the 256 byte tokens');
    newVocab[tok] = id;
  }
  const merges: (string | [string, string])[] = [];
  for (const m of tokenizer.model.merges) {
    if (256 + merges.length >= keep) break;
    const [a, b] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
    const merged = a + b;
    if (!(a in newVocab) || !(b in newVocab) || merged in newVocab) continue;
    newVocab[merged] = 256 + merges.length;
    merges.push(m);
  }
  const added = specials.map((content, i) => {
    const orig = tokenizer.added_tokens.find((t) => t.content === content);
    if (!orig) throw new Error(`tokenizer reduce: the tokenizer has no special token ${content}`);
    return { ...orig, id: 256 + merges.length + i };
  });
  return { ...tokenizer, added_tokens: added, model: { ...tokenizer.model, vocab: newVocab, merges } };
}

/** Writes tokenizer.json + tokenizer_config.json for a reduced tokenizer into `outDir`. */
export function writeReducedTokenizer(srcDir: string, outDir: string, vocabSize: number): { vocabSize: number } {
  const tj = JSON.parse(readFileSync(join(srcDir, 'tokenizer.json'), 'utf8')) as BpeJson;
  const reduced = reduceBpe(tj, vocabSize);
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(readFileSync(join(srcDir, 'tokenizer_config.json'), 'utf8'));
  } catch {
    // a bare tokenizer.json is fine
  }
  const kept = new Set(reduced.added_tokens.map((t) => t.content));
  const decoder = Object.fromEntries(reduced.added_tokens.map((t) => [String(t.id), { ...t, id: undefined }]));
  const out = {
    ...config,
    added_tokens_decoder: decoder,
    additional_special_tokens: [],
    eos_token: kept.has('<|im_end|>') ? '<|im_end|>' : reduced.added_tokens[0].content,
    pad_token: '<|endoftext|>',
    bos_token: null,
    model_max_length: config.model_max_length ?? 4096,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'tokenizer.json'), JSON.stringify(reduced));
  writeFileSync(join(outDir, 'tokenizer_config.json'), JSON.stringify(out, null, 1));
  return { vocabSize: 256 + reduced.model.merges.length + reduced.added_tokens.length };
}
