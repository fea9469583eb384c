// Qwen3 decoder: RMSNorm pre-norm blocks; attention with per-head q/k RMSNorm before RoPE,
// grouped-query K/V heads and a KV cache; SwiGLU MLP; final norm and (tied or own) LM head.
import { type LlmConfig, parseQwenLike } from '../config.js';
import { type DType, float, int, type Value } from '../ir/graph.js';
import {
  ONNX_DTYPE, add, cast, concat, cos, matmul, mul, mulScalar, neg, reshape, rmsNorm, silu, sin, slice,
  softmax, toDtype, transpose, unsqueeze, where,
} from '../ir/ops.js';
import { f32ToF16 } from '../ir/half.js';
import { type ScreenInputs, screenedHead } from './head-screen.js';
import type { Params } from './params.js';

export const parseConfig = parseQwenLike;

const F32_MIN = -3.4028234663852886e38; // what transformers fills masked scores with

/** How queries and keys are rotated: cos/sin tables for the positions, or the fused kernel's caches. */
type Rope =
  | { fused: false; cos: Value; sin: Value } // [B, T, 1, hd], computed once in float32, shared by all layers
  | { fused: true; positionIds: Value; cosCache: Value; sinCache: Value }; // [maxPositions, hd/2] tables

function rope(positionIds: Value, c: LlmConfig, dtype: DType): Rope {
  const g = positionIds.graph;
  const half = c.headDim / 2;
  const invFreq = Float32Array.from({ length: half }, (_, i) => 1 / Math.pow(c.ropeTheta, (2 * i) / c.headDim));
  if (g.fused) {
    // onnxruntime's RotaryEmbedding reads precomputed tables: the same float32 angles as below
    const cosT = new Float32Array(c.maxPositions * half), sinT = new Float32Array(c.maxPositions * half);
    for (let p = 0; p < c.maxPositions; p++) {
      for (let i = 0; i < half; i++) {
        const a = Math.fround(p * invFreq[i]);
        cosT[p * half + i] = Math.cos(a);
        sinT[p * half + i] = Math.sin(a);
      }
    }
    // stored in the session's type (as a float16 graph would cast them: same rounding, half the bytes)
    const table = (name: string, t: Float32Array) =>
      dtype === 'float16' ? g.weight(name, 'float16', [c.maxPositions, half], f32ToF16(t)) : g.weight(name, 'float32', [c.maxPositions, half], t);
    return { fused: true, positionIds, cosCache: table('rope.cos_cache', cosT), sinCache: table('rope.sin_cache', sinT) };
  }
  const freqs = mul(unsqueeze(cast(positionIds, ONNX_DTYPE.float32), [2]), g.constant(invFreq, 'float32', [half]));
  const emb = unsqueeze(concat([freqs, freqs], -1), [2]);
  return { fused: false, cos: toDtype(cos(emb), dtype), sin: toDtype(sin(emb), dtype) };
}

function rotateHalf(x: Value, hd: number): Value {
  const x1 = slice(x, [0], [hd / 2], [-1]);
  const x2 = slice(x, [hd / 2], [hd], [-1]);
  return concat([neg(x2), x1], -1);
}

/** Rotates [B, T, heads, hd] and returns it heads-first, [B, heads, T, hd]. */
function applyRope(x: Value, r: Rope, hd: number): Value {
  if (r.fused) {
    return x.graph.op('RotaryEmbedding', [transpose(x, [0, 2, 1, 3]), r.positionIds, r.cosCache, r.sinCache], { interleaved: int(0) }, 'com.microsoft');
  }
  return transpose(add(mul(x, r.cos), mul(rotateHalf(x, hd), r.sin)), [0, 2, 1, 3]);
}

export interface KvPair {
  key: Value; // [B, KV, Tpast, hd]
  value: Value;
}

