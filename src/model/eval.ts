// Multiple-choice evaluation (MuCUE-style): each sample's last question is answered by greedy
// generation and scored against the reference answer by option letter or option text
// ("B", "B.", "(B)", "B. blues", "blues", any case and spacing). Accuracy is reported per
// task next to chance (1/options) and the majority-class baseline. Plain functions, so the
// CLI, the training runner and the studio share them.
import { Conversation, drain } from './chat.js';
import type { GenerateOptions } from './generate.js';
import type { MufunModel } from './mufun.js';
import { type AudioRef, type PreparedSample, loadDataset } from './train/data.js';
import { type TemplateName, countAudioPlaceholders } from './template.js';
import type { Tokenizer } from './tokenizer.js';

export interface McOption {
  /** 'A', 'B', …; '' when the question lists bare texts ("choose the genre from: blues, rock") */
  letter: string;
  text: string;
}

/** A marker "A." / "A)" / "(A)" before an option, after a start, space, '(', ':', ',' or ';'. */
const MARKER = /(?<=^|[\s(:;,])(?:\(([A-Za-z])\)|([A-Z])[.)])(?=\s|$)/g;

/**
 * The options a question lists: lettered ("(choose from: A. blues, B. rock)", "A) x\nB) y",
 * "(A) x (B) y"), else a bare list after "choose … from:". Empty when it lists none.
 */
export function parseOptions(question: string): McOption[] {
  const lettered = letteredOptions(question);
  if (lettered.length >= 2) return lettered;
  const m = /choose[^:()\n]*?\bfrom\s*:?\s*([^()\n]*)/i.exec(question);
  if (!m) return [];
  const texts = m[1]
    .replace(/[.\s]+$/, '')
    .split(/\s*,\s*|\s*;\s*|\s+or\s+/i)
    .map((t) => cleanOptionText(t.replace(/^(?:and|or)\s+/i, '')))
    .filter(Boolean);
  return texts.length >= 2 ? texts.map((text) => ({ letter: '', text })) : [];
}

function letteredOptions(q: string): McOption[] {
  const marks = [...q.matchAll(MARKER)].map((m) => ({ letter: (m[1] ?? m[2]).toUpperCase(), start: m.index!, end: m.index! + m[0].length }));
  // The last chain A, B, C, … of consecutive letters (options usually close the question).
  let best: typeof marks = [];
  for (let i = 0; i < marks.length; i++) {
    if (marks[i].letter !== 'A') continue;
    const chain = [marks[i]];
    for (let j = i + 1; j < marks.length; j++) {
      if (marks[j].letter === String.fromCharCode(chain[chain.length - 1].letter.charCodeAt(0) + 1)) chain.push(marks[j]);
    }
    if (chain.length >= 2 && chain.length >= best.length) best = chain;
  }
  if (!best.length) return [];
  const open = unclosedParens(q.slice(0, best[0].start));
  return best.map((mk, i) => {
    const next = best[i + 1];
    let text = q.slice(mk.end, next ? next.start : q.length);
    text = text.split('\n')[0];
    if (!next && open > 0) text = cutAtUnmatchedClose(text);
    return { letter: mk.letter, text: cleanOptionText(text) };
  });
}

function unclosedParens(s: string): number {
  let d = 0;
  for (const c of s) {
    if (c === '(') d++;
    else if (c === ')' && d > 0) d--;
  }
  return d;
}

function cutAtUnmatchedClose(s: string): string {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') d++;
    else if (s[i] === ')') {
      if (d === 0) return s.slice(0, i);
      d--;
    }
  }
  return s;
}

function cleanOptionText(t: string): string {
  return t.replace(/\s+/g, ' ').trim().replace(/(?:[\s,;]+(?:and|or))?[\s,;.]*$/i, '').replace(/[\s,;.]+$/, '').trim();
}

