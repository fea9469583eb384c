// The `mufun` command. Each subcommand lives in commands/<name>.ts.
import { Command, InvalidArgumentError } from 'commander';
import { EXECUTION_PROVIDERS, type ExecutionProvider } from '../model/runtime.js';
import { MC_ANSWERS, type McAnswers, TASKS, type Task } from '../synth/questions.js';
import { audioCommand } from './commands/audio.js';
import { chatCommand } from './commands/chat.js';
import { convertCommand } from './commands/convert.js';
import { datasetCommand } from './commands/dataset.js';
import { evalCommand } from './commands/eval.js';
import { exportJobCommand } from './commands/export-job.js';
import { fixtureCommand } from './commands/fixture.js';
import { initModelCommand } from './commands/init-model.js';
import { plotMetricsCommand } from './commands/plot-metrics.js';
import { trainCommand } from './commands/train.js';
import { grpoCommand } from './commands/grpo.js';
import { infoCommand } from './commands/info.js';
import { serveCommand } from './commands/serve.js';
import { loraCommand } from './commands/lora.js';
import { tagTrainCommand } from './commands/tag-train.js';
import { synthDataCommand } from './commands/synth-data.js';

export function parseEp(v: string): ExecutionProvider {
  if (!EXECUTION_PROVIDERS.includes(v as ExecutionProvider)) {
    throw new InvalidArgumentError(`must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  return v as ExecutionProvider;
}

export function parseDtype(v: string): 'float32' | 'float16' {
  if (v !== 'float32' && v !== 'float16') throw new InvalidArgumentError('must be float32 or float16');
  return v;
}

export function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
export const parseThreads = parsePositiveInt;

/** A count that may be 0. */
export function parseNonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer from 0');
  return n;
}

/** A seed: the generators' state is 32 bits. */
export function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InvalidArgumentError('must be an integer from 0 to 4294967295');
  return n;
}

/** Seconds of a synthetic clip. */
export function parseSeconds(v: string): number {
  const n = Number(v);
  if (!(n >= 1 && n <= 60)) throw new InvalidArgumentError('must be a number of seconds from 1 to 60');
  return n;
}

/** Synthetic-data tasks, comma-separated. */
export function parseTasks(v: string): Task[] {
  const xs = v.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = xs.filter((x) => !TASKS.includes(x as Task));
  if (bad.length || !xs.length) throw new InvalidArgumentError(`unknown task ${bad.join(', ') || '(none)'}; tasks: ${TASKS.join(', ')}`);
  return [...new Set(xs)] as Task[];
}

/** Synthetic-data tasks that are asked as multiple choice (every one but captions). */
export function parseChoiceTasks(v: string): Exclude<Task, 'caption'>[] {
  const xs = parseTasks(v);
  if (xs.includes('caption')) throw new InvalidArgumentError('captions have no options: give multiple-choice tasks');
  return xs as Exclude<Task, 'caption'>[];
}

/** How multiple-choice answers are written (src/synth/questions.ts's McAnswers). */
export function parseMcAnswers(v: string): McAnswers {
  if (!(MC_ANSWERS as readonly string[]).includes(v)) throw new InvalidArgumentError(`must be one of ${MC_ANSWERS.join(', ')}`);
  return v as McAnswers;
}

/** A number above 0. */
export function parsePositive(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/** A number of 0 or more. */
export function parseNonNegative(v: string): number {
  const n = Number(v);
  if (!(n >= 0) || v.trim() === '') throw new InvalidArgumentError('must be a number ≥ 0');
  return n;
}

/** A fraction from 0 to 1. */
export function parseShare(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

export function program(): Command {
  const p = new Command('mufun')
    .description('MuFun Studio: music understanding with MuFun audio-language models on ONNX Runtime')
    .version('0.1.0')
    .showHelpAfterError();
  p.addCommand(audioCommand());
  p.addCommand(chatCommand());
  p.addCommand(convertCommand());
  p.addCommand(datasetCommand());
  p.addCommand(evalCommand());
  p.addCommand(exportJobCommand());
  p.addCommand(fixtureCommand());
  p.addCommand(trainCommand());
  p.addCommand(grpoCommand());
  p.addCommand(infoCommand());
  p.addCommand(serveCommand());
  p.addCommand(initModelCommand());
  p.addCommand(plotMetricsCommand());
  p.addCommand(loraCommand());
  p.addCommand(synthDataCommand());
  p.addCommand(tagTrainCommand());
  return p;
}

export async function main(argv: string[]): Promise<void> {
  await program().parseAsync(argv);
}
