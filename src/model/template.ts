// MuFun's prompt templates (TinyLLaVA Factory's `tinyllava/data/template/*`, as MuFun uses them)
// and the tokenizer's own Jinja chat template for other models.
//
//   qwen2_instruct  SYSTEM + " " + per turn "USER: {q} " + "ASSISTANT: {a}<|im_end|>"
//   qwen2_base      the same with "<|endoftext|>"
//   pretrain        per turn "<audio>" + "{a}\n" (the question text is not used)
//
// Text is tokenized chunk by chunk between `<audio>` placeholders, each placeholder becoming
// AUDIO_TOKEN (-200), as MuFun's `tokenizer_image_token` does. Labels follow MuFun's
// `make_labels` length arithmetic exactly, quirks included (see `mufunLabels`).
import { Template as JinjaTemplate } from '@huggingface/jinja';
import { AUDIO_TOKEN, IGNORE_INDEX } from './splice.js';
import type { Tokenizer } from './tokenizer.js';

export { AUDIO_TOKEN, IGNORE_INDEX };
export const AUDIO_PLACEHOLDER = '<audio>';

export const MUFUN_SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

export interface Turn {
  from: 'human' | 'gpt';
  value: string;
}

/** A MuFun (TinyLLaVA) template: how each piece of a conversation is written. */
export interface MuFunTemplate {
  kind: 'mufun';
  name: 'qwen2_instruct' | 'qwen2_base' | 'pretrain';
  /** Written once, before the first turn. */
  system: string;
  user(question: string): string;
  assistant(answer: string): string;
  /** What separates a question from its answer (TinyLLaVA's `separator[0]`); '' for pretrain. */
  separator: string;
  /** What ends an answer (`separator[1]`): also the template's stop text in generation. */
  end: string;
}

/** The tokenizer's Jinja chat template (`tokenizer_config.json` / `chat_template.jinja`). */
export interface ChatTemplate {
  kind: 'chat';
  name: 'chat_template';
  source: string;
  /** Extra variables for the template (bos_token, eos_token, … are filled from the tokenizer). */
  variables: Record<string, unknown>;
}

export type PromptTemplate = MuFunTemplate | ChatTemplate;
export type TemplateName = MuFunTemplate['name'] | 'chat_template';

const qwen2 = (name: 'qwen2_instruct' | 'qwen2_base', end: string): MuFunTemplate => ({
  kind: 'mufun',
  name,
  system: MUFUN_SYSTEM + ' ',
  user: (q) => `USER: ${q} `,
  assistant: (a) => `ASSISTANT: ${a}${end}`,
  separator: ' ASSISTANT: ',
  end,
});

export const TEMPLATES: Readonly<Record<MuFunTemplate['name'], MuFunTemplate>> = {
  qwen2_instruct: qwen2('qwen2_instruct', '<|im_end|>'),
  qwen2_base: qwen2('qwen2_base', '<|endoftext|>'),
  pretrain: {
    kind: 'mufun',
    name: 'pretrain',
    system: '',
    user: () => AUDIO_PLACEHOLDER,
    assistant: (a) => `${a}\n`,
    separator: '',
    end: '\n',
  },
};

export const TEMPLATE_NAMES: readonly TemplateName[] = ['qwen2_instruct', 'qwen2_base', 'pretrain', 'chat_template'];

/** The template of that name; `chat_template` needs the tokenizer whose Jinja template it is. */
export function getTemplate(name: TemplateName | PromptTemplate, tokenizer?: Tokenizer): PromptTemplate {
  if (typeof name !== 'string') return name;
  if (name === 'chat_template') {
    if (!tokenizer) throw new Error('template chat_template: needs the tokenizer whose chat template it is');
    if (!tokenizer.chatTemplate) throw new Error('template chat_template: this tokenizer has no chat template');
    return chatTemplate(tokenizer.chatTemplate, tokenizerVariables(tokenizer));
  }
  const t = (TEMPLATES as Record<string, MuFunTemplate>)[name];
  if (!t) throw new Error(`unknown template "${name}" (known: ${TEMPLATE_NAMES.join(', ')})`);
  return t;
}