function attention(
  x: Value, p: Params, c: LlmConfig, r: Rope, allowed: Value, past: KvPair | null,
): { y: Value; present: KvPair } {
  const { hiddenSize: D, heads: H, kvHeads: KV, headDim: hd } = c;
  const rep = H / KV;
  const qkNorm = (t: Value, name: string) => rmsNorm(t, p.get(`${name}.weight`, [hd]), c.rmsEps);
  // [B,T,D] → [B,T,heads,hd]: norm and rotate per head, then heads-first for attention.
  let q = reshape(p.linear(x, 'q_proj', D, H * hd), [0, 0, H, hd]);
  let k = reshape(p.linear(x, 'k_proj', D, KV * hd), [0, 0, KV, hd]);
  let v = reshape(p.linear(x, 'v_proj', D, KV * hd), [0, 0, KV, hd]);
  q = applyRope(qkNorm(q, 'q_norm'), r, hd);
  k = applyRope(qkNorm(k, 'k_norm'), r, hd);
  v = transpose(v, [0, 2, 1, 3]);
  if (past) {
    k = concat([past.key, k], 2);
    v = concat([past.value, v], 2);
  }
  // Grouped-query attention without copying K/V: each KV head serves `rep` query heads,
  // so view q as [B, KV, rep, T, hd] and broadcast K/V over the rep axis.
  const qg = reshape(mulScalar(q, hd ** -0.5), [0, KV, rep, -1, hd]);
  const kg = unsqueeze(k, [2]);
  const vg = unsqueeze(v, [2]);
  // Masking and softmax in float32, as transformers does for half-precision models.
  const scores = toDtype(matmul(qg, transpose(kg, [0, 1, 2, 4, 3])), 'float32');
  const probs = softmax(where(allowed, scores, x.graph.scalar(F32_MIN)));
  const att = matmul(toDtype(probs, x.dtype), vg); // [B, KV, rep, T, hd]
  const y = reshape(transpose(reshape(att, [0, H, -1, hd]), [0, 2, 1, 3]), [0, 0, H * hd]);
  return { y: p.linear(y, 'o_proj', H * hd, D), present: { key: k, value: v } };
}

/** What GroupQueryAttention reads instead of a mask: per row the keys it sees minus one, and the total. */
interface GqaLengths {
  seqlensK: Value; // int32 [B]
  total: Value; // int32 scalar
}

function gqaLengths(attentionMask: Value): GqaLengths {
  const g = attentionMask.graph;
  const seen = g.op('ReduceSum', [attentionMask, g.ints([1])], { keepdims: int(0) });
  return {
    seqlensK: cast(g.op('Sub', [seen, g.constant([1], 'int64', [])]), ONNX_DTYPE.int32),
    total: cast(reshape(g.op('Shape', [attentionMask], { start: int(1) }), []), ONNX_DTYPE.int32),
  };
}

/**
 * attention() for decoding with the fused kernels: onnxruntime's GroupQueryAttention appends
 * to the cache and attends in one kernel (the plain path's ~20 nodes a layer, with their
 * copies, are one dispatch). Its lengths come from the mask, so rows must not be padded:
 * generation prompts never are.
 */
function fusedAttention(x: Value, p: Params, c: LlmConfig, r: Extract<Rope, { fused: true }>, lens: GqaLengths, past: KvPair): { y: Value; present: KvPair } {
  const { hiddenSize: D, heads: H, kvHeads: KV, headDim: hd } = c;
  const g = x.graph;
  // q/k: per-head RMSNorm, then RoPE on the packed [B, T, heads·hd] layout GQA reads
  const normRope = (name: string, heads: number) => {
    const t = rmsNorm(reshape(p.linear(x, `${name}_proj`, D, heads * hd), [0, 0, heads, hd]), p.get(`${name}_norm.weight`, [hd]), c.rmsEps);
    return g.op('RotaryEmbedding', [reshape(t, [0, 0, heads * hd]), r.positionIds, r.cosCache, r.sinCache], { interleaved: int(0), num_heads: int(heads) }, 'com.microsoft');
  };
  const [y, key, value] = g.opN('GroupQueryAttention', [
    normRope('q', H), normRope('k', KV), p.linear(x, 'v_proj', D, KV * hd), past.key, past.value, lens.seqlensK, lens.total,
  ], { num_heads: int(H), kv_num_heads: int(KV), scale: float(hd ** -0.5) }, 3, 'com.microsoft');
  return { y: p.linear(y, 'o_proj', H * hd, D), present: { key, value } };
}

