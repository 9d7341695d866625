import type { Purchase, UpstreamStatus } from '../../common/schemas';
import { Upstream, type CallContext, type UpstreamOptions } from '../../common/upstream';

/** What the order service asks of the catalog: purchases, balanced over the catalog's replicas. */
export class CatalogClient {
  private readonly upstream: Upstream;

  constructor(options: Omit<UpstreamOptions, 'name'>) {
    this.upstream = new Upstream({ name: 'catalog', ...options });
  }

  /**
   * Applies one purchase. The catalog applies an order id at most once, so this is retried (on another replica
   * when there is one) when an answer is lost; a repeat answers with the first outcome.
   */
  purchase(itemNumber: number, orderId: string, ctx: CallContext): Promise<Purchase> {
    return this.upstream.call<Purchase>('POST', `/purchase/${itemNumber}`, ctx, { order_id: orderId }, { idempotent: true });
  }

  ping(ctx: CallContext): Promise<void> {
    return this.upstream.ping(ctx);
  }

  status(): UpstreamStatus {
    return this.upstream.status();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
