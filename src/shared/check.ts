// Hand-written runtime checks for values that cross a process boundary (IPC, HTTP).
// A Check<T> either returns the value typed as T or throws a CheckError naming where it failed.
// Pure TypeScript: no Node, DOM or Electron, so main, preload, renderer, CLI and server share it.

export class CheckError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'CheckError';
  }
}

export type Check<T> = (value: unknown, path: string) => T;

export interface StringRules {
  /** Reject "" and strings of only whitespace. */
  nonEmpty?: boolean;
  maxLength?: number;
}

export function string(rules: StringRules = {}): Check<string> {
  const { nonEmpty = false, maxLength = Number.POSITIVE_INFINITY } = rules;
  return (value, path) => {
    if (typeof value !== 'string') throw new CheckError(path, 'expected a string');
    if (nonEmpty && value.trim() === '') throw new CheckError(path, 'expected a non-empty string');
    if (value.length > maxLength) throw new CheckError(path, `expected at most ${maxLength} characters`);
    if (value.includes('\0')) throw new CheckError(path, 'expected no NUL characters');
    return value;
  };
}

type Shape = Record<string, Check<unknown>>;
export type Checked<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** A plain object with exactly the keys of `shape` (unknown keys are rejected, not dropped). */
export function object<S extends Shape>(shape: S): Check<Checked<S>> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new CheckError(path, 'expected an object');
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!Object.hasOwn(shape, key)) throw new CheckError(`${path}.${key}`, 'is not a known field');
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) {
      out[key] = shape[key](record[key], `${path}.${key}`);
    }
    return out as Checked<S>;
  };
}
