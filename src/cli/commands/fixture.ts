import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { compareFixture, runFixture, writeFixtureOutputs } from '../../model/fixture.js';
import type { ExecutionProvider } from '../../model/runtime.js';
import type { FloatType } from '../../model/graphs.js';
import { parseDtype, parseEp, parseThreads } from '../main.js';

export function fixtureCommand(): Command {
  return new Command('fixture')
    .description('compute every case of a fixture folder from its checkpoint/, cases.json and inputs.safetensors')
    .argument('<dir>', 'fixture folder (checkpoint/, cases.json, inputs.safetensors)')
    .requiredOption('--out <file>', 'where to write the outputs (.safetensors, under the names expected.safetensors uses)')
    .option('--ep <provider>', 'execution provider: cpu, webgpu or cuda', parseEp, 'cpu' as ExecutionProvider)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--dtype <type>', 'session precision: float32 or float16', parseDtype, 'float32' as const)
    .option('--compare', "afterwards, compare with <dir>/expected.safetensors and print each case's error as JSON")
    .action(async (dir: string, o: { out: string; ep: ExecutionProvider; threads?: number; dtype: FloatType; compare?: boolean }) => {
      const t0 = performance.now();
      const out = await runFixture(dir, { ep: o.ep, threads: o.threads, dtype: o.dtype }, (s) => console.error(`fixture: ${s} done`));
      await writeFixtureOutputs(o.out, out);
      console.error(`fixture: wrote ${Object.keys(out).length} tensors to ${o.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (o.compare) {
        const expected = join(dir, 'expected.safetensors');
        if (!existsSync(expected)) throw new Error(`--compare: ${expected} does not exist`);
        const report = compareFixture(out, expected);
        console.log(JSON.stringify(report, null, 1));
        if (!report.pass) process.exitCode = 1;
      }
    });
}
