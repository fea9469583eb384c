// The PyTorch baseline (bench/baseline/torch_mufun.py, a plain-PyTorch MuFun checked against
// the fixtures), run as a child process in the same benchmark run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const BASELINE_SCRIPT = process.env.MUFUN_TORCH_SCRIPT ?? join(import.meta.dirname, '..', '..', 'bench', 'baseline', 'torch_mufun.py');

/** Debian's interpreter has python3-torch; the first python3 on PATH may not. */
export function pythonWithTorch(): string | null {
  for (const py of [process.env.MUFUN_TORCH_PYTHON, '/usr/bin/python3', 'python3']) {
    if (!py || (py.startsWith('/') && !existsSync(py))) continue;
    const r = spawnSync(py, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}

export function torchBench(config: string, args: Record<string, string | number>): Record<string, any> {
  const py = pythonWithTorch();
  if (!py) return { error: 'no python3 with torch found (apt-get install python3-torch libopenblas0-pthread)' };
  const argv = [BASELINE_SCRIPT, 'bench', config, ...Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)])];
  const r = spawnSync(py, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: `torch_mufun.py failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line);
}
