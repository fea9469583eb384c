// Whisper encoder (the audio tower): conv1 → GELU → conv2(stride 2) → GELU → + positions,
// then pre-LN transformer layers, then a final LayerNorm. Returns HF's hidden_states:
// [embeddings, layer 1 … layer L-1 outputs, final layer output after layer_norm].
import { type AudioTowerConfig, parseWhisper } from '../config.js';
import { ints, int, type Value } from '../ir/graph.js';
import { add, gelu, layerNorm, matmul, mulScalar, reshape, softmaxF32, toDtype, transpose } from '../ir/ops.js';
import type { Params } from './params.js';

export const parseConfig = parseWhisper;

function conv1d(x: Value, w: Value, b: Value, stride: number): Value {
  return x.graph.op('Conv', [x, w, b], { kernel_shape: ints([3]), pads: ints([1, 1]), strides: ints([stride]) });
}

function selfAttention(x: Value, p: Params, c: AudioTowerConfig): Value {
  const d = c.dModel, H = c.heads, hd = d / H;
  const heads = (t: Value) => transpose(reshape(t, [0, 0, H, hd]), [0, 2, 1, 3]); // [B,T,d] -> [B,H,T,hd]
  const q = heads(mulScalar(p.linear(x, 'q_proj', d, d, { bias: true }), hd ** -0.5));
  const k = heads(p.linear(x, 'k_proj', d, d)); // Whisper's k_proj has no bias
  const v = heads(p.linear(x, 'v_proj', d, d, { bias: true }));
  const att = softmaxF32(matmul(q, transpose(k, [0, 1, 3, 2])));
  const y = reshape(transpose(matmul(att, v), [0, 2, 1, 3]), [0, 0, d]);
  return p.linear(y, 'out_proj', d, d, { bias: true });
}

function encoderLayer(x: Value, p: Params, c: AudioTowerConfig): Value {
  const d = c.dModel, f = c.ffnDim;
  const ln = (t: Value, name: string) => layerNorm(t, p.get(`${name}.weight`, [d]), p.get(`${name}.bias`, [d]), c.layerNormEps);
  x = add(x, selfAttention(ln(x, 'self_attn_layer_norm'), p.sub('self_attn.'), c));
  const h = gelu(p.linear(ln(x, 'final_layer_norm'), 'fc1', d, f, { bias: true }));
  return add(x, p.linear(h, 'fc2', f, d, { bias: true }));
}

/**
 * features: [B, melBins, 2·positions] log-mel. Computes hidden states up to the deepest
 * one requested (later layers cannot change earlier ones) and returns them by index.
 */
export function audioTower(features: Value, p: Params, c: AudioTowerConfig, wanted: number[]): Map<number, Value> {
  const d = c.dModel, P = c.maxSourcePositions;
  const g = features.graph;
  let x = gelu(conv1d(toDtype(features, p.dtype), p.get('conv1.weight', [d, c.melBins, 3]), p.get('conv1.bias', [d]), 1));
  x = gelu(conv1d(x, p.get('conv2.weight', [d, d, 3]), p.get('conv2.bias', [d]), 2));
  x = add(transpose(x, [0, 2, 1]), p.get('embed_positions.weight', [P, d]));
  const hidden = new Map<number, Value>([[0, x]]);
  const deepest = Math.max(...wanted);
  for (let i = 0; i < Math.min(deepest, c.layers); i++) {
    x = g.scope(`tower.layers.${i}`, () => encoderLayer(x, p.sub(`layers.${i}.`), c));
    hidden.set(i + 1, x);
  }
  if (deepest === c.layers) {
    hidden.set(c.layers, layerNorm(x, p.get('layer_norm.weight', [d]), p.get('layer_norm.bias', [d]), c.layerNormEps));
  }
  return hidden;
}

/** MuFun's audio features: concat hidden states → AvgPool1d(stride) over time. */
export function poolFeatures(hidden: Map<number, Value>, layers: number[], stride: number): { concat: Value; pooled: Value } {
  const first = hidden.get(layers[0])!;
  const g = first.graph;
  const concat = g.op('Concat', layers.map((l) => hidden.get(l)!), { axis: int(-1) });
  const pooled = transpose(
    g.op('AveragePool', [transpose(concat, [0, 2, 1])], { kernel_shape: ints([stride]), strides: ints([stride]) }),
    [0, 2, 1],
  );
  return { concat, pooled };
}
