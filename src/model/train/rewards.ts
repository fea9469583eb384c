// GRPO rewards: MuFun's answer reward, 1 − WER for lyrics, a format reward, and user rewards
// from JavaScript modules, combined with weights.
//
//   answer  the ground truth is the text after the last ". " of the reference ("B. blues" →
//           "blues"); 1 if the completion contains it exactly once, else 0 (MuFun's reward_gt).
//   wer     1 − word error rate of the completion against the reference (Levenshtein over
//           whitespace-separated words, as jiwer; MuFun's calculate_wer counts positional
//           substitutions only, so it does not see inserted or dropped words).
//   format  1 when the completion ended with the stop token (not cut at max_completion_length)
//           and has text, else 0.
//   choice  1 when the completion picks the reference's option as `mufun eval` scores it (the
//           letter decides; "A. low" is wrong when low is B), else 0. MuFun's answer reward
//           pays a right label under a wrong letter; this one pays what the evaluation counts.
//   a path  a .js/.mjs module whose default export (or export `reward`) is
//           (c: RewardContext) => number | Promise<number>.
//
// A reward that throws, or returns something that is not a finite number, is a failure: it is
// reported with the sample id, generation and reward name, and the runner leaves that sample's
// whole group (every generation of the prompt) out of the step; see grpo.ts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseOptions, scoreAnswer } from '../eval.js';

export interface RewardContext {
  /** the dataset sample's id */
  id: string;
  /** the question (last human turn, with its <audio> placeholders) */
  prompt: string;
  /** the reference answer (the sample's last gpt turn) */
  reference: string;
  /** the sampled completion, decoded, without the stop token */
  completion: string;
  /** which of the prompt's generations (0 … G−1) */
  generation: number;
  /** completion tokens, the stop token included when it stopped */
  completionTokens: number;
  /** true when the completion ended with a stop token (not cut at the length limit) */
  stopped: boolean;
}

export type RewardFn = (c: RewardContext) => number | Promise<number>;

export interface Reward {
  name: string;
  weight: number;
  fn: RewardFn;
}

export interface RewardFailure {
  id: string;
  generation: number;
  reward: string;
  message: string;
}

export class RewardError extends Error {}

/** MuFun's ground truth: the text after the last ". " (Python's `label.split('. ')[-1]`). */
export function groundTruth(reference: string): string {
  const parts = reference.split('. ');
  return parts[parts.length - 1];
}

