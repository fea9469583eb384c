// safetensors: an 8-byte little-endian header length, a JSON header of
// {name: {dtype, shape, data_offsets: [begin, end]}}, then the raw bytes.
// Tensors are read one at a time through a file descriptor, never the whole file.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { type TypedArray, numel } from './ir/graph.js';
import { f16ToF32 } from './ir/half.js';

export { f16ToF32, f32ToF16 } from './ir/half.js';

export type StDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const ST_BYTES: Record<StDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface TensorEntry {
  dtype: StDType;
  shape: number[];
  begin: number; // absolute file offset
  end: number;
}

export class SafetensorsError extends Error {}

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorEntry>();
  readonly metadata: Record<string, string> = {};
  private constructor(readonly path: string, private fd: number) {}

  static open(path: string): SafetensorsFile {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new SafetensorsError(`cannot open ${path}: ${(e as Error).message}`);
    }
    const f = new SafetensorsFile(path, fd);
    try {
      f.parseHeader();
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return f;
  }

  private parseHeader(): void {
    const size = fstatSync(this.fd).size;
    if (size < 8) throw new SafetensorsError(`${this.path}: truncated safetensors file (${size} bytes, no header)`);
    const lenBuf = Buffer.alloc(8);
    readSync(this.fd, lenBuf, 0, 8, 0);
    const n = Number(lenBuf.readBigUInt64LE(0));
    if (n > 100 * 1024 * 1024 || 8 + n > size) {
      throw new SafetensorsError(`${this.path}: header length ${n} is beyond the file (${size} bytes): truncated or not safetensors`);
    }
    const hdr = Buffer.alloc(n);
    readSync(this.fd, hdr, 0, n, 8);
    let json: Record<string, any>;
    try {
      json = JSON.parse(hdr.toString('utf8'));
    } catch {
      throw new SafetensorsError(`${this.path}: header is not valid JSON (not a safetensors file?)`);
    }
    const base = 8 + n;
    for (const [name, v] of Object.entries(json)) {
      if (name === '__metadata__') {
        Object.assign(this.metadata, v);
        continue;
      }
      const dtype = v.dtype as StDType;
      if (!(dtype in ST_BYTES)) throw new SafetensorsError(`${this.path}: tensor ${name} has unsupported dtype ${v.dtype}`);
      const [b, e] = v.data_offsets as [number, number];
      const shape = v.shape as number[];
      if (e - b !== numel(shape) * ST_BYTES[dtype]) {
        throw new SafetensorsError(`${this.path}: tensor ${name} has ${e - b} bytes for ${dtype}[${shape}]`);
      }
      if (base + e > size) {
        throw new SafetensorsError(`${this.path}: truncated: tensor ${name} ends at byte ${base + e} but the file has ${size}`);
      }
      this.tensors.set(name, { dtype, shape, begin: base + b, end: base + e });
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  shape(name: string): number[] {
    return this.entry(name).shape;
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  sourceId(): string {
    const st = fstatSync(this.fd);
    return `${this.path}:${st.size}:${st.mtimeMs}`;
  }

  entry(name: string): TensorEntry {
    const t = this.tensors.get(name);
    if (!t) throw new SafetensorsError(`${this.path}: no tensor named ${name}`);
    return t;
  }

  raw(name: string): Buffer {
    const t = this.entry(name);
    const buf = Buffer.allocUnsafe(t.end - t.begin);
    let done = 0;
    while (done < buf.length) {
      const n = readSync(this.fd, buf, done, buf.length - done, t.begin + done);
      if (n === 0) throw new SafetensorsError(`${this.path}: unexpected end of file in ${name}`);
      done += n;
    }
    return buf;
  }

  /** Floating-point tensor as float32 (bf16 and f16 widened exactly). */
  float32(name: string): Float32Array {
    const t = this.entry(name);
    return toFloat32(this.raw(name), t.dtype, `${this.path}:${name}`);
  }

  /** Integer tensor as int64. */
  int64(name: string): BigInt64Array {
    const t = this.entry(name);
    const b = this.raw(name);
    const n = numel(t.shape);
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) {
      switch (t.dtype) {
        case 'I64': out[i] = b.readBigInt64LE(i * 8); break;
        case 'I32': out[i] = BigInt(b.readInt32LE(i * 4)); break;
        case 'I16': out[i] = BigInt(b.readInt16LE(i * 2)); break;
        case 'I8': out[i] = BigInt(b.readInt8(i)); break;
        case 'U8': case 'BOOL': out[i] = BigInt(b[i]); break;
        default: throw new SafetensorsError(`${this.path}: tensor ${name} is ${t.dtype}, not an integer tensor`);
      }
    }
    return out;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export function toFloat32(b: Buffer, dtype: StDType, what: string): Float32Array {
  const aligned = b.byteOffset % 4 === 0 ? b : Buffer.from(b);
  switch (dtype) {
    case 'F32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4).slice();
    case 'BF16': {
      // bf16 is the top half of an f32: shift the bits up.
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
      const u = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) u[i] = src[i] << 16;
      return new Float32Array(u.buffer);
    }
    case 'F16': {
      const src = new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2);
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]);
      return out;
    }
    case 'F64': {
      const src = new Float64Array(aligned.buffer.slice(aligned.byteOffset, aligned.byteOffset + aligned.length));
      return Float32Array.from(src);
    }
    default:
      throw new SafetensorsError(`${what} is ${dtype}, not a floating-point tensor`);
  }
}

export interface TensorToWrite {
  dtype: StDType;
  shape: number[];
  data: TypedArray | Buffer;
}

/** Writes tensors to a safetensors file (header, then each tensor's bytes in order). */
export function writeSafetensors(path: string, tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): void {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const n = t.data.byteLength;
    if (n !== numel(t.shape) * ST_BYTES[t.dtype]) {
      throw new SafetensorsError(`writing ${name}: ${n} bytes for ${t.dtype}[${t.shape}]`);
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  const json = JSON.stringify(header);
  const pad = (8 - ((8 + Buffer.byteLength(json)) % 8)) % 8; // keeps tensor data 8-byte aligned
  const hdr = Buffer.from(json + ' '.repeat(pad), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(hdr.length));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, hdr);
    for (const name of names) {
      const d = tensors[name].data;
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}
