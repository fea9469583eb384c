// ONNX Runtime sessions for our graphs: execution provider choice, threads, and a disk
// cache of exported models (keyed by graph structure + weight source) so a converted
// model loads without re-conversion. Small models go to ORT as bytes, large ones as a
// file with external weights (protobuf cannot hold more than 2 GB).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { BYTES, type Graph, numel } from './ir/graph.js';
import { exportOnnx } from './ir/onnx.js';
import type { QuantMode } from './quant.js';

export type ExecutionProvider = 'cpu' | 'webgpu' | 'cuda';
export const EXECUTION_PROVIDERS: ExecutionProvider[] = ['cpu', 'webgpu', 'cuda'];

export interface RuntimeOptions {
  ep?: ExecutionProvider;
  /** session precision: float32 everywhere, or float16 weights/activations (GPU providers). */
  dtype?: 'float32' | 'float16';
  /** weight-only quantization of the LLM's linear layers and LM head (MatMulNBits); part of the graph names. */
  quant?: QuantMode;
  /** elements per quantization block (power of two ≥ 16; default 32). */
  quantBlockSize?: number;
  /** intra-op threads for the CPU provider (default: ORT's choice, all cores). */
  threads?: number;
  /** where exported models are kept; default ~/.cache/mufun-studio/graphs (MUFUN_CACHE overrides). */
  cacheDir?: string;
  /** keep exported models in memory only (tests, tiny models). */
  noCache?: boolean;
  /**
   * Keep the KV cache in GPU memory between decode steps (default on for webgpu and cuda):
   * otherwise every step copies all layers' keys and values to the host and back.
   */
  kvOnDevice?: boolean;
  /** onnxruntime's fused kernels (SimplifiedLayerNormalization, RotaryEmbedding) in inference graphs (default on). */
  fused?: boolean;
  /**
   * Decode through the screened LM head (arch/head-screen.ts): the same choices as the full float32
   * head, from an int8 copy plus the float rows that can win. Default: on for the CPU provider
   * with float32 unquantized weights.
   */
  headScreen?: boolean;
  /**
   * The generation graph's attention as com.microsoft.GroupQueryAttention (with the fused
   * kernels; default on): faster decoding on the CPU and WebGPU; `false` keeps the plain
   * attention (on WebGPU its prefill is ~20 % faster, its decoding ~25 % slower).
   */
  gqa?: boolean;
}

/** Outputs of a session that stay in device memory, to be fed back as inputs (IO binding). */
export interface SessionExtras {
  outputsOnDevice?: string[];
}

export class RuntimeError extends Error {}

/** What each provider looks like on this machine (for the Models page and `mufun info`). */
export function providersAvailable(): { name: ExecutionProvider; installed: boolean }[] {
  const found = new Map(ort.listSupportedBackends().map((b) => [b.name, b.bundled]));
  return EXECUTION_PROVIDERS.map((name) => ({
    name,
    // CUDA is not bundled: its libraries arrive with onnxruntime-node's install script (DEVELOPERS.md).
    installed: name === 'cuda' ? existsSync(join(ortBinDir(), 'libonnxruntime_providers_cuda.so')) : found.has(name),
  }));
}

function ortBinDir(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  return join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

export function defaultCacheDir(): string {
  return process.env.MUFUN_CACHE ?? join(homedir(), '.cache', 'mufun-studio', 'graphs');
}

/** A stable key for a graph: its structure, constants, and where its weights come from. */
export function graphKey(graph: Graph, weightSourceId: string): string {
  const h = createHash('sha256');
  h.update('mufun-graph-v1\0' + weightSourceId + '\0' + graph.name);
  h.update(JSON.stringify([graph.inputs, graph.outputs, graph.nodes]));
  for (const init of graph.initializers.values()) {
    h.update(`${init.name}:${init.dtype}:${init.shape}`);
    if (init.data) h.update(new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
  }
  return h.digest('hex').slice(0, 24);
}

export function weightBytes(graph: Graph): number {
  let n = 0;
  for (const i of graph.initializers.values()) n += numel(i.shape.map(Number)) * BYTES[i.dtype];
  return n;
}

export function sessionOptions(opts: RuntimeOptions, extras: SessionExtras = {}): ort.InferenceSession.SessionOptions {
  const ep = opts.ep ?? 'cpu';
  const so: ort.InferenceSession.SessionOptions = {
    executionProviders: ep === 'cpu' ? ['cpu'] : [ep, 'cpu'],
    graphOptimizationLevel: 'all',
  };
  if (ep !== 'cpu' && extras.outputsOnDevice?.length) {
    so.preferredOutputLocation = Object.fromEntries(extras.outputsOnDevice.map((n) => [n, 'gpu-buffer' as const]));
  }
  if (opts.threads) {
    so.intraOpNumThreads = opts.threads;
    so.interOpNumThreads = 1;
  }
  return so;
}

const INLINE_LIMIT = 1.5 * 1024 ** 3;

/** Builds (or reuses from cache) the ONNX model for `graph` and opens a session on it. */
export async function createSession(
  graph: Graph, weightSourceId: string, opts: RuntimeOptions = {}, extras: SessionExtras = {},
): Promise<ort.InferenceSession> {
  const so = sessionOptions(opts, extras);
  try {
    if (opts.noCache && weightBytes(graph) < INLINE_LIMIT) {
      return await ort.InferenceSession.create(await exportOnnx(graph), so);
    }
    const dir = join(opts.cacheDir ?? defaultCacheDir(), `${graph.name}-${graphKey(graph, weightSourceId)}`);
    const model = join(dir, 'model.onnx');
    if (!existsSync(model)) {
      mkdirSync(dir, { recursive: true });
      // Write under temporary names and rename last, so an interrupted export is never reused.
      const bytes = await exportOnnx(graph, { externalDataPath: join(dir, 'model.onnx.data') });
      writeFileSync(join(dir, 'model.onnx.tmp'), bytes);
      renameSync(join(dir, 'model.onnx.tmp'), model);
    }
    return await ort.InferenceSession.create(model, so);
  } catch (e) {
    throw providerError(e, opts);
  }
}

/** Opens a session on an exported model file (a converted model folder's graphs). */
export async function openSession(modelPath: string, opts: RuntimeOptions = {}, extras: SessionExtras = {}): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, sessionOptions(opts, extras));
  } catch (e) {
    throw providerError(e, opts);
  }
}

function providerError(e: unknown, opts: RuntimeOptions): unknown {
  const msg = (e as Error).message;
  if (opts.ep && opts.ep !== 'cpu' && /provider|backend|EP/i.test(msg)) {
    return new RuntimeError(`execution provider "${opts.ep}" is not available here: ${msg}`);
  }
  return e;
}

export { ort };
