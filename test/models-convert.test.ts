// Importing a Hugging Face MuFun folder into the studio through the API's dispatch: the compiled
// conversion worker converts it with progress events, the model is listed with its memory
// estimate and chosen for chat; a folder that is not a MuFun checkpoint is refused with the
// reason and nothing written; cancelling removes the half-written folder.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conversion } from '../src/shared/api-models.js';
import type { Studio } from '../src/main/services.js';
import { modelsRoot } from '../src/main/convert/service.js';
import { MANIFEST } from '../src/model/converted.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { CHECKPOINT } from './helpers/checkpoints.js';
import { studioAt, tmp } from './helpers/training.js';

let model: string;
let studio: Studio;
let db: string;
const events: Conversion[] = [];

function settled(id: number): Promise<Conversion> {
  return new Promise((resolve) => {
    const check = () => {
      const last = events.filter((e) => e.id === id).at(-1);
      if (last && last.status !== 'running') resolve(last);
      else setTimeout(check, 20);
    };
    check();
  });
}

beforeAll(() => {
  model = tinyChatModel();
  db = join(tmp('db'), 'catalog.sqlite');
  studio = studioAt(db);
  studio.onEvent((event, payload) => {
    if (event === 'models.conversion') events.push(payload as Conversion);
  });
});
afterAll(async () => studio?.close());

describe('models.convert', () => {
  it('converts a MuFun folder into the models folder with progress, lists it with an estimate, and chat can use it', async () => {
    const started = await call(studio, 'models.convert', { source: model, dtype: 'int8', name: 'Tiny int8' });
    expect(started).toMatchObject({ status: 'running', name: 'Tiny-int8', dtype: 'int8', outDir: join(modelsRoot(db), 'Tiny-int8') });
    const done = await settled(started.id);
    expect(done).toMatchObject({ status: 'done', error: null });
    expect(done.tensors).toBe(done.totalTensors);
    expect(done.bytes).toBe(done.totalBytes);
    const progress = events.filter((e) => e.id === started.id && e.status === 'running' && e.totalTensors > 0);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.tensors).toBe(done.totalTensors);
    expect(existsSync(join(done.outDir, MANIFEST))).toBe(true);

    const [m] = await call(studio, 'models.installed', {});
    expect(m).toMatchObject({ name: 'Tiny-int8', format: 'converted', dtype: 'int8', source: expect.stringContaining('mufun-ckpt-'), problem: null });
    expect(m.parameters).toBeGreaterThan(0);
    expect(m.estimate!.totalBytes).toBe(m.estimate!.weightsBytes + m.estimate!.kvCacheBytes + m.estimate!.audioBytes);
    // int8 weights take well under the float32 ones
    const f32 = await call(studio, 'models.estimate', { dir: model });
    expect(m.estimate!.weightsBytes).toBeLessThan(f32.weightsBytes);

    const choice = await call(studio, 'models.choose', { dir: m.dir });
    expect(choice).toMatchObject({ dir: m.dir, source: 'setting', problem: null });
    expect(choice.info!.parameters).toBe(m.parameters);
    expect(await call(studio, 'models.conversions', {})).toEqual([done]);

    // the same folder again gets a name of its own
    const again = await call(studio, 'models.convert', { source: model, dtype: 'int8', name: 'Tiny int8' });
    expect(again.name).toBe('Tiny-int8-2');
    await settled(again.id);
  });

  it('refuses a folder that is not a MuFun checkpoint, naming why, and writes nothing', async () => {
    const before = readdirSync(modelsRoot(db));
    const empty = tmp('not-a-model');
    await expect(call(studio, 'models.convert', { source: empty, dtype: 'float32' })).rejects.toThrow(`invalid-args: ${empty} is not a MuFun checkpoint: ${empty}: no config.json`);
    const broken = tmp('broken');
    writeFileSync(join(broken, 'config.json'), '{"model_type": ');
    await expect(call(studio, 'models.convert', { source: broken, dtype: 'float32' })).rejects.toThrow(/is not a MuFun checkpoint: .*malformed JSON/);
    // the fixture checkpoint has weights but no tokenizer
    await expect(call(studio, 'models.convert', { source: CHECKPOINT, dtype: 'int4' })).rejects.toThrow(/has no tokenizer/);
    await expect(call(studio, 'models.convert', { source: join(empty, 'nope'), dtype: 'int4' })).rejects.toThrow(/not-found: no folder at/);
    await expect(call(studio, 'models.convert', { source: 'relative/dir', dtype: 'int4' })).rejects.toThrow(/is relative/);
    await expect(call(studio, 'models.convert', { source: model, dtype: 'int2' as 'int4' })).rejects.toThrow(/invalid-args: models.convert: args.dtype: expected one of/);
    const converted = (await call(studio, 'models.installed', {}))[0].dir;
    await expect(call(studio, 'models.convert', { source: converted, dtype: 'int4' })).rejects.toThrow(/already a converted model/);
    expect(readdirSync(modelsRoot(db))).toEqual(before);
  });

  it('cancel stops the conversion and removes its folder; an unfinished folder is listed as unusable', async () => {
    const c = await call(studio, 'models.convert', { source: model, dtype: 'float16', name: 'cancelled' });
    const cancelled = await call(studio, 'models.cancelConvert', { id: c.id });
    expect(cancelled.status).toBe('cancelled');
    expect(existsSync(c.outDir)).toBe(false);
    expect((await call(studio, 'models.conversions', {}))[0]).toMatchObject({ id: c.id, status: 'cancelled' });
    mkdirSync(join(modelsRoot(db), 'half'));
    const half = (await call(studio, 'models.installed', {})).find((m) => m.name === 'half')!;
    expect(half.problem).toMatch(/unfinished conversion/);
    expect(half.estimate).toBeNull();
    await expect(call(studio, 'models.cancelConvert', { id: 99 })).rejects.toThrow('not-found: no conversion 99');
  });
});
