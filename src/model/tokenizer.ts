// The text tokenizer of a model folder: Hugging Face's `tokenizer.json` (+ `tokenizer_config.json`,
// `special_tokens_map.json`, `chat_template.jinja`/`chat_template.json` when present), run by
// `@huggingface/tokenizers` (Tokenizers.js: pure JS, no dependencies, Hugging Face's own port).
// It gives the same ids as the Python `tokenizers` library on the Qwen3 tokenizer (byte-level BPE,
// Qwen's pre-tokenizer regex, added special tokens): test/tokenizer.test.ts checks every case of
// test/fixtures/tokenizer/qwen3-cases.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';

/** A special token as configs store it: a plain string or a serialized AddedToken. */
type TokenSpec = string | { content: string } | null | undefined;

export interface TokenizerConfig {
  bos_token?: TokenSpec;
  eos_token?: TokenSpec;
  pad_token?: TokenSpec;
  unk_token?: TokenSpec;
  additional_special_tokens?: TokenSpec[];
  chat_template?: string | { name: string; template: string }[];
  clean_up_tokenization_spaces?: boolean;
  model_max_length?: number;
  [key: string]: unknown;
}

export interface SpecialTokens {
  bos?: string;
  eos?: string;
  pad?: string;
  unk?: string;
  /** `additional_special_tokens` of the config. */
  additional: string[];
  /** Every added token marked special in tokenizer.json (what `skipSpecialTokens` drops). */
  all: string[];
}

export interface DecodeOptions {
  /** Drop special tokens (`<|im_end|>`, `<|endoftext|>`, …) from the text. Default false. */
  skipSpecialTokens?: boolean;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  model?: { vocab?: Record<string, number> | unknown[] };
  [key: string]: unknown;
}

function tokenText(spec: TokenSpec): string | undefined {
  if (spec == null) return undefined;
  return typeof spec === 'string' ? spec : spec.content;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`tokenizer: cannot read ${path}: ${(err as Error).message}`);
  }
}

function pickChatTemplate(t: TokenizerConfig['chat_template']): string | undefined {
  if (t == null) return undefined;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return (t.find((x) => x.name === 'default') ?? t[0])?.template;
  return undefined;
}

export class Tokenizer {
  readonly config: TokenizerConfig;
  readonly specialTokens: SpecialTokens;
  /** The Jinja chat template of the tokenizer, when the folder has one. */
  readonly chatTemplate?: string;
  private readonly inner: HFTokenizer;
  private readonly cleanUp: boolean;
  private readonly size: number;
  private readonly specialIds: Set<number>;

