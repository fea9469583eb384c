// What a training job accepts: the runner's settings by MuFun's names (checked by the runner's
// own option table, every problem at once), a MuFun JSON file + audio folder or a studio
// dataset, a base model folder. Bad input is refused with a clear message and nothing is saved.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRPO_SH_DEFAULTS as CLI_GRPO_DEFAULTS } from '../src/cli/commands/grpo.js';
import { trainDefaults } from '../src/model/train/options.js';
import type { Studio } from '../src/main/services.js';
import { trimMetricsFile } from '../src/main/training/queue.js';
import { GRPO_SH_DEFAULTS, SettingsError, defaultSettings, planRun } from '../src/main/training/settings.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { QUICK, recorder, studioAt, tmp, toneData } from './helpers/training.js';

const inputs = { dataPath: '/d/train.json', evalDataPath: null, audioFolder: '/d', baseModel: '/m', outputDir: '/out' };

describe('settings → the runner’s config', () => {
  it('defaults are the recipe’s; a kind picks its preset; GRPO starts from MuFun’s grpo.sh like `mufun grpo`', () => {
    expect(defaultSettings('finetune')).toMatchObject({ learning_rate: 2e-5, tune_type_llm: 'full', per_device_train_batch_size: 2, gradient_accumulation_steps: 12 });
    expect(defaultSettings('lora')).toMatchObject({ tune_type_llm: 'lora', lora_r: 64, lora_alpha: 16, tune_type_connector: 'frozen' });
    expect(defaultSettings('warmup')).toMatchObject({ conv_version: 'pretrain', tune_type_llm: 'frozen', model_max_length: 768 });
    expect(defaultSettings('grpo')).toMatchObject({ learning_rate: 2e-6, num_generations: 8, beta: 0.04, reward: ['answer:1'], loss_type: 'bnpo' });
    for (const k of ['data_path', 'output_dir', 'pretrained_model_path', 'resume_from_checkpoint', 'preset']) expect(defaultSettings('grpo')).not.toHaveProperty(k);
    expect(GRPO_SH_DEFAULTS).toEqual(CLI_GRPO_DEFAULTS);
    const lora = planRun('lora', { learning_rate: 1e-3, lora_r: 8 }, inputs, false);
    expect(lora.mode).toBe('sft');
    expect(lora.config).toMatchObject({ tuneLlm: 'lora', learningRate: 1e-3, lora: { r: 8 }, modelDir: '/m', outputDir: '/out', dataPath: '/d/train.json', resumeFrom: null, evalDataPath: undefined });
    expect(planRun('warmup', {}, { ...inputs, evalDataPath: '/d/eval.json' }, true).config).toMatchObject({ template: 'pretrain', evalDataPath: '/d/eval.json', evalSteps: trainDefaults('warmup').evalSteps, resumeFrom: 'last' });
    const g = planRun('grpo', { num_generations: 2, per_device_train_batch_size: 2, gradient_accumulation_steps: 1, reward: ['answer:1', 'format:0.5'] }, inputs, false);
    expect(g.mode).toBe('grpo');
    expect(g.grpo).toMatchObject({ numGenerations: 2, rewards: ['answer:1', 'format:0.5'], beta: 0.04, logCompletions: false });
    expect(planRun('grpo', { log_completions: 'true' }, inputs, false).grpo).toMatchObject({ logCompletions: true });
    expect(g.config).toMatchObject({ learningRate: 2e-6, tuneTower: 'frozen' });
  });

  it('bad settings are refused, each problem named by its flag', () => {
    const bad = () => planRun('lora', { learning_rate: -1, lora_r: 2.5, warmup_ratio: 1, batch: 4, output_dir: '/x', num_generations: 4, lr_scheduler_type: 'sideways' }, inputs, false);
    expect(bad).toThrow(SettingsError);
    let msg = '';
    try {
      bad();
    } catch (e) {
      msg = (e as Error).message;
    }
    for (const part of [
      'learning_rate: must be a positive number (got -1)', 'lora_r: must be an integer', 'warmup_ratio: must be in [0, 1) (got 1)',
      'batch: not a training setting', 'output_dir: set by the job', 'num_generations: a GRPO setting; this is a lora job', 'lr_scheduler_type: must be one of',
    ]) expect(msg).toContain(part);
    expect(() => planRun('finetune', { tune_type_llm: 'frozen', tune_type_vision_tower: 'frozen', tune_type_connector: 'frozen' }, inputs, false)).toThrow('nothing to train');
    expect(() => planRun('grpo', { num_generations: 3, per_device_train_batch_size: 2, gradient_accumulation_steps: 1 }, inputs, false)).toThrow('must be a multiple of num_generations (3)');
    expect(() => planRun('grpo', { reward: ['cheer'], beta: -1 }, inputs, false)).toThrow(/unknown reward cheer[\s\S]*beta: must be a number ≥ 0/);
    expect(() => planRun('grpo', { log_completions: 'sometimes' }, inputs, false)).toThrow('log_completions: must be true or false');
  });

  it('a resumed run forgets metrics.jsonl lines past its checkpoint (and a line cut short by a kill)', () => {
    const dir = tmp('metrics');
    const lines = [1, 2, 3, 4].map((step) => JSON.stringify({ type: 'step', step, loss: 1 })).concat([JSON.stringify({ type: 'eval', step: 2, evalLoss: 1 }), '{"type":"step","st']);
    writeFileSync(join(dir, 'metrics.jsonl'), lines.join('\n'));
    trimMetricsFile(dir, 2);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe([lines[0], lines[1], lines[4]].map((l) => l + '\n').join(''));
  });
});

