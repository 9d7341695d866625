/**
 * Polls `check` every `intervalMs` (10 ms) until it holds; fails naming `what` after `timeoutMs`. Checks that ask a
 * server (a database, a cluster manager) poll less often, so the polling is not the load.
 */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
