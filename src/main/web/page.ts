// The built renderer as served (by `mufun serve` over HTTP, by the Electron app over its app://
// scheme): index.html with the CSP carrying a fresh style nonce, and the static assets.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { contentSecurityPolicy, STYLE_NONCE_META } from '../../shared/csp.js';

export const newNonce = (): string => randomBytes(18).toString('base64url');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

export function contentType(file: string): string {
  return TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export class RendererFiles {
  constructor(readonly dir: string) {
    if (!existsSync(join(dir, 'index.html'))) {
      throw new Error(`the studio's renderer is not built (${join(dir, 'index.html')} is missing): run npm run build:app`);
    }
  }

  /** index.html with its CSP <meta> holding `nonce`, and the nonce exposed to the page. */
  indexHtml(nonce: string): { html: string; csp: string } {
    const csp = contentSecurityPolicy({ dev: false, styleNonce: nonce });
    let html = readFileSync(join(this.dir, 'index.html'), 'utf8');
    const meta = /<meta http-equiv="Content-Security-Policy" content="[^"]*"\s*\/?>/;
    if (!meta.test(html)) throw new Error('the built index.html has no Content-Security-Policy <meta>');
    html = html.replace(meta, `<meta http-equiv="Content-Security-Policy" content="${csp}" />\n    <meta name="${STYLE_NONCE_META}" content="${nonce}" />`);
    return { html, csp };
  }

  /** A static asset by URL path, or null (outside the folder, absent, or a folder). */
  async asset(urlPath: string): Promise<{ body: Buffer; type: string } | null> {
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath).replace(/^\/+/, '');
    } catch {
      return null;
    }
    if (rel.includes('\0')) return null;
    const file = normalize(join(this.dir, rel));
    if (!file.startsWith(normalize(this.dir) + sep)) return null;
    const st = await stat(file).catch(() => null);
    if (!st?.isFile()) return null;
    return { body: await readFile(file), type: contentType(file) };
  }
}
