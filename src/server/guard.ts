// Who may talk to `mufun serve`: requests must name an allowed Host (no DNS rebinding), come
// from the studio's own origin when a browser says where they come from, and carry the
// per-launch token.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** The host names the server answers to, for its bind address. */
export function allowedHostnames(bind: string): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  if (bind === '0.0.0.0' || bind === '::') {
    names.add(hostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.family === 'IPv6' ? `[${a.address}]` : a.address);
    }
  } else {
    names.add(bind.includes(':') ? `[${bind}]` : bind.toLowerCase());
  }
  return names;
}

export class Guard {
  constructor(
    private readonly token: string,
    private readonly hostnames: Set<string>,
    private readonly port: () => number,
  ) {}

  /** The Host header names this server (hostname we answer to, and our port). */
  hostOk(req: IncomingMessage): boolean {
    const host = (req.headers.host ?? '').toLowerCase();
    const m = /^(\[[0-9a-f:.]+\]|[^:]+):(\d+)$/.exec(host);
    return !!m && this.hostnames.has(m[1]) && Number(m[2]) === this.port();
  }

  /** No Origin (not a browser, or a same-origin GET), or exactly our own. */
  originOk(req: IncomingMessage, required = false): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return !required;
    return origin.toLowerCase() === `http://${(req.headers.host ?? '').toLowerCase()}`;
  }

  tokenOk(given: string | null | undefined): boolean {
    if (typeof given !== 'string') return false;
    const a = Buffer.from(given), b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
