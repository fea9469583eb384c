// Export of the graph IR to an ONNX ModelProto, encoded with protobufjs against the
// subset of onnx.proto we use (field numbers as in onnx/onnx.proto, IR version 10).
// Weights go inline for small models, or to an external data file (aligned, streamed
// one tensor at a time) so models over protobuf's 2 GB limit load.
import { closeSync, openSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import protobuf from 'protobufjs';
import { BYTES, type DType, type Dim, type Graph, type Initializer, type TypedArray, numel } from './graph.js';
import { OPSET } from './ops.js';
import { withoutOutputIdentities } from './prune.js';

const IR_VERSION = 10;

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            graph: { type: 'GraphProto', id: 7 },
          },
        },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } } },
        TypeProto: { fields: { tensorType: { type: 'TensorType', id: 1 } } },
        TensorType: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } } },
        Dimension: { fields: { dimValue: { type: 'int64', id: 1 }, dimParam: { type: 'string', id: 2 } } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = root.lookupType('onnx.ModelProto');

const ELEM_TYPE: Record<DType, number> = { float32: 1, uint8: 2, int32: 6, int64: 7, bool: 9, float16: 10 };
const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

export interface ExportOptions {
  /** Write weights to this file (next to the .onnx) instead of inline. */
  externalDataPath?: string;
  /** Initializers at least this large go external (bytes); small constants stay inline. */
  externalThreshold?: number;
  /** Called after each initializer is written, with its size in bytes (progress bars). */
  onTensor?: (name: string, bytes: number) => void;
}

/** Opset versions of the non-default domains our graphs may use. */
const DOMAIN_OPSETS: Record<string, number> = { 'com.microsoft': 1 };

function opsetImports(graph: Graph): { domain: string; version: number }[] {
  const used = new Set(graph.nodes.map((n) => n.domain).filter((d) => d !== ''));
  return [{ domain: '', version: OPSET }, ...[...used].sort().map((domain) => {
    const version = DOMAIN_OPSETS[domain];
    if (version === undefined) throw new Error(`ONNX export of ${graph.name}: no opset version known for domain ${domain}`);
    return { domain, version };
  })];
}

const ALIGN = 4096; // lets ONNX Runtime memory-map each external tensor

function valueInfo(name: string, dtype: DType, shape: Dim[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[dtype],
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

async function materialize(init: Initializer): Promise<TypedArray> {
  const data = init.data ?? (await init.load!());
  const want = numel(init.shape.map(Number)) * BYTES[init.dtype];
  if (data.byteLength !== want) {
    throw new Error(`tensor ${init.name}: ${data.byteLength} bytes, expected ${want} for ${init.dtype}[${init.shape}]`);
  }
  return data;
}

/** Encodes the graph as an ONNX model; with externalDataPath, weights stream to that file. */
export async function exportOnnx(graph: Graph, opts: ExportOptions = {}): Promise<Uint8Array> {
  const threshold = opts.externalThreshold ?? 1024;
  let fd: number | null = null;
  let offset = 0;
  const initializer = [];
  try {
    if (opts.externalDataPath) fd = openSync(opts.externalDataPath, 'w');
    for (const init of graph.initializers.values()) {
      const data = await materialize(init);
      const tensor: Record<string, unknown> = { name: init.name, dataType: ELEM_TYPE[init.dtype], dims: init.shape };
      if (fd !== null && data.byteLength >= threshold) {
        const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
        if (pad) writeSync(fd, new Uint8Array(pad));
        offset += pad;
        writeSync(fd, bytesOf(data));
        tensor.dataLocation = 1;
        tensor.externalData = [
          { key: 'location', value: basename(opts.externalDataPath!) },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(data.byteLength) },
        ];
        offset += data.byteLength;
      } else {
        tensor.rawData = bytesOf(data);
      }
      initializer.push(tensor);
      opts.onTensor?.(init.name, data.byteLength);
    }
  } finally {
    if (fd !== null) closeSync(fd);
  }
  const node = withoutOutputIdentities(graph).map((n, i) => ({
    name: `${n.op}_${i}`,
    opType: n.op,
    domain: n.domain,
    input: n.inputs,
    output: n.outputs,
    attribute: Object.entries(n.attrs).map(([name, a]) => {
      const at: Record<string, unknown> = { name, type: ATTR_TYPE[a.kind] };
      if (a.kind === 'int') at.i = a.v;
      else if (a.kind === 'float') at.f = a.v;
      else if (a.kind === 'ints') at.ints = a.v;
      else if (a.kind === 'floats') at.floats = a.v;
      else at.s = new TextEncoder().encode(a.v);
      return at;
    }),
  }));
  const model = {
    irVersion: IR_VERSION,
    producerName: 'mufun-studio',
    producerVersion: '0.1.0',
    opsetImport: opsetImports(graph),
    graph: {
      name: graph.name,
      node,
      initializer,
      input: graph.inputs.map((i) => valueInfo(i.name, i.dtype, i.shape)),
      output: graph.outputs.map((o) => valueInfo(o.name, o.dtype, o.shape)),
    },
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`ONNX export of ${graph.name}: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes a ModelProto (used by tests to inspect what was exported). */
export function decodeOnnx(bytes: Uint8Array): Record<string, any> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
