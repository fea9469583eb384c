import { relative, isAbsolute, sep } from 'node:path';

/** Whether `file` is `root` or lies under it (both already resolved by realpath). */
export function isInside(file: string, root: string): boolean {
  const rel = relative(root, file);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}
