#!/usr/bin/env node
// The `mufun` command: the compiled CLI lives in dist/ (built by `npm install` / `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((err) => {
  console.error(`mufun: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
