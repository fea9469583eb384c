// The player's spectrogram service: Whisper's log-mel of a track (what the model hears),
// computed clip by clip, narrowed to a column budget, cached in the catalog per file version.
import { copyFileSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../src/model/audio/wav.js';
import { melFilters } from '../src/model/audio/mel.js';
import { createServices, type Studio } from '../src/main/services.js';
import { computeSpectrogram } from '../src/main/spectrogram.js';
import type { MelSpectrogram } from '../src/shared/api.js';
import { CHECKPOINT } from './helpers/checkpoints.js';
import { call, tmp } from './helpers/datasets.js';


/** A pure tone, mono 16-bit WAV. */
function writeTone(path: string, seconds: number, freq: number, rate = 22050, amp = 0.4): void {
  const x = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  writeFileSync(path, encodeWav([x], rate));
}

/** The mel filter that responds most to `hz` (the FFT bin nearest it). */
function bandOf(hz: number, nMels: number): number {
  const fb = melFilters(nMels), k = Math.round(hz / 40); // 16 kHz / 400-point FFT = 40 Hz per bin
  let best = 0;
  for (let m = 1; m < nMels; m++) if (fb[k * nMels + m] > fb[k * nMels + best]) best = m;
  return best;
}

/** The bin with the most energy, averaged over the columns [from, to). */
function loudestBin(s: MelSpectrogram, from = 0, to = s.columns): number {
  const bytes = Buffer.from(s.data, 'base64');
  expect(bytes.length).toBe(s.columns * s.melBins);
  const mean = new Float64Array(s.melBins);
  for (let c = from; c < to; c++) for (let m = 0; m < s.melBins; m++) mean[m] += bytes[c * s.melBins + m];
  let best = 0;
  for (let m = 1; m < s.melBins; m++) if (mean[m] > mean[best]) best = m;
  return best;
}

let studio: Studio;
let dir: string;
let dbPath: string;
const ids: Record<string, number> = {};

async function scan(s: Studio, folder: string): Promise<void> {
  const f = await call(s, 'library.addFolder', { path: folder });
  await call(s, 'library.scan', { folderId: f.id });
  for (let i = 0; i < 400; i++) {
    const st = await call(s, 'library.scanStatus', {});
    if (st && st.phase !== 'listing' && st.phase !== 'reading') break;
    await new Promise((r) => setTimeout(r, 25));
  }
  for (const t of (await call(s, 'tracks.list', { limit: 5000 })).tracks) ids[t.path.slice(folder.length + 1)] = t.id;
}

beforeAll(async () => {
  delete process.env.MUFUN_MODEL;
  dir = realpathSync(tmp('spectrogram-music'));
  writeTone(join(dir, 'high.wav'), 3, 2000);
  writeTone(join(dir, 'low.wav'), 3, 320); // on an FFT bin: below 1 kHz the mel filters are narrower than a bin
  writeTone(join(dir, 'long.wav'), 65, 1000, 16000, 0.2);
  writeTone(join(dir, 'changing.wav'), 2, 500);
  writeTone(join(dir, 'broken.wav'), 2, 500);
  writeTone(join(dir, 'gone.wav'), 2, 500);
  dbPath = join(tmp('spectrogram-db'), 'catalog.sqlite');
  // No model chosen and none embedded: 128 mel bins.
  studio = createServices({
    appVersion: 'test', dbPath, chatWorkerUrl: new URL('../src/main/chat/worker.ts', import.meta.url),
    embeddedModelDir: tmp('no-model'),
  });
  await scan(studio, dir);
});
afterAll(async () => studio?.close());

describe('spectrogram.get', () => {
  it("puts a tone's energy in the mel band of its frequency (128 bins when no model is chosen)", async () => {
    const high = await call(studio, 'spectrogram.get', { trackId: ids['high.wav'] });
    const low = await call(studio, 'spectrogram.get', { trackId: ids['low.wav'] });
    for (const s of [high, low]) {
      expect(s.melBins).toBe(128);
      expect(s.secondsPerColumn).toBeCloseTo(0.01, 6); // a 3 s track fits at full resolution
      expect(s.columns).toBe(300);
      expect(s.durationSec).toBeCloseTo(3, 2);
      expect(s.maxValue).toBeGreaterThan(s.minValue);
    }
    expect(Math.abs(loudestBin(high, 10, 290) - bandOf(2000, 128))).toBeLessThanOrEqual(1);
    expect(Math.abs(loudestBin(low, 10, 290) - bandOf(320, 128))).toBeLessThanOrEqual(1);
    expect(bandOf(2000, 128)).toBeGreaterThan(bandOf(320, 128) + 20);
  });

  it('uses the mel bin count of the chosen model', async () => {
    // The fixture checkpoint, said to have Whisper's 80-bin front end (describing reads the config only).
    const model = tmp('model80');
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(CHECKPOINT, f), join(model, f));
    const config = readFileSync(join(model, 'config.json'), 'utf8');
    writeFileSync(join(model, 'config.json'), config.replace('"num_mel_bins": 128', '"num_mel_bins": 80'));
    const other = createServices({
      appVersion: 'test', dbPath: join(tmp('spectrogram-db80'), 'catalog.sqlite'),
      chatWorkerUrl: new URL('../src/main/chat/worker.ts', import.meta.url),
      modelDir: model,
    });
    try {
      const folder = await call(other, 'library.addFolder', { path: dir });
      await call(other, 'library.scan', { folderId: folder.id });
      let id: number | undefined;
      for (let i = 0; i < 400 && id === undefined; i++) {
        id = (await call(other, 'tracks.list', { search: 'high' })).tracks[0]?.id;
        if (id === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      const s = await call(other, 'spectrogram.get', { trackId: id! });
      expect(s.melBins).toBe(80);
      expect(Math.abs(loudestBin(s, 10, 290) - bandOf(2000, 80))).toBeLessThanOrEqual(1);
    } finally {
      await other.close();
    }
  });

  it('computes a long file clip by clip and narrows it to the column budget', async () => {
    const full = await call(studio, 'spectrogram.get', { trackId: ids['long.wav'] });
    expect(full.durationSec).toBeCloseTo(65, 2);
    expect(full.columns).toBe(6500); // three clips (30 + 30 + 5 s) at 10 ms
    const narrow = await call(studio, 'spectrogram.get', { trackId: ids['long.wav'], maxColumns: 1000 });
    expect(narrow.columns).toBeLessThanOrEqual(1000);
    expect(narrow.columns * narrow.secondsPerColumn).toBeGreaterThanOrEqual(65);
    expect(Buffer.from(narrow.data, 'base64').length).toBe(narrow.columns * 128);
    // The 1 kHz tone is there in every clip, the short last one included.
    const per = Math.round(30 / narrow.secondsPerColumn);
    for (const [a, b] of [[2, per - 2], [per + 2, 2 * per - 2], [2 * per + 2, narrow.columns - 2]]) {
      expect(Math.abs(loudestBin(narrow, a, b) - bandOf(1000, 128))).toBeLessThanOrEqual(1);
    }
  });

  it('keeps at most its column budget when the length is not known beforehand (columns merge pairwise)', async () => {
    const s = await computeSpectrogram(join(dir, 'long.wav'), 128, null, 512);
    expect(s.columns).toBeLessThanOrEqual(512);
    expect(s.framesPerColumn).toBe(16); // 1 → 2 → … → 16 as 6500 frames arrive
    expect(s.columns).toBe(Math.ceil(6500 / 16));
    expect(s.data.length).toBe(s.columns * 128);
  });

  it('answers from the catalog the second time, and recomputes when the file changes', async () => {
    const id = ids['changing.wav'];
    const first = await call(studio, 'spectrogram.get', { trackId: id });
    expect(Math.abs(loudestBin(first, 5, 195) - bandOf(500, 128))).toBeLessThanOrEqual(1);

    const db = new Database(dbPath);
    try {
      const rows = () => db.prepare('SELECT min_value FROM spectrograms WHERE track_id = ?').all(id) as { min_value: number }[];
      expect(rows()).toHaveLength(1);
      // Mark the stored row: an answer carrying the mark came from the catalog, not the file.
      db.prepare('UPDATE spectrograms SET min_value = -123 WHERE track_id = ?').run(id);
      const second = await call(studio, 'spectrogram.get', { trackId: id });
      expect(second.minValue).toBe(-123);
      expect(second.data).toBe(first.data);

      // Same size, new content and mtime: recomputed (no re-scan needed).
      const file = join(dir, 'changing.wav');
      const { size } = statSync(file);
      writeTone(file, 2, 3000);
      expect(statSync(file).size).toBe(size);
      const later = new Date(Date.now() + 5000);
      utimesSync(file, later, later);
      const third = await call(studio, 'spectrogram.get', { trackId: id });
      expect(third.minValue).not.toBe(-123);
      expect(Math.abs(loudestBin(third, 5, 195) - bandOf(3000, 128))).toBeLessThanOrEqual(1);
      expect(rows()).toHaveLength(1);
      expect(rows()[0].min_value).toBe(third.minValue);

      // A longer file (new size) too.
      writeTone(file, 4, 500);
      const fourth = await call(studio, 'spectrogram.get', { trackId: id });
      expect(fourth.columns).toBe(400);
      expect(rows()).toHaveLength(1);
    } finally {
      db.close();
    }
  });

  it('a corrupt file gives a clear error naming the file and what is wrong, and caches nothing', async () => {
    const file = join(dir, 'broken.wav');
    const good = readHeader(file);
    writeFileSync(file, Buffer.concat([good, Buffer.from('this is not audio at all '.repeat(40))]));
    await expect(call(studio, 'spectrogram.get', { trackId: ids['broken.wav'] })).rejects.toThrow(
      /^failed: \/.*\/broken\.wav: the WAV data chunk says \d+ bytes but only 1000 are in the file/,
    );
    writeFileSync(file, 'not a sound file at all');
    await expect(call(studio, 'spectrogram.get', { trackId: ids['broken.wav'] })).rejects.toThrow(
      /^failed: \/.*\/broken\.wav: the content is not wav audio/,
    );
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT COUNT(*) AS n FROM spectrograms WHERE track_id = ?').get(ids['broken.wav'])).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('a missing file or track is not-found; bad arguments are refused', async () => {
    rmSync(join(dir, 'gone.wav'));
    await expect(call(studio, 'spectrogram.get', { trackId: ids['gone.wav'] })).rejects.toThrow(/^not-found: .*gone\.wav/);
    await expect(call(studio, 'spectrogram.get', { trackId: 99999 })).rejects.toThrow(/^not-found: no track 99999/);
    await expect(call(studio, 'spectrogram.get', { trackId: ids['high.wav'], maxColumns: 3 })).rejects.toThrow(/^invalid-args: spectrogram.get: .*maxColumns/);
    await expect(call(studio, 'spectrogram.get', { trackId: 'x' as unknown as number })).rejects.toThrow(/^invalid-args: /);
  });
});

/** The first 44 bytes of a WAV (a header that promises more than the file will hold). */
function readHeader(file: string): Buffer {
  const b = Buffer.alloc(44);
  b.set(readFileSync(file).subarray(0, 44));
  return b;
}