/** Lower case, single spaces, no surrounding quotes or trailing punctuation. */
export function normalizeAnswer(s: string): string {
  return s.toLowerCase().replace(/\s+/g, ' ').trim().replace(/^["'“‘`*]+|["'”’`*]+$/g, '').replace(/[\s.,;:!?]+$/, '').trim();
}

export interface ScoreResult {
  correct: boolean;
  /** the option the prediction names (its letter, or its text for bare lists), or null */
  predicted: string | null;
  /** the option the reference names, or the reference text when no option matches it */
  expected: string;
  /** the answer class for the majority baseline: the reference option's text (normalized) */
  label: string;
}

/**
 * Which option a text names: its letter (alone or before the text), its exact text, its text then
 * its letter ("blues (B)": null when the two name different options), or one option text it contains.
 */
export function matchOption(answer: string, options: readonly McOption[]): number | null {
  if (!options.length) return null;
  const a = answer.replace(/\s+/g, ' ').trim().replace(/^(?:the\s+)?(?:correct\s+)?(?:answer|option)\s*(?:is|:)?\s*:?\s*/i, '');
  const byLetter = (l: string) => {
    const i = options.findIndex((o) => o.letter === l.toUpperCase());
    return i >= 0 ? i : null;
  };
  // "B", "b", "B.", "(B)", "B)"
  const only = /^\(?([A-Za-z])\)?[.):]?$/.exec(a);
  if (only) {
    const i = byLetter(only[1]);
    if (i !== null) return i;
  }
  // "B. blues", "(B) blues", "B) blues", "B: blues" — the letter decides
  const lead = /^\(?([A-Z])\)?[.):]\s*\S/.exec(a) ?? /^\(([A-Za-z])\)\s*\S/.exec(a);
  if (lead) {
    const i = byLetter(lead[1]);
    if (i !== null) return i;
  }
  const n = normalizeAnswer(a);
  const exact = options.findIndex((o) => normalizeAnswer(o.text) === n);
  if (exact >= 0) return exact;
  // "blues (B)": label first, then its letter; an answer whose two halves disagree names neither
  const labelFirst = /^(.*\S)\s*\(([A-Za-z])\)\.?$/.exec(a);
  if (labelFirst) {
    const byText = matchOption(labelFirst[1], options);
    const letter = byLetter(labelFirst[2]);
    if (byText !== null || letter !== null) return byText !== null && letter !== null && byText !== letter ? null : (byText ?? letter);
  }
  // "B. blues" where the letters are unknown (bare list): the text after the last ". " (MuFun's GRPO rule)
  const tail = normalizeAnswer(a.slice(a.lastIndexOf('. ') + 2));
  if (a.includes('. ')) {
    const t = options.findIndex((o) => normalizeAnswer(o.text) === tail);
    if (t >= 0) return t;
  }
  // a sentence naming exactly one option text ("It sounds like blues."), longest texts first
  const found = options
    .map((o, i) => ({ i, t: normalizeAnswer(o.text) }))
    .filter(({ t }) => t && new RegExp(`(?:^|[^\\p{L}\\p{N}])${escapeRe(t)}(?:$|[^\\p{L}\\p{N}])`, 'u').test(n));
  const maximal = found.filter((f) => !found.some((g) => g !== f && g.t.length > f.t.length && g.t.includes(f.t)));
  if (maximal.length === 1) return maximal[0].i;
  // "the answer is (B) …" inside a sentence
  const inner = /\b(?:answer|option)\s*(?:is\s*)?:?\s*\(?([A-Z])\)?(?=$|[\s.,)])/.exec(a);
  if (inner) return byLetter(inner[1]);
  return null;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Scores one prediction. With options, correct when the prediction and the reference name the
 * same option (by letter or by text); without (or when the reference names none), when the
 * normalized texts agree, or the prediction equals the reference's text after its last ". ".
 */
