// GRPO's rollouts: G answers to one prompt decoded as one batch (prefill once, G rows per step)
// give what G separate generations with the same seeds give.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGroup, generateTokens, greedyTokens } from '../src/model/generate.js';
import { MufunModel } from '../src/model/mufun.js';
import { planSplice } from '../src/model/splice.js';

const DIR = join(import.meta.dirname, 'fixtures', 'public-a', 'checkpoint');
let model: MufunModel;
beforeAll(() => void (model = MufunModel.load(DIR, { noCache: true, threads: 2 })));
afterAll(async () => model.release());

const plan = () => planSplice([{ ids: [5, 17, 99, 3, 250, 41, 7] }], [], model.tokensPerClip);

async function alone(seed: number, o: Parameters<typeof generateTokens>[4]): Promise<number[]> {
  const tokens: number[] = [];
  for await (const t of generateTokens(model, plan(), null, model.newCache(), { ...o, seed })) tokens.push(t);
  return tokens;
}

describe('generateGroup', () => {
  it('greedy: every row is the greedy answer', async () => {
    const want = await greedyTokens(model, plan(), null, 12);
    const rows = await generateGroup(model, plan(), null, [1, 2, 3], { maxNewTokens: 12 });
    expect(rows.map((r) => r.tokens)).toEqual([want, want, want]);
  });

  it('sampling: row r equals one generation with seed r; rows differ', async () => {
    const o = { temperature: 1.2, topP: 0.95, maxNewTokens: 16 };
    const seeds = [11, 12, 13, 14];
    const rows = await generateGroup(model, plan(), null, seeds, o);
    for (const [r, seed] of seeds.entries()) expect(rows[r].tokens, `seed ${seed}`).toEqual(await alone(seed, o));
    expect(new Set(rows.map((r) => r.tokens.join(','))).size).toBeGreaterThan(1);
  });

  it('a row that hits a stop token ends there (and says so) while the others go on', async () => {
    const o = { temperature: 1.5, maxNewTokens: 20 };
    const free = await alone(21, o);
    const stopToken = free[3]; // this row stops at its 4th token
    const rows = await generateGroup(model, plan(), null, [21, 22], { ...o, stopTokens: [stopToken] });
    const first = rows[0].tokens;
    expect(first[first.length - 1]).toBe(stopToken);
    expect(first.length).toBeLessThanOrEqual(4);
    expect(rows[0].stopped).toBe(true);
    expect(rows[1].tokens).toEqual(await alone(22, { ...o, stopTokens: [stopToken] }));
  });
});

describe('minNewTokens (transformers min_new_tokens)', () => {
  it('no stop token is chosen before the minimum, in one generation and in a group', async () => {
    const greedy = await greedyTokens(model, plan(), null, 12);
    const stopToken = greedy[0]; // greedy would stop at once
    expect(await alone(0, { maxNewTokens: 12, stopTokens: [stopToken] })).toEqual([stopToken]);

    const held = await alone(0, { maxNewTokens: 12, minNewTokens: 6, stopTokens: [stopToken] });
    expect(held.slice(0, 6)).not.toContain(stopToken);
    expect(held.length).toBeGreaterThanOrEqual(6);
    const rows = await generateGroup(model, plan(), null, [1, 2], { maxNewTokens: 12, minNewTokens: 6, stopTokens: [stopToken] });
    for (const r of rows) expect(r.tokens).toEqual(held);
  });
});
