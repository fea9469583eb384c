// Audio tagging (mufun tag-train): the tower and connector learn what the clips sound like from
// their labels directly, and the model folder that comes out is a plain MuFun model again.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { tagTrainCommand } from '../src/cli/commands/tag-train.js';
import { encodeWav } from '../src/model/audio/wav.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../src/model/checkpoint.js';
import { tokensPerClip } from '../src/model/graphs.js';
import { MufunModel } from '../src/model/mufun.js';
import { createSession } from '../src/model/runtime.js';
import { type TaggedClip, type TaggingEvent, buildTaggingGraph, synthTags, trainTagging } from '../src/model/train/tagging.js';
import { generateDataset } from '../src/synth/dataset.js';
import { FRAME_TASKS } from '../src/synth/frames.js';
import { TASK_CLASSES, labelOf } from '../src/synth/questions.js';
import { DEBIAN_PACKAGES, canRender } from '../src/synth/render.js';
import { tinyChatModel } from './helpers/chat-model.js';

const REGISTER = { task: 'register', classes: ['low', 'high'] };
const WAVE = { task: 'wave', classes: ['sine', 'square', 'sawtooth'] };
let model: string;
let audio: string;

/** A tone filling the tiny model's 30 s clip (the tag reads the mean audio token): high (700–900 Hz) or low (150–350 Hz), of one of three waveforms. */
function tone(file: string, high: boolean, wave: number, i: number): void {
  const f = (high ? 700 : 150) + ((i * 37) % 200);
  const x = Float32Array.from({ length: 16000 * 30 }, (_, t) => {
    const ph = ((f * t) / 16000) % 1;
    const v = wave === 0 ? Math.sin(2 * Math.PI * ph) : wave === 1 ? (ph < 0.5 ? 1 : -1) : 2 * ph - 1;
    return 0.25 * v;
  });
  writeFileSync(join(audio, file), encodeWav([x], 16000));
}

function clips(name: string, n: number, offset: number, waveLabel = true): TaggedClip[] {
  return Array.from({ length: n }, (_, i) => {
    const high = (i + offset) % 2 === 0, wave = (i + offset) % 3;
    tone(`${name}-${i}.wav`, high, wave, i + offset);
    return { id: `${name}-${i}`, audio: `${name}-${i}.wav`, labels: [high ? 1 : 0, waveLabel ? wave : -100] };
  });
}

beforeAll(() => {
  model = tinyChatModel();
  audio = mkdtempSync(join(tmpdir(), 'tags-'));
});

