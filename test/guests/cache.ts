/**
 * What the guest test builds once and reuses between runs (the root filesystem, the npm cache, Node 24), kept under
 * one folder outside the project (BAZAR_GUEST_CACHE, default /var/tmp/bazar-guests): inside the project it would be
 * copied into every guest with /vagrant. Each entry is named after a hash of its inputs, so a change of input builds
 * a new one and the old one is deleted.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from './netns-lab';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.BAZAR_GUEST_CACHE || '/var/tmp/bazar-guests';
}

export function hashOf(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * The folder `<root>/<kind>-<key>`, built by `build(into)` when it is not there yet (into a temporary sibling,
 * renamed when complete, so an interrupted build is never taken for a finished one). Older `<kind>-*` entries and
 * half-built ones of dead runs are removed. Returns the folder and whether it was built now.
 */
export async function cachedDir(
  root: string,
  kind: string,
  key: string,
  build: (into: string) => Promise<void>,
): Promise<{ dir: string; built: boolean }> {
  mkdirSync(root, { recursive: true });
  const dir = join(root, `${kind}-${key}`);
  const complete = join(dir, '.bazar-complete');
  for (const entry of readdirSync(root)) {
    if (!entry.startsWith(`${kind}-`) || entry === `${kind}-${key}`) continue;
    const building = /\.building-(\d+)$/.exec(entry);
    if (building && processAlive(Number(building[1]))) continue;
    rmSync(join(root, entry), { recursive: true, force: true });
  }
  if (existsSync(complete)) return { dir, built: false };
  rmSync(dir, { recursive: true, force: true });
  const tmp = `${dir}.building-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    writeFileSync(join(tmp, '.bazar-complete'), `${new Date().toISOString()}\n`);
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return { dir, built: true };
}

/** A folder for this run's guest disks, `<root>/run-<pid>`, after removing those of runs whose process is gone. */
export function runDir(root: string): string {
  mkdirSync(root, { recursive: true });
  for (const entry of readdirSync(root)) {
    const run = /^run-(\d+)$/.exec(entry);
    if (run && Number(run[1]) !== process.pid && !processAlive(Number(run[1]))) {
      rmSync(join(root, entry), { recursive: true, force: true });
    }
  }
  const dir = join(root, `run-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
