// Decoding with the KV cache: one prefill over the new part of the prompt, then one token
// per step. Only positions that need logits are projected onto the vocabulary.
import * as ort from 'onnxruntime-node';
import type { KvCache } from './kvcache.js';
import type { MufunModel } from './mufun.js';
import { Sampler, type SamplingOptions } from './sampling.js';
import type { SplicePlan } from './splice.js';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** the stop tokens cannot be chosen before this many new tokens (transformers' min_new_tokens) */
  minNewTokens?: number;
  /** tokens that end the answer (the template's end token, the tokenizer's eos) */
  stopTokens?: number[];
  signal?: AbortSignal;
}

export interface GenerationStats {
  promptPositions: number; // positions prefilled this call
  newTokens: number;
  stopReason: 'stop' | 'length' | 'cancelled';
  timeToFirstTokenMs: number;
  tokensPerSecond: number; // decode speed, after the first token
}

/** One row of a step, as the screened head sees it: its sampler, its tokens so far, and its stop tokens still held back. */
export interface ScreenRow {
  sampler: Sampler;
  generated: readonly number[];
  held?: readonly number[];
}

/**
 * What a screened LM head (arch/head-screen.ts) needs to keep every token each row can choose:
 * the sampling window, and the tokens whose logits are lowered after the head (by a repetition
 * penalty, or stop tokens held back by minNewTokens). Nothing for a full head.
 */
export function screenFeeds(s: ort.InferenceSession, rows: ScreenRow[]): Record<string, ort.Tensor> {
  if (!s.inputNames.includes('always_ids')) return {};
  const ids = rows.map((r) => [...r.sampler.penalized(r.generated), ...(r.held ?? [])]);
  const n = Math.max(1, ...ids.map((x) => x.length));
  const flat = new BigInt64Array(rows.length * n); // short rows repeat their ids (or keep token 0): only more work
  ids.forEach((x, r) => {
    for (let i = 0; i < n && x.length; i++) flat[r * n + i] = BigInt(x[i % x.length]);
  });
  return {
    logits_window: new ort.Tensor('float32', Float32Array.of(Math.max(...rows.map((r) => r.sampler.window))), [1]),
    always_ids: new ort.Tensor('int64', flat, [rows.length, n]),
  };
}

/**
 * The feeds of one decode step: each row's last token at position `pos` after `pos` cached
 * positions (no audio), and its logits (row r of the output).
 */
function decodeFeeds(model: MufunModel, cache: KvCache, last: number[]): Record<string, ort.Tensor> {
  const n = last.length, pos = cache.length, D = model.config.llm.hiddenSize;
  const column = (v: bigint) => new ort.Tensor('int64', new BigInt64Array(n).fill(v), [n, 1]);
  return {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(last, BigInt), [n, 1]),
    audio_embeds: new ort.Tensor('float32', new Float32Array(D), [1, D]),
    audio_index: column(0n),
    is_audio: new ort.Tensor('bool', new Uint8Array(n), [n, 1]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n * (pos + 1)).fill(1n), [n, pos + 1]),
    position_ids: column(BigInt(pos)),
    ...cache.feeds(),
    logits_rows: new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, r) => BigInt(r)), [n]),
  };
}

/** The stop tokens minNewTokens still holds back after `generated` tokens. */
const heldStops = (stop: readonly number[], generated: number, minNew: number) => (generated < minNew ? stop : []);

/** transformers' MinNewTokensLengthLogitsProcessor: too early to stop, so no stop token wins. */
function holdStops(logits: Float32Array, held: readonly number[]): Float32Array {
  for (const t of held) if (t < logits.length) logits[t] = -Infinity;
  return logits;
}

/**
 * Continues `cache` with a one-row plan (its positions follow the cached ones) and yields
 * each new token; returns the stats. Stop tokens are yielded too, so callers see why it ended.
 */
export async function* generateTokens(
  model: MufunModel, plan: SplicePlan, audioEmbeds: Float32Array | null, cache: KvCache, o: GenerateOptions = {},
): AsyncGenerator<number, GenerationStats> {
  if (plan.batch !== 1) throw new Error('generateTokens takes one row');
  const maxNew = o.maxNewTokens ?? 256;
  const minNew = o.minNewTokens ?? 0;
  const stops = [...new Set(o.stopTokens ?? [])];
  const stop = new Set(stops);
  const sampler = new Sampler(o);
  const s = await model.llm('generate');
  const V = model.config.llm.vocabSize;
  const past = cache.length;
  const n = plan.rowLengths[0];
  const t0 = performance.now();
  const stats: GenerationStats = { promptPositions: n, newTokens: 0, stopReason: 'length', timeToFirstTokenMs: 0, tokensPerSecond: 0 };
  if (o.signal?.aborted) return { ...stats, stopReason: 'cancelled' };

  const feeds = model.feeds(plan, audioEmbeds);
  // The new positions continue the cached ones: shift positions, widen the mask.
  feeds.position_ids = new ort.Tensor('int64', plan.positionIds.map((p) => p + BigInt(past)), [1, n]);
  feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(past + n).fill(1n), [1, past + n]);
  let out = await s.run({
    ...feeds, ...cache.feeds(), logits_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(n - 1)), [1]), ...screenFeeds(s, [{ sampler, generated: [], held: heldStops(stops, 0, minNew) }]),
  });
  cache.update(out);

  const generated: number[] = [];
  let tFirst = 0;
  for (;;) {
    const next = sampler.next(holdStops((out.logits.data as Float32Array).subarray(0, V), heldStops(stops, generated.length, minNew)), generated);
    generated.push(next);
    if (generated.length === 1) {
      tFirst = performance.now();
      stats.timeToFirstTokenMs = tFirst - t0;
    }
    stats.newTokens = generated.length;
    yield next;
    if (stop.has(next)) {
      stats.stopReason = 'stop';
      break;
    }
    if (generated.length >= maxNew) break;
    if (o.signal?.aborted) {
      stats.stopReason = 'cancelled';
      break;
    }
    out = await s.run({ ...decodeFeeds(model, cache, [next]), ...screenFeeds(s, [{ sampler, generated, held: heldStops(stops, generated.length, minNew) }]) });
    cache.update(out);
  }
  const decodeMs = performance.now() - tFirst;
  stats.tokensPerSecond = generated.length > 1 && decodeMs > 0 ? (generated.length - 1) / (decodeMs / 1000) : 0;
  return stats;
}

