/**
 * The npm cache the guests install from (they have no route out): every package of package-lock.json, and pm2 with
 * the registry metadata a global `npm install pm2@<pinned>` resolves from. Filled once from the npm registry on the
 * host, keyed by the lockfile, and mounted into each guest behind a throwaway overlay, so a guest's writes to it
 * never reach the host copy.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDir, hashOf } from './cache';
import { mustRun } from './netns-lab';

export async function ensureNpmCache(root: string, projectRoot: string): Promise<{ dir: string; built: boolean }> {
  const lock = readFileSync(join(projectRoot, 'package-lock.json'));
  const pm2 = (JSON.parse(lock.toString()) as { packages: Record<string, { version: string }> }).packages['node_modules/pm2'].version;
  const { dir, built } = await cachedDir(root, 'npm', hashOf(lock, pm2, '1'), async (into) => {
    const cache = join(into, 'cache');
    const project = join(into, 'project');
    mkdirSync(project, { recursive: true });
    copyFileSync(join(projectRoot, 'package.json'), join(project, 'package.json'));
    copyFileSync(join(projectRoot, 'package-lock.json'), join(project, 'package-lock.json'));
    const npm = (args: string[]) =>
      mustRun('npm', [...args, '--cache', cache, '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
        cwd: project,
        timeoutMs: 600_000,
      });
    await npm(['ci']);
    await npm(['install', '--global', '--prefix', join(into, 'global'), `pm2@${pm2}`]);
    // Only the cache is kept: the installs were the way to fill it.
    rmSync(project, { recursive: true, force: true });
    rmSync(join(into, 'global'), { recursive: true, force: true });
  });
  return { dir: join(dir, 'cache'), built };
}
