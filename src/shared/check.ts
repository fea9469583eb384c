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

export interface NumberRules {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** A finite number (never NaN or ±Infinity), optionally whole and within [min, max]. */
export function number(rules: NumberRules = {}): Check<number> {
  const { min = -Number.MAX_VALUE, max = Number.MAX_VALUE, integer = false } = rules;
  return (value, path) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new CheckError(path, 'expected a finite number');
    if (integer && !Number.isInteger(value)) throw new CheckError(path, 'expected a whole number');
    if (value < min) throw new CheckError(path, `expected at least ${min}`);
    if (value > max) throw new CheckError(path, `expected at most ${max}`);
    return value;
  };
}

/** A database id: a positive whole number. */
export const id = (): Check<number> => number({ min: 1, integer: true, max: Number.MAX_SAFE_INTEGER });

export function boolean(): Check<boolean> {
  return (value, path) => {
    if (typeof value !== 'boolean') throw new CheckError(path, 'expected true or false');
    return value;
  };
}

/** One of a fixed set of strings. */
export function oneOf<const T extends readonly string[]>(values: T): Check<T[number]> {
  return (value, path) => {
    if (typeof value !== 'string' || !values.includes(value)) {
      throw new CheckError(path, `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    return value as T[number];
  };
}

/** An array of at most `maxLength` items, each checked. */
export function array<T>(item: Check<T>, { maxLength = 10_000 }: { maxLength?: number } = {}): Check<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new CheckError(path, 'expected an array');
    if (value.length > maxLength) throw new CheckError(path, `expected at most ${maxLength} items`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

/** The field may be absent (undefined); when present it must pass `check`. */
export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (value, path) => (value === undefined ? undefined : check(value, path));
}

/** null is allowed; anything else must pass `check`. */
export function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

/** Runs `check`, then a rule over the whole value (e.g. start < end). */
export function refine<T>(check: Check<T>, rule: (value: T) => string | null): Check<T> {
  return (value, path) => {
    const v = check(value, path);
    const problem = rule(v);
    if (problem) throw new CheckError(path, problem);
    return v;
  };
}
