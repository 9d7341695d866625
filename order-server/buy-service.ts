import type { FastifyBaseLogger } from 'fastify';
import { AppError, errors } from '../common/errors';
import type { CallContext, Upstream } from '../common/upstream';
import type { Order } from '../common/schemas';
import type { OrderLedger } from './ledger/types';

interface CatalogPurchase {
  order_id: string;
  title: string;
  price_cents: number;
}

/**
 * A buy is: write the order as pending, ask the catalog to apply it (atomic and idempotent per order id), then
 * confirm or reject it. If the catalog's answer is lost, the order stays pending and reconcile() asks again with
 * the same order id, which can never decrement twice. So an order ends confirmed exactly when the catalog
 * recorded its purchase.
 */
export class BuyService {
  constructor(
    private readonly ledger: OrderLedger,
    private readonly catalog: Upstream,
  ) {}

  async buy(itemNumber: number, ctx: CallContext): Promise<Order> {
    const order = await this.ledger.createPending(itemNumber);
    ctx.log.info({ order_id: order.order_id, item_number: itemNumber }, 'order pending');
    try {
      return await this.settle(order, ctx);
    } catch (err) {
      if (err instanceof AppError && err.code === 'upstream_unavailable') throw errors.orderPending(order.order_id);
      throw err;
    }
  }

  /** Drives pending orders older than `minAgeMs` to a final state; returns how many were settled. */
  async reconcile(log: FastifyBaseLogger, minAgeMs: number): Promise<number> {
    const pending = await this.ledger.listPending(new Date(Date.now() - minAgeMs).toISOString());
    let settled = 0;
    for (const order of pending) {
      const ctx = { log, requestId: `reconcile-${order.order_id}` };
      try {
        await this.settle(order, ctx);
        settled++;
      } catch (err) {
        if (err instanceof AppError && err.statusCode < 500) settled++;
        else break; // the catalog is still away; try the rest next round
      }
    }
    if (pending.length > 0) log.info({ pending: pending.length, settled }, 'reconciled pending orders');
    return settled;
  }

  private async settle(order: Order, ctx: CallContext): Promise<Order> {
    let purchase: CatalogPurchase;
    try {
      purchase = await this.catalog.call<CatalogPurchase>('POST', `/purchase/${order.item_number}`, ctx, {
        order_id: order.order_id,
      });
    } catch (err) {
      // A definite "no" from the catalog (out of stock, unknown book) is final; anything else leaves it pending.
      if (err instanceof AppError && err.statusCode < 500) {
        await this.ledger.reject(order.order_id, err.code);
        ctx.log.info({ order_id: order.order_id, reason: err.code }, 'order rejected');
      }
      throw err;
    }
    const confirmed = await this.ledger.confirm(order.order_id, purchase.title, purchase.price_cents);
    ctx.log.info({ order_id: order.order_id, price_cents: purchase.price_cents }, 'order confirmed');
    return confirmed;
  }
}
