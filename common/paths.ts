import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root, found the same way from sources (ts-node) and from the compiled dist/ tree. */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
  return dir;
}
