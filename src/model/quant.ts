// Weight-only quantization for linear layers, in the layout of ONNX Runtime's MatMulNBits
// (com.microsoft): a PyTorch-layout weight W [N, K] (out, in) is cut along K into blocks of
// `blockSize`; each block stores `bits`-bit codes q, one float scale and one uint8 zero point,
// and stands for W ≈ (q − zp) · scale. Asymmetric (min/max) blocks: both the CPU and the
// WebGPU kernels take uint8 zero points, and 4-bit weights lose less than with symmetric ones.
//
// Layout (docs/ContribOperators.md, MatMulNBits):
//   B            uint8 [N, blocks, blockSize·bits/8]; codes packed LSB-first within each byte
//   scales       T [N·blocks], index n·blocks + b (T = the activations' float type)
//   zero_points  uint8 [N·⌈blocks·bits/8⌉]; for 4 bits two blocks a byte, the first in the low nibble
// K not divisible by blockSize: the last block is padded with codes equal to its zero point
// (so the padding dequantizes to exactly 0) and its scale comes from its real elements only.
//
// What is quantized: the LLM's linear layers and LM head (decode reads every one of their
// weights per token, so it is bound by their bytes). The audio tower and connector stay float:
// on the fixture their output moves by 0.6–1e-2 (int8) and 0.13 (int4, relative), and the tower,
// 1500 positions a clip, is compute-bound, where MatMulNBits showed no reliable gain over sgemm.
import type { Value } from './ir/graph.js';
import { int } from './ir/graph.js';

export type QuantMode = 'int4' | 'int8';
export const QUANT_MODES: QuantMode[] = ['int4', 'int8'];

export interface QuantSpec {
  bits: 4 | 8;
  /** elements of K sharing one scale and zero point: a power of two ≥ 16 (MLAS kernels). */
  blockSize: number;
  /**
   * MatMulNBits accuracy_level: 0 = activations stay float; 4 = the CPU kernel quantizes the
   * activations to int8 per block and multiplies in integers. 4 is the default: on x86 (ORT
   * 1.30) 8-bit weights have no fast float path at all (decode 1.7 tokens/s at level 0 against
   * 78 at level 4 on the `small` bench) and 4-bit decode is twice as fast; it costs about
   * 0.5e-2 more relative logit error on the fixture.
   */
  accuracyLevel: 0 | 1 | 4;
}

export const DEFAULT_BLOCK_SIZE = 32;

export function quantSpec(mode: QuantMode, blockSize = DEFAULT_BLOCK_SIZE, accuracyLevel: QuantSpec['accuracyLevel'] = 4): QuantSpec {
  checkBlockSize(blockSize);
  return { bits: mode === 'int4' ? 4 : 8, blockSize, accuracyLevel };
}

export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) {
    throw new RangeError(`quantization block size must be a power of two ≥ 16 (got ${blockSize})`);
  }
}

/** A short tag naming the spec in graph names (so exported-model cache keys differ). */
export const specTag = (q: QuantSpec) => `q${q.bits}b${q.blockSize}a${q.accuracyLevel}`;

export interface Quantized {
  N: number;
  K: number;
  bits: 4 | 8;
  blockSize: number;
  blocks: number;
  /** [N, blocks, blockSize·bits/8] */
  data: Uint8Array;
  /** [N·blocks] */
  scales: Float32Array;
  /** [N·⌈blocks·bits/8⌉] */
  zeroPoints: Uint8Array;
}

export const blocksPerRow = (K: number, blockSize: number) => Math.ceil(K / blockSize);
export const zeroPointBytesPerRow = (blocks: number, bits: number) => Math.ceil((blocks * bits) / 8);