describe('training.start', () => {
  let studio: Studio;
  let model: string;
  let data: ReturnType<typeof toneData>;
  beforeAll(() => {
    model = tinyChatModel();
    data = toneData(3);
    studio = studioAt(join(tmp('db'), 'catalog.sqlite'));
  });
  afterAll(async () => studio?.close());

  const start = (over: Record<string, unknown> = {}) => call(studio, 'training.start', {
    kind: 'lora', source: { type: 'file', dataPath: data.train, audioFolder: data.audio }, baseModel: model, settings: { ...QUICK, max_steps: 1 }, ...over,
  } as never);

  it('refuses bad input with a clear message and saves nothing', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ settings: { learning_rate: 'fast' } }, /invalid-args: bad training settings:\n {2}learning_rate: must be a number \(got "fast"\)/],
      [{ settings: { learning_rate: { x: 1 } } }, /invalid-args: training.start: args.settings.learning_rate: expected a number, a string/],
      [{ settings: { 'Learning Rate': 1 } }, /is not a setting name/],
      [{ kind: 'pretrain' }, /args.kind: expected one of "warmup", "finetune", "lora", "grpo"/],
      [{ source: { type: 'folder', path: '/x' } }, /args.source.type: expected "dataset" \(a studio dataset\) or "file"/],
      [{ source: { type: 'file', dataPath: 'train.json' } }, /invalid-args: give the training set's full path \(train.json is relative\)/],
      [{ source: { type: 'file', dataPath: join(data.dir, 'none.json') } }, /not-found: no training set at .*none.json/],
      [{ source: { type: 'file', dataPath: data.train } }, /invalid-args: the training set cannot be used: 3 bad samples .*\n {2}train-0: audio file train-0.wav not found/],
      [{ source: { type: 'file', dataPath: data.train, audioFolder: join(data.dir, 'nope') } }, /not-found: no audio folder at/],
      [{ source: { type: 'file', dataPath: join(data.dir, 'broken.json'), audioFolder: data.audio } }, /broken.json is not valid JSON/],
      [{ source: { type: 'dataset', datasetId: 99 } }, /not-found: no dataset 99/],
      [{ baseModel: join(data.dir, 'no-model') }, /not-found: no model folder at/],
      [{ baseModel: data.audio }, /invalid-args: .*audio is not a MuFun model folder/],
      [{ outputDir: 'runs/a' }, /give the output folder's full path/],
    ];
    writeFileSync(join(data.dir, 'broken.json'), '[{"id": "x",');
    for (const [over, message] of cases) await expect(start(over), JSON.stringify(over)).rejects.toThrow(message);
    expect(await call(studio, 'training.jobs', {})).toEqual([]);
    await expect(call(studio, 'training.get', { id: 1 })).rejects.toThrow('not-found: no training job 1');
    await expect(call(studio, 'training.metrics', { id: 1 })).rejects.toThrow('not-found: no training job 1');
  });

  it('an output folder holding another run’s checkpoints is refused (resume that job instead)', async () => {
    const rec = recorder(studio);
    const out = join(tmp('out'), 'run');
    const job = await start({ outputDir: out, settings: { ...QUICK, max_steps: 2, save_steps: 1 } });
    expect(job.outputDir).toBe(out);
    await rec.settled(job.id);
    await expect(start({ outputDir: out })).rejects.toThrow(/invalid-args: .*run already holds .*checkpoint-2; choose another output folder/);
  });

  it('trains on a studio dataset: exported into the job’s folder when the job is made, so later edits (even deleting it) do not change it', async () => {
    const rec = recorder(studio);
    const imported = await call(studio, 'datasets.import', { path: data.train, audioRoot: data.audio, name: 'Tones' });
    const job = await call(studio, 'training.start', { kind: 'lora', source: { type: 'dataset', datasetId: imported.dataset.id }, baseModel: model, settings: { ...QUICK, max_steps: 1 } });
    expect(job.sourceLabel).toBe('dataset “Tones” (3 train)');
    expect(job.dataPath).toBe(join(job.outputDir, 'dataset', 'train.json'));
    expect(job.audioFolder).toBe(data.audio);
    await rec.settled(job.id);
    expect((await call(studio, 'training.get', { id: job.id })).finalModel).toBe(join(job.outputDir, 'final'));
    await call(studio, 'datasets.delete', { id: imported.dataset.id });
    expect(JSON.parse(readFileSync(job.dataPath, 'utf8')).map((s: { id: string }) => s.id)).toHaveLength(3); // the job's copy stays
    // an empty dataset cannot be trained on: said, and no job is left behind
    const empty = await call(studio, 'datasets.create', { name: 'Empty' });
    const before = (await call(studio, 'training.jobs', {})).length;
    await expect(call(studio, 'training.start', { kind: 'lora', source: { type: 'dataset', datasetId: empty.id }, baseModel: model, settings: {} }))
      .rejects.toThrow('invalid-args: the dataset cannot be trained on: dataset "Empty" has no items to export');
    expect((await call(studio, 'training.jobs', {})).length).toBe(before);
  });
});

