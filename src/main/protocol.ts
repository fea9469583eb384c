// The app:// scheme that serves the renderer inside Electron: index.html with a per-launch
// style nonce in its CSP, the built assets, and library audio (Range requests) for playback.
import { Readable } from 'node:stream';
import { protocol } from 'electron';
import type { Studio } from './services.js';
import { mediaReply } from './web/media.js';
import { newNonce, type RendererFiles } from './web/page.js';

export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://studio`;

/** Must run before app 'ready'. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
  ]);
}

export function handleAppScheme(renderer: RendererFiles, studio: Studio): void {
  const nonce = newNonce(); // one per launch: the page is loaded once per window
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.origin !== APP_ORIGIN) return new Response('Not found', { status: 404 });
    if (url.pathname === '/' || url.pathname === '/index.html') {
      const { html, csp } = renderer.indexHtml(nonce);
      return new Response(html, { headers: { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp } });
    }
    const media = /^\/media\/track\/(\d+)$/.exec(url.pathname);
    if (media) {
      try {
        const file = await studio.mediaFile(Number(media[1]));
        const r = await mediaReply(file, request.headers.get('range'));
        const body = r.body ? (Readable.toWeb(r.body) as unknown as ReadableStream) : null;
        return new Response(body, { status: r.status, headers: r.headers });
      } catch (e) {
        return new Response((e as Error).message, { status: 404 });
      }
    }
    const asset = await renderer.asset(url.pathname);
    if (!asset) return new Response('Not found', { status: 404 });
    return new Response(new Uint8Array(asset.body), { headers: { 'content-type': asset.type } });
  });
}
