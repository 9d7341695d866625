import type { UpstreamStatus } from '../schemas';
import { Upstream, type UpstreamOptions } from './upstream';

/**
 * Base of the typed clients each service keeps for the services it calls (frontend-server/clients/,
 * order-server/clients/): they add the operations, named for what they do; this gives them the balanced upstream
 * and what every client has (readiness, /status, closing).
 */
export abstract class UpstreamClient {
  protected readonly upstream: Upstream;

  constructor(options: UpstreamOptions) {
    this.upstream = new Upstream(options);
  }

  /** Every replica's origin, in configuration order. */
  get origins(): string[] {
    return this.upstream.origins;
  }

  /** For /readyz: resolves while any replica answers its /healthz. */
  ping(): Promise<void> {
    return this.upstream.ping();
  }

  status(): UpstreamStatus {
    return this.upstream.status();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