/** Non-overlapping occurrences, as Python's str.count. */
function count(haystack: string, needle: string): number {
  if (!needle) return haystack.length + 1;
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** 1 if the completion contains the ground truth exactly once, else 0. */
export function answerReward(completion: string, reference: string): number {
  return count(completion, groundTruth(reference)) === 1 ? 1 : 0;
}

/** Word error rate: (substitutions + deletions + insertions) / reference words, by edit distance. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const r = reference.split(/\s+/).filter(Boolean);
  const h = hypothesis.split(/\s+/).filter(Boolean);
  if (!r.length) return h.length ? 1 : 0;
  let prev = Array.from({ length: h.length + 1 }, (_, j) => j);
  for (let i = 1; i <= r.length; i++) {
    const cur = [i];
    for (let j = 1; j <= h.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] === h[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[h.length] / r.length;
}

export const BUILTIN_REWARDS: Readonly<Record<string, RewardFn>> = {
  answer: (c) => answerReward(c.completion, c.reference),
  wer: (c) => 1 - wordErrorRate(c.reference, c.completion),
  format: (c) => (c.stopped && c.completion.trim().length > 0 ? 1 : 0),
  choice: (c) => (scoreAnswer(c.completion, c.reference, parseOptions(c.prompt)).correct ? 1 : 0),
};

/** "name:weight" or "name" (weight 1); name is a built-in or a module path. */
export function parseRewardSpec(spec: string): { name: string; weight: number } {
  const m = /^(.*):([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)$/i.exec(spec.trim());
  const name = (m ? m[1] : spec).trim();
  const weight = m ? Number(m[2]) : 1;
  if (!name) throw new RewardError(`--reward ${JSON.stringify(spec)}: no reward name`);
  if (!Number.isFinite(weight)) throw new RewardError(`--reward ${spec}: the weight must be a number`);
  return { name, weight };
}

/** Built-ins by name; anything else is imported as a module (relative to `cwd`). */
export async function loadRewards(specs: readonly string[], cwd = process.cwd()): Promise<Reward[]> {
  const out: Reward[] = [];
  for (const spec of specs.length ? specs : ['answer']) {
    const { name, weight } = parseRewardSpec(spec);
    const builtin = BUILTIN_REWARDS[name];
    if (builtin) {
      out.push({ name, weight, fn: builtin });
      continue;
    }
    if (!/\.(m?js|cjs)$/.test(name)) {
      throw new RewardError(`unknown reward ${name}: use ${Object.keys(BUILTIN_REWARDS).join(', ')} or a path to a .js/.mjs module`);
    }
    const path = resolve(cwd, name);
    if (!existsSync(path)) throw new RewardError(`reward module ${path} does not exist`);
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(path).href);
    } catch (e) {
      throw new RewardError(`reward module ${path} failed to load: ${(e as Error).message}`);
    }
    const fn = typeof mod.default === 'function' ? mod.default : mod.reward;
    if (typeof fn !== 'function') throw new RewardError(`reward module ${path} must export a function (default export or \`reward\`)`);
    out.push({ name, weight, fn: fn as RewardFn });
  }
  return out;
}

export interface Scores {
  /** [reward][completion]; NaN where that reward failed */
  perReward: number[][];
  /** Σ weight · reward per completion; NaN where any reward failed */
  total: number[];
  failures: RewardFailure[];
}

/** Every reward on every completion; failures are caught and reported, never thrown. */
export async function scoreCompletions(rewards: readonly Reward[], items: readonly RewardContext[]): Promise<Scores> {
  const failures: RewardFailure[] = [];
  const perReward = await Promise.all(rewards.map(async (r) => {
    const vals: number[] = [];
    for (const c of items) {
      let v: unknown;
      try {
        v = await r.fn({ ...c });
      } catch (e) {
        failures.push({ id: c.id, generation: c.generation, reward: r.name, message: `threw: ${(e as Error)?.message ?? String(e)}` });
        vals.push(NaN);
        continue;
      }
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        failures.push({ id: c.id, generation: c.generation, reward: r.name, message: `returned ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? typeof v} (not a finite number)` });
        vals.push(NaN);
        continue;
      }
      vals.push(v);
    }
    return vals;
  }));
  const total = items.map((_, i) => rewards.reduce((s, r, k) => s + r.weight * perReward[k][i], 0));
  return { perReward, total, failures };
}

/** TRL's group normalisation: (r − mean) / (std + 1e-4), std with Bessel's correction, per group of G. */
export function groupAdvantages(rewards: readonly number[], G: number, scale = true): number[] {
  if (rewards.length % G) throw new RewardError(`${rewards.length} rewards are not whole groups of ${G}`);
  const out: number[] = [];
  for (let i = 0; i < rewards.length; i += G) {
    const grp = rewards.slice(i, i + G);
    const mean = grp.reduce((a, b) => a + b, 0) / G;
    const std = G > 1 ? Math.sqrt(grp.reduce((a, b) => a + (b - mean) ** 2, 0) / (G - 1)) : 0;
    for (const r of grp) out.push(scale ? (r - mean) / (std + 1e-4) : r - mean);
  }
  return out;
}

/** Mean and standard deviation (Bessel) of the finite values; NaN when there are none. */
export function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const v = xs.filter(Number.isFinite);
  if (!v.length) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, std };
}
