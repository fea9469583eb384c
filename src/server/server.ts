// `mufun serve`: the studio over HTTP + WebSocket. POST /api/<call> runs the same dispatch()
// as Electron IPC; /events is the WebSocket of service events; /media/track/<id> streams a
// library track (Range requests); everything else is the built renderer.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventMessage } from '../shared/api.js';
import { dispatch } from '../shared/dispatch.js';
import type { Studio } from '../main/services.js';
import { mediaReply } from '../main/web/media.js';
import { newNonce, type RendererFiles } from '../main/web/page.js';
import { allowedHostnames, Guard } from './guard.js';
import { EventSocket } from './websocket.js';

export interface ServeOptions {
  studio: Studio;
  renderer: RendererFiles;
  host: string;
  /** 0 = any free port. */
  port: number;
  /** Default: 32 random bytes, new at each launch. */
  token?: string;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8', { 'cache-control': 'no-store' });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const token = o.token ?? randomBytes(32).toString('base64url');
  let port = o.port;
  const guard = new Guard(token, allowedHostnames(o.host), () => port);
  const sockets = new Set<EventSocket>();

  const unsubscribe = o.studio.onEvent((event, payload) => {
    const text = JSON.stringify({ event, payload } satisfies EventMessage);
    for (const s of sockets) s.send(text);
  });

  const forbidden = (res: ServerResponse, why: string) => sendJson(res, 403, { ok: false, error: { code: 'forbidden', message: why } });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!guard.hostOk(req)) return send(res, 421, 'Misdirected request: unknown Host\n');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;

    if (path.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, 'Use POST\n', undefined, { allow: 'POST' });
      if (!guard.originOk(req)) return forbidden(res, 'cross-origin calls are refused');
      if (!guard.tokenOk(req.headers['x-mufun-token'] as string | undefined)) return forbidden(res, 'missing or wrong token (open the URL that mufun serve printed)');
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        return sendJson(res, 415, { ok: false, error: { code: 'invalid-args', message: 'send the arguments as application/json' } });
      }
      let args: unknown;
      try {
        args = JSON.parse(await readBody(req));
      } catch (e) {
        return sendJson(res, 400, { ok: false, error: { code: 'invalid-args', message: `the body is not JSON: ${(e as Error).message}` } });
      }
      const response = await dispatch(o.studio.handlers, decodeURIComponent(path.slice(5)), args);
      return sendJson(res, 200, response);
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed\n', undefined, { allow: 'GET, HEAD' });

    const media = /^\/media\/track\/(\d+)$/.exec(path);
    if (media) {
      if (!guard.originOk(req)) return forbidden(res, 'cross-origin media requests are refused');
      if (!guard.tokenOk(url.searchParams.get('token'))) return forbidden(res, 'missing or wrong token');
      let file: string;
      try {
        file = await o.studio.mediaFile(Number(media[1]));
      } catch (e) {
        return send(res, 404, `${(e as Error).message}\n`);
      }
      const r = await mediaReply(file, req.headers.range, req.method === 'HEAD');
      res.writeHead(r.status, { ...SECURITY_HEADERS, ...r.headers });
      if (r.body) r.body.pipe(res);
      else res.end();
      return;
    }

    if (path === '/' || path === '/index.html') {
      if (!guard.tokenOk(url.searchParams.get('token'))) {
        return send(res, 403, 'MuFun Studio: open the URL that `mufun serve` printed (it carries this launch\'s token).\n');
      }
      const { html, csp } = o.renderer.indexHtml(newNonce());
      return send(res, 200, req.method === 'HEAD' ? '' : html, 'text/html; charset=utf-8', {
        'content-security-policy': csp,
        'cache-control': 'no-store',
      });
    }

    const asset = await o.renderer.asset(path);
    if (!asset) return send(res, 404, 'Not found\n');
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'failed', message: (e as Error).message } });
      else res.destroy();
    });
  });

  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/events') return refuse('404 Not Found');
    if (!guard.hostOk(req)) return refuse('421 Misdirected Request');
    if (!guard.originOk(req, true)) return refuse('403 Forbidden');
    if (!guard.tokenOk(url.searchParams.get('token'))) return refuse('403 Forbidden');
    const ws = EventSocket.accept(req, socket, () => sockets.delete(ws!));
    if (!ws) return refuse('400 Bad Request');
    sockets.add(ws);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const shownHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    port,
    token,
    async close() {
      unsubscribe();
      for (const s of sockets) s.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
