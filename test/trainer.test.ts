// The training runner on a learnable task: tones that are high or low, asked about in
// MuFun's format. A connector warm-up then a LoRA finetune lower the eval loss; a run
// stopped mid-way resumes from its last checkpoint to exactly the weights of an unbroken run.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/model/audio/wav.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import { type TrainEvent, type TrainerConfig, train } from '../src/model/train/trainer.js';
import { tinyChatModel } from './helpers/chat-model.js';

let model: string;
let data: string;

function toneDataset(dir: string, n: number, name: string, offset: number): string {
  const samples = [];
  for (let i = 0; i < n; i++) {
    const high = (i + offset) % 2 === 0;
    const f = (high ? 880 : 220) * (1 + 0.05 * ((i * 7) % 5));
    const x = Float32Array.from({ length: 16000 * 2 }, (_, t) => 0.3 * Math.sin((2 * Math.PI * f * t) / 16000));
    const file = `${name}-${i}.wav`;
    writeFileSync(join(dir, 'audio', file), encodeWav([x], 16000));
    samples.push({
      id: `${name}-${i}`, audio: file,
      conversations: [
        { from: 'human', value: '<audio>\nIs this tone high or low? (choose from: A. high, B. low)' },
        { from: 'gpt', value: high ? 'A. high' : 'B. low' },
      ],
    });
  }
  const p = join(dir, `${name}.json`);
  writeFileSync(p, JSON.stringify(samples));
  return p;
}

const base = (out: string, over: Partial<TrainerConfig> = {}): TrainerConfig => ({
  modelDir: model, dataPath: join(data, 'train.json'), audioRoot: join(data, 'audio'), evalDataPath: join(data, 'eval.json'),
  template: 'qwen2_instruct', tuneLlm: 'frozen', tuneTower: 'frozen', tuneConnector: 'full',
  lora: { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
  learningRate: 3e-3, epochs: 3, batchSize: 4, gradAccum: 1, warmupRatio: 0.1, scheduler: 'cosine', weightDecay: 0, maxGradNorm: 1,
  maxLength: 512, evalSteps: 0, saveSteps: 0, outputDir: out, seed: 7, onBadSample: 'fail', runtime: { threads: 2, noCache: true },
  ...over,
});

async function run(c: TrainerConfig, signal?: AbortSignal, onStep?: (e: TrainEvent) => void) {
  const events: TrainEvent[] = [];
  const r = await train(c, (e) => {
    events.push(e);
    onStep?.(e);
  }, signal);
  return { ...r, events };
}

beforeAll(() => {
  model = tinyChatModel();
  data = mkdtempSync(join(tmpdir(), 'tones-'));
  mkdirSync(join(data, 'audio'));
  toneDataset(data, 16, 'train', 0);
  toneDataset(data, 8, 'eval', 1);
});

describe('mufun train', () => {
  it('warm-up (connector only) then LoRA finetune lower the eval loss', async () => {
    const out = mkdtempSync(join(tmpdir(), 'run-'));
    const baseline = await run(base(join(out, 'zero'), { learningRate: 0, epochs: 1, maxSteps: 1 }));
    const start = baseline.events.find((e) => e.type === 'eval')!;
    const warm = await run(base(join(out, 'warmup')));
    const st = warm.events.find((e) => e.type === 'start')!;
    expect(st).toMatchObject({ audioInput: 'pooled', trainSamples: 16, evalSamples: 8 });
    const warmEval = warm.events.filter((e) => e.type === 'eval').at(-1)!;
    expect(warmEval.type === 'eval' && start.type === 'eval' && warmEval.evalLoss < start.evalLoss).toBe(true);
    // The warm-up's output is a Hugging Face MuFun folder the next stage starts from.
    for (const f of ['config.json', 'model.safetensors', 'tokenizer.json']) expect(existsSync(join(warm.finalDir, f)), f).toBe(true);
    const ft = await run(base(join(out, 'lora'), { modelDir: warm.finalDir, tuneConnector: 'frozen', tuneLlm: 'lora', learningRate: 1e-2, evalAccuracySamples: 8 }));
    expect(ft.events.find((e) => e.type === 'start')).toMatchObject({ audioInput: 'embeds' });
    const ftEval = ft.events.filter((e) => e.type === 'eval').at(-1)!;
    expect(ftEval.type === 'eval' && warmEval.type === 'eval' && ftEval.evalLoss < warmEval.evalLoss).toBe(true);
    expect(existsSync(join(ft.finalDir, 'adapter', 'adapter_model.safetensors'))).toBe(true);
    // accuracy by generation with the weights being trained, per task
    expect(ftEval).toMatchObject({ evalAccuracy: expect.any(Number), evalTasks: expect.any(Object) });
    const metrics = readFileSync(join(out, 'lora', 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(metrics.filter((m) => m.type === 'step').length).toBe(12); // 16 samples / 4 per batch × 3 epochs
    for (const m of metrics.filter((x) => x.type === 'step')) expect(Object.keys(m)).toEqual(expect.arrayContaining(['loss', 'lr', 'gradNorm', 'tokensPerSecond']));
  }, 600_000); // several whole runs: generous for a loaded machine

  it('a run stopped after a checkpoint resumes to the same weights as an unbroken run', async () => {
    const out = mkdtempSync(join(tmpdir(), 'resume-'));
    const cfg = (dir: string) => base(join(out, dir), { epochs: 2, saveSteps: 4, evalDataPath: undefined });
    const whole = await run(cfg('whole'));
    const ctl = new AbortController();
    await run(cfg('broken'), ctl.signal, (e) => e.type === 'step' && e.step === 5 && ctl.abort());
    expect(readdirSync(join(out, 'broken')).filter((d) => d.startsWith('checkpoint-'))).toEqual(['checkpoint-4']);
    await expect(run(cfg('broken'))).rejects.toThrow(/already holds .*checkpoint-4: continue it with --resume_from_checkpoint last/);
    const resumed = await run({ ...cfg('broken'), resumeFrom: 'last' });
    expect(resumed.events.find((e) => e.type === 'start')).toMatchObject({ resumedFrom: 4 });
    const a = SafetensorsFile.open(join(whole.finalDir, 'model.safetensors'));
    const b = SafetensorsFile.open(join(resumed.finalDir, 'model.safetensors'));
    const w = 'connector._connector.linear2.weight';
    const x = a.float32(w), y = b.float32(w);
    let d = 0;
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    expect(d).toBeLessThan(1e-6);
  }, 600_000);

  it('max_steps replaces the epochs, as in transformers: the data repeats and the schedule spans the steps', async () => {
    // 16 samples in batches of 4: 4 steps an epoch; 6 steps run into the second epoch
    const r = await run(base(mkdtempSync(join(tmpdir(), 'run-')), { epochs: 1, maxSteps: 6, evalDataPath: undefined, scheduler: 'linear', warmupRatio: 0 }));
    const steps = r.events.flatMap((e) => (e.type === 'step' ? [e] : []));
    expect(r.events.find((e) => e.type === 'start')).toMatchObject({ totalSteps: 6 });
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(steps[5].epoch).toBe(1.5);
    expect(steps[5].lr).toBeCloseTo((3e-3 * 1) / 6, 9); // linear decay over the 6 steps, not the 4 of one epoch
  }, 120_000);
});
