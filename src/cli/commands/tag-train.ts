// `mufun tag-train`: the tower and connector learn the labels of a synth-data set directly
// (src/model/train/tagging.ts), before MuFun's warm-up and full training.
import { Command } from 'commander';
import { TAGGING_DEFAULTS, type TaggingEvent, trainTagging } from '../../model/train/tagging.js';
import { PITCH_CLASS_TASKS } from '../../synth/frames.js';
import { TAG_TASKS, TEMPO_TOKEN_WEIGHT_DEFAULT, TEMPO_WEIGHT_DEFAULT, regressesTempo, synthTagSet } from '../../synth/tags.js';
import { parseNonNegative, parsePositive, parseSeed, parseThreads } from '../main.js';

export function tagTrainCommand(): Command {
  return new Command('tag-train')
    .description(
      'train the audio tower and connector of a model on the labels of a `mufun synth-data` folder (a linear head per task on the ' +
        'mean audio token, dropped afterwards): the hearing a from-scratch tower lacks, before `mufun train --preset warmup`',
    )
    .requiredOption('--model <dir>', 'model folder (Hugging Face layout, e.g. from mufun init-model)')
    .requiredOption('--data <dir>', 'a mufun synth-data folder (labels.jsonl, audio/)')
    .requiredOption('--output_dir <dir>', 'where metrics.jsonl and final/ (the model folder) go')
    .option('--tasks <list>', `tasks, comma-separated (default: ${TAG_TASKS.join(',')})`)
    .option('--frames', 'also learn frame tasks: a second head on every audio token, on what sounds in its stretch (pitch classes, bass, chord, beats, onsets, melody height, from each clip\'s MIDI)')
    .option('--frame_weight <x>', 'weight of the frame tasks\' loss against the clip tasks\'', parsePositive, TAGGING_DEFAULTS.frameWeight)
    .option('--spectrum_weight <x>', 'weight of a log-mel regression from every audio token: the tokens keep the whole spectrum, not only what the heads name (0: none)', parseNonNegative, TAGGING_DEFAULTS.spectrumWeight)
    .option('--tempo_weight <x>', 'weight of a regression of each piece\'s tempo (log2 of its BPM) from the mean audio token: how far from a class boundary, and half or double time an octave off (0: none)', parseNonNegative, TEMPO_WEIGHT_DEFAULT)
    .option('--tempo_token_weight <x>', 'weight of the same tempo regression from every audio token on its own: each token carries the number, whatever mix of them the LLM reads (0: none)', parseNonNegative, TEMPO_TOKEN_WEIGHT_DEFAULT)
    .option('--num_train_epochs <n>', 'passes over the train clips', parseThreads, TAGGING_DEFAULTS.epochs)
    .option('--learning_rate <x>', 'peak learning rate (cosine schedule, 3 % warm-up)', parsePositive, TAGGING_DEFAULTS.learningRate)
    .option('--per_device_train_batch_size <n>', 'clips per step', parseThreads, TAGGING_DEFAULTS.batchSize)
    .option('--seed <n>', 'shuffling and head initialisation seed', parseSeed, TAGGING_DEFAULTS.seed)
    .option('--threads <n>', 'CPU threads', parseThreads)
    .option('--json', 'print each event as a JSON line on stdout')
    .action(async (o: {
      model: string; data: string; output_dir: string; tasks?: string; num_train_epochs: number; learning_rate: number;
      per_device_train_batch_size: number; seed: number; threads?: number; json?: boolean; frames?: boolean; frame_weight: number; spectrum_weight: number; tempo_weight: number; tempo_token_weight: number;
    }) => {
      const names = o.tasks ? o.tasks.split(',').map((x) => x.trim()).filter(Boolean) : null;
      const { tasks, splits, frames: frameTargets, valueTasks } = synthTagSet(o.data, { tasks: names, frames: o.frames, values: regressesTempo(o.tempo_weight, o.tempo_token_weight) });
      const controller = new AbortController();
      process.once('SIGINT', () => {
        console.error('\nmufun tag-train: stopping (nothing is written for a stopped run)');
        controller.abort();
      });
      const show = (e: TaggingEvent) => {
        if (o.json) return console.log(JSON.stringify(e));
        if (e.type === 'start') console.error(`mufun tag-train: ${e.trainClips} clips, ${e.evalClips} val clips, ${e.totalSteps} steps; tasks ${e.tasks.join(', ')}`);
        else if (e.type === 'step') process.stderr.write(`\rstep ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)} |g| ${e.gradNorm.toFixed(2)} ETA ${Math.round(e.etaSec)} s   `);
        else if (e.type === 'eval') {
          const per = Object.entries(e.evalTasks).map(([k, v]) => `${k} ${(v * 100).toFixed(0)} %`).join(', ');
          console.error(`\n  val at step ${e.step}: loss ${e.evalLoss.toFixed(4)}, accuracy ${(e.evalAccuracy * 100).toFixed(1)} % (${per})`);
          if (e.evalFrameTasks) console.error(`  frames: ${summariseFrames(e.evalFrameTasks)}`);
          if (e.evalSpectrumLoss !== undefined) console.error(`  spectrum: mean squared error ${e.evalSpectrumLoss.toFixed(4)}`);
          for (const [k, v] of Object.entries(e.evalValueRmse ?? {})) console.error(`  ${k}: root mean squared error ${v.toFixed(3)}`);
        } else console.error(`\nmufun tag-train: done at step ${e.step}; model in ${e.finalDir}`);
      };
      await trainTagging({
        modelDir: o.model, tasks, train: splits.train, eval: splits.val, frames: frameTargets, frameWeight: o.frame_weight, spectrumWeight: o.spectrum_weight, valueTasks, valueWeight: o.tempo_weight, tokenValueWeight: o.tempo_token_weight, audioRoot: `${o.data}/audio`, outputDir: o.output_dir,
        epochs: o.num_train_epochs, batchSize: o.per_device_train_batch_size, learningRate: o.learning_rate, seed: o.seed,
        runtime: { threads: o.threads },
      }, show, controller.signal);
    });
}

/** Frame accuracies for a line: the twelve "sounds X" tasks as one mean. */
function summariseFrames(acc: Record<string, number>): string {
  const pcs = Object.entries(acc).filter(([k]) => PITCH_CLASS_TASKS.includes(k));
  const rest = Object.entries(acc).filter(([k]) => !PITCH_CLASS_TASKS.includes(k));
  const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
  return [`pitch classes ${pct(pcs.reduce((a, [, v]) => a + v, 0) / pcs.length)}`, ...rest.map(([k, v]) => `${k} ${pct(v)}`)].join(', ');
}