export function chatTemplate(source: string, variables: Record<string, unknown> = {}): ChatTemplate {
  return { kind: 'chat', name: 'chat_template', source, variables };
}

function tokenizerVariables(tokenizer: Tokenizer): Record<string, unknown> {
  const s = tokenizer.specialTokens;
  return {
    bos_token: s.bos ?? '',
    eos_token: s.eos ?? '',
    pad_token: s.pad ?? '',
    unk_token: s.unk ?? '',
    additional_special_tokens: s.additional,
  };
}

/** Number of `<audio>` placeholders in a text (one audio goes in each). */
export function countAudioPlaceholders(text: string): number {
  return text.split(AUDIO_PLACEHOLDER).length - 1;
}

export interface Pair {
  question: string;
  answer: string;
}

/**
 * The question/answer pairs of a conversation. A leading non-human turn is skipped (as MuFun
 * does); then turns must alternate human, gpt, human, … With `generation`, the conversation must
 * end with the human turn to answer (its answer is returned as ''); otherwise it must end with gpt.
 */
export function pairTurns(turns: readonly Turn[], generation = false): Pair[] {
  const start = turns.length > 0 && turns[0]!.from !== 'human' ? 1 : 0;
  const pairs: Pair[] = [];
  for (let i = start; i < turns.length; i++) {
    const turn = turns[i]!;
    const want = (i - start) % 2 === 0 ? 'human' : 'gpt';
    if (turn.from !== want) {
      throw new Error(`conversation: turn ${i} is from "${turn.from}" but "${want}" was expected (turns alternate human/gpt)`);
    }
    if (typeof turn.value !== 'string') throw new Error(`conversation: turn ${i} has no text value`);
    if (want === 'human') pairs.push({ question: turn.value, answer: '' });
    else pairs[pairs.length - 1]!.answer = turn.value;
  }
  const endsWithHuman = (turns.length - start) % 2 === 1;
  if (pairs.length === 0) throw new Error('conversation: no human turn');
  if (generation && !endsWithHuman) {
    throw new Error('conversation: a generation prompt must end with the human turn to answer');
  }
  if (!generation && endsWithHuman) {
    throw new Error(`conversation: unbalanced, the last human turn (turn ${turns.length - 1}) has no gpt answer`);
  }
  return pairs;
}

export interface PromptOptions {
  /** Build the prompt for generating the answer to the last (human) turn. */
  generation?: boolean;
  /** Needed for `chat_template` given by name. */
  tokenizer?: Tokenizer;
}

/**
 * The prompt text of a conversation. Training: every turn with its answer and end token.
 * Generation: the same text with the last answer empty and its end token removed, i.e. ending
 * in `ASSISTANT: ` (TinyLLaVA's `encode(mode='rl')`); for `pretrain`, ending in `<audio>`.
 */
export function buildPrompt(template: TemplateName | PromptTemplate, turns: readonly Turn[], opts: PromptOptions = {}): string {
  const t = getTemplate(template, opts.tokenizer);
  const generation = opts.generation ?? false;
  if (t.kind === 'chat') return renderChat(t, turns, generation);
  return mufunPrompt(t, pairTurns(turns, generation), generation);
}

function mufunPrompt(t: MuFunTemplate, pairs: readonly Pair[], generation: boolean): string {
  let msg = t.system;
  for (const p of pairs) msg += t.user(p.question) + t.assistant(p.answer);
  if (generation && t.end && msg.endsWith(t.end)) msg = msg.slice(0, -t.end.length);
  return msg;
}

function toMessages(turns: readonly Turn[], generation: boolean) {
  return pairTurns(turns, generation).flatMap((p, i, all) =>
    generation && i === all.length - 1
      ? [{ role: 'user', content: p.question }]
      : [
          { role: 'user', content: p.question },
          { role: 'assistant', content: p.answer },
        ],
  );
}

const jinjaCache = new Map<string, JinjaTemplate>();
function renderJinja(t: ChatTemplate, messages: { role: string; content: string }[], addGenerationPrompt: boolean): string {
  let compiled = jinjaCache.get(t.source);
  if (!compiled) {
    compiled = new JinjaTemplate(t.source);
    jinjaCache.set(t.source, compiled);
  }
  return compiled.render({ ...t.variables, messages, add_generation_prompt: addGenerationPrompt });
}