/** Blockwise asymmetric quantization of a row-major [N, K] float32 matrix. */
export function quantize(w: Float32Array, N: number, K: number, bits: 4 | 8, blockSize: number): Quantized {
  checkBlockSize(blockSize);
  if (w.length !== N * K) throw new RangeError(`quantize: ${w.length} values for [${N}, ${K}]`);
  const qmax = (1 << bits) - 1;
  const blocks = blocksPerRow(K, blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = zeroPointBytesPerRow(blocks, bits);
  const data = new Uint8Array(N * blocks * blob);
  const scales = new Float32Array(N * blocks);
  const zeroPoints = new Uint8Array(N * zpRow);
  const codes = new Uint8Array(blockSize);
  for (let n = 0; n < N; n++) {
    const row = n * K;
    for (let b = 0; b < blocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(k0 + blockSize, K);
      // The range always includes 0, so the zero point is a valid code and 0 is exact.
      let lo = 0;
      let hi = 0;
      for (let k = k0; k < k1; k++) {
        const v = w[row + k];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const scale = hi > lo ? Math.fround((hi - lo) / qmax) : 1;
      const zp = Math.min(qmax, Math.max(0, Math.round(-lo / scale)));
      for (let k = k0; k < k1; k++) codes[k - k0] = Math.min(qmax, Math.max(0, Math.round(w[row + k] / scale) + zp));
      codes.fill(zp, k1 - k0); // padding past K dequantizes to 0
      scales[n * blocks + b] = scale;
      const out = (n * blocks + b) * blob;
      if (bits === 8) data.set(codes, out);
      else for (let i = 0; i < blob; i++) data[out + i] = codes[2 * i] | (codes[2 * i + 1] << 4);
      if (bits === 8) zeroPoints[n * zpRow + b] = zp;
      else zeroPoints[n * zpRow + (b >> 1)] |= zp << (4 * (b & 1));
    }
  }
  return { N, K, bits, blockSize, blocks, data, scales, zeroPoints };
}

/** The code of element (n, k). */
function codeAt(q: Quantized, n: number, k: number): number {
  const blob = (q.blockSize * q.bits) / 8;
  const b = Math.floor(k / q.blockSize);
  const i = k - b * q.blockSize;
  const byte = q.data[(n * q.blocks + b) * blob + (q.bits === 8 ? i : i >> 1)];
  return q.bits === 8 ? byte : (byte >> (4 * (i & 1))) & 0xf;
}

function zeroPointAt(q: Quantized, n: number, b: number): number {
  const zpRow = zeroPointBytesPerRow(q.blocks, q.bits);
  const byte = q.zeroPoints[n * zpRow + (q.bits === 8 ? b : b >> 1)];
  return q.bits === 8 ? byte : (byte >> (4 * (b & 1))) & 0xf;
}

/** The [N, K] float32 matrix a quantized weight stands for: (q − zp) · scale. */
export function dequantize(q: Quantized): Float32Array {
  const out = new Float32Array(q.N * q.K);
  for (let n = 0; n < q.N; n++) {
    for (let k = 0; k < q.K; k++) {
      const b = Math.floor(k / q.blockSize);
      out[n * q.K + k] = (codeAt(q, n, k) - zeroPointAt(q, n, b)) * q.scales[n * q.blocks + b];
    }
  }
  return out;
}

/**
 * Per row of a quantized weight: the largest |w − ŵ| and Σ|ŵ| (what bounds the error of its
 * dot products: arch/head-screen.ts).
 */
export function rowErrors(w: Float32Array, q: Quantized): { maxError: Float32Array; absSum: Float32Array } {
  const maxError = new Float32Array(q.N), absSum = new Float32Array(q.N);
  const blob = (q.blockSize * q.bits) / 8;
  for (let n = 0; n < q.N; n++) {
    let worst = 0, sum = 0;
    for (let b = 0; b < q.blocks; b++) {
      const scale = q.scales[n * q.blocks + b], zp = zeroPointAt(q, n, b);
      const k0 = b * q.blockSize, k1 = Math.min(k0 + q.blockSize, q.K), base = (n * q.blocks + b) * blob;
      for (let k = k0; k < k1; k++) {
        const i = k - k0;
        const code = q.bits === 8 ? q.data[base + i] : (q.data[base + (i >> 1)] >> (4 * (i & 1))) & 0xf;
        const v = Math.fround((code - zp) * scale);
        worst = Math.max(worst, Math.abs(w[n * q.K + k] - v));
        sum += Math.abs(v);
      }
    }
    maxError[n] = worst;
    absSum[n] = sum;
  }
  return { maxError, absSum };
}

/** The three MatMulNBits initializers of a quantized weight. */
export interface QuantizedWeight {
  data: Value;
  scales: Value;
  zeroPoints: Value;
}

/** y = x Wᵀ with W quantized: x [..., K] → [..., N] (MatMulNBits transposes nothing, it reads W as [N, K]). */
export function matMulNBits(x: Value, w: QuantizedWeight, K: number, N: number, q: QuantSpec): Value {
  return x.graph.op('MatMulNBits', [x, w.data, w.scales, w.zeroPoints], {
    K: int(K),
    N: int(N),
    bits: int(q.bits),
    block_size: int(q.blockSize),
    accuracy_level: int(q.accuracyLevel),
  }, 'com.microsoft');
}
