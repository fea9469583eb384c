// Which model to use when none is named: MUFUN_MODEL, else the model shipped in resources/
// (MUFUN_RESOURCES points elsewhere, e.g. an empty folder for "no model installed").
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const PACKAGE_ROOT = join(import.meta.dirname, '..', '..', '..');
export const DEFAULT_MODEL_NAME = 'mufun-nano';

export function defaultModelDir(): string {
  const env = process.env.MUFUN_MODEL;
  if (env) return env;
  const roots = process.env.MUFUN_RESOURCES ? [process.env.MUFUN_RESOURCES] : [join(PACKAGE_ROOT, 'resources'), join(PACKAGE_ROOT, '..', 'resources')];
  for (const root of roots) {
    const dir = join(root, DEFAULT_MODEL_NAME);
    if (existsSync(join(dir, 'config.json'))) return dir;
  }
  throw new Error(`no model given (--model DIR) and no default model in resources/${DEFAULT_MODEL_NAME} (set MUFUN_MODEL to choose one)`);
}
