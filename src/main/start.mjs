#!/usr/bin/env node
// `npm start`: the desktop app where the Electron binary is installed; otherwise the same
// studio as `mufun serve` in a browser (building what it needs first), printing its URL.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = (args) => {
  const r = spawnSync(npm, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const forward = (child) => {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
};

if (existsSync(join(root, 'node_modules', 'electron', 'dist'))) {
  run(['run', 'build:app']);
  forward(spawn(join(root, 'node_modules', '.bin', 'electron-vite'), ['preview', '--skipBuild'], { cwd: root, stdio: 'inherit' }));
} else {
  console.log('npm start: the Electron binary is not installed, so the studio opens in your browser (mufun serve).');
  if (!existsSync(join(root, 'dist', 'src', 'cli', 'main.js'))) run(['run', 'build']);
  if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) run(['run', 'build:app']);
  forward(spawn(process.execPath, [join(root, 'bin', 'mufun.js'), 'serve', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' }));
}
