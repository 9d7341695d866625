import type { FastifyBaseLogger } from 'fastify';
import { TransportError, exchange } from './exchange';
import type { Replica } from './replica';

export interface ProberOptions {
  /** 0 turns probing off. */
  intervalMs: number;
  timeoutMs: number;
  log?: FastifyBaseLogger;
}

const NO_HEADERS: Record<string, string> = { accept: 'application/json' };

/**
 * Active health checks: every interval, each replica's GET /readyz (which checks the replica's own dependencies).
 * A failing probe ejects a replica in rotation, so a stopped or hung replica leaves the rotation within about one
 * interval even when no call meets it; a passing probe puts an ejected replica back, if the probe began after the
 * ejection (an answer from before the failure proves nothing).
 */
export class HealthProber {
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly replicas: readonly Replica[],
    private readonly options: ProberOptions,
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.running = this.round();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Probes every replica not already being probed; resolves once each has answered or timed out. */
  async round(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => (replica.probing ? undefined : this.probe(replica))));
  }

  private async probe(replica: Replica): Promise<void> {
    replica.probing = true;
    const started = performance.now();
    try {
      const { timeoutMs } = this.options;
      const { statusCode } = await exchange(replica.probes, replica.origin, 'GET', '/readyz', NO_HEADERS, undefined, timeoutMs);
      if (statusCode === 200) replica.reinstate(started, 'readyz passed');
      else replica.eject(`readyz answered ${statusCode}`);
    } catch (err) {
      if (err instanceof TransportError) replica.eject(`readyz: ${err.reason}`);
      else this.options.log?.error({ err, replica: replica.origin }, 'probe failed unexpectedly');
    } finally {
      replica.probing = false;
    }
  }
}
