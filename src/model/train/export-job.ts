// `mufun export-job`: what MuFun's own PyTorch/DeepSpeed trainer (tinyllava/train/train.py in
// https://github.com/laitselec/MuFun) needs to run the same finetune on a GPU cluster: the
// dataset in MuFun's JSON format with audio paths it can open, a launch script with the same
// hyperparameters under MuFun's argument names, and a README on running it and bringing the
// checkpoint back to this engine.
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { DatasetError, type PreparedSample, type SampleProblem, prepareSample, readDatasetFile } from './data.js';
import { ALL_LINEAR_QWEN3 } from '../lora.js';
import { type TrainOptions, mufunTrainArgs } from './options.js';

export type AudioPlacement = 'absolute' | 'copy' | 'link';

export interface ExportJobOptions {
  /** where the job folder goes (created; must be empty unless force) */
  outDir: string;
  /** absolute paths as they are here, or the files copied / symlinked under <outDir>/audio */
  audio?: AudioPlacement;
  /** GPUs for the deepspeed launcher (default: every GPU of the node) */
  gpus?: number;
  /** the cluster's checkpoint folder (default <job>/checkpoints/<run name>) */
  outputDir?: string;
  runName?: string;
  force?: boolean;
}

export interface ExportJobResult {
  dir: string;
  trainSamples: number;
  evalSamples: number;
  /** the eval set is a slice of the training set (MuFun's train.py needs one) */
  evalFromTrain: boolean;
  audioFiles: number;
  skipped: SampleProblem[];
  warnings: string[];
  /** MuFun's train.py arguments written to train.sh, in order */
  args: [string, string][];
}

/** What MuFun's loader opens (image_preprocess.py: endswith on these, case-sensitive, plus .npy). */
export const MUFUN_AUDIO_EXTENSIONS = ['.wav', '.mp3', '.flac', '.opus', '.ogg', '.npy'];

const MUFUN_REPO = 'https://github.com/laitselec/MuFun';

interface RawSample {
  audio?: string | string[];
  time?: unknown;
  [k: string]: unknown;
}

function readSet(path: string, root: string, onBad: 'skip' | 'fail'): { raw: RawSample[]; prepared: PreparedSample[]; problems: SampleProblem[] } {
  const all = readDatasetFile(path);
  const raw: RawSample[] = [];
  const prepared: PreparedSample[] = [];
  const problems: SampleProblem[] = [];
  all.forEach((r, i) => {
    const p = prepareSample(r, i, root);
    if ('message' in p) problems.push(p);
    else {
      raw.push(r as RawSample);
      prepared.push(p);
    }
  });
  if (problems.length && onBad === 'fail') {
    const list = problems.slice(0, 10).map((p) => `  ${p.id}: ${p.message}`).join('\n');
    throw new DatasetError(`${problems.length} bad sample${problems.length > 1 ? 's' : ''} in ${path} (use --bad_samples skip to leave them out):\n${list}${problems.length > 10 ? '\n  …' : ''}`, problems);
  }
  if (!prepared.length) throw new DatasetError(`${path} has no usable samples`, problems);
  return { raw, prepared, problems };
}

