// GRPO rewards: MuFun's answer reward, 1 − WER, format, user modules (and their failures), weights.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type RewardContext, answerReward, groundTruth, loadRewards, parseRewardSpec, scoreCompletions, wordErrorRate,
} from '../src/model/train/rewards.js';

const ctx = (completion: string, over: Partial<RewardContext> = {}): RewardContext => ({
  id: 's1', prompt: '<audio>\nWhat genre?', reference: 'B. blues', completion, generation: 0, completionTokens: 3, stopped: true, ...over,
});

describe('built-in rewards', () => {
  it("answer: the text after the last '. ', contained exactly once", () => {
    expect(groundTruth('B. blues')).toBe('blues');
    expect(groundTruth('A. Mr. Brown')).toBe('Brown');
    expect(groundTruth('blues')).toBe('blues');
    expect(answerReward('B. blues', 'B. blues')).toBe(1);
    expect(answerReward('It is blues.', 'B. blues')).toBe(1);
    expect(answerReward('blues or blues', 'B. blues')).toBe(0);
    expect(answerReward('jazz', 'B. blues')).toBe(0);
  });

  it('choice: the option mufun eval would score — the letter decides, a right label under the wrong letter earns nothing', async () => {
    const [choice] = await loadRewards(['choice']);
    const q = { prompt: '<audio>\nIs this tone high or low? (choose from: A. low, B. high)', reference: 'B. high' };
    const score = async (completion: string) => (await scoreCompletions([choice], [ctx(completion, q)])).total[0];
    expect(await score('B. high')).toBe(1);
    expect(await score('B')).toBe(1);
    expect(await score('A. high')).toBe(0); // the answer reward would pay this one
    expect(answerReward('A. high', q.reference)).toBe(1);
    expect(await score('A. low')).toBe(0);
    // no options in the question: the reference's text decides, as in mufun eval
    expect(await score('blues')).toBe(0);
    expect((await scoreCompletions([choice], [ctx('blues', { reference: 'blues' })])).total[0]).toBe(1);
  });

  it('wer: word edit distance over reference words', () => {
    expect(wordErrorRate('a b c d', 'a b c d')).toBe(0);
    expect(wordErrorRate('a b c d', 'a x c d')).toBe(0.25);
    expect(wordErrorRate('a b c d', 'a c d')).toBe(0.25); // one deletion, not three substitutions
    expect(wordErrorRate('a b', 'a b c d')).toBe(1);
  });

  it('weights combine; spec parsing', async () => {
    expect(parseRewardSpec('answer:0.5')).toEqual({ name: 'answer', weight: 0.5 });
    expect(parseRewardSpec('wer')).toEqual({ name: 'wer', weight: 1 });
    expect(parseRewardSpec('./r.mjs:2')).toEqual({ name: './r.mjs', weight: 2 });
    await expect(loadRewards(['nope'])).rejects.toThrow(/unknown reward nope/);
    const rs = await loadRewards(['answer:2', 'format:0.5']);
    const s = await scoreCompletions(rs, [ctx('blues'), ctx('jazz'), ctx('blues', { stopped: false })]);
    expect(s.total).toEqual([2.5, 0.5, 2]);
    expect(s.failures).toEqual([]);
  });
});

describe('reward modules', () => {
  it('a module function is loaded and called per completion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reward-'));
    writeFileSync(join(dir, 'len.mjs'), 'export default (c) => c.completion.length;\n');
    const [r] = await loadRewards([`${join(dir, 'len.mjs')}:1`]);
    expect((await scoreCompletions([r], [ctx('blues'), ctx('hi')])).total).toEqual([5, 2]);
  });

  it('a reward that throws or returns NaN is reported with the sample id, not thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reward-'));
    writeFileSync(join(dir, 'bad.mjs'), [
      'export function reward(c) {',
      "  if (c.completion === 'boom') throw new Error('cannot score');",
      "  if (c.completion === 'nan') return NaN;",
      "  if (c.completion === 'str') return 'high';",
      '  return 1;',
      '}',
    ].join('\n'));
    const rs = await loadRewards(['answer', join(dir, 'bad.mjs')]);
    const s = await scoreCompletions(rs, [ctx('boom', { id: 'x1', generation: 2 }), ctx('nan', { id: 'x2' }), ctx('str', { id: 'x3' }), ctx('blues', { id: 'x4' })]);
    expect(s.failures).toEqual([
      { id: 'x1', generation: 2, reward: join(dir, 'bad.mjs'), message: 'threw: cannot score' },
      { id: 'x2', generation: 0, reward: join(dir, 'bad.mjs'), message: expect.stringMatching(/NaN/) },
      { id: 'x3', generation: 0, reward: join(dir, 'bad.mjs'), message: expect.stringMatching(/not a finite number/) },
    ]);
    expect(s.total.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(s.total[3]).toBe(2);
  });

  it('a module without a function is refused when loading', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reward-'));
    writeFileSync(join(dir, 'none.mjs'), 'export const x = 1;\n');
    await expect(loadRewards([join(dir, 'none.mjs')])).rejects.toThrow(/must export a function/);
    await expect(loadRewards([join(dir, 'missing.mjs')])).rejects.toThrow(/does not exist/);
  });
});
