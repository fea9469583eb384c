// Evaluations in the studio (models.evaluate): `mufun eval`'s scores of a model on a MuFun JSON
// file or a studio dataset's split, run in the compiled evaluation worker (npm run build), every
// answer kept in the catalog; bad requests are refused before anything runs; a stopped run keeps
// its answers, scored; a run the studio closed on is interrupted. The model is the fixture
// checkpoint (tiny, random: its answers are whatever they are; the scores must agree with them).
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Evaluation } from '../src/shared/api-models.js';
import { createServices, type Studio } from '../src/main/services.js';
import { evaluate, loadEvalSet } from '../src/model/eval.js';
import { MufunModel } from '../src/model/mufun.js';
import { Tokenizer } from '../src/model/tokenizer.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { tmp, toneData } from './helpers/training.js';

const DIST = (p: string) => new URL(`../dist/src/main/${p}`, import.meta.url);
const EVAL_WORKER = DIST('evals/worker.js');

let model: string;
let tones: ReturnType<typeof toneData>;
beforeAll(() => {
  model = tinyChatModel();
  tones = toneData(2, 6); // eval.json: 6 tones, high or low
});

let studio: Studio | null = null;
afterEach(async () => {
  await studio?.close();
  studio = null;
});

function studioAt(dbPath: string): Studio {
  if (!existsSync(EVAL_WORKER)) throw new Error('the compiled evaluation worker is missing: run npm run build first');
  return createServices({ appVersion: 'test', dbPath, chatWorkerUrl: DIST('chat/worker.js'), evalWorkerUrl: EVAL_WORKER, modelDir: model });
}

async function settled(s: Studio, id: number): Promise<Evaluation> {
  for (let i = 0; i < 2400; i++) {
    const e = (await call(s, 'models.evaluations', {})).find((x) => x.id === id)!;
    if (e.status !== 'running') return e;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`evaluation ${id} did not finish`);
}

