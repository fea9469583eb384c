// mufun serve: the studio in a browser, over HTTP + WebSocket (src/server), with the same
// services as the desktop app. Bound to 127.0.0.1 unless told otherwise; a per-launch token.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { PACKAGE_ROOT } from '../../model/default-model.js';
import { CATALOG_FILE, userDataDir } from '../../main/paths.js';
import { createServices } from '../../main/services.js';
import { RendererFiles } from '../../main/web/page.js';
import { startServer } from '../../server/server.js';
import { LOOPBACK } from '../../server/guard.js';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0 = any free port)');
  return n;
}

interface ServeCliOptions {
  port: number;
  host: string;
  db?: string;
  model?: string;
  renderer?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the studio as a web app (library, player, chat) and print its URL')
    .option('--port <n>', 'port (0 = any free port)', parsePort, 8377)
    .option('--host <addr>', 'address to listen on (anything but loopback exposes your library to the network)', '127.0.0.1')
    .option('--db <file>', `the catalog (default: ${join(userDataDir(), CATALOG_FILE)})`)
    .option('--model <dir>', 'chat model folder (default: the one chosen in the app, MUFUN_MODEL, or the embedded model)')
    .option('--renderer <dir>', 'the built renderer (default: out/renderer, from npm run build:app)')
    .action(async (o: ServeCliOptions) => {
      const renderer = new RendererFiles(resolve(o.renderer ?? join(PACKAGE_ROOT, 'out', 'renderer')));
      const version = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
      const dbPath = resolve(o.db ?? join(userDataDir(), CATALOG_FILE));
      const studio = createServices({
        appVersion: version,
        dbPath,
        chatWorkerUrl: new URL('../../main/chat/worker.js', import.meta.url),
        modelDir: o.model ? resolve(o.model) : undefined,
      });
      const server = await startServer({ studio, renderer, host: o.host, port: o.port });
      if (!LOOPBACK.has(o.host)) {
        console.error(`mufun serve: listening on ${o.host}, reachable from other machines; anyone with the URL's token can read your library.`);
      }
      console.log(`MuFun Studio (catalog ${dbPath})`);
      console.log(`Open ${server.url}`);
      let closing = false;
      const stop = () => {
        if (closing) return;
        closing = true;
        void server.close().then(() => studio.close()).then(() => process.exit(0));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
}
