export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Polling stops early once this says the process behind the URL is gone. */
  stillRunning?: () => boolean;
}

/**
 * Polls `url` (a service's /healthz or /readyz) until it answers 200. Resolves true then, false when the time ran
 * out or the process ended first. Shared by the test and bench process helpers and by `npm start` (scripts/start.js).
 */
export async function waitUntilReady(url: string, options: WaitOptions = {}): Promise<boolean> {
  const { timeoutMs = 20_000, intervalMs = 50, stillRunning = () => true } = options;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && stillRunning()) {
    try {
      // A frozen or half-started process must not hold the loop past its deadline.
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(1000, deadline - Date.now()))) });
      await res.arrayBuffer();
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}
