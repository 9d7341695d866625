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

/** Like waitFor, for a check that finds something: polls `attempt` until it gives a value, and returns that value. */
export async function waitForValue<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