function renderChat(t: ChatTemplate, turns: readonly Turn[], generation: boolean): string {
  return renderJinja(t, toMessages(turns, generation), generation);
}

/**
 * MuFun's `tokenizer_image_token`: the text is cut at each `<audio>`, every chunk tokenized on
 * its own (special tokens recognised, no BOS for Qwen) and AUDIO_TOKEN put between chunks. A
 * tokenizer that adds a BOS keeps it only at the very start.
 */
export function tokenizeWithAudio(tokenizer: Tokenizer, text: string): number[] {
  const chunks = text.split(AUDIO_PLACEHOLDER).map((c) => tokenizer.encode(c));
  const bos = tokenizer.bosTokenId;
  const hasBos = bos !== undefined && chunks[0]!.length > 0 && chunks[0]![0] === bos;
  const ids: number[] = hasBos ? [bos] : [];
  chunks.forEach((chunk, i) => {
    if (i > 0) ids.push(AUDIO_TOKEN);
    ids.push(...(hasBos && chunk[0] === bos ? chunk.slice(1) : chunk));
  });
  return ids;
}

/**
 * MuFun's `make_labels`, step for step. The prompt is split at the end token into rounds; each
 * round's question part (`… ASSISTANT: `) is measured by tokenizing it alone, minus one token,
 * and masked; the answer and its end token stay supervised. The "minus one" is LLaVA's BOS
 * allowance; with Qwen (no BOS) it lands right because the space after `ASSISTANT:` merges into
 * the answer's first token (" blues"). Where it doesn't merge (an answer starting with a digit,
 * or an empty answer) the lone " " token is supervised too, as it was when MuFun was trained.
 * A round that doesn't split in two at the separator stops the masking: the rest is ignored.
 */
function mufunLabels(tokenizer: Tokenizer, t: MuFunTemplate, prompt: string, ids: readonly number[], warnings: string[]): number[] {
  const labels = ids.slice();
  if (t.name === 'pretrain') {
    const maskLen = tokenizeWithAudio(tokenizer, AUDIO_PLACEHOLDER).length;
    labels.fill(IGNORE_INDEX, 0, maskLen);
  } else {
    const endLen = tokenizer.encode(t.end).length;
    let cur = 0;
    for (const round of prompt.split(t.end)) {
      if (round === '') break;
      const parts = round.split(t.separator);
      if (parts.length !== 2) {
        warnings.push(`a round does not split in two at "${t.separator}": the rest of the conversation is not supervised`);
        break;
      }
      const roundLen = tokenizeWithAudio(tokenizer, round).length + endLen;
      const instructionLen = tokenizeWithAudio(tokenizer, parts[0] + t.separator).length - 1;
      labels.fill(IGNORE_INDEX, cur, Math.min(cur + instructionLen, labels.length));
      cur += roundLen;
    }
    labels.fill(IGNORE_INDEX, Math.min(cur, labels.length));
    if (cur !== ids.length && cur + 1 !== ids.length) {
      warnings.push(`tokenization mismatch: ${cur} vs. ${ids.length}`);
    }
  }
  for (let i = 0; i < ids.length; i++) if (ids[i] === AUDIO_TOKEN) labels[i] = IGNORE_INDEX;
  return labels;
}

/**
 * Labels for a chat-template conversation: each assistant message's text as rendered, from the
 * end of the generation prompt before it up to and including its content (and the eos token
 * when it follows), is supervised; token positions come from tokenizing the text before each
 * boundary.
 */
