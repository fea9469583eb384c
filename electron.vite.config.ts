import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { contentSecurityPolicy } from './src/shared/csp.js';

/** Fills index.html's CSP <meta> from src/shared/csp.ts (relaxed only for the dev server). */
function cspMeta(): Plugin {
  return {
    name: 'mufun:csp-meta',
    transformIndexHtml: {
      order: 'pre',
      handler(html, ctx) {
        if (!html.includes('%MUFUN_CSP%')) throw new Error('index.html lacks the %MUFUN_CSP% placeholder');
        return html.replace('%MUFUN_CSP%', contentSecurityPolicy({ dev: Boolean(ctx.server) }));
      },
    },
  };
}

const AUDIO_HELPERS = ['mel-worker', 'decode-worker', 'mp3-worker'];

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // Dependencies stay in node_modules (externalizeDeps); native ones must never be bundled.
      externalizeDeps: true,
      rollupOptions: {
        // The chat worker is its own entry, built next to index.js (see src/main/index.ts); the
        // services' other workers come in through electron-vite's `?modulePath` imports there.
        // The audio helpers (log-mel's second thread, the decoder and mp3 threads) are found as
        // `new URL('./<name>.js', import.meta.url)` beside the code that starts them: they are
        // entries too, and shared chunks stay in out/main (no chunks/ folder), so every file
        // that names them sits beside them.
        input: {
          index: resolve('src/main/index.ts'),
          'chat-worker': resolve('src/main/chat/worker.ts'),
          ...Object.fromEntries(AUDIO_HELPERS.map((n) => [n, resolve(`src/model/audio/${n}.ts`)])),
        },
        output: { chunkFileNames: '[name]-[hash].js' },
        external: ['onnxruntime-node', 'better-sqlite3', /\.node$/],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // A sandboxed preload can't require node_modules: bundle everything, emit CommonJS.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
    plugins: [svelte({ configFile: false }), cspMeta()],
  },
});
