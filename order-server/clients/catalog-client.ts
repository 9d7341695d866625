import type { Purchase } from '../../common/schemas';
import { UpstreamClient, type CallContext, type UpstreamOptions } from '../../common/upstream';

/** What the order service asks of the catalog: purchases, balanced over the catalog's replicas. */
export class CatalogClient extends UpstreamClient {
  constructor(options: Omit<UpstreamOptions, 'name'>) {
    super({ name: 'catalog', ...options });
  }

  /**
   * Applies one purchase. The catalog applies an order id at most once, so this is retried (on another replica
   * when there is one) when an answer is lost; a repeat answers with the first outcome.
   */
  purchase(itemNumber: number, orderId: string, ctx: CallContext): Promise<Purchase> {
    return this.upstream.call<Purchase>('POST', `/purchase/${itemNumber}`, ctx, { order_id: orderId }, { idempotent: true });
  }
}
