// Training options (one table for mufun train, export-job and the studio) and `mufun export-job`:
// the dataset with resolved audio, train.sh with MuFun's argument names (run against a stub
// deepspeed to check what train.py would receive), README.txt, and the refusals.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { exportJobCommand } from '../src/cli/commands/export-job.js';
import { exportJob } from '../src/model/train/export-job.js';
import {
  TRAIN_OPTION_SPECS, TrainOptionsError, addTrainOptions, checkTrainOptions, mufunTrainArgs, parseTrainOptions, trainDefaults,
} from '../src/model/train/options.js';

const tmp = (p = 'job-') => mkdtempSync(join(tmpdir(), p));

function parseFlags(args: string[]): Record<string, unknown> {
  const cmd = addTrainOptions(new Command('t').exitOverride().configureOutput({ writeErr: () => {} }));
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

describe('TrainOptions', () => {
  it('has MuFun\'s finetune recipe by default and the warm-up and LoRA recipes as presets', () => {
    const f = parseTrainOptions(parseFlags(['--data_path', '/d/train.json']));
    expect(f).toMatchObject({
      preset: 'finetune', dataPath: '/d/train.json', imageFolder: '/d', convVersion: 'qwen2_instruct', learningRate: 2e-5, lrSchedulerType: 'cosine',
      warmupRatio: 0.03, weightDecay: 0, numTrainEpochs: 1, modelMaxLength: 4096, perDeviceTrainBatchSize: 2, gradientAccumulationSteps: 12,
      tuneTypeLlm: 'full', tuneTypeVisionTower: 'full', tuneTypeConnector: 'full', evalStrategy: 'no', evalSteps: 20, saveSteps: 30, maxGradNorm: 1,
    });
    expect(parseTrainOptions({ data_path: 'x.json', preset: 'warmup' })).toMatchObject({
      convVersion: 'pretrain', modelMaxLength: 768, tuneTypeLlm: 'frozen', tuneTypeVisionTower: 'frozen', tuneTypeConnector: 'full', learningRate: 2e-5,
    });
    expect(parseTrainOptions({ data_path: 'x.json', preset: 'lora' })).toMatchObject({
      tuneTypeLlm: 'lora', loraR: 64, loraAlpha: 16, loraDropout: 0.05, loraTargetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    });
    expect(trainDefaults('warmup').preset).toBe('warmup');
  });

  it('reads MuFun\'s underscore flags (a line of scripts/finetune.sh works), the aliases, and camelCase keys', () => {
    const o = parseTrainOptions(parseFlags([
      '--data', 'a.json', '--audio-folder', '/audio', '--model', 'Yi3852/MuFun-Base', '--eval_data_path', 'e.json', '--conv_version', 'qwen2_instruct',
      '--tune_type_llm', 'lora', '--tune_type_vision_tower', 'frozen', '--tune_type_connector', 'frozen', '--learning_rate', '1e-4',
      '--num_train_epochs', '3', '--per_device_train_batch_size', '4', '--gradient_accumulation_steps', '2', '--warmup_ratio', '0.1',
      '--lr_scheduler_type', 'linear', '--model_max_length', '1024', '--lora_r', '8', '--lora_alpha', '16', '--lora_target_modules', 'q_proj, v_proj',
      '--save_total_limit', 'none', '--bad_samples', 'skip',
    ]));
    expect(o).toMatchObject({
      dataPath: 'a.json', imageFolder: '/audio', pretrainedModelPath: 'Yi3852/MuFun-Base', evalDataPath: 'e.json', evalStrategy: 'steps',
      tuneTypeLlm: 'lora', learningRate: 1e-4, numTrainEpochs: 3, perDeviceTrainBatchSize: 4, gradientAccumulationSteps: 2, warmupRatio: 0.1,
      lrSchedulerType: 'linear', modelMaxLength: 1024, loraR: 8, loraTargetModules: ['q_proj', 'v_proj'], saveTotalLimit: null, onBadSample: 'skip',
    });
    expect(parseTrainOptions({ dataPath: 'a.json', learningRate: 3e-5, perDeviceTrainBatchSize: 1 })).toMatchObject({ learningRate: 3e-5, perDeviceTrainBatchSize: 1 });
  });

  it('reports every bad value at once, with the flag name', () => {
    let err: Error | null = null;
    try {
      parseTrainOptions({ learning_rate: 'fast', per_device_train_batch_size: '1.5', lr_scheduler_type: 'step', tune_type_connector: 'lora', warmup_ratio: '1.5' });
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(TrainOptionsError);
    for (const m of ['--data_path: the training set is required', '--learning_rate: must be a number', '--per_device_train_batch_size: must be an integer',
      '--lr_scheduler_type: must be one of cosine, linear, constant', '--tune_type_connector: must be one of frozen, full', '--warmup_ratio: must be in [0, 1)']) {
      expect(err!.message).toContain(m);
    }
    expect(() => parseTrainOptions({ data_path: 'a', tune_type_llm: 'frozen', tune_type_vision_tower: 'frozen', tune_type_connector: 'frozen' })).toThrow(/nothing to train/);
    expect(() => parseTrainOptions({ data_path: 'a', eval_strategy: 'steps' })).toThrow(/needs --eval_data_path/);
    expect(checkTrainOptions({ ...trainDefaults(), dataPath: 'a', imageFolder: '.', evalStrategy: 'no', loraR: 0 })).toEqual(['--lora_r: must be a positive integer (got 0)']);
  });

  it('has one flag per option, and MuFun\'s argument names for everything MuFun knows', () => {
    const flags = TRAIN_OPTION_SPECS.map((s) => s.flag);
    expect(new Set(flags).size).toBe(flags.length);
    const keys = Object.keys({ ...trainDefaults(), dataPath: '', imageFolder: '' }).sort();
    expect(TRAIN_OPTION_SPECS.map((s) => s.key).sort()).toEqual(keys);
    const args = Object.fromEntries(mufunTrainArgs(parseTrainOptions({ data_path: 'a.json' })));
    expect(args).toMatchObject({ data_path: 'a.json', learning_rate: '0.00002', conv_version: 'qwen2_instruct', lora_r: '64' });
    expect(args.preset).toBeUndefined();
  });
});

// MuFun's train.py arguments: its dataclasses (tinyllava/utils/arguments.py) + transformers.TrainingArguments used by its scripts.
const MUFUN_ARGS = new Set([
  'model_name_or_path', 'vision_tower', 'vision_tower2', 'connector_type', 'mm_vision_select_layer', 'model_max_length', 'tokenizer_use_fast', 'attn_implementation',
  'data_path', 'eval_data_path', 'lazy_preprocess', 'is_multimodal', 'image_folder', 'image_aspect_ratio', 'conv_version',
  'training_recipe', 'tune_type_llm', 'tune_type_vision_tower', 'tune_vision_tower_from_layer', 'tune_type_connector', 'lora_r', 'lora_alpha', 'lora_dropout',
  'group_by_modality_length', 'pretrained_model_path',
  'deepspeed', 'bf16', 'output_dir', 'num_train_epochs', 'max_steps', 'per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps',
  'eval_strategy', 'eval_steps', 'save_strategy', 'save_steps', 'save_total_limit', 'learning_rate', 'weight_decay', 'warmup_ratio', 'lr_scheduler_type',
  'max_grad_norm', 'seed', 'logging_steps', 'tf32', 'gradient_checkpointing', 'dataloader_num_workers', 'report_to', 'run_name',
]);

function fixtureData(): { root: string; data: string; external: string } {
  const root = tmp('audio-');
  mkdirSync(join(root, 'gtzan', 'blues'), { recursive: true });
  writeFileSync(join(root, 'gtzan', 'blues', 'blues.00000.wav'), 'RIFF');
  writeFileSync(join(root, 'b.mp3'), 'ID3');
  writeFileSync(join(root, 'LOUD.WAV'), 'RIFF');
  const external = join(tmp('elsewhere-'), 'x.flac');
  writeFileSync(external, 'fLaC');
  const q = (v: string) => ({ from: 'human', value: v });
  const a = (v: string) => ({ from: 'gpt', value: v });
  const samples = [
    { id: 's1', task: 'genre', audio: 'gtzan/blues/blues.00000.wav', time: [0, 30], conversations: [q('<audio>\nGenre? (choose from: A. blues, B. rock)'), a('A. blues')] },
    { id: 's2', audio: ['b.mp3', external], time: [[1.5, 20], null], conversations: [q('<audio> and <audio>: same?'), a('no')] },
    { id: 's3', audio: 'LOUD.WAV', conversations: [q('<audio>Tempo?'), a('fast')] },
    { id: 's4', audio: 'b.mp3', conversations: [q('<audio>Again?'), a('yes')] },
    { id: 'bad', audio: 'missing.wav', conversations: [q('<audio>x'), a('y')] },
  ];
  const data = join(tmp('data-'), 'train.json');
  writeFileSync(data, JSON.stringify(samples));
  return { root, data, external };
}

/** Runs train.sh with a stub `deepspeed` that records its arguments; returns train.py's argv as [name, value] pairs. */
function runScript(job: string, env: Record<string, string> = {}): { launcher: string[]; args: [string, string][] } {
  const mufun = tmp('mufun-clone-');
  mkdirSync(join(mufun, 'tinyllava', 'train'), { recursive: true });
  writeFileSync(join(mufun, 'tinyllava', 'train', 'train.py'), '');
  const bin = tmp('bin-');
  const log = join(bin, 'argv');
  writeFileSync(join(bin, 'deepspeed'), `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > ${log}\n`);
  chmodSync(join(bin, 'deepspeed'), 0o755);
  execFileSync('bash', [join(job, 'train.sh')], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, MUFUN_DIR: mufun, ...env } });
  const argv = readFileSync(log, 'utf8').split('\n').slice(0, -1);
  const at = argv.indexOf('tinyllava/train/train.py');
  const rest = argv.slice(at + 1);
  const args: [string, string][] = [];
  for (let i = 0; i < rest.length; i += 2) {
    expect(rest[i].startsWith('--')).toBe(true);
    args.push([rest[i].slice(2), rest[i + 1]]);
  }
  return { launcher: argv.slice(0, at), args };
}