describe('models.evaluate', () => {
  it('scores a MuFun JSON file as mufun eval does, keeping every answer and reporting progress', async () => {
    studio = studioAt(join(tmp('eval'), 'catalog.db'));
    const events: Evaluation[] = [];
    studio.onEvent((e, p) => { if (e === 'models.evaluation') events.push(p as Evaluation); });
    const started = await call(studio, 'models.evaluate', { model: null, source: { type: 'file', dataPath: tones.eval!, audioFolder: tones.audio } });
    expect(started).toMatchObject({ status: 'running', model, sourceLabel: 'eval.json' });
    const e = await settled(studio, started.id);
    expect(e.status, e.error ?? '').toBe('done');
    expect(e).toMatchObject({ done: 6, total: 6, skipped: [] });

    // the same numbers as the engine's evaluate() (what `mufun eval` prints) on the same file
    const { samples } = loadEvalSet(tones.eval!, { audioRoot: tones.audio });
    const m = MufunModel.load(model);
    const ref = await evaluate(m, Tokenizer.fromDir(model), samples);
    await m.release();
    expect(e.overall).toMatchObject({ samples: 6, correct: ref.overall.correct, accuracy: ref.overall.accuracy, chance: 0.5, majority: ref.overall.majority });
    expect(e.tasks.map((t) => [t.task, t.correct])).toEqual(ref.tasks.map((t) => [t.task, t.correct]));
    const answers = await call(studio, 'models.evaluationAnswers', { id: e.id });
    expect(answers.map((a) => [a.id, a.prediction, a.correct])).toEqual(ref.results.map((r) => [r.id, r.prediction, r.correct]));

    // one event per answer, done counting up, then the settled one
    const mine = events.filter((x) => x.id === e.id);
    expect(mine.map((x) => x.done).filter((d, i, all) => i === 0 || d !== all[i - 1])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(mine.at(-1)!.status).toBe('done');
  });

  it("evaluates a studio dataset's split, as exported in MuFun's format", async () => {
    const dir = tmp('eval-dataset');
    studio = studioAt(join(dir, 'catalog.db'));
    const imported = await call(studio, 'datasets.import', { path: tones.eval!, audioRoot: tones.audio, name: 'Tones', split: 'eval' });
    const started = await call(studio, 'models.evaluate', { model, source: { type: 'dataset', datasetId: imported.dataset.id, split: 'eval' }, limit: 4 });
    expect(started.sourceLabel).toBe('Tones (eval, 6 items)');
    const exported = readdirSync(join(dir, 'evaluations')); // the split as MuFun JSON, in a folder of its own
    expect(exported).toHaveLength(1);
    expect(readdirSync(join(dir, 'evaluations', exported[0]))).toEqual(['eval.json']);
    const e = await settled(studio, started.id);
    expect(e.status, e.error ?? '').toBe('done');
    expect(e).toMatchObject({ done: 4, total: 4 });
    expect(e.overall!.samples).toBe(4);
    // the answers are about the dataset's items (their sample ids)
    const ids = (JSON.parse(readFileSync(tones.eval!, 'utf8')) as { id: string }[]).map((s) => s.id);
    expect((await call(studio, 'models.evaluationAnswers', { id: e.id })).map((a) => a.id)).toEqual(ids.slice(0, 4));
    // deleting the evaluation deletes its answers and the exported split
    expect(await call(studio, 'models.deleteEvaluation', { id: e.id })).toEqual({ deleted: true });
    expect(await call(studio, 'models.evaluations', {})).toEqual([]);
    expect(await call(studio, 'models.evaluationAnswers', { id: e.id }).catch((x: Error) => x.message)).toMatch(/not-found/);
    expect(readdirSync(join(dir, 'evaluations'))).toEqual([]);
  });

  it('refuses what cannot run before starting anything', async () => {
    studio = studioAt(join(tmp('eval-bad'), 'catalog.db'));
    const file = (dataPath: string) => ({ model: null, source: { type: 'file' as const, dataPath } });
    await expect(call(studio, 'models.evaluate', file('rel/test.json'))).rejects.toThrow(/invalid-args: .*relative/);
    await expect(call(studio, 'models.evaluate', file('/nonexistent/test.json'))).rejects.toThrow(/not-found: no question file at \/nonexistent\/test.json/);
    const broken = join(tones.dir, 'broken.json');
    writeFileSync(broken, '[{"id": ');
    await expect(call(studio, 'models.evaluate', file(broken))).rejects.toThrow(/invalid-args: the question file cannot be used: .*broken.json/);
    // every sample's audio missing (relative to the file's folder, not audio/): nothing usable
    await expect(call(studio, 'models.evaluate', file(tones.eval!))).rejects.toThrow(/invalid-args: the question file .*eval.json has no usable samples/);
    await expect(call(studio, 'models.evaluate', { model: tones.dir, source: { type: 'file', dataPath: tones.eval! } })).rejects.toThrow(/invalid-args: .* is not a MuFun model folder/);
    const noTokenizer = tmp('no-tokenizer');
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(model, f), join(noTokenizer, f));
    await expect(call(studio, 'models.evaluate', { model: noTokenizer, source: { type: 'file', dataPath: tones.eval!, audioFolder: tones.audio } })).rejects.toThrow(/invalid-args: .* has no tokenizer/);
    const d = await call(studio, 'datasets.create', { name: 'Empty' });
    await expect(call(studio, 'models.evaluate', { model: null, source: { type: 'dataset', datasetId: d.id, split: 'eval' } })).rejects.toThrow(/invalid-args: Empty cannot be evaluated on: dataset "Empty" has no eval items to export/);
    await expect(call(studio, 'models.evaluate', { model: null, source: { type: 'dataset', datasetId: 999, split: 'eval' } })).rejects.toThrow(/not-found: no dataset 999/);
    expect(await call(studio, 'models.evaluations', {})).toEqual([]);
  });

  it('a stopped run keeps its answers, scored; one the studio closed on is interrupted', async () => {
    const db = join(tmp('eval-stop'), 'catalog.db');
    studio = studioAt(db);
    const big = toneData(2, 40);
    let stopAsked = false;
    studio.onEvent((e, p) => {
      const x = p as Evaluation;
      if (e === 'models.evaluation' && x.done >= 2 && x.status === 'running' && !stopAsked) {
        stopAsked = true;
        void call(studio!, 'models.cancelEvaluation', { id: x.id });
      }
    });
    const a = await call(studio, 'models.evaluate', { model: null, source: { type: 'file', dataPath: big.eval!, audioFolder: big.audio } });
    await expect(call(studio, 'models.evaluate', { model: null, source: { type: 'file', dataPath: big.eval!, audioFolder: big.audio } })).rejects.toThrow(`failed: evaluation ${a.id} is running`);
    const stopped = await settled(studio, a.id);
    expect(stopped.status).toBe('cancelled');
    expect(stopped.done).toBeGreaterThanOrEqual(2);
    expect(stopped.done).toBeLessThan(40);
    expect(stopped.overall!.samples).toBe(stopped.done);
    expect(await call(studio, 'models.evaluationAnswers', { id: a.id })).toHaveLength(stopped.done);

    // closing the studio in the middle of a run: interrupted, there and after a restart
    const b = await call(studio, 'models.evaluate', { model: null, source: { type: 'file', dataPath: big.eval!, audioFolder: big.audio } });
    await studio.close();
    studio = studioAt(db);
    const after = (await call(studio, 'models.evaluations', {})).find((x) => x.id === b.id)!;
    expect(after.status).toBe('interrupted');
    expect((await call(studio, 'models.deleteEvaluation', { id: a.id })).deleted).toBe(true);
    expect(existsSync(big.eval!)).toBe(true); // the user's own file stays
    expect((await call(studio, 'models.evaluations', {})).map((x) => x.id)).toEqual([b.id]);
  });
});