function mlp(x: Value, p: Params, c: LlmConfig): Value {
  const { hiddenSize: D, intermediateSize: I } = c;
  const gate = p.linear(x, 'gate_proj', D, I);
  const up = p.linear(x, 'up_proj', D, I);
  return p.linear(mul(silu(gate), up), 'down_proj', I, D);
}

/**
 * Which keys each query may see: causal over absolute indices (a query at index Tpast+i sees
 * keys 0…Tpast+i) and not padding. attentionMask: [B, Tpast+T] int64 → bool [B,1,1,T,Tpast+T].
 */
export function attentionAllowed(attentionMask: Value, seqLen: Value): Value {
  const g = attentionMask.graph;
  const total = g.op('Shape', [attentionMask], { start: int(1) }); // [Tk]
  const zero = g.constant([0], 'int64', []);
  const one = g.constant([1], 'int64', []);
  const tk = reshape(total, []);
  const qIdx = g.op('Range', [g.op('Sub', [tk, reshape(seqLen, [])]), tk, one]); // [T]
  const kIdx = g.op('Range', [zero, tk, one]); // [Tk]
  const causal = g.op('LessOrEqual', [unsqueeze(kIdx, [0]), unsqueeze(qIdx, [1])]); // [T, Tk]
  const valid = unsqueeze(cast(attentionMask, ONNX_DTYPE.bool), [1, 2, 3]); // [B,1,1,1,Tk]
  return g.op('And', [causal, valid]);
}

export interface DecoderIO {
  logits: Value;
  present: KvPair[];
}

/**
 * embeds [B,T,D] → final hidden [B,T,D] and the updated cache. `rowsForLogits` (flat indices
 * into B·T) limits the LM head to the positions that need logits (generation wants one).
 */
export function decoder(
  embeds: Value, p: Params, c: LlmConfig,
  io: { attentionMask: Value; positionIds: Value; past: KvPair[] | null; rowsForLogits: Value | null; screen?: ScreenInputs | null; gqa?: boolean },
): DecoderIO {
  const g = embeds.graph;
  const { hiddenSize: D, vocabSize: V } = c;
  const r = rope(io.positionIds, c, embeds.dtype);
  // GroupQueryAttention reads lengths; the plain attention a causal-and-padding mask
  const lens = io.gqa && r.fused && io.past ? gqaLengths(io.attentionMask) : null;
  const allowed = lens ? null : attentionAllowed(io.attentionMask, g.op('Shape', [io.positionIds], { start: int(1) }));
  let x = embeds;
  const present: KvPair[] = [];
  for (let i = 0; i < c.layers; i++) {
    const lp = p.sub(`model.layers.${i}.`);
    x = g.scope(`llm.layers.${i}`, () => {
      const xn = rmsNorm(x, lp.get('input_layernorm.weight', [D]), c.rmsEps);
      const a = lens && r.fused // lens exist only with the fused rope and a cache
        ? fusedAttention(xn, lp.sub('self_attn.'), c, r, lens, io.past![i])
        : attention(xn, lp.sub('self_attn.'), c, r, allowed!, io.past ? io.past[i] : null);
      present.push(a.present);
      const h = add(x, a.y);
      return add(h, mlp(rmsNorm(h, lp.get('post_attention_layernorm.weight', [D]), c.rmsEps), lp.sub('mlp.'), c));
    });
  }
  x = rmsNorm(x, p.get('model.norm.weight', [D]), c.rmsEps);
  if (io.rowsForLogits) x = g.op('Gather', [reshape(x, [-1, D]), io.rowsForLogits], { axis: int(0) });
  // A tied head reads embed_tokens (quantized, it is a copy: the embedding Gather stays float).
  const headName = c.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
  if (io.screen) {
    if (p.quant || p.dtype !== 'float32' || p.adapted(headName)) throw new Error('the screened LM head takes a float32 head without quantization or LoRA');
    const w = p.get(`${headName}.weight`, [V, D]);
    return { logits: screenedHead(x, w, p.screenCopy(`${headName}.weight`, V, D), D, V, io.screen), present };
  }
  const head = p.linear(x, headName, D, V, { shared: c.tieWordEmbeddings }); // a tied head is not copied transposed
  return { logits: toDtype(head, 'float32'), present };
}