describe('exportJob', () => {
  it('writes the dataset with absolute audio paths, one [start, end] per audio, other fields kept, bad samples left out', () => {
    const { root, data, external } = fixtureData();
    const out = join(tmp(), 'job');
    const r = exportJob(parseTrainOptions({ data_path: data, image_folder: root, bad_samples: 'skip' }), { outDir: out });
    expect(r).toMatchObject({ trainSamples: 4, evalSamples: 4, evalFromTrain: true, audioFiles: 4 });
    expect(r.skipped.map((p) => p.id)).toEqual(['bad']);
    const train = JSON.parse(readFileSync(join(out, 'data', 'train.json'), 'utf8'));
    expect(train[0]).toEqual({
      id: 's1', task: 'genre', audio: join(root, 'gtzan/blues/blues.00000.wav'), time: [[0, 30]],
      conversations: [{ from: 'human', value: '<audio>\nGenre? (choose from: A. blues, B. rock)' }, { from: 'gpt', value: 'A. blues' }],
    });
    expect(train[1]).toMatchObject({ audio: [join(root, 'b.mp3'), external], time: [[1.5, 20], null] });
    expect(train[3].time).toBeUndefined();
    expect(r.warnings.join('\n')).toMatch(/no --eval_data_path/);
    expect(r.warnings.join('\n')).toMatch(/\.WAV \(upper case\)/);
    expect(() => exportJob(parseTrainOptions({ data_path: data, image_folder: root }), { outDir: join(tmp(), 'j') })).toThrow(/bad sample.*\n.*bad: audio file missing.wav/);
  });

  it('train.sh hands train.py MuFun\'s finetune with the same hyperparameters (run against a stub deepspeed)', () => {
    const { root, data } = fixtureData();
    const out = join(tmp(), 'job');
    const o = parseTrainOptions(parseFlags(['--data', data, '--audio-folder', root, '--bad_samples', 'skip', '--learning_rate', '1e-5', '--num_train_epochs', '2', '--seed', '7']));
    const r = exportJob(o, { outDir: out, gpus: 4 });
    execFileSync('bash', ['-n', join(out, 'train.sh')]);
    const { launcher, args } = runScript(out);
    expect(launcher).toEqual(['--master_port', '29501', '--num_gpus', '4']);
    expect(args).toEqual(r.args.map(([k, v]) => [k, v.replace(/\$(\w+)/, (_, n: string) => ({
      DEEPSPEED_CONFIG: './scripts/z3.json', JOB_DIR: out, ATTN_IMPLEMENTATION: 'flash_attention_2', PRETRAINED_MODEL_PATH: 'Yi3852/MuFun-Base',
      OUTPUT_DIR: join(out, 'checkpoints', 'mufun-finetune'), DATALOADER_WORKERS: '8', REPORT_TO: 'none',
    } as Record<string, string>)[n])]));
    const a = Object.fromEntries(args);
    expect(a).toMatchObject({
      data_path: join(out, 'data', 'train.json'), eval_data_path: join(out, 'data', 'eval.json'), image_folder: '/', conv_version: 'qwen2_instruct',
      training_recipe: 'common', tune_type_llm: 'full', tune_type_vision_tower: 'full', tune_type_connector: 'full', tune_vision_tower_from_layer: '0',
      pretrained_model_path: 'Yi3852/MuFun-Base', learning_rate: '0.00001', num_train_epochs: '2', per_device_train_batch_size: '2',
      gradient_accumulation_steps: '12', warmup_ratio: '0.03', lr_scheduler_type: 'cosine', weight_decay: '0', model_max_length: '4096',
      seed: '7', eval_strategy: 'no', bf16: 'True', vision_tower2: '', connector_type: 'blp_4i_2x', image_aspect_ratio: 'audio',
    });
    expect(a.output_dir).toMatch(/finetune$/); // MuFun writes the Hugging Face folder only for such names
    for (const [k] of args) expect(MUFUN_ARGS.has(k), k).toBe(true);
    const env = runScript(out, { NUM_GPUS: '', OUTPUT_DIR: '/scratch/run 1', ATTN_IMPLEMENTATION: 'sdpa' });
    expect(env.launcher).toEqual(['--master_port', '29501', '--num_gpus', '4']); // the default stays when NUM_GPUS is empty
    expect(Object.fromEntries(env.args)).toMatchObject({ output_dir: '/scratch/run 1', attn_implementation: 'sdpa' });
    const readme = readFileSync(join(out, 'README.txt'), 'utf8');
    expect(readme).toContain('mufun chat --model');
    expect(readme).toContain('learning_rate                  0.00001');
    expect(readme).toContain('2 per GPU x 12 accumulation = 24 samples per step');
    expect(JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')).options.learningRate).toBe(1e-5);
  });

  it('--copy-audio copies each file once under audio/ (relative paths, lower-case extensions, outside files under external/); LoRA uses MuFun\'s lora recipe', () => {
    const { root, data, external } = fixtureData();
    const out = join(tmp(), 'job');
    const evalPath = join(tmp(), 'eval.json');
    writeFileSync(evalPath, JSON.stringify([{ id: 'e1', audio: 'b.mp3', conversations: [{ from: 'human', value: '<audio>Q?' }, { from: 'gpt', value: 'A' }] }]));
    const o = parseTrainOptions({ data_path: data, image_folder: root, eval_data_path: evalPath, preset: 'lora', bad_samples: 'skip', lora_target_modules: 'q_proj,v_proj' });
    const r = exportJob(o, { outDir: out, audio: 'copy' });
    expect(r).toMatchObject({ trainSamples: 4, evalSamples: 1, evalFromTrain: false, audioFiles: 4 });
    const train = JSON.parse(readFileSync(join(out, 'data', 'train.json'), 'utf8'));
    expect(train.map((s: { audio: unknown }) => s.audio)).toEqual(['gtzan/blues/blues.00000.wav', ['b.mp3', 'external/2-x.flac'], 'LOUD.wav', 'b.mp3']);
    expect(readFileSync(join(out, 'audio', 'external', '2-x.flac'), 'utf8')).toBe('fLaC');
    expect(lstatSync(join(out, 'audio', 'b.mp3')).isSymbolicLink()).toBe(false);
    expect(existsSync(join(out, 'audio', 'LOUD.wav'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'data', 'eval.json'), 'utf8'))[0].audio).toBe('b.mp3');
    const a = Object.fromEntries(runScript(out).args);
    expect(a).toMatchObject({
      image_folder: join(out, 'audio'), training_recipe: 'lora', tune_type_llm: 'lora', tune_type_vision_tower: 'frozen', tune_type_connector: 'frozen',
      lora_r: '64', lora_alpha: '16', lora_dropout: '0.05', eval_strategy: 'steps', eval_steps: '20', deepspeed: './scripts/z2.json',
    });
    expect(r.warnings.join('\n')).toMatch(/adapts every linear layer/);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain('mufun lora merge --model <base folder> --adapter <returned folder>');
    expect(() => exportJob(o, { outDir: out, audio: 'copy' })).toThrow(/not empty/);
    void external;
  });

  it('--link-audio symlinks; partially-tune from layer 0 is MuFun\'s full, later layers get a warning', () => {
    const { root, data } = fixtureData();
    const out = join(tmp(), 'job');
    const r = exportJob(parseTrainOptions({ data_path: data, image_folder: root, bad_samples: 'skip', tune_type_vision_tower: 'partially-tune', tune_vision_tower_from_layer: 0 }), { outDir: out, audio: 'link' });
    expect(lstatSync(join(out, 'audio', 'b.mp3')).isSymbolicLink()).toBe(true);
    expect(Object.fromEntries(r.args).tune_type_vision_tower).toBe('full');
    const r2 = exportJob(parseTrainOptions({ data_path: data, image_folder: root, bad_samples: 'skip', tune_type_vision_tower: 'partially-tune', tune_vision_tower_from_layer: 16 }), { outDir: join(tmp(), 'j') });
    expect(Object.fromEntries(r2.args).tune_type_vision_tower).toBe('partially-tune');
    expect(r2.warnings.join('\n')).toMatch(/freezes the whole tower/);
  });
});

