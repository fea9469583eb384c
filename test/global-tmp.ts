// Every test run gets its own temporary folder (TMPDIR, which os.tmpdir() reads), removed when
// the run ends: the tests make hundreds of scratch models, databases and clips, and a developer's
// /tmp should not keep them. Set MUFUN_KEEP_TEST_TMP=1 to keep it for a post-mortem.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'mufun-test-run-'));
  process.env.TMPDIR = dir;
  return () => {
    if (process.env.MUFUN_KEEP_TEST_TMP === '1') console.log(`test files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
