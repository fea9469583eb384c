// Decoding with the KV cache: one prefill over the spliced prompt, then one token per step.
// Only the positions that need logits are projected onto the vocabulary.
import * as ort from 'onnxruntime-node';
import type { MufunModel } from './mufun.js';
import type { SplicePlan } from './splice.js';

export function argmax(x: Float32Array, offset = 0, n = x.length): number {
  let best = offset;
  for (let i = offset + 1; i < offset + n; i++) if (x[i] > x[best]) best = i;
  return best - offset;
}

/** Greedy tokens after a single-row prompt (no stop token: exactly `maxNew` tokens). */
export async function greedyTokens(model: MufunModel, plan: SplicePlan, audioEmbeds: Float32Array | null, maxNew: number): Promise<number[]> {
  if (plan.batch !== 1) throw new Error('greedyTokens takes one row');
  const s = await model.llm('generate');
  const cache = model.newCache();
  const V = model.config.llm.vocabSize;
  const n = plan.rowLengths[0];
  let out = await s.run({
    ...model.feeds(plan, audioEmbeds),
    ...cache.feeds(),
    logits_rows: new ort.Tensor('int64', BigInt64Array.of(BigInt(n - 1)), [1]),
  });
  cache.update(out);
  const tokens: number[] = [];
  for (let step = 0; step < maxNew; step++) {
    const next = argmax(out.logits.data as Float32Array, 0, V);
    tokens.push(next);
    if (step === maxNew - 1) break;
    const pos = cache.length;
    const one = (v: bigint) => new ort.Tensor('int64', BigInt64Array.of(v), [1, 1]);
    out = await s.run({
      input_ids: one(BigInt(next)),
      audio_embeds: new ort.Tensor('float32', new Float32Array(model.config.llm.hiddenSize), [1, model.config.llm.hiddenSize]),
      audio_index: one(0n),
      is_audio: new ort.Tensor('bool', Uint8Array.of(0), [1, 1]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(pos + 1).fill(1n), [1, pos + 1]),
      position_ids: one(BigInt(pos)),
      ...cache.feeds(),
      logits_rows: new ort.Tensor('int64', BigInt64Array.of(0n), [1]),
    });
    cache.update(out);
  }
  return tokens;
}
