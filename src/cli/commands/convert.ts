import { Command, InvalidArgumentError } from 'commander';
import { type ConvertProgress, convertModel } from '../../model/convert.js';
import { CONVERT_DTYPES, type ConvertDtype } from '../../model/converted.js';
import { checkBlockSize } from '../../model/quant.js';

function parseConvertDtype(v: string): ConvertDtype {
  if (!CONVERT_DTYPES.includes(v as ConvertDtype)) throw new InvalidArgumentError(`must be one of ${CONVERT_DTYPES.join(', ')}`);
  return v as ConvertDtype;
}

function parseBlockSize(v: string): number {
  const n = Number(v);
  try {
    checkBlockSize(n);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return n;
}

const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MB`;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
}

/** A one-line progress bar on stderr (`\r`-redrawn on a terminal, a line every 10% otherwise). */
export function progressBar(stream: NodeJS.WriteStream = process.stderr): (p: ConvertProgress) => void {
  const t0 = performance.now();
  let lastDraw = 0;
  let lastDecile = -1;
  return (p) => {
    const frac = p.totalBytes ? p.bytes / p.totalBytes : p.tensors / p.totalTensors;
    const done = p.tensors === p.totalTensors;
    const now = performance.now();
    const elapsed = (now - t0) / 1000;
    const eta = frac > 0 ? (elapsed * (1 - frac)) / frac : Infinity;
    const width = 30;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `convert [${bar}] ${(frac * 100).toFixed(0).padStart(3)}%  ${p.tensors}/${p.totalTensors} tensors  ` +
      `${mb(p.bytes)}/${mb(p.totalBytes)}  ${done ? `${formatSeconds(elapsed)} total` : `ETA ${formatSeconds(eta)}`}`;
    if (stream.isTTY) {
      if (!done && now - lastDraw < 100) return;
      lastDraw = now;
      stream.write(`\r${line}\x1b[K${done ? '\n' : ''}`);
    } else {
      const decile = Math.floor(frac * 10);
      if (decile === lastDecile && !done) return;
      lastDecile = decile;
      stream.write(line + '\n');
    }
  };
}

export function convertCommand(): Command {
  return new Command('convert')
    .description('export a Hugging Face MuFun folder to a ready-to-load folder of ONNX graphs (float32, float16, or int8/int4 weight-only)')
    .argument('<hf-dir>', 'Hugging Face MuFun folder (config.json + safetensors)')
    .argument('<out-dir>', 'new (or empty) folder for the converted model')
    .option('--dtype <type>', `weights: ${CONVERT_DTYPES.join(', ')} (int8/int4 quantize the LLM's linear layers and head)`, parseConvertDtype, 'float32' as ConvertDtype)
    .option('--block-size <n>', 'int8/int4: weights per quantization block (power of two ≥ 16)', parseBlockSize, 32)
    .action(async (src: string, out: string, o: { dtype: ConvertDtype; blockSize: number }) => {
      const m = await convertModel(src, out, { dtype: o.dtype, blockSize: o.blockSize, onProgress: progressBar() });
      const q = m.quant ? ` (${m.quant.bits}-bit, blocks of ${m.quant.block_size})` : '';
      console.error(`convert: wrote ${out}: ${m.dtype}${q}; graphs ${Object.values(m.graphs).join(', ')}; copied ${m.files.join(', ')}`);
    });
}