export function scoreAnswer(prediction: string, reference: string, options: readonly McOption[]): ScoreResult {
  const ref = matchOption(reference, options);
  const pred = matchOption(prediction, options);
  const name = (i: number) => options[i].letter || options[i].text;
  if (ref !== null) {
    return { correct: pred === ref, predicted: pred === null ? null : name(pred), expected: name(ref), label: normalizeAnswer(options[ref].text) };
  }
  const r = normalizeAnswer(reference);
  const rTail = reference.includes('. ') ? normalizeAnswer(reference.slice(reference.lastIndexOf('. ') + 2)) : r;
  const p = normalizeAnswer(prediction);
  const pTail = prediction.includes('. ') ? normalizeAnswer(prediction.slice(prediction.lastIndexOf('. ') + 2)) : p;
  return { correct: p === r || p === rTail || pTail === rTail, predicted: pred === null ? null : name(pred), expected: reference.trim(), label: rTail };
}

/** A sample to evaluate: MuFun's format, with its optional `task` field. */
export type EvalSample = PreparedSample;

/** Reads an eval set in MuFun's JSON format (train/data.ts's checks, path resolution and task field). */
export const loadEvalSet = loadDataset;

/** "genre_0012" → "genre", "mucue-key-7" → "mucue-key"; null for ids without a name and a number. */
export function taskFromId(id: string): string | null {
  const m = /^(.*\p{L}.*?)[-_/:.#]\d+$/u.exec(id);
  return m ? m[1] : null;
}

/** Task per sample: its `task`, else its id prefix when prefixes group samples, else "all". */
export function assignTasks(samples: readonly { id: string; task?: string }[]): string[] {
  const fromId = samples.map((s) => taskFromId(s.id));
  const counts = new Map<string, number>();
  for (const t of fromId) if (t) counts.set(t, (counts.get(t) ?? 0) + 1);
  const grouping = [...counts.values()].some((n) => n >= 2);
  return samples.map((s, i) => s.task ?? (grouping && fromId[i] ? fromId[i]! : 'all'));
}

export interface SampleResult {
  id: string;
  task: string;
  question: string;
  reference: string;
  prediction: string;
  options: number;
  correct: boolean;
  predicted: string | null;
  expected: string;
  /** the answer class (reference option text, normalized) for the majority baseline */
  label: string;
}

export interface TaskReport {
  task: string;
  samples: number;
  correct: number;
  accuracy: number;
  /** mean of 1/options over the samples that list options; null when none does */
  chance: number | null;
  /** always answering the most frequent reference answer */
  majority: { answer: string; count: number; accuracy: number };
  /** predictions that named no option (counted wrong) */
  unmatched: number;
  /** samples whose question lists no options (scored by text) */
  withoutOptions: number;
}

export interface EvalReport {
  tasks: TaskReport[];
  overall: TaskReport;
  results: SampleResult[];
  /** samples stopped by the abort signal before they ran */
  cancelled: boolean;
}

export interface EvaluateOptions {
  template?: TemplateName;
  /** answer length limit in tokens (default 32: the answers are short) */
  maxNewTokens?: number;
  /** evaluate the first n samples only */
  limit?: number;
  signal?: AbortSignal;
}

/**
 * Answers each sample's last question by greedy generation (earlier turns are replayed with
 * their reference answers, audio included) and scores it. onProgress sees each result.
 */
export async function evaluate(
  model: MufunModel, tokenizer: Tokenizer, samples: readonly EvalSample[], opts: EvaluateOptions = {},
  onProgress?: (done: number, total: number, result: SampleResult) => void,
): Promise<EvalReport> {
  const tasks = assignTasks(samples); // over the whole set, so a limit does not change the grouping
  const chosen = opts.limit !== undefined ? samples.slice(0, Math.max(0, opts.limit)) : samples;
  const results: SampleResult[] = [];
  const gen: GenerateOptions = { maxNewTokens: opts.maxNewTokens ?? 32, temperature: 0, signal: opts.signal };
  let cancelled = false;
  for (const [i, s] of chosen.entries()) {
    if (opts.signal?.aborted) {
      cancelled = true;
      break;
    }
    const last = s.turns.length - 2; // the last question; its answer is the reference
    const conv = new Conversation(model, tokenizer, { template: opts.template });
    let audioAt = 0;
    const audiosFor = (text: string): AudioRef[] => {
      const n = countAudioPlaceholders(text);
      const a = s.audios.slice(audioAt, audioAt + n);
      audioAt += n;
      return a;
    };
    for (let t = 0; t < last; t += 2) {
      // Earlier rounds: prefill the question, then put the reference answer in the history.
      const a = audiosFor(s.turns[t].value);
      await drain(conv.ask({ prompt: s.turns[t].value, audio: a.map((x) => x.path), segs: a.map((x) => x.seg) }, { ...gen, maxNewTokens: 1 }));
      conv.turns[conv.turns.length - 1] = { from: 'gpt', value: s.turns[t + 1].value };
    }
    const q = s.turns[last].value;
    const a = audiosFor(q);
    const record = await drain(conv.ask({ prompt: q, audio: a.map((x) => x.path), segs: a.map((x) => x.seg) }, gen));
    if (record.stopReason === 'cancelled') {
      cancelled = true;
      break;
    }
    const options = parseOptions(q);
    const reference = s.turns[last + 1].value;
    const sc = scoreAnswer(record.text, reference, options);
    const r: SampleResult = {
      id: s.id, task: tasks[i], question: q, reference, prediction: record.text, options: options.length,
      correct: sc.correct, predicted: sc.predicted, expected: sc.expected, label: sc.label,
    };
    results.push(r);
    onProgress?.(results.length, chosen.length, r);
  }
  return { ...summarize(results), results, cancelled };
}

/** Per-task and overall accuracy, chance and majority baseline of scored results. */
export function summarize(results: readonly SampleResult[]): { tasks: TaskReport[]; overall: TaskReport } {
  const byTask = new Map<string, SampleResult[]>();
  for (const r of results) byTask.set(r.task, [...(byTask.get(r.task) ?? []), r]);
  const tasks = [...byTask.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([t, rs]) => taskReport(t, rs));
  return { tasks, overall: taskReport('overall', results) };
}

function taskReport(task: string, rs: readonly SampleResult[]): TaskReport {
  const n = rs.length;
  const correct = rs.filter((r) => r.correct).length;
  const withOptions = rs.filter((r) => r.options > 0);
  const chance = withOptions.length ? withOptions.reduce((s, r) => s + 1 / r.options, 0) / withOptions.length : null;
  // Majority class over the reference answers (by option text, so shuffled letters don't split a class).
  const counts = new Map<string, number>();
  for (const r of rs) {
    counts.set(r.label, (counts.get(r.label) ?? 0) + 1);
  }
  let answer = '';
  let count = 0;
  for (const [k, v] of counts) if (v > count || (v === count && k < answer)) [answer, count] = [k, v];
  return {
    task, samples: n, correct, accuracy: n ? correct / n : 0, chance,
    majority: { answer, count, accuracy: n ? count / n : 0 },
    unmatched: withOptions.filter((r) => r.predicted === null).length,
    withoutOptions: n - withOptions.length,
  };
}

/** The report as a fixed-width table (task, n, accuracy, chance, majority). */
export function formatReport(report: { tasks: TaskReport[]; overall: TaskReport }): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
  const rows = [...report.tasks, ...(report.tasks.length > 1 ? [report.overall] : [])].map((t) => [
    t.task, String(t.samples), String(t.correct), pct(t.accuracy), pct(t.chance), `${pct(t.majority.accuracy)} (${t.majority.answer})`, String(t.unmatched),
  ]);
  const head = ['task', 'n', 'correct', 'accuracy', 'chance', 'majority', 'unmatched'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 || i === 5 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}
