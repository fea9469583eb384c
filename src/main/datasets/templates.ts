// Task templates: a label in, MuFun-style turns out.
//   choice  → "<audio>\n{question} (choose from: A. x, B. y, …)" answered "B. y" (MuCUE's form; the
//             label is the text after the answer's last ". ", as MuFun's GRPO reward reads it), or
//             "y (B)" or "y" as the template's `answers` says
//   open    → "<audio>\n{question}" answered with the label
//   caption → "<audio>\n{question}" answered with the description
// Distractors and option order are seeded per item, so labelling again gives the same question.
import type { DatasetTemplate, DatasetTurn } from '../../shared/api-datasets.js';
import { shuffled } from '../../model/train/data.js';
import { mcAnswer } from '../../synth/questions.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export class TemplateError extends Error {}

/** A stable 32-bit seed from a string (FNV-1a). */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The template's choice that `label` names (case and outer spaces ignored), or null. */
export function matchChoice(t: DatasetTemplate, label: string): string | null {
  const want = label.trim().toLowerCase();
  return t.choices.find((c) => c.trim().toLowerCase() === want) ?? null;
}

export interface Rendered {
  turns: DatasetTurn[];
  /** The label as the template spells it. */
  label: string;
}

/**
 * The question and answer a template makes of a label, for an item with `audios` audios.
 * `seedKey` names the item (its options are drawn from it).
 */
export function renderTemplate(t: DatasetTemplate, label: string, o: { audios: number; seedKey: string }): Rendered {
  const text = label.trim();
  if (!text) throw new TemplateError('the label is empty');
  const prefix = '<audio>\n'.repeat(o.audios);
  const question = t.question.trim();
  if (t.kind !== 'choice') {
    return { label: text, turns: [{ from: 'human', value: `${prefix}${question}` }, { from: 'gpt', value: text }] };
  }
  const choice = matchChoice(t, text);
  if (choice === null) {
    throw new TemplateError(`"${text}" is not one of the choices of "${t.name}" (${t.choices.join(', ')})`);
  }
  const seed = seedOf(`${o.seedKey}\u0000${t.name}`);
  const others = t.choices.filter((c) => c !== choice);
  const shown = t.maxOptions && t.maxOptions < t.choices.length ? t.maxOptions : t.choices.length;
  const distractors = shuffled(others, seed).slice(0, shown - 1);
  let options = [choice, ...distractors];
  options = t.shuffle ? shuffled(options, seed ^ 0x9e3779b9) : t.choices.filter((c) => options.includes(c));
  const at = options.indexOf(choice);
  const list = options.map((c, i) => `${LETTERS[i]}. ${c}`).join(', ');
  return {
    label: choice,
    turns: [
      { from: 'human', value: `${prefix}${question} (choose from: ${list})` },
      { from: 'gpt', value: mcAnswer(LETTERS[at], choice, t.answers) },
    ],
  };
}