  constructor(tokenizerJson: object, config: TokenizerConfig = {}, chatTemplate?: string) {
    this.config = config;
    this.inner = new HFTokenizer(tokenizerJson, config);
    // The Python `tokenizers` library never cleans up spaces; transformers does only when the
    // config says so. Tokenizers.js would default to true, so make the default explicit.
    this.cleanUp = config.clean_up_tokenization_spaces ?? false;
    const tj = tokenizerJson as TokenizerJson;
    const added = tj.added_tokens ?? [];
    this.specialTokens = {
      bos: tokenText(config.bos_token),
      eos: tokenText(config.eos_token),
      pad: tokenText(config.pad_token),
      unk: tokenText(config.unk_token),
      additional: (config.additional_special_tokens ?? []).map(tokenText).filter((x): x is string => !!x),
      all: added.filter((t) => t.special).map((t) => t.content),
    };
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));
    // Ids run 0..max: base vocabulary plus added tokens.
    let max = -1;
    const vocab = tj.model?.vocab;
    if (Array.isArray(vocab)) {
      max = vocab.length - 1;
    } else if (vocab) {
      for (const id of Object.values(vocab)) if (id > max) max = id;
    }
    for (const t of added) if (t.id > max) max = t.id;
    this.size = max + 1;
    this.chatTemplate = chatTemplate ?? pickChatTemplate(config.chat_template);
  }

  /**
   * Loads a Hugging Face tokenizer folder: `tokenizer.json` (required), `tokenizer_config.json`,
   * `special_tokens_map.json` (its entries override the config's, as in transformers) and
   * `chat_template.jinja` / `chat_template.json` (override the config's `chat_template`).
   */
  static fromDir(dir: string): Tokenizer {
    const tjPath = join(dir, 'tokenizer.json');
    if (!existsSync(tjPath)) throw new Error(`tokenizer: ${dir} has no tokenizer.json`);
    const tokenizerJson = readJson(tjPath) as object;
    const cfgPath = join(dir, 'tokenizer_config.json');
    const config: TokenizerConfig = existsSync(cfgPath) ? { ...(readJson(cfgPath) as TokenizerConfig) } : {};
    const mapPath = join(dir, 'special_tokens_map.json');
    if (existsSync(mapPath)) Object.assign(config, readJson(mapPath) as TokenizerConfig);
    let chatTemplate: string | undefined;
    const jinjaPath = join(dir, 'chat_template.jinja');
    const ctJsonPath = join(dir, 'chat_template.json');
    if (existsSync(jinjaPath)) chatTemplate = readFileSync(jinjaPath, 'utf8');
    else if (existsSync(ctJsonPath)) {
      chatTemplate = pickChatTemplate((readJson(ctJsonPath) as { chat_template?: TokenizerConfig['chat_template'] }).chat_template);
    }
    return new Tokenizer(tokenizerJson, config, chatTemplate);
  }

  /** Token ids of `text`, special tokens in the text recognised, post-processor applied (Qwen adds no BOS). */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    if (text === '') return [];
    return this.inner.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    if (ids.length === 0) return '';
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new Error(`tokenizer: cannot decode id ${id} (vocabulary has ids 0..${this.size - 1})`);
      }
    }
    return this.inner.decode(ids as number[], {
      skip_special_tokens: opts.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: this.cleanUp,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  isSpecialId(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** Id of the config's `eos_token` (Qwen3 instruct configs: `<|im_end|>`; base: `<|endoftext|>`). */
  get eosTokenId(): number | undefined {
    return this.specialTokens.eos === undefined ? undefined : this.tokenToId(this.specialTokens.eos);
  }

  get bosTokenId(): number | undefined {
    return this.specialTokens.bos === undefined ? undefined : this.tokenToId(this.specialTokens.bos);
  }

  get padTokenId(): number | undefined {
    return this.specialTokens.pad === undefined ? undefined : this.tokenToId(this.specialTokens.pad);
  }

  /** Number of token ids (base vocabulary + added tokens); the model's embedding may be larger. */
  get vocabSize(): number {
    return this.size;
  }
}

/**
 * Turns a stream of generated ids into text pieces. Each `push` returns the text that is now
 * certain: never half a UTF-8 character (a byte-level token may carry only part of one) and never
 * text that a later token could still change. `flush` returns whatever is left at the end.
 * The pieces concatenate to `decode(allIds)`. Decoding restarts from a recent offset, so the
 * cost per token stays constant.
 */
export class TokenStreamDecoder {
  // ids[0, readOffset) were already returned (kept as left context); ids[readOffset, …) were not.
  private ids: number[] = [];
  private readOffset = 0;

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly opts: DecodeOptions = {},
  ) {}

  push(id: number): string {
    this.ids.push(id);
    const prefixText = this.tokenizer.decode(this.ids.slice(0, this.readOffset), this.opts);
    const text = this.tokenizer.decode(this.ids, this.opts);
    // U+FFFD at the end means the last token(s) stop inside a UTF-8 sequence: wait for more.
    if (text.length > prefixText.length && !text.endsWith('\uFFFD') && text.startsWith(prefixText)) {
      const piece = text.slice(prefixText.length);
      this.ids = this.ids.slice(this.readOffset); // the returned-but-last tokens become the context
      this.readOffset = this.ids.length;
      return piece;
    }
    return '';
  }

  /** The text not yet returned (e.g. an incomplete character at the end of generation). Resets the decoder. */
  flush(): string {
    const prefixText = this.tokenizer.decode(this.ids.slice(0, this.readOffset), this.opts);
    const text = this.tokenizer.decode(this.ids, this.opts);
    this.ids = [];
    this.readOffset = 0;
    return text.startsWith(prefixText) ? text.slice(prefixText.length) : text;
  }
}
