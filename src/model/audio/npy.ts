// NumPy .npy files: MuFun accepts an already-decoded 16 kHz mono waveform saved with np.save.
import { readFile } from 'node:fs/promises';
import { AudioError } from './errors.js';

export const NPY_RATE = 16000;

/** Reads a 1-D (or [1, N] / [N, 1]) float32/float64/int16 .npy as float32 samples. */
export async function readNpy(path: string): Promise<Float32Array> {
  const b = await readFile(path);
  if (b.length < 10) throw new AudioError('truncated', path, 'the .npy header is cut short');
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  if (start > b.length) throw new AudioError('truncated', path, 'the .npy header is cut short');
  const header = b.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new AudioError('corrupt', path, `unreadable .npy header: ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.length > 2 || (shape.length === 2 && Math.min(...shape) !== 1)) {
    throw new AudioError('unsupported', path, `.npy of shape (${shape.join(', ')}): expected a mono waveform (N,)`);
  }
  void fortran; // a vector is the same in either order
  const sizes: Record<string, number> = { '<f4': 4, '<f8': 8, '<i2': 2, '|i1': 1 };
  const sz = sizes[descr];
  if (!sz) throw new AudioError('unsupported', path, `.npy dtype ${descr}: expected float32 ('<f4'), float64 or int16`);
  if (start + n * sz > b.length) throw new AudioError('truncated', path, `.npy says ${n} samples but holds ${Math.floor((b.length - start) / sz)}`);
  if (n === 0) throw new AudioError('empty', path, 'the .npy waveform has no samples');
  const dv = new DataView(b.buffer, b.byteOffset + start, n * sz);
  const out = new Float32Array(n);
  if (descr === '<f4') for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  else if (descr === '<f8') for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  else if (descr === '<i2') for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true) / 32768;
  else for (let i = 0; i < n; i++) out[i] = dv.getInt8(i) / 128;
  return out;
}

/** Writes a 1-D float32 .npy (version 1.0), as np.save(path, wave.astype(np.float32)). */
export function npyBytes(wave: Float32Array): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${wave.length},), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad === 64 ? 0 : pad) + '\n';
  const h = Buffer.alloc(10);
  h[0] = 0x93;
  h.write('NUMPY', 1, 'latin1');
  h[6] = 1;
  h[7] = 0;
  h.writeUInt16LE(header.length, 8);
  return Buffer.concat([h, Buffer.from(header, 'latin1'), Buffer.from(wave.buffer, wave.byteOffset, wave.byteLength)]);
}