/**
 * `seeds.length` answers to one prompt, decoded together (GRPO's group of G completions): the
 * prompt is prefilled once, its KV cache copied to G rows, then each step runs all G rows in one
 * batch, each row sampling with its own seed. A row that stopped rides along until every row
 * has, its extra tokens dropped. Row r gives what generateTokens with seed r would (to float
 * rounding of the batched matmuls).
 */
export async function generateGroup(
  model: MufunModel, plan: SplicePlan, audioEmbeds: Float32Array | null, seeds: number[], o: GenerateOptions = {},
): Promise<{ tokens: number[]; stopped: boolean }[]> {
  const n = seeds.length;
  if (plan.batch !== 1) throw new Error('generateGroup takes one prompt row');
  if (!n) return [];
  const maxNew = o.maxNewTokens ?? 256;
  const minNew = o.minNewTokens ?? 0;
  const stops = [...new Set(o.stopTokens ?? [])];
  const stop = new Set(stops);
  const s = await model.llm('generate');
  const V = model.config.llm.vocabSize;
  const len = plan.rowLengths[0];
  const one = model.newCache();
  const samplers = seeds.map((seed) => new Sampler({ ...o, seed }));
  let out = await s.run({
    ...model.feeds(plan, audioEmbeds), ...one.feeds(), logits_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(len - 1)), [1]),
    ...screenFeeds(s, [{ sampler: samplers[0], generated: [], held: heldStops(stops, 0, minNew) }]),
  });
  const cache = model.newCache(n);
  cache.update(await replicateRows(out, model.config.llm.layers, n));
  one.dispose();

  const rows = seeds.map(() => ({ tokens: [] as number[], stopped: false, done: false }));
  try {
    for (let step = 0; ; step++) {
      for (let r = 0; r < n; r++) {
        const row = rows[r];
        if (row.done) continue;
        // the prefill gave one row of logits for all; decode steps one row each
        const logits = (out.logits.data as Float32Array).subarray(step === 0 ? 0 : r * V, (step === 0 ? 0 : r * V) + V);
        const t = samplers[r].next(holdStops(logits, heldStops(stops, row.tokens.length, minNew)), row.tokens);
        row.tokens.push(t);
        if (stop.has(t)) row.stopped = row.done = true;
        else if (row.tokens.length >= maxNew) row.done = true;
      }
      if (rows.every((r) => r.done) || o.signal?.aborted) break;
      out = await s.run({
        ...decodeFeeds(model, cache, rows.map((r) => r.tokens[r.tokens.length - 1])),
        ...screenFeeds(s, rows.map((r, i) => ({ sampler: samplers[i], generated: r.tokens, held: heldStops(stops, r.tokens.length, minNew) }))),
      });
      cache.update(out);
    }
  } finally {
    cache.dispose();
  }
  return rows.map((r) => ({ tokens: r.tokens, stopped: r.stopped }));
}

/** present_* of a one-row run, repeated to `n` rows (downloaded first when they live on the GPU). */
async function replicateRows(out: Record<string, ort.Tensor>, layers: number, n: number): Promise<Record<string, ort.Tensor>> {
  const rep: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layers; i++) {
    for (const name of [`present_key.${i}`, `present_value.${i}`]) {
      const t = out[name];
      const src = (t.location === 'gpu-buffer' ? await t.getData(true) : t.data) as Float32Array | Uint16Array;
      const dst = new (src.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(src.length * n);
      for (let r = 0; r < n; r++) dst.set(src, r * src.length);
      rep[name] = new ort.Tensor(t.type as 'float32', dst as Float32Array, [n, ...t.dims.slice(1)]);
    }
  }
  return rep;
}

/** Greedy tokens after a single-row prompt (no stop token: exactly `maxNew` tokens). */
export async function greedyTokens(model: MufunModel, plan: SplicePlan, audioEmbeds: Float32Array | null, maxNew: number): Promise<number[]> {
  const tokens: number[] = [];
  const cache = model.newCache();
  try {
    for await (const t of generateTokens(model, plan, audioEmbeds, cache, { maxNewTokens: maxNew })) tokens.push(t);
  } finally {
    cache.dispose();
  }
  return tokens;
}
