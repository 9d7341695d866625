import type { FastifyBaseLogger } from 'fastify';
import type { Counter } from 'prom-client';
import type { Dispatcher } from 'undici';
import type { ReplicaState, ReplicaStatus } from '../schemas';

/** Per-replica metric children, bound once, so an attempt pays one inc() and no label lookup. */
export interface ReplicaCounters {
  answered: Counter.Internal;
  failed: Counter.Internal;
  ejections: Counter.Internal;
}

export interface ReplicaOptions {
  /** The upstream's name ("catalog"), for logs. */
  upstream: string;
  origin: string;
  /** Position in its set; a call remembers the replicas it tried as a bit mask of these. */
  index: number;
  /** Where calls go: one keep-alive Pool per replica. */
  pool: Dispatcher;
  /** Where probes go: a connection of their own, so a busy pool cannot make a healthy replica fail its probe. */
  probes: Dispatcher;
  /** Whether closing the replica closes its dispatchers (not a test's MockAgent). */
  ownsDispatchers: boolean;
  counters?: ReplicaCounters;
  log?: FastifyBaseLogger;
}

/**
 * One replica of an upstream and what the balancer knows about it: requests outstanding (the choice is the least
 * busy), whether it is in rotation, and its counts and last error for /status. Every change of state goes
 * through eject() and reinstate(), which log it.
 */
export class Replica {
  readonly origin: string;
  readonly index: number;
  readonly bit: number;
  readonly pool: Dispatcher;
  readonly probes: Dispatcher;
  inFlight = 0;
  answered = 0;
  failed = 0;
  ejections = 0;
  ejected = false;
  /** performance.now() of the last ejection: a probe or call begun before it cannot vouch for the replica. */
  ejectedAt = -Infinity;
  probing = false;
  private lastError?: { reason: string; at: number };

  constructor(private readonly options: ReplicaOptions) {
    this.origin = options.origin;
    this.index = options.index;
    this.bit = 1 << options.index;
    this.pool = options.pool;
    this.probes = options.probes;
  }

  get state(): ReplicaState {
    if (!this.ejected) return 'in rotation';
    return this.probing ? 'probing' : 'ejected';
  }

  /** An attempt got an HTTP answer. */
  answeredOne(): void {
    this.answered++;
    this.options.counters?.answered.inc();
  }

  /** An attempt got no answer (the caller ejects the replica with the reason). */
  failedOne(): void {
    this.failed++;
    this.options.counters?.failed.inc();
  }

  /** Notes an error that does not take the replica out (a deeper tier's 503). */
  noteError(reason: string): void {
    this.lastError = { reason, at: Date.now() };
  }

  /** Out of rotation until a probe (or, when every replica is out, a call) started after now succeeds. */
  eject(reason: string): void {
    this.noteError(reason);
    this.ejectedAt = performance.now();
    if (this.ejected) return;
    this.ejected = true;
    this.ejections++;
    this.options.counters?.ejections.inc();
    this.options.log?.warn({ upstream: this.options.upstream, replica: this.origin, reason }, 'upstream replica ejected');
  }

  /** Back in rotation, if `since` (when the evidence was gathered) is after the last ejection. */
  reinstate(since: number, evidence: string): void {
    if (!this.ejected || since < this.ejectedAt) return;
    this.ejected = false;
    this.options.log?.info({ upstream: this.options.upstream, replica: this.origin, evidence }, 'upstream replica back in rotation');
  }

  status(): ReplicaStatus {
    return {
      origin: this.origin,
      state: this.state,
      in_flight: this.inFlight,
      answered: this.answered,
      failed: this.failed,
      ejections: this.ejections,
      last_error: this.lastError ? { reason: this.lastError.reason, at: new Date(this.lastError.at).toISOString() } : null,
    };
  }

  async close(): Promise<void> {
    if (!this.options.ownsDispatchers) return;
    await Promise.all([this.pool.close(), this.probes.close()]);
  }
}