describe('mufun export-job', () => {
  it('takes --data, --audio-folder, --out and the training flags, prints a JSON summary', async () => {
    const { root, data } = fixtureData();
    const out = join(tmp(), 'job');
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void lines.push(String(s)));
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      await exportJobCommand().exitOverride().parseAsync(['--data', data, '--audio-folder', root, '--out', out, '--copy-audio', '--bad_samples', 'skip', '--preset', 'warmup', '--per_device_train_batch_size', '8'], { from: 'user' });
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
    expect(JSON.parse(lines.join(''))).toMatchObject({ dir: out, trainSamples: 4, audioFiles: 4, skipped: 1 });
    const a = Object.fromEntries(runScript(out).args);
    expect(a).toMatchObject({ conv_version: 'pretrain', tune_type_llm: 'frozen', tune_type_vision_tower: 'frozen', tune_type_connector: 'full', model_max_length: '768', per_device_train_batch_size: '8' });
    expect(a.pretrained_model_path).toBeUndefined(); // a warm-up builds MuFun from the LLM and tower ids
    await expect(exportJobCommand().exitOverride().parseAsync(['--out', join(tmp(), 'x'), '--learning_rate', '-1'], { from: 'user' })).rejects.toThrow(/--data_path: the training set is required[\s\S]*--learning_rate: must be a positive number/);
  });
});
