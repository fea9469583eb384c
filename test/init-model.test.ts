// A from-scratch checkpoint has every tensor the architecture needs, at the right shapes,
// initialised as transformers does (Whisper's positions are its fixed sinusoid table).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initCheckpoint, whisperSinusoids } from '../src/model/init.js';
import { MufunModel } from '../src/model/mufun.js';
import { SafetensorsFile } from '../src/model/safetensors.js';
import { planSplice } from '../src/model/splice.js';
import { CHECKPOINT } from './helpers/checkpoints.js';

describe('init-model', () => {
  const fixture = SafetensorsFile.open(join(CHECKPOINT, 'model.safetensors'));
  const raw = JSON.parse(readFileSync(join(CHECKPOINT, 'config.json'), 'utf8'));
  const out = join(mkdtempSync(join(tmpdir(), 'init-')), 'model');
  const { parameters } = initCheckpoint(raw, out, null, 1);
  const made = SafetensorsFile.open(join(out, 'model.safetensors'));

  it('writes exactly the tensors of a real checkpoint of that config', () => {
    expect(made.names().sort()).toEqual(fixture.names().sort());
    for (const n of fixture.names()) expect(made.shape(n), n).toEqual(fixture.shape(n));
    expect(parameters).toBe(fixture.names().reduce((s, n) => s + fixture.shape(n).reduce((a, b) => a * b, 1), 0));
  });

  it("uses Whisper's sinusoid position table (the same one transformers wrote)", () => {
    const name = 'vision_tower._vision_tower.embed_positions.weight';
    const want = fixture.float32(name);
    const got = whisperSinusoids(1500, 32);
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(want[i] - got[i]));
    expect(d).toBeLessThan(1e-4); // torch's float32 sin of arguments up to 1500 differs in the last bits
    expect(Array.from(made.float32(name).slice(0, 4))).toEqual(Array.from(got.slice(0, 4)));
  });

  it('ones for norms, zeros for biases, N(0, 0.02) elsewhere; the model runs', async () => {
    expect(new Set(made.float32('language_model.model.norm.weight'))).toEqual(new Set([1]));
    expect(new Set(made.float32('connector._connector.linear1.bias'))).toEqual(new Set([0]));
    const w = made.float32('language_model.model.layers.0.mlp.up_proj.weight');
    const std = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    const m = MufunModel.load(out, { noCache: true });
    const r = await m.forward(planSplice([{ ids: [1, 2, 3] }], [], m.tokensPerClip), null);
    expect((r.logits.data as Float32Array).every(Number.isFinite)).toBe(true);
    await m.release();
  });
});
