// What the e2e tests need around the app: a tiny chat model, generated music, and a running
// `mufun serve` (started on a free port with its own catalog, its URL read from its output).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Page, expect } from '@playwright/test';
import { encodeWav } from '../src/model/audio/wav.js';
import { tinyChatModel as fixtureChatModel } from '../test/helpers/chat-model.js';

export const ROOT = join(import.meta.dirname, '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mufun-e2e-${prefix}-`));
}

/**
 * The fixture chat model with a 16k context (RoPE has no learned positions, so only the limit
 * moves): a 4096-token answer then takes many seconds even on a fast CI machine, and the
 * "stop" step always catches the answer while it is still streaming.
 */
export function tinyChatModel(): string {
  const dir = fixtureChatModel();
  const path = join(dir, 'config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.text_config.max_position_embeddings = 16384;
  config.tokenizer_model_max_length = 16384;
  writeFileSync(path, JSON.stringify(config, null, 2));
  return dir;
}

/** A chord with a slow swell, so the waveform has a shape. */
export function writeTone(path: string, seconds: number, freqs: number[], rate = 22050): void {
  const n = Math.round(seconds * rate);
  const l = new Float32Array(n), r = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = 0.25 + 0.2 * Math.sin(2 * Math.PI * 0.4 * t);
    for (const f of freqs) l[i] += (env / freqs.length) * Math.sin(2 * Math.PI * f * t);
    r[i] = l[i] * 0.8;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeWav([l, r], rate));
}

/** Three tracks in nested folders: Blues riff (6 s), Chords (4 s), Deep tone (9 s). */
export function writeMusic(): string {
  const dir = tempDir('music');
  writeTone(join(dir, 'Blues riff.wav'), 6, [196, 233.08, 293.66]);
  writeTone(join(dir, 'session', 'Chords.wav'), 4, [261.63, 329.63, 392]);
  writeTone(join(dir, 'session', 'deeper', 'Deep tone.wav'), 9, [55, 110]);
  return dir;
}

export interface Serve {
  url: string;
  base: string;
  token: string;
  proc: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startServe(opts: { db: string; model?: string; env?: Record<string, string> }): Promise<Serve> {
  const args = ['bin/mufun.js', 'serve', '--port', '0', '--db', opts.db];
  if (opts.model) args.push('--model', opts.model);
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mufun serve did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mufun serve exited (${code}):\n${out}`));
    });
  });
  const u = new URL(url);
  return {
    url,
    base: u.origin,
    token: u.searchParams.get('token')!,
    proc,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill(signal);
      }),
  };
}

/** Calls the API directly, as the page does. */
export async function api<T = unknown>(s: Serve, name: string, args: unknown = {}): Promise<T> {
  const res = await fetch(`${s.base}/api/${name}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-mufun-token': s.token },
    body: JSON.stringify(args),
  });
  const body = (await res.json()) as { ok: boolean; value?: T; error?: { message: string } };
  if (!body.ok) throw new Error(`${name}: ${body.error?.message}`);
  return body.value as T;
}

/** Collects what must never happen on a page: Content Security Policy refusals and uncaught errors. */
export function watchPageErrors(page: Page, into: string[]): void {
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) into.push(m.text());
  });
  page.on('pageerror', (e) => into.push(`page error: ${e.message}`));
}

/** Adds `folder` to the studio's library and waits until its scan is done. */
export async function scanLibrary(s: Serve, folder: string): Promise<void> {
  const { id } = await api<{ id: number }>(s, 'library.addFolder', { path: folder });
  await api(s, 'library.scan', { folderId: id });
  await expect.poll(async () => (await api<{ phase: string } | null>(s, 'library.scanStatus'))?.phase).toBe('done');
}
