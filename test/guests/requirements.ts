/** Whether this machine can boot the guest test's systemd guests, and if not, why (one line). */
import { readFileSync } from 'node:fs';
import { labUnavailableReason, run } from './netns-lab';

const TOOLS: Array<[string, string]> = [
  ['mmdebstrap', 'mmdebstrap'],
  ['systemd-nspawn', 'systemd-container'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['chroot', 'coreutils'],
];

export async function guestsUnavailableReason(): Promise<string | undefined> {
  const lab = await labUnavailableReason();
  if (lab) return lab;
  for (const [tool, pkg] of TOOLS) {
    if ((await run('sh', ['-c', `command -v ${tool}`])).code !== 0) return `${tool} is not installed (Debian package ${pkg})`;
  }
  if (!/\soverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) return 'this kernel has no overlay file system';
  return undefined;
}
