// A Hugging Face MuFun folder: config.json plus model.safetensors, or shards listed in
// model.safetensors.index.json. Tensors are read lazily, one at a time, converted to
// the dtype the session needs.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsFile, type TensorEntry } from './safetensors.js';

export class CheckpointError extends Error {}

export interface WeightSource {
  has(name: string): boolean;
  shape(name: string): number[];
  float32(name: string): Float32Array;
  names(): string[];
  /** Identifies the weights for the exported-graph cache. */
  sourceId(): string;
  /** Synthetic sources (benchmarks) make any tensor asked for, of the shape asked for. */
  synthesize?(name: string, shape: number[]): Float32Array;
}

export class Checkpoint implements WeightSource {
  private files = new Map<string, SafetensorsFile>();
  private where = new Map<string, SafetensorsFile>();

  private constructor(
    readonly dir: string,
    readonly rawConfig: Record<string, any>,
  ) {}

  static open(dir: string): Checkpoint {
    const cfgPath = join(dir, 'config.json');
    if (!existsSync(dir)) throw new CheckpointError(`model folder ${dir} does not exist`);
    if (!existsSync(cfgPath)) throw new CheckpointError(`${dir}: no config.json (is this a MuFun model folder?)`);
    let raw: Record<string, any>;
    try {
      raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
    } catch (e) {
      throw new CheckpointError(`${cfgPath}: malformed JSON (${(e as Error).message})`);
    }
    const ck = new Checkpoint(dir, raw);
    ck.indexWeights();
    return ck;
  }

  private indexWeights(): void {
    const index = join(this.dir, 'model.safetensors.index.json');
    const single = join(this.dir, 'model.safetensors');
    let shards: string[];
    let weightMap: Record<string, string> | null = null;
    if (existsSync(index)) {
      try {
        weightMap = JSON.parse(readFileSync(index, 'utf8')).weight_map;
      } catch (e) {
        throw new CheckpointError(`${index}: malformed JSON (${(e as Error).message})`);
      }
      if (!weightMap || typeof weightMap !== 'object') throw new CheckpointError(`${index}: no weight_map`);
      shards = [...new Set(Object.values(weightMap))];
    } else if (existsSync(single)) {
      shards = ['model.safetensors'];
    } else {
      throw new CheckpointError(`${this.dir}: no model.safetensors or model.safetensors.index.json`);
    }
    for (const shard of shards) {
      const p = join(this.dir, shard);
      if (!existsSync(p)) throw new CheckpointError(`${this.dir}: shard ${shard} listed in the index is missing`);
      const f = SafetensorsFile.open(p);
      this.files.set(shard, f);
      for (const name of f.tensors.keys()) this.where.set(name, f);
    }
    if (weightMap) {
      for (const [name, shard] of Object.entries(weightMap)) {
        if (!this.files.get(shard)?.tensors.has(name)) {
          throw new CheckpointError(`${this.dir}: index says ${name} is in ${shard}, but it is not there`);
        }
      }
    }
  }

  names(): string[] {
    return [...this.where.keys()];
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private entry(name: string): [SafetensorsFile, TensorEntry] {
    const f = this.where.get(name);
    if (!f) throw new CheckpointError(`${this.dir}: missing tensor ${name}`);
    return [f, f.entry(name)];
  }

  shape(name: string): number[] {
    return this.entry(name)[1].shape;
  }

  dtype(name: string): string {
    return this.entry(name)[1].dtype;
  }

  float32(name: string): Float32Array {
    const [f] = this.entry(name);
    return f.float32(name);
  }

  /** Identifies these exact weight files (path, size, mtime) for the exported-graph cache. */
  sourceId(): string {
    const parts = [...this.files.keys()].sort().map((shard) => {
      const st = statSync(join(this.dir, shard));
      return `${shard}:${st.size}:${st.mtimeMs}`;
    });
    return `${realpathSync(this.dir)}|${parts.join('|')}`;
  }

  /** Total bytes of the stored tensors (for memory estimates). */
  storedBytes(): number {
    let n = 0;
    for (const f of this.files.values()) for (const t of f.tensors.values()) n += t.end - t.begin;
    return n;
  }

  close(): void {
    for (const f of this.files.values()) f.close();
    this.files.clear();
    this.where.clear();
  }
}
