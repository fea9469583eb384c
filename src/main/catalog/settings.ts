// Settings: one JSON value per key, read with defaults, so a new setting needs no migration.
import type { GenerationSettings, Settings } from '../../shared/api.js';
import type { Db } from './db.js';

export const DEFAULT_GENERATION: GenerationSettings = {
  maxNewTokens: 256,
  minNewTokens: 0,
  temperature: 0,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  seed: 0,
};

export const DEFAULT_SETTINGS: Settings = { modelDir: null, provider: 'cpu', generation: DEFAULT_GENERATION };

export class SettingsStore {
  constructor(private readonly db: Db) {}

  all(): Settings {
    const rows = this.db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[];
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS };
    for (const r of rows) {
      if (!Object.hasOwn(DEFAULT_SETTINGS, r.key)) continue;
      const value = JSON.parse(r.value);
      // An object saved by an older version gets the fields added since from the defaults.
      const fallback = DEFAULT_SETTINGS[r.key as keyof Settings];
      out[r.key] = fallback && typeof fallback === 'object' && value && typeof value === 'object' ? { ...fallback, ...value } : value;
    }
    return out as unknown as Settings;
  }

  set<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }
}
