// A new model to train from scratch, through the API's dispatch (`models.create`, the Models
// page's "New model"): an existing folder's architecture and tokenizer, fresh weights from a
// seed, in the studio's models folder, listed and usable like any installed model; refused,
// with the reason and nothing written, for what could not be trained here.
import { copyFileSync, closeSync, existsSync, openSync, readFileSync, readdirSync, writeSync, ftruncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Studio } from '../src/main/services.js';
import { modelsRoot } from '../src/main/convert/service.js';
import { describeModel } from '../src/model/describe.js';
import { MAX_NEW_MODEL_PARAMETERS } from '../src/shared/api-models.js';
import { call } from './helpers/datasets.js';
import { tinyChatModel } from './helpers/chat-model.js';
import { CHECKPOINT } from './helpers/checkpoints.js';
import { studioAt, tmp } from './helpers/training.js';

let template: string;
let studio: Studio;
let db: string;

beforeAll(() => {
  template = tinyChatModel();
  db = join(tmp('db'), 'catalog.sqlite');
  studio = studioAt(db);
});
afterAll(async () => studio?.close());

const weights = (dir: string) => readFileSync(join(dir, 'model.safetensors'));

describe('models.create', () => {
  it("makes fresh weights in a folder's architecture, with its tokenizer, listed and usable for chat", async () => {
    const m = await call(studio, 'models.create', { template, name: 'From scratch', seed: 7 });
    expect(m).toMatchObject({ name: 'From-scratch', dir: join(modelsRoot(db), 'From-scratch'), format: 'huggingface', source: template, problem: null });
    const arch = await describeModel(template);
    expect(m.parameters).toBe(arch.parameters);
    expect(await describeModel(m.dir)).toMatchObject({ ...arch, dir: m.dir });
    expect(readFileSync(join(m.dir, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(template, 'tokenizer.json'), 'utf8'));
    expect(weights(m.dir).equals(weights(template))).toBe(false); // new weights, not a copy
    expect(m.estimate!.weightsBytes).toBeGreaterThan(0);
    expect((await call(studio, 'models.installed', {})).map((x) => x.name)).toContain('From-scratch');
    expect(await call(studio, 'models.choose', { dir: m.dir })).toMatchObject({ dir: m.dir, problem: null });

    // the same seed gives the same weights, another seed others; a taken name gets a number
    const same = await call(studio, 'models.create', { template, name: 'From scratch', seed: 7 });
    expect(same.name).toBe('From-scratch-2');
    expect(weights(same.dir).equals(weights(m.dir))).toBe(true);
    const other = await call(studio, 'models.create', { template, seed: 8 });
    expect(other.name).toMatch(/-new$/);
    expect(weights(other.dir).equals(weights(m.dir))).toBe(false);
  });

  it('refuses what could not be trained here, naming why, and writes nothing', async () => {
    const before = existsSync(modelsRoot(db)) ? readdirSync(modelsRoot(db)) : [];
    await expect(call(studio, 'models.create', { template: 'relative/dir' })).rejects.toThrow(/is relative/);
    await expect(call(studio, 'models.create', { template: join(tmp('x'), 'nope') })).rejects.toThrow(/not-found: no folder at/);
    const empty = tmp('not-a-model');
    await expect(call(studio, 'models.create', { template: empty })).rejects.toThrow(/is not a MuFun checkpoint/);
    await expect(call(studio, 'models.create', { template: CHECKPOINT })).rejects.toThrow(/has no tokenizer/);
    await expect(call(studio, 'models.create', { template, seed: -1 })).rejects.toThrow(/invalid-args: models.create: args.seed/);

    // an architecture too large for from-scratch training: the headers say so, no weights are read
    const big = tmp('big');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(template, f), join(big, f));
    const rows = (2 * MAX_NEW_MODEL_PARAMETERS) / 1000;
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [rows, 1000], data_offsets: [0, rows * 1000 * 4] } }));
    const fd = openSync(join(big, 'model.safetensors'), 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeSync(fd, len);
    writeSync(fd, header);
    ftruncateSync(fd, 8 + header.length + rows * 1000 * 4); // sparse: nothing written
    closeSync(fd);
    await expect(call(studio, 'models.create', { template: big })).rejects.toThrow(/has 200.0 M parameters; a new model trained from scratch here can have at most 100 M/);
    expect(existsSync(modelsRoot(db)) ? readdirSync(modelsRoot(db)) : []).toEqual(before);
  });
});
