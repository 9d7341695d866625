import { errors } from '../../common/errors';
import { IDEMPOTENCY_HEADER } from '../../common/idempotency';
import type { Order } from '../../common/schemas';
import { UpstreamClient, type CallContext, type UpstreamOptions } from '../../common/upstream';

/** What the frontend asks of the order service: buys, balanced over its replicas. */
export class OrderClient extends UpstreamClient {
  constructor(options: Omit<UpstreamOptions, 'name' | 'unavailable'>) {
    super({
      name: 'order',
      ...options,
      // The order server may have received the buy and apply it after we gave up waiting: say so, and how to find out.
      unavailable: errors.buyOutcomeUnknown,
    });
  }

  /**
   * Buys one copy. The idempotency key makes the buy safe to repeat, so it is retried, on another replica when
   * there is one: every replica maps the key onto the same order.
   */
  buy(itemNumber: number, idempotencyKey: string, ctx: CallContext): Promise<Order> {
    return this.upstream.call<Order>('POST', `/buy/${itemNumber}`, ctx, undefined, {
      headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
      idempotent: true,
    });
  }
}
