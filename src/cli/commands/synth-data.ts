// `mufun synth-data`: a synthetic music data set with ground truth (see src/synth/dataset.ts).
import { Command, InvalidArgumentError } from 'commander';
import { generateDataset } from '../../synth/dataset.js';
import { type McAnswers, TASKS, type Task } from '../../synth/questions.js';
import { SynthSetupError } from '../../synth/render.js';
import { parseChoiceTasks, parseMcAnswers, parseNonNegativeInt, parsePositiveInt, parseSeconds, parseSeed, parseShare, parseTasks } from '../main.js';

function splitsArg(v: string): [number, number, number] {
  const xs = v.split(',').map((x) => Number(x.trim()));
  if (xs.length !== 3 || xs.some((x) => !(x >= 0)) || xs[0] + xs[1] + xs[2] <= 0) {
    throw new InvalidArgumentError('must be three non-negative fractions train,val,test, e.g. 0.8,0.1,0.1');
  }
  return [xs[0], xs[1], xs[2]];
}

export function synthDataCommand(): Command {
  return new Command('synth-data')
    .description(
      'generate a synthetic music data set with ground truth: clips rendered by FluidSynth from generated MIDI ' +
        '(needs the Debian packages fluidsynth and fluid-soundfont-gm), MuFun-format train/val/test JSON with ' +
        'multiple-choice and open questions and captions, labels.jsonl and dataset.json; re-running renders only missing clips',
    )
    .requiredOption('--out <dir>', 'output folder (audio/, midi/, train.json, val.json, test.json, labels.jsonl, dataset.json)')
    .requiredOption('--count <n>', 'number of clips over all splits', parsePositiveInt)
    .option('--seed <s>', 'dataset seed', parseSeed, 0)
    .option('--seconds <s>', 'clip length in seconds', parseSeconds, 10)
    .option('--splits <train,val,test>', 'split fractions (default: 0.8,0.1,0.1)', splitsArg)
    .option('--tasks <list>', `tasks, comma-separated, of ${TASKS.join(',')} (default: all)`, parseTasks)
    .option('--chord-share <f>', 'share of held-chord clips when the chord task and piece tasks are both asked', parseShare, 0.25)
    .option('--open-share <f>', 'share of train questions asked open instead of multiple choice', parseShare, 0.3)
    .option('--questions-per-clip <n>', 'train questions per task and clip, each in its own words and option order', parsePositiveInt, 1)
    .option('--option-orders-per-clip <n>', 'further multiple-choice questions per train clip for each of --option-order-tasks, each with its own options and order, in train-orders.json', parseNonNegativeInt, 0)
    .option('--option-order-tasks <list>', 'the tasks those are asked for, comma-separated (default: instrument,key,chord, the tasks that offer only some of their labels)', parseChoiceTasks)
    .option('--binding-questions <n>', 'text-only train questions that teach picking an option by its letter (the label is given as a hint)', parseNonNegativeInt, 0)
    .option('--binding-any-label-share <f>', 'share of the binding questions whose options come from every task\'s labels (a lookup no option order can be learnt for)', parseShare, 0)
    .option('--mc-answers <form>', 'multiple-choice answers as letter-first ("B. y", MuCUE\'s), label-first ("y (B)": the label, then its letter) or label-only ("y": the option\'s text)', parseMcAnswers, 'letter-first')
    .option('--mode-via-key', 'answer the major/minor questions about a clip through its key: "In D major, so major."')
    .option('--jobs <n>', 'FluidSynth processes at once (default: twice the CPU count: each waits part of its time)', parsePositiveInt)
    .option('--soundfont <sf2>', 'General MIDI soundfont (default: MUFUN_SOUNDFONT or /usr/share/sounds/sf2/FluidR3_GM.sf2)')
    .option('--no-render', 'write the questions, labels and MIDI only, no audio: e.g. other questions about clips rendered in another folder with the same --seed, --count and --seconds (train with --audio-folder there)')
    .action(async (o: {
      out: string; count: number; seed: number; seconds: number; splits?: [number, number, number]; tasks?: Task[];
      chordShare: number; openShare: number; questionsPerClip: number; optionOrdersPerClip: number; optionOrderTasks?: Exclude<Task, 'caption'>[]; bindingQuestions: number; bindingAnyLabelShare: number; mcAnswers: McAnswers; modeViaKey?: boolean; jobs?: number; soundfont?: string; render: boolean;
    }) => {
      const tty = process.stderr.isTTY;
      let lastLine = 0;
      try {
        const r = await generateDataset({
          ...o,
          optionOrders: o.optionOrdersPerClip,
          noRender: !o.render,
          splits: o.splits ?? [0.8, 0.1, 0.1],
          tasks: o.tasks ?? [...TASKS],
          onProgress: (p) => {
            const now = performance.now();
            if (p.done !== p.total && now - lastLine < (tty ? 200 : 10_000)) return;
            lastLine = now;
            const rate = p.rendered / Math.max(1e-9, p.elapsedSec);
            const eta = rate > 0 ? Math.round((p.total - p.done) / rate) : 0;
            const line = `clips ${p.done}/${p.total} (${p.rendered} rendered, ${rate.toFixed(2)} clips/s${eta ? `, ~${eta} s left` : ''})`;
            process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
          },
        });
        if (tty) process.stderr.write('\n');
        console.log(JSON.stringify({ ...r, seconds: Number(r.seconds.toFixed(2)), clipsPerSecond: Number((r.rendered / r.seconds).toFixed(3)) }, null, 2));
      } catch (e) {
        if (e instanceof SynthSetupError) {
          process.stderr.write(`mufun synth-data: ${e.message}\n`);
          process.exitCode = 2;
          return;
        }
        throw e;
      }
    });
}
