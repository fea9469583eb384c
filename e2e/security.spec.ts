// `mufun serve`'s boundary, over plain HTTP: token, Host, Origin, file access, and a scan
// killed midway that loses no catalog rows.
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';
import { api, type Serve, startServe, tempDir, writeMusic, writeTone } from './helpers.js';

test.describe.configure({ mode: 'serial' });

let serve: Serve;
let db: string;

test.beforeAll(async () => {
  db = join(tempDir('db'), 'catalog.sqlite');
  serve = await startServe({ db, env: { MUFUN_MODEL: '', MUFUN_RESOURCES: tempDir('resources') } });
});
test.afterAll(async () => serve?.stop());

/** A raw GET with any headers (fetch may not set Host). */
function get(s: Serve, path: string, headers: Record<string, string> = {}): Promise<number> {
  const u = new URL(s.base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

test('calls need the token, our Host and our Origin', async () => {
  const call = (headers: Record<string, string>) =>
    fetch(`${serve.base}/api/chat.list`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  expect((await call({})).status).toBe(403);
  expect((await call({ 'x-mufun-token': 'wrong' })).status).toBe(403);
  expect((await call({ 'x-mufun-token': serve.token })).status).toBe(200);
  expect((await call({ 'x-mufun-token': serve.token, origin: 'http://evil.example' })).status).toBe(403);
  expect((await call({ 'x-mufun-token': serve.token, origin: serve.base })).status).toBe(200);
  expect(await get(serve, `/?token=${serve.token}`, { host: 'evil.example' })).toBe(421);
  expect(await get(serve, '/')).toBe(403);
  expect(await get(serve, `/?token=${serve.token}`)).toBe(200);
  // Bad arguments are refused by the shared checks, with the field named.
  const bad = await (await call({ 'x-mufun-token': serve.token })).json();
  expect(bad.ok).toBe(true);
  const r = await fetch(`${serve.base}/api/tracks.list`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-mufun-token': serve.token }, body: '{"sort":"nope"}',
  });
  expect(await r.json()).toMatchObject({ ok: false, error: { code: 'invalid-args', message: expect.stringContaining('args.sort') } });
});

test('the event socket needs the token and our Origin', async () => {
  const ws = (path: string, origin: string) =>
    new Promise<number>((resolve, reject) => {
      const u = new URL(serve.base);
      const req = httpRequest({
        host: u.hostname, port: u.port, path,
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', origin },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve(res.statusCode ?? 0);
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('error', reject);
      req.end();
    });
  expect(await ws('/events', serve.base)).toBe(403);
  expect(await ws(`/events?token=${serve.token}`, 'http://evil.example')).toBe(403);
  expect(await ws(`/events?token=${serve.token}`, serve.base)).toBe(101);
});

test('audio streams with Range, only for tracks inside library folders', async () => {
  const music = writeMusic();
  const folder = await api<{ id: number }>(serve, 'library.addFolder', { path: music });
  await api(serve, 'library.scan', { folderId: folder.id });
  await expect.poll(async () => (await api<{ phase: string } | null>(serve, 'library.scanStatus'))?.phase).toBe('done');
  const { tracks } = await api<{ tracks: { id: number; size: number }[] }>(serve, 'tracks.list', {});
  const t = tracks[0];
  const res = await fetch(`${serve.base}/media/track/${t.id}?token=${serve.token}`, { headers: { range: 'bytes=10-109' } });
  expect(res.status).toBe(206);
  expect(res.headers.get('content-range')).toBe(`bytes 10-109/${t.size}`);
  expect((await res.arrayBuffer()).byteLength).toBe(100);
  expect((await fetch(`${serve.base}/media/track/${t.id}`)).status).toBe(403);
  expect((await fetch(`${serve.base}/media/track/999999?token=${serve.token}`)).status).toBe(404);
  // Not a path API: only catalogued ids; relative paths and files are refused as folders.
  await expect(api(serve, 'library.addFolder', { path: 'relative/dir' })).rejects.toThrow(/full path/);
});

test('a scan killed midway loses no rows, and the next scan finishes the job', async () => {
  const many = tempDir('many');
  for (let i = 0; i < 300; i++) writeTone(join(many, `d${i % 7}`, `t${String(i).padStart(3, '0')}.wav`), 0.5, [220 + i], 8000);
  writeFileSync(join(many, 'broken.wav'), 'RIFF....WAVEnot really');
  const folder = await api<{ id: number }>(serve, 'library.addFolder', { path: many });
  await api(serve, 'library.scan', { folderId: folder.id });
  let done = 0;
  await expect.poll(async () => (done = (await api<{ filesDone: number } | null>(serve, 'library.scanStatus'))?.filesDone ?? 0), { intervals: [20] }).toBeGreaterThan(20);
  await serve.stop('SIGKILL');
  serve = await startServe({ db, env: { MUFUN_MODEL: '', MUFUN_RESOURCES: tempDir('resources') } });
  const folders = await api<{ id: number; trackCount: number }[]>(serve, 'library.folders');
  const kept = folders.find((f) => f.id === folder.id)!.trackCount;
  expect(kept).toBeGreaterThanOrEqual(done - 1); // at most the file in flight
  expect(kept).toBeLessThan(301);
  await api(serve, 'library.scan', { folderId: folder.id });
  await expect.poll(async () => (await api<{ phase: string } | null>(serve, 'library.scanStatus'))?.phase, { timeout: 60_000 }).toBe('done');
  const status = await api<{ unchanged: number; added: number; failed: number }>(serve, 'library.scanStatus');
  expect(status.unchanged).toBeGreaterThanOrEqual(kept - 1);
  const after = (await api<{ id: number; trackCount: number }[]>(serve, 'library.folders')).find((f) => f.id === folder.id)!;
  expect(after.trackCount).toBe(301); // 300 tones + the unreadable file, catalogued with its error
  const broken = await api<{ tracks: { error: string | null }[] }>(serve, 'tracks.list', { search: 'broken' });
  expect(broken.tracks[0].error).toBeTruthy();
});
