// Settings live in the catalog as JSON per key; a value saved by an older version still reads
// as a whole setting (fields added since take their defaults), and updates are checked.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DEFAULT_GENERATION, SettingsStore } from '../src/main/catalog/settings.js';
import { openCatalog } from '../src/main/catalog/db.js';
import { call, studioAt, tmp } from './helpers/datasets.js';

const dbPath = join(tmp('settings'), 'catalog.sqlite');

it('generation settings saved before minNewTokens existed read with minNewTokens 0', async () => {
  const db = openCatalog(dbPath);
  const old = { maxNewTokens: 99, temperature: 0.7, topK: 5, topP: 0.9, repetitionPenalty: 1.1, seed: 3 };
  db.prepare("INSERT INTO settings (key, value) VALUES ('generation', ?)").run(JSON.stringify(old));
  expect(new SettingsStore(db).all().generation).toEqual({ ...old, minNewTokens: 0 });
  db.close();

  const studio = studioAt(dbPath);
  try {
    const s = await call(studio, 'settings.get', {});
    expect(s.generation.minNewTokens).toBe(0);
    const updated = await call(studio, 'settings.update', { generation: { ...s.generation, minNewTokens: 64 } });
    expect(updated.generation).toEqual({ ...old, minNewTokens: 64 });
    await expect(call(studio, 'settings.update', { generation: { ...DEFAULT_GENERATION, minNewTokens: -1 } })).rejects.toThrow(/minNewTokens/);
  } finally {
    await studio.close();
  }
});
