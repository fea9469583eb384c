import { Command, InvalidArgumentError } from 'commander';
import { addTrainOptions, parseTrainOptions } from '../../model/train/options.js';
import { exportJob } from '../../model/train/export-job.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

export function exportJobCommand(): Command {
  const cmd = new Command('export-job')
    .description('write a job folder that runs the same training with MuFun\'s own PyTorch/DeepSpeed trainer on a GPU cluster')
    .requiredOption('--out <dir>', 'the job folder to write (dataset, train.sh, README.txt)')
    .option('--copy-audio', 'copy the audio files under <out>/audio (default: absolute paths)')
    .option('--link-audio', 'symlink the audio files under <out>/audio (for a shared file system)')
    .option('--gpus <n>', 'GPUs for the deepspeed launcher (default: every GPU of the node; NUM_GPUS overrides)', positiveInt)
    .option('--run-name <name>', 'run name (and checkpoint folder name) on the cluster')
    .option('--force', 'write into a folder that already has files');
  addTrainOptions(cmd);
  return cmd.action((raw: Record<string, unknown>) => {
    if (raw.copyAudio && raw.linkAudio) throw new Error('--copy-audio and --link-audio exclude each other');
    const o = parseTrainOptions(raw);
    const r = exportJob(o, {
      outDir: raw.out as string, audio: raw.copyAudio ? 'copy' : raw.linkAudio ? 'link' : 'absolute', gpus: raw.gpus as number | undefined,
      outputDir: raw.output_dir as string | undefined, runName: raw.runName as string | undefined, force: !!raw.force,
    });
    for (const p of r.skipped) console.error(`mufun export-job: left out ${p.id}: ${p.message}`);
    for (const w of r.warnings) console.error(`mufun export-job: note: ${w}`);
    console.log(JSON.stringify({ dir: r.dir, trainSamples: r.trainSamples, evalSamples: r.evalSamples, audioFiles: r.audioFiles, skipped: r.skipped.length, warnings: r.warnings.length }));
  });
}