/** Single-quotes for bash unless the word is plain. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:=+,@%-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function exportJob(o: TrainOptions, x: ExportJobOptions): ExportJobResult {
  const dir = resolve(x.outDir);
  if (existsSync(dir) && readdirSync(dir).length && !x.force) throw new Error(`${dir} exists and is not empty (use --force to write into it)`);
  const placement = x.audio ?? 'absolute';
  const warnings: string[] = [];
  const root = resolve(o.imageFolder);

  const train = readSet(o.dataPath, root, o.onBadSample);
  const evalSet = o.evalDataPath ? readSet(o.evalDataPath, root, o.onBadSample) : null;
  mkdirSync(join(dir, 'data'), { recursive: true });

  // Audio: one destination per source file, shared by every sample that uses it.
  const dest = new Map<string, string>();
  const used = new Set<string>();
  const place = (abs: string): string => {
    const known = dest.get(abs);
    if (known) return known;
    let rel = relative(root, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) rel = join('external', `${dest.size}-${basename(abs)}`);
    const ext = extname(rel);
    if (ext !== ext.toLowerCase()) rel = rel.slice(0, -ext.length) + ext.toLowerCase(); // MuFun matches extensions case-sensitively
    while (used.has(rel)) rel = join('external', `${dest.size}-${basename(rel)}`);
    used.add(rel);
    const target = join(dir, 'audio', rel);
    mkdirSync(join(target, '..'), { recursive: true });
    if (placement === 'copy') copyFileSync(abs, target);
    else symlinkSync(abs, target);
    dest.set(abs, rel);
    return rel;
  };
  const unreadable = new Set<string>();
  const convert = (raw: RawSample, p: PreparedSample): RawSample => {
    const paths = p.audios.map((a) => {
      const abs = resolve(a.path);
      const ext = extname(abs).toLowerCase();
      if (!MUFUN_AUDIO_EXTENSIONS.includes(ext)) unreadable.add(ext || '(none)');
      if (placement === 'absolute') {
        if (extname(abs) !== ext) unreadable.add(`${extname(abs)} (upper case)`);
        return abs;
      }
      return place(abs);
    });
    const out: RawSample = { ...raw };
    delete out.audio;
    delete out.time;
    if (paths.length) out.audio = typeof raw.audio === 'string' ? paths[0] : paths;
    // One [start, end] per audio: MuFun reads a flat [0, 30.0] as one segment only when its first number is a float.
    if (p.audios.some((a) => a.seg)) out.time = p.audios.map((a) => (a.seg ? [a.seg[0], a.seg[1]] : null));
    const ordered: RawSample = { id: raw.id ?? p.id, ...out };
    return ordered;
  };
  const trainOut = train.raw.map((r, i) => convert(r, train.prepared[i]));
  let evalOut: RawSample[];
  let evalFromTrain = false;
  if (evalSet) evalOut = evalSet.raw.map((r, i) => convert(r, evalSet.prepared[i]));
  else {
    // MuFun's train.py always builds an eval dataset from --eval_data_path; give it a small slice.
    evalOut = trainOut.slice(0, Math.min(8, trainOut.length));
    evalFromTrain = true;
    warnings.push(`no --eval_data_path: data/eval.json holds the first ${evalOut.length} training samples (MuFun's train.py needs an eval file) and evaluation is off`);
  }
  writeFileSync(join(dir, 'data', 'train.json'), JSON.stringify(trainOut, null, 1));
  writeFileSync(join(dir, 'data', 'eval.json'), JSON.stringify(evalOut, null, 1));
  if (unreadable.size) {
    warnings.push(`audio files with extensions MuFun's loader does not open: ${[...unreadable].join(', ')} (it reads ${MUFUN_AUDIO_EXTENSIONS.join(', ')}, lower case); convert them first${placement === 'absolute' ? ', or use --copy-audio (which lower-cases extensions)' : ''}`);
  }

  // Settings MuFun cannot reproduce exactly, said out loud.
  let towerType: string = o.tuneTypeVisionTower;
  if (o.tuneTypeVisionTower === 'partially-tune') {
    if (o.tuneVisionTowerFromLayer === 0) towerType = 'full';
    else warnings.push(`tune_type_vision_tower partially-tune: MuFun's recipe selects tower layers by the name 'vision_model.encoder.layers.', which its Whisper tower does not have, so the cluster run freezes the whole tower (here, layers ≥ ${o.tuneVisionTowerFromLayer} train)`);
  }
  const lora = o.tuneTypeLlm === 'lora';
  if (lora && [...o.loraTargetModules].sort().join() !== [...ALL_LINEAR_QWEN3].sort().join()) {
    warnings.push(`--lora_target_modules ${o.loraTargetModules.join(',')}: MuFun's LoRA recipe adapts every linear layer of the LLM (${ALL_LINEAR_QWEN3.join(', ')}); the cluster run will too`);
  }
  const pretrained = o.pretrainedModelPath ?? (o.preset === 'warmup' ? null : 'Yi3852/MuFun-Base');
  if (pretrained && existsSync(pretrained) && !/Yi3852\/MuFun|checkpoint-/.test(pretrained)) {
    warnings.push(`--pretrained_model_path ${pretrained} is a local folder: MuFun's train.py loads a whole MuFun checkpoint only from a path containing 'checkpoint-' (or 'Yi3852/MuFun'); copy it to the cluster as e.g. …/checkpoint-0 and set PRETRAINED_MODEL_PATH`);
  }
  if (!pretrained) warnings.push('no --pretrained_model_path: the cluster run builds MuFun from --model_name_or_path, --vision_tower and --connector_type (a from-scratch warm-up)');
  if (o.preset === 'full' && !o.pretrainedModelPath) warnings.push('the full preset normally starts from the warm-up checkpoint: set --pretrained_model_path');

  const runName = x.runName ?? `mufun-${o.preset}`;
  // MuFun saves a Hugging Face folder at the end only when output_dir contains "finetune" (else per-module .bin files).
  const outName = /finetune/.test(runName) ? runName : `${runName}-finetune`;
  const v = Object.fromEntries(mufunTrainArgs(o)) as Record<string, string>;
  const args: [string, string][] = [
    ['deepspeed', '$DEEPSPEED_CONFIG'],
    ['data_path', '$JOB_DIR/data/train.json'],
    ['eval_data_path', '$JOB_DIR/data/eval.json'],
    ['image_folder', placement === 'absolute' ? '/' : '$JOB_DIR/audio'],
    ['is_multimodal', 'True'],
    ['conv_version', v.conv_version],
    ['model_name_or_path', v.model_name_or_path],
    ['vision_tower', v.vision_tower],
    ['vision_tower2', ''],
    ['connector_type', v.connector_type],
    ['mm_vision_select_layer', '-2'],
    ['image_aspect_ratio', 'audio'],
    ['attn_implementation', '$ATTN_IMPLEMENTATION'],
    ['bf16', 'True'],
    ['training_recipe', lora ? 'lora' : 'common'],
    ['tune_type_llm', v.tune_type_llm],
    ['tune_type_vision_tower', towerType],
    ['tune_vision_tower_from_layer', v.tune_vision_tower_from_layer],
    ['tune_type_connector', v.tune_type_connector],
    ['group_by_modality_length', 'False'],
    ...(pretrained ? [['pretrained_model_path', '$PRETRAINED_MODEL_PATH'] as [string, string]] : []),
    ['output_dir', '$OUTPUT_DIR'],
    ['num_train_epochs', v.num_train_epochs],
    ...(o.maxSteps > 0 ? [['max_steps', v.max_steps] as [string, string]] : []),
    ['per_device_train_batch_size', v.per_device_train_batch_size],
    ['per_device_eval_batch_size', v.per_device_eval_batch_size],
    ['gradient_accumulation_steps', v.gradient_accumulation_steps],
    ['eval_strategy', evalFromTrain ? 'no' : v.eval_strategy],
    ['eval_steps', v.eval_steps],
    ['save_strategy', v.save_strategy],
    ['save_steps', v.save_steps],
    ...(o.saveTotalLimit !== null ? [['save_total_limit', v.save_total_limit] as [string, string]] : []),
    ['learning_rate', v.learning_rate],
    ['weight_decay', v.weight_decay],
    ['warmup_ratio', v.warmup_ratio],
    ['lr_scheduler_type', v.lr_scheduler_type],
    ['max_grad_norm', v.max_grad_norm],
    ['seed', v.seed],
    ['logging_steps', v.logging_steps],
    ['tf32', 'False'],
    ['model_max_length', v.model_max_length],
    ['gradient_checkpointing', 'True'],
    ['dataloader_num_workers', '$DATALOADER_WORKERS'],
    ['lazy_preprocess', 'True'],
    ['report_to', '$REPORT_TO'],
    ['tokenizer_use_fast', 'False'],
    ['run_name', runName],
    ...(lora ? (['lora_r', 'lora_alpha', 'lora_dropout'] as const).map((k) => [k, v[k]] as [string, string]) : []),
  ];
  const word = (s: string) => (s.startsWith('$') ? `"${s.replace(/^\$(\w+)/, '$${$1}')}"` : s === '' ? '""' : shellWord(s));
  const zero = o.preset === 'warmup' || lora ? 'z2' : 'z3';
  const script = `#!/usr/bin/env bash
# Written by \`mufun export-job\` (MuFun Studio): MuFun's own trainer (${MUFUN_REPO}),
# preset ${o.preset}, with the hyperparameters of the local run. See README.txt.
#   MUFUN_DIR=/path/to/MuFun NUM_GPUS=8 bash train.sh
set -euo pipefail
JOB_DIR="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"
MUFUN_DIR="\${MUFUN_DIR:-$PWD}"
OUTPUT_DIR="\${OUTPUT_DIR:-${x.outputDir ? x.outputDir.replace(/"/g, '\\"') : `$JOB_DIR/checkpoints/${outName}`}}"
PRETRAINED_MODEL_PATH="\${PRETRAINED_MODEL_PATH:-${(pretrained ?? '').replace(/"/g, '\\"')}}"
DEEPSPEED_CONFIG="\${DEEPSPEED_CONFIG:-./scripts/${zero}.json}"
ATTN_IMPLEMENTATION="\${ATTN_IMPLEMENTATION:-flash_attention_2}"   # sdpa without flash-attn
DATALOADER_WORKERS="\${DATALOADER_WORKERS:-8}"
REPORT_TO="\${REPORT_TO:-none}"                                     # wandb, tensorboard, …
NUM_GPUS="\${NUM_GPUS:-${x.gpus ?? ''}}"
cd "$MUFUN_DIR"
if [ ! -f tinyllava/train/train.py ]; then
  echo "train.sh: run it from a clone of ${MUFUN_REPO} (pip install -e .), or set MUFUN_DIR" >&2
  exit 1
fi
LAUNCH=(deepspeed --master_port "\${MASTER_PORT:-29501}")
if [ -n "$NUM_GPUS" ]; then LAUNCH+=(--num_gpus "$NUM_GPUS"); fi
"\${LAUNCH[@]}" tinyllava/train/train.py \\
${args.map(([k, val]) => `    --${k} ${word(val)}`).join(' \\\n')}
`;
  writeFileSync(join(dir, 'train.sh'), script, { mode: 0o755 });

  const perStep = o.perDeviceTrainBatchSize * o.gradientAccumulationSteps;
  const readme = `MuFun training job, written by \`mufun export-job\` (MuFun Studio)
=================================================================

What is here
  train.sh         launches MuFun's own trainer (tinyllava/train/train.py from
                   ${MUFUN_REPO}) with DeepSpeed, with the settings below
  data/train.json  ${trainOut.length} training samples in MuFun's JSON format${train.problems.length ? ` (${train.problems.length} bad samples left out)` : ''}
  data/eval.json   ${evalOut.length} eval samples${evalFromTrain ? ' (a slice of the training set: no eval set was given; evaluation is off)' : ''}
${placement === 'absolute'
    ? '  audio paths      absolute paths on the machine that wrote the job: they must exist\n                   at the same place on the cluster (a shared file system), else\n                   export again with --copy-audio'
    : `  audio/           ${dest.size} audio files ${placement === 'copy' ? 'copied' : 'symlinked (they must resolve on the cluster)'}; paths in the JSON are relative to it`}
  job.json         the options of the export, for the record

Run it
  1. git clone ${MUFUN_REPO} && cd MuFun
     conda create -n mufun python=3.10 -y && conda activate mufun && pip install -e .
     pip install flash-attn --no-build-isolation     (or: export ATTN_IMPLEMENTATION=sdpa)
  2. Copy this folder to the cluster, then from the MuFun clone:
       NUM_GPUS=<gpus per node> bash /path/to/this/job/train.sh
     Environment overrides: MUFUN_DIR, NUM_GPUS, OUTPUT_DIR, PRETRAINED_MODEL_PATH,
     DEEPSPEED_CONFIG (default scripts/${zero}.json), ATTN_IMPLEMENTATION, REPORT_TO,
     DATALOADER_WORKERS, MASTER_PORT.

Settings (MuFun's argument names)
${args.filter(([k]) => !['deepspeed', 'data_path', 'eval_data_path', 'image_folder', 'output_dir', 'run_name'].includes(k)).map(([k, val]) => `  ${k.padEnd(30)} ${val === '$PRETRAINED_MODEL_PATH' ? pretrained : val.startsWith('$') ? `(${val.slice(1)})` : val || '""'}`).join('\n')}

  Batch: ${o.perDeviceTrainBatchSize} per GPU x ${o.gradientAccumulationSteps} accumulation = ${perStep} samples per step on
  one GPU; with N GPUs a step sees ${perStep} x N samples. To keep the local run's batch of
  ${perStep}, lower gradient_accumulation_steps in train.sh accordingly.
  MuFun trains in bf16 with DeepSpeed ZeRO; the local runner keeps fp32 master weights, so
  losses agree closely, not bit for bit.
${warnings.length ? `\nNotes\n${warnings.map((w) => `  - ${w}`).join('\n')}\n` : ''}
Bring the model back
${lora
    ? `  MuFun's LoRA recipe saves the adapter (adapter_config.json + adapter_model.safetensors)
  in OUTPUT_DIR (default checkpoints/${outName} under this folder). Copy that folder back,
  then merge it into the same base model (a Hugging Face MuFun folder, e.g. a download of
  ${pretrained ?? 'the base model'}):
    mufun lora merge --model <base folder> --adapter <returned folder> --out ./mufun-merged
    mufun chat --model ./mufun-merged --audio song.mp3 "What genre is this?"`
    : `  The final model is a Hugging Face MuFun folder in OUTPUT_DIR (default
  checkpoints/${outName} under this folder: MuFun writes the whole model there because the
  name contains "finetune"); intermediate ones are its checkpoint-<step> folders. Copy one
  back and use it directly (the engine loads Hugging Face MuFun checkpoints):
    mufun chat --model ./${outName} --audio song.mp3 "What genre is this?"`}
  For multiple-choice data, measure it on your test set:
    mufun eval --model <folder> --data test.json --audio-folder <audio root>
`;
  writeFileSync(join(dir, 'README.txt'), readme);
  writeFileSync(join(dir, 'job.json'), JSON.stringify({
    written_by: 'mufun export-job', options: o, audio: placement, gpus: x.gpus ?? null, run_name: runName,
    train_samples: trainOut.length, eval_samples: evalOut.length, eval_from_train: evalFromTrain,
    skipped: [...train.problems, ...(evalSet?.problems ?? [])], warnings,
  }, null, 2));
  return {
    dir, trainSamples: trainOut.length, evalSamples: evalOut.length, evalFromTrain, audioFiles: placement === 'absolute' ? new Set(train.prepared.flatMap((p) => p.audios.map((a) => a.path))).size : dest.size,
    skipped: [...train.problems, ...(evalSet?.problems ?? [])], warnings, args,
  };
}
