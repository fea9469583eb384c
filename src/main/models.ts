// Which model chat uses: the folder chosen on the Models page, else `--model` / MUFUN_MODEL,
// else the embedded default model (resources/mufun-nano), else none (said plainly).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ModelChoice, ModelInfo } from '../shared/api.js';
import { ServiceError } from '../shared/api.js';
import { DEFAULT_MODEL_NAME, defaultModelDir } from '../model/default-model.js';
import { describeModel } from '../model/describe.js';
import { clipSamples } from '../model/config.js';
import { isConverted, readManifest } from '../model/converted.js';
import type { SettingsStore } from './catalog/settings.js';
import { readConfig } from './memory.js';

/** What the studio notes next to a model it converted (the parameter count the graphs no longer say). */
export const STUDIO_NOTE = 'mufun_studio.json';
export interface StudioNote {
  parameters: number;
  source: string;
  name: string;
}

export function readStudioNote(dir: string): StudioNote | null {
  try {
    return JSON.parse(readFileSync(join(dir, STUDIO_NOTE), 'utf8')) as StudioNote;
  } catch {
    return null;
  }
}

/**
 * describeModel for any model folder chat can load: a Hugging Face MuFun folder, or a
 * `mufun convert` folder (no safetensors: its config.json and manifest, and the parameter count
 * from the studio's note or the folder it came from; 0 when neither says).
 */
export async function describeFolder(dir: string): Promise<ModelInfo> {
  if (!isConverted(dir)) return describeModel(dir);
  const manifest = readManifest(dir);
  const cfg = readConfig(dir);
  let parameters = readStudioNote(dir)?.parameters ?? 0;
  if (!parameters) parameters = await describeModel(manifest.source.dir).then((i) => i.parameters, () => 0);
  return {
    dir,
    modelType: cfg.modelType,
    llm: { type: cfg.llm.type, hiddenSize: cfg.llm.hiddenSize, layers: cfg.llm.layers, heads: cfg.llm.heads, kvHeads: cfg.llm.kvHeads, vocabSize: cfg.llm.vocabSize },
    audioTower: { type: cfg.audioTower.type, dModel: cfg.audioTower.dModel, layers: cfg.audioTower.layers, melBins: cfg.audioTower.melBins, clipSeconds: clipSamples(cfg.audioTower) / 16000 },
    connector: cfg.connectorType,
    parameters,
  };
}

const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];

export class ModelResolver {
  private described = new Map<string, Promise<ModelInfo>>();

  constructor(
    private readonly settings: SettingsStore,
    private readonly flagDir?: string,
    private readonly embeddedDir?: string,
  ) {}

  private describe(dir: string): Promise<ModelInfo> {
    let d = this.described.get(dir);
    if (!d) {
      d = describeFolder(dir);
      d.catch(() => this.described.delete(dir));
      this.described.set(dir, d);
    }
    return d;
  }

  /** The embedded model's folder, when it is installed. */
  private embedded(): string | null {
    if (this.embeddedDir) return existsSync(join(this.embeddedDir, 'config.json')) ? this.embeddedDir : null;
    const saved = process.env.MUFUN_MODEL;
    try {
      delete process.env.MUFUN_MODEL; // defaultModelDir() prefers it; here we want resources/ only
      return defaultModelDir();
    } catch {
      return null;
    } finally {
      if (saved !== undefined) process.env.MUFUN_MODEL = saved;
    }
  }

  async current(): Promise<ModelChoice> {
    const chosen = this.settings.all().modelDir;
    const env = this.flagDir ?? process.env.MUFUN_MODEL ?? null;
    const [dir, source] = chosen ? [chosen, 'setting' as const] : env ? [env, 'environment' as const] : [this.embedded(), 'embedded' as const];
    if (!dir) {
      return {
        dir: null, name: null, source: 'none', info: null,
        problem: `No model is installed: the embedded model (resources/${DEFAULT_MODEL_NAME}) is not there yet. Choose a MuFun model folder on the Models page.`,
      };
    }
    try {
      return { dir, name: basename(dir), source, info: await this.describe(dir), problem: null };
    } catch (e) {
      return {
        dir: null, name: basename(dir), source, info: null,
        problem: `The model folder ${dir} cannot be used: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  }

  /** Checks a folder (config, weights, tokenizer) and saves it as the chat model; null = default. */
  async choose(dir: string | null): Promise<ModelChoice> {
    if (dir !== null) {
      this.described.delete(dir);
      try {
        await this.describe(dir);
      } catch (e) {
        throw new ServiceError('invalid-args', `${dir} is not a MuFun model folder: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (!TOKENIZER_FILES.some((f) => existsSync(join(dir, f)))) {
        throw new ServiceError('invalid-args', `${dir} has no tokenizer (tokenizer.json or tokenizer_config.json)`);
      }
    }
    this.settings.set('modelDir', dir);
    return this.current();
  }
}