function chatLabels(tokenizer: Tokenizer, t: ChatTemplate, turns: readonly Turn[], prompt: string, ids: readonly number[]): number[] {
  const messages = toMessages(turns, false);
  const labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  const tokensBefore = (pos: number) => tokenizeWithAudio(tokenizer, prompt.slice(0, pos)).length;
  const eos = tokenizer.specialTokens.eos;
  for (let i = 1; i < messages.length; i += 2) {
    const head = renderJinja(t, messages.slice(0, i), true);
    if (!prompt.startsWith(head)) {
      throw new Error('template chat_template: the generation prompt is not a prefix of the conversation; cannot place labels');
    }
    const content = messages[i]!.content;
    const at = prompt.indexOf(content, head.length);
    if (at < 0) throw new Error(`template chat_template: cannot find answer ${(i - 1) / 2} in the rendered conversation`);
    let end = at + content.length;
    if (eos && prompt.startsWith(eos, end)) end += eos.length;
    const a = tokensBefore(head.length);
    const b = Math.min(tokensBefore(end), ids.length);
    for (let k = a; k < b; k++) if (ids[k] !== AUDIO_TOKEN) labels[k] = ids[k]!;
  }
  return labels;
}

/**
 * A generation prompt ends "ASSISTANT: " in MuFun's templates, and the space is a token of its
 * own, while the answers MuFun trains on start with a token that carries the space (" blues").
 * MuFun keeps the lone space. A model trained from scratch (MuFun-nano) never saw it and answers
 * as if the prompt were garbled, so its config says `"generation_prompt_trailing_space": false`
 * and the prompt ends at "ASSISTANT:". Everything that asks a model (chat, eval, GRPO rollouts)
 * must agree, so a generation prompt cannot be encoded without saying which
 * (`trailingSpace: trailingSpaceOf(config)`).
 */
export type EncodeOptions = {
  /** Cut ids and labels to this many positions (as MuFun's collator does; each `<audio>` counts one). */
  maxLength?: number;
} & (
  | { generation?: false }
  /** The generation prompt (labels then all IGNORE_INDEX), with or without its lone trailing space. */
  | { generation: true; trailingSpace: boolean }
);

export interface EncodedConversation {
  /** The prompt text that was tokenized. */
  prompt: string;
  /** Token ids, AUDIO_TOKEN (-200) at each `<audio>`. */
  ids: number[];
  /** IGNORE_INDEX (-100) where not supervised, else the id. */
  labels: number[];
  /** Number of `<audio>` placeholders in the prompt: the audios this conversation needs, in order. */
  audioCount: number;
  /** The generation prompt's lone trailing space token was left off (the answer's first token brings its own space). */
  spaceDropped: boolean;
  truncated: boolean;
  /** What MuFun would have printed as a warning while making labels. */
  warnings: string[];
}

export function encodeConversation(
  tokenizer: Tokenizer,
  template: TemplateName | PromptTemplate,
  turns: readonly Turn[],
  opts: EncodeOptions = {},
): EncodedConversation {
  const t = getTemplate(template, tokenizer);
  const generation = opts.generation ?? false;
  const prompt = buildPrompt(t, turns, { generation });
  let ids = tokenizeWithAudio(tokenizer, prompt);
  const spaceDropped = opts.generation === true && !opts.trailingSpace && prompt.endsWith(' ') && ids.at(-1) === tokenizer.encode(' ')[0];
  if (spaceDropped) ids = ids.slice(0, -1);
  const warnings: string[] = [];
  let labels: number[];
  if (generation) labels = new Array<number>(ids.length).fill(IGNORE_INDEX);
  else if (t.kind === 'chat') labels = chatLabels(tokenizer, t, turns, prompt, ids);
  else labels = mufunLabels(tokenizer, t, prompt, ids, warnings);
  let truncated = false;
  if (opts.maxLength !== undefined && ids.length > opts.maxLength) {
    if (!Number.isInteger(opts.maxLength) || opts.maxLength < 1) throw new Error(`maxLength must be a positive integer, got ${opts.maxLength}`);
    ids = ids.slice(0, opts.maxLength);
    labels = labels.slice(0, opts.maxLength);
    truncated = true;
  }
  return { prompt, ids, labels, audioCount: countAudioPlaceholders(prompt), spaceDropped, truncated, warnings };
}

/** Whether a model's generation prompt keeps MuFun's trailing space (its config's `generation_prompt_trailing_space`, default true). */
export function trailingSpaceOf(rawConfig: Record<string, unknown>): boolean {
  return rawConfig.generation_prompt_trailing_space !== false;
}
