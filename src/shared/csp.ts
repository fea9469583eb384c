// The renderer's Content-Security-Policy, in one place: the build writes it into index.html
// as a <meta> tag, and whoever serves the page (the Electron main process, `mufun serve`) sends
// it as a header, with a per-launch style nonce (wavesurfer.js puts a <style> in its shadow DOM
// and takes the nonce through its cspNonce option; no 'unsafe-inline' styles in a build).

export function contentSecurityPolicy({ dev, styleNonce }: { dev: boolean; styleNonce?: string }): string {
  const styles = ["'self'"];
  // Vite's dev server injects component CSS as <style> elements; the build emits files.
  if (dev) styles.push("'unsafe-inline'");
  else if (styleNonce) styles.push(`'nonce-${styleNonce}'`);
  const directives: Record<string, string[]> = {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'style-src': styles,
    'img-src': ["'self'", 'data:', 'blob:'],
    'media-src': ["'self'", 'blob:'],
    'font-src': ["'self'"],
    // 'self' covers same-origin fetch and WebSocket (HMR in dev, events in `mufun serve`).
    'connect-src': ["'self'"],
    'worker-src': ["'self'", 'blob:'],
    'object-src': ["'none'"],
    'frame-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
  };
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** The <meta> through which the page learns its style nonce (read by the renderer). */
export const STYLE_NONCE_META = 'mufun-style-nonce';
