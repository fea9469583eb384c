import { Command } from 'commander';
import { describeModel } from '../../model/describe.js';
import { providersAvailable } from '../../model/runtime.js';

export function infoCommand(): Command {
  return new Command('info')
    .description('describe a MuFun model folder (config and parameter count, no weights loaded) and the execution providers found here')
    .argument('[model-dir]', 'a Hugging Face MuFun folder (config.json + safetensors)')
    .action(async (dir?: string) => {
      const out: Record<string, unknown> = { providers: providersAvailable() };
      if (dir) out.model = await describeModel(dir);
      console.log(JSON.stringify(out, null, 2));
    });
}
