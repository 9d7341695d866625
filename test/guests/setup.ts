/**
 * What both guest tests do before their guests exist: refuse to run (or skip loudly) where guests cannot boot,
 * remove what an interrupted run left, and get the root filesystem and the npm cache (built once, then cached),
 * printing how long each took.
 */
import { cacheRoot } from './cache';
import { removeStaleCgroups } from './guest';
import { removeStaleLabs } from './netns-lab';
import { ensureNpmCache } from './npm-cache';
import { guestsUnavailableReason } from './requirements';
import { ensureRootfs } from './rootfs';

/** Namespaces are named `bzg<test PID>-<host>`; the PID tells a live run's from a stale one's. */
export const LAB_PREFIX = 'bzg';

/** How often the guest tests ask a guest or the store whether something has happened yet. */
export const POLL_MS = 250;

export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Skips the suite with a loud message when this machine cannot boot guests; with CI=true that is a failure. */
export async function guestsOrSkip(ctx: Mocha.Context, what: string): Promise<void> {
  const reason = await guestsUnavailableReason();
  if (reason) {
    if (process.env.CI === 'true') throw new Error(`${what} cannot run: ${reason}; CI must run it`);
    console.warn(`\n  !!!!!!!!\n  !!! SKIPPED: ${what}: ${reason}.\n  !!! Run it as root (CI=true makes this a failure).\n  !!!!!!!!\n`);
    ctx.skip();
  }
  for (const note of await removeStaleLabs(LAB_PREFIX)) console.warn(`      ${note}`);
  for (const note of await removeStaleCgroups(LAB_PREFIX)) console.warn(`      ${note}`);
}

/** The guests' root filesystem and the npm cache they install from, under BAZAR_GUEST_CACHE. */
export async function guestImages(projectRoot: string): Promise<{ cache: string; rootfs: string; npmCache: string }> {
  const cache = cacheRoot();
  let t = Date.now();
  const rootfs = await ensureRootfs(cache);
  console.log(`      root filesystem: ${rootfs.built ? 'built' : 'cached'} in ${seconds(Date.now() - t)} (Node ${rootfs.nodeVersion})`);
  t = Date.now();
  const npmCache = await ensureNpmCache(cache, projectRoot);
  console.log(`      npm cache: ${npmCache.built ? 'filled' : 'cached'} in ${seconds(Date.now() - t)}`);
  return { cache, rootfs: rootfs.dir, npmCache: npmCache.dir };
}