describe('tag-train', () => {
  it('teaches the tower the register of tones: loss falls, held-out accuracy reaches 100 %; the heads stay out of the model', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tag-run-'));
    // the waveform is unknown for a third of the clips: those labels are ignored, not guessed
    const train = [...clips('train', 12, 0), ...clips('nowave', 4, 5, false)];
    const events: TaggingEvent[] = [];
    const r = await trainTagging({
      modelDir: model, tasks: [REGISTER, WAVE], train, eval: clips('eval', 8, 1), audioRoot: audio, outputDir: out,
      epochs: 6, batchSize: 4, learningRate: 3e-3, seed: 3, runtime: { threads: 2, noCache: true },
    }, (e) => events.push(e));
    const steps = events.filter((e) => e.type === 'step');
    const evals = events.filter((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval');
    expect(steps).toHaveLength(24);
    expect(steps.at(-1)).toMatchObject({ step: 24, totalSteps: 24, epoch: 6 });
    expect(evals).toHaveLength(6);
    expect(evals.at(-1)!.evalLoss).toBeLessThan(evals[0].evalLoss);
    expect(evals.at(-1)!.evalTasks.register, JSON.stringify(evals)).toBe(1);

    const before = SafetensorsFile.open(join(model, 'model.safetensors'));
    const after = SafetensorsFile.open(join(r.finalDir, 'model.safetensors'));
    expect(after.names().sort()).toEqual(before.names().sort());
    const changed = (n: string) => after.float32(n).some((v, i) => v !== before.float32(n)[i]);
    const names = before.names();
    expect(names.filter((n) => n.startsWith('vision_tower.')).some(changed)).toBe(true);
    expect(names.filter((n) => n.startsWith('connector.')).some(changed)).toBe(true);
    expect(names.filter((n) => n.startsWith('language_model.')).some(changed)).toBe(false);
  }, 400_000);

  it('with frame tasks, a second head learns a label for every audio token (here: is the tone on?) and reports its accuracy; it stays out of the model too', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tag-frames-'));
    // The tone is on for 5 s, off for 5 s, from a different offset in each clip: which tokens sound is local, not the clip's.
    const offset = (i: number) => (i * 1.7) % 10;
    const on = (i: number, t: number) => Math.floor((t + offset(i)) / 5) % 2 === 0;
    const gated = (name: string, n: number): TaggedClip[] => Array.from({ length: n }, (_, i) => {
      const f = 200 + ((i * 53) % 500);
      const x = Float32Array.from({ length: 16000 * 30 }, (_, t) => (on(i, t / 16000) ? 0.25 * Math.sin((2 * Math.PI * f * t) / 16000) : 0));
      writeFileSync(join(audio, `${name}-${i}.wav`), encodeWav([x], 16000));
      return { id: `${name}-${i}`, audio: `${name}-${i}.wav`, labels: [f > 450 ? 1 : 0] };
    });
    const index = (id: string) => Number(id.split('-').at(-1));
    const SOUNDING = { task: 'sounding', classes: ['off', 'on'] };
    const frames = {
      tasks: [SOUNDING],
      of: (c: TaggedClip, tokens: number, sec: number) => Int32Array.from({ length: tokens }, (_, k) => (on(index(c.id), (k + 0.5) * sec) ? 1 : 0)),
    };
    const events: TaggingEvent[] = [];
    const r = await trainTagging({
      modelDir: model, tasks: [REGISTER], train: gated('gtrain', 12), eval: gated('geval', 6), frames, audioRoot: audio, outputDir: out,
      epochs: 5, batchSize: 4, learningRate: 3e-3, seed: 3, runtime: { threads: 2, noCache: true },
    }, (e) => events.push(e));
    const evals = events.filter((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval');
    expect(Object.keys(evals[0].evalFrameTasks!)).toEqual(['sounding']);
    expect(evals.at(-1)!.evalFrameTasks!.sounding, JSON.stringify(evals.map((e) => e.evalFrameTasks))).toBeGreaterThan(0.95);
    const after = SafetensorsFile.open(join(r.finalDir, 'model.safetensors'));
    expect(after.names().some((n) => n.startsWith('framer') || n.startsWith('tagger'))).toBe(false);
  }, 400_000);

  it('with a spectrum weight, every audio token learns the log-mel it covers (mean squared error, reported at each eval); the head stays out of the model', async () => {
    // The target first: with a zero head the loss is the mean square of each token's span of log-mel frames, averaged.
    const m = MufunModel.load(model, { threads: 2, noCache: true });
    const cfg = m.config, t = cfg.audioTower, F = t.maxSourcePositions * 2, N = tokensPerClip(cfg), span = 2 * cfg.audioPoolStride;
    const features = Float32Array.from({ length: 2 * t.melBins * F }, (_, i) => Math.sin(i * 0.37) + (i % 7) * 0.1);
    const ck = m.weights as Checkpoint;
    const { graph, params } = buildTaggingGraph(cfg, ck, [REGISTER], false, { spectrumWeight: 2 });
    const heads = params.filter((p) => /^(tagger|spectrum)\./.test(p.name));
    expect(heads.map((p) => p.name).sort()).toEqual(['spectrum.bias', 'spectrum.weight', 'tagger.bias', 'tagger.weight']);
    const s = await createSession(graph, ck.sourceId(), { threads: 2, noCache: true });
    const r = await s.run({
      input_features: new ort.Tensor('float32', features, [2, t.melBins, F]),
      labels: new ort.Tensor('int64', new BigInt64Array([0n, 1n]), [2, 1]),
      ...Object.fromEntries(params.map((p) => {
        const shape = p.shape as number[];
        return [p.name, new ort.Tensor('float32', heads.includes(p) ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : ck.float32(p.name), shape)];
      })),
    });
    let want = 0;
    for (let c = 0; c < 2; c++) for (let b = 0; b < t.melBins; b++) for (let k = 0; k < N; k++) {
      let mean = 0;
      for (let f = k * span; f < (k + 1) * span; f++) mean += features[(c * t.melBins + b) * F + f] / span;
      want += mean ** 2 / (2 * t.melBins * N);
    }
    expect((r.spectrum_loss.data as Float32Array)[0]).toBeCloseTo(want, 4);
    // zero heads: the tags' cross-entropy is ln 2, and the spectrum's error comes in twice (its weight)
    expect((r.loss.data as Float32Array)[0]).toBeCloseTo(Math.log(2) + 2 * want, 4);
    await s.release();
    await m.release();

    // Then training: the tokens of tones that come and go learn to say what each covers.
    const out = mkdtempSync(join(tmpdir(), 'tag-spectrum-'));
    const events: TaggingEvent[] = [];
    const r2 = await trainTagging({
      modelDir: model, tasks: [REGISTER], train: clips('strain', 8, 0), eval: clips('seval', 4, 1), spectrumWeight: 1, audioRoot: audio, outputDir: out,
      epochs: 4, batchSize: 4, learningRate: 3e-3, seed: 3, runtime: { threads: 2, noCache: true },
    }, (e) => events.push(e));
    const evals = events.filter((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval');
    expect(evals.every((e) => Number.isFinite(e.evalSpectrumLoss))).toBe(true);
    expect(evals.at(-1)!.evalSpectrumLoss!, JSON.stringify(evals.map((e) => e.evalSpectrumLoss))).toBeLessThan(evals[0].evalSpectrumLoss! * 0.8);
    const after = SafetensorsFile.open(join(r2.finalDir, 'model.safetensors'));
    expect(after.names().some((n) => n.startsWith('spectrum'))).toBe(false);
  }, 400_000);

  it('with value tasks, a third head regresses a number per clip from the mean audio token (here: the log-pitch of a tone), where the clip has one', async () => {
    // The loss first: with a zero head it is the mean square of the numbers given; a clip without one (NaN) adds nothing.
    const m = MufunModel.load(model, { threads: 2, noCache: true });
    const cfg = m.config, t = cfg.audioTower, F = t.maxSourcePositions * 2;
    const ck = m.weights as Checkpoint;
    const { graph, params } = buildTaggingGraph(cfg, ck, [REGISTER], false, { valueTasks: ['pitch'], valueWeight: 3 });
    const heads = params.filter((p) => /^(tagger|valuer)\./.test(p.name));
    expect(heads.map((p) => p.name).sort()).toEqual(['tagger.bias', 'tagger.weight', 'valuer.bias', 'valuer.weight']);
    const s = await createSession(graph, ck.sourceId(), { threads: 2, noCache: true });
    // two of three clips have a number: 0.5 and −1.5; each weight is (clips · values) / given = 3 / 2
    const r = await s.run({
      input_features: new ort.Tensor('float32', Float32Array.from({ length: 3 * t.melBins * F }, (_, i) => Math.sin(i * 0.11)), [3, t.melBins, F]),
      labels: new ort.Tensor('int64', new BigInt64Array([0n, 1n, 0n]), [3, 1]),
      values: new ort.Tensor('float32', new Float32Array([0.5, 7, -1.5]), [3, 1]),
      value_weights: new ort.Tensor('float32', new Float32Array([1.5, 0, 1.5]), [3, 1]),
      ...Object.fromEntries(params.map((p) => {
        const shape = p.shape as number[];
        return [p.name, new ort.Tensor('float32', heads.includes(p) ? new Float32Array(shape.reduce((a, b) => a * b, 1)) : ck.float32(p.name), shape)];
      })),
    });
    expect((r.value_loss.data as Float32Array)[0]).toBeCloseTo((0.5 ** 2 + 1.5 ** 2) / 2, 5);
    expect((r.loss.data as Float32Array)[0]).toBeCloseTo(Math.log(2) + 3 * 1.25, 4); // the value loss comes in thrice (its weight)
    await s.release();
    await m.release();

    // Then training: tones of 150–900 Hz, each clip's number the octaves above 400 Hz; a quarter have none.
    const pitched = (name: string, n: number, offset: number): TaggedClip[] => Array.from({ length: n }, (_, i) => {
      const f = 150 + (((i + offset) * 97) % 750);
      const x = Float32Array.from({ length: 16000 * 30 }, (_, k) => 0.25 * Math.sin((2 * Math.PI * f * k) / 16000));
      writeFileSync(join(audio, `${name}-${i}.wav`), encodeWav([x], 16000));
      return { id: `${name}-${i}`, audio: `${name}-${i}.wav`, labels: [f > 500 ? 1 : 0], values: [i % 4 === 3 ? NaN : Math.log2(f / 400)] };
    });
    const out = mkdtempSync(join(tmpdir(), 'tag-values-'));
    const events: TaggingEvent[] = [];
    const r2 = await trainTagging({
      modelDir: model, tasks: [REGISTER], train: pitched('vtrain', 12, 0), eval: pitched('veval', 6, 5), valueTasks: ['pitch'], valueWeight: 2, audioRoot: audio, outputDir: out,
      epochs: 5, batchSize: 4, learningRate: 3e-3, seed: 3, runtime: { threads: 2, noCache: true },
    }, (e) => events.push(e));
    const rmse = events.filter((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval').map((e) => e.evalValueRmse!.pitch);
    expect(rmse.every(Number.isFinite)).toBe(true);
    expect(rmse.at(-1)!, JSON.stringify(rmse)).toBeLessThan(rmse[0] * 0.7);
    const after = SafetensorsFile.open(join(r2.finalDir, 'model.safetensors'));
    expect(after.names().some((n) => n.startsWith('valuer'))).toBe(false);
    // a clip without its numbers is named before any step
    const short = [{ id: 'bare', audio: 'vtrain-0.wav', labels: [0] }];
    await expect(trainTagging({ modelDir: model, tasks: [REGISTER], train: short, eval: [], valueTasks: ['pitch'], audioRoot: audio, outputDir: out, epochs: 1, batchSize: 1, learningRate: 1e-3 }))
      .rejects.toThrow(/clip bare has 0 values, not one per value task \(pitch\)/);
  }, 400_000);

  it('with a token value weight, the same head guesses the number from every audio token: its error is the mean token\'s plus the spread of the tokens\' guesses', async () => {
    const m = MufunModel.load(model, { threads: 2, noCache: true });
    const cfg = m.config, t = cfg.audioTower, F = t.maxSourcePositions * 2, N = tokensPerClip(cfg), D = cfg.llm.hiddenSize;
    const ck = m.weights as Checkpoint;
    const { graph, params } = buildTaggingGraph(cfg, ck, [REGISTER], false, { valueTasks: ['pitch'], valueWeight: 0, tokenValueWeight: 2 });
    const features = Float32Array.from({ length: 2 * t.melBins * F }, (_, i) => Math.sin(i * 0.11) + (i % 5) * 0.2);
    const W = Float32Array.from({ length: D }, (_, d) => Math.cos(d * 0.7) * 0.05), b = 0.25;
    const values = [0.5, -1.5];
    const s = await createSession(graph, ck.sourceId(), { threads: 2, noCache: true });
    const r = await s.run({
      input_features: new ort.Tensor('float32', features, [2, t.melBins, F]),
      labels: new ort.Tensor('int64', new BigInt64Array([0n, 1n]), [2, 1]),
      values: new ort.Tensor('float32', Float32Array.from(values), [2, 1]),
      value_weights: new ort.Tensor('float32', new Float32Array([1, 1]), [2, 1]),
      ...Object.fromEntries(params.map((p) => {
        const shape = p.shape as number[], n = shape.reduce((a, c) => a * c, 1);
        const data = p.name === 'valuer.weight' ? W : p.name === 'valuer.bias' ? new Float32Array([b]) : p.name.startsWith('tagger.') ? new Float32Array(n) : ck.float32(p.name);
        return [p.name, new ort.Tensor('float32', data, shape)];
      })),
    });
    await s.release();
    // the tokens the LLM would read, from the inference encoder: each one's guess, against its clip's number
    const enc = await m.audioEncoder();
    let meanLoss = 0, tokenLoss = 0;
    for (let c = 0; c < 2; c++) {
      const e = (await enc.run({ input_features: new ort.Tensor('float32', features.slice(c * t.melBins * F, (c + 1) * t.melBins * F), [1, t.melBins, F]) })).audio_embeds.data as Float32Array;
      const guesses = Array.from({ length: N }, (_, k) => W.reduce((a, w, d) => a + w * e[k * D + d], b));
      const mean = guesses.reduce((a, x) => a + x, 0) / N;
      meanLoss += (mean - values[c]) ** 2 / 2;
      tokenLoss += guesses.reduce((a, x) => a + (x - values[c]) ** 2, 0) / N / 2;
    }
    expect(tokenLoss).toBeGreaterThan(meanLoss); // the tokens' guesses differ: their spread is what the token loss adds
    expect((r.value_loss.data as Float32Array)[0]).toBeCloseTo(meanLoss, 4);
    expect((r.token_value_loss.data as Float32Array)[0]).toBeCloseTo(tokenLoss, 4);
    // the mean token's error is off (weight 0); the tokens' comes in twice
    expect((r.loss.data as Float32Array)[0]).toBeCloseTo(Math.log(2) + 2 * tokenLoss, 4);
    await m.release();
  }, 400_000);

  it("reads a synth-data folder's labels: one class index per task, −100 where a task does not apply to the clip", async () => {
    const out = mkdtempSync(join(tmpdir(), 'tag-synth-'));
    await generateDataset({ out, count: 8, seed: 4, seconds: 3, splits: [0.5, 0.25, 0.25], tasks: ['instrument', 'tempo', 'chord'], chordShare: 0.5, noRender: true });
    const classes = Object.fromEntries(Object.entries(TASK_CLASSES).map(([k, v]) => [k, v.classes]));
    const { tasks, splits } = synthTags(out, ['instrument', 'tempo', 'chord'], (s, t) => labelOf(s as never, t as never), classes);
    expect(tasks.map((t) => t.task)).toEqual(['instrument', 'tempo', 'chord']);
    expect(splits.train).toHaveLength(4);
    for (const c of [...splits.train, ...splits.val, ...splits.test]) {
      const [instrument, tempo, chord] = c.labels;
      expect(instrument).toBeGreaterThanOrEqual(0); // every clip has an instrument
      expect(tempo === -100).toBe(chord !== -100); // pieces have a tempo, held chords a chord quality
    }
    expect(() => synthTags(out, ['timbre'], () => '', classes)).toThrow(/unknown tagging task timbre/);
    // frame labels come from the caller, given the clip's spec
    const withFrames = synthTags<{ id: string; kind: string }>(out, ['instrument'], (s, t) => labelOf(s as never, t as never), classes, {
      tasks: [{ task: 'kind', classes: ['piece', 'chord'] }], of: (spec, tokens) => new Int32Array(tokens).fill(spec.kind === 'chord' ? 1 : 0),
    });
    expect(withFrames.frames!.tasks).toEqual([{ task: 'kind', classes: ['piece', 'chord'] }]);
    withFrames.splits.train.forEach((clip, i) => {
      const isChord = splits.train[i].labels[2] !== -100; // the clip's chord label, from the first read
      expect(withFrames.frames!.of(clip, 3, 0.1)).toEqual(new Int32Array(3).fill(isChord ? 1 : 0));
    });
    // numbers per clip too, from the caller
    const withValues = synthTags<{ kind: string; bpm?: number }>(out, ['tempo'], (s, t) => labelOf(s as never, t as never), classes, undefined, {
      tasks: ['bpm'], of: (spec) => [spec.kind === 'piece' ? spec.bpm! : NaN],
    });
    expect(withValues.valueTasks).toEqual(['bpm']);
    withValues.splits.train.forEach((clip) => expect(Number.isNaN(clip.values![0])).toBe(clip.labels[0] === -100));
    expect(splits.train[0].values).toBeUndefined();
    const empty = mkdtempSync(join(tmpdir(), 'tag-none-'));
    mkdirSync(join(empty, 'audio'));
    expect(() => synthTags(empty, null, () => '', classes)).toThrow(/no labels\.jsonl: make one with mufun synth-data/);
  });
});

const haveFluidsynth = canRender();
if (!haveFluidsynth) console.warn(`mufun tag-train CLI test skipped: FluidSynth or a GM soundfont is missing (Debian: apt-get install -y ${DEBIAN_PACKAGES})`);

describe.skipIf(!haveFluidsynth)('mufun tag-train on rendered synth-data', () => {
  it('--frames adds the frame tasks, labelled from each clip\'s MIDI, and logs their accuracy per task, --spectrum_weight the spectrum\'s error, --tempo_weight and --tempo_token_weight the tempo\'s; a missing MIDI file is named', async () => {
    const data = mkdtempSync(join(tmpdir(), 'tag-cli-data-'));
    await generateDataset({ out: data, count: 6, seed: 5, seconds: 3, splits: [0.5, 0.25, 0.25], tasks: ['instrument', 'tempo', 'chord'], chordShare: 0.5 });
    const run = async (out: string, ...flags: string[]) => {
      const lines: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((l: string) => void lines.push(l));
      try {
        await tagTrainCommand().exitOverride().parseAsync(['--model', model, '--data', data, '--output_dir', out, '--num_train_epochs', '1',
          '--per_device_train_batch_size', '3', '--threads', '2', '--json', ...flags], { from: 'user' });
      } finally {
        log.mockRestore();
      }
      return lines.map((l) => JSON.parse(l) as TaggingEvent);
    };
    const withFrames = await run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--frames', '--frame_weight', '0.5', '--spectrum_weight', '2');
    const ev = withFrames.find((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval')!;
    expect(Object.keys(ev.evalFrameTasks!)).toEqual(FRAME_TASKS.map((t) => t.task));
    expect(Object.values(ev.evalFrameTasks!).every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(ev.evalSpectrumLoss).toBeGreaterThan(0);
    const withTempo = await run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--tempo_weight', '2');
    const tempoEval = withTempo.find((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval')!;
    expect(Object.keys(tempoEval.evalValueRmse!)).toEqual(['log2 bpm / 100']);
    expect(tempoEval.evalValueRmse!['log2 bpm / 100']).toBeGreaterThan(0);
    const fromTokens = await run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--tempo_token_weight', '2'); // the number is read for the tokens alone too
    expect(fromTokens.find((e): e is TaggingEvent & { type: 'eval' } => e.type === 'eval')!.evalValueRmse!['log2 bpm / 100']).toBeGreaterThan(0);
    const without = await run(mkdtempSync(join(tmpdir(), 'tag-cli-')));
    expect(without.find((e) => e.type === 'eval')).not.toHaveProperty('evalFrameTasks');
    expect(without.find((e) => e.type === 'eval')).not.toHaveProperty('evalSpectrumLoss');
    expect(without.find((e) => e.type === 'eval')).not.toHaveProperty('evalValueRmse');
    await expect(run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--spectrum_weight', '-1')).rejects.toThrow(/must be a number ≥ 0/);
    await expect(run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--tempo_weight', '-1')).rejects.toThrow(/must be a number ≥ 0/);
    await expect(run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--tempo_token_weight', '-1')).rejects.toThrow(/must be a number ≥ 0/);

    rmSync(join(data, 'midi', 'train-000000.mid'));
    await expect(run(mkdtempSync(join(tmpdir(), 'tag-cli-')), '--frames')).rejects.toThrow(/clip train-000000: its MIDI file .*train-000000\.mid is missing/);
    expect(readFileSync(join(data, 'labels.jsonl'), 'utf8')).toContain('train-000000'); // nothing of the data set is touched
  }, 400_000);
});
