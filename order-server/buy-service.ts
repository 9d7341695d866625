import type { FastifyBaseLogger } from 'fastify';
import { AppError, errors, isErrorCode } from '../common/errors';
import type { CallContext } from '../common/upstream';
import type { Order, Purchase } from '../common/schemas';
import type { CatalogClient } from './clients/catalog-client';
import type { OrderLedger } from './ledger/types';

/** The order server's own crash points on the buy path (the catalog's, "decremented but answer lost", is the catalog's). */
export type CrashPoint = 'after_pending' | 'before_confirm';

export interface BuyServiceOptions {
  /**
   * Tests only: called at each crash point; throwing there stands for the process dying at that instant (nothing
   * after it runs). Production never passes it.
   */
  crashHook?: (point: CrashPoint, order: Order) => void;
}

export interface BuyResult {
  order: Order;
  /** True when an Idempotency-Key matched an earlier buy and its first answer is being repeated. */
  replayed: boolean;
}

/**
 * A buy is: write the order as pending, ask the catalog to apply it (atomic and idempotent per order id), then
 * confirm or reject it. If the catalog's answer is lost, the order stays pending and reconcile() asks again with
 * the same order id, which can never decrement twice. So an order ends confirmed exactly when the catalog
 * recorded its purchase. An Idempotency-Key maps a client's retries onto that one order.
 */
export class BuyService {
  /** Orders whose buy is running in this process right now; a retry with their key gets request_in_progress. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly ledger: OrderLedger,
    private readonly catalog: CatalogClient,
    private readonly options: BuyServiceOptions = {},
  ) {}

  async buy(itemNumber: number, ctx: CallContext, idempotencyKey?: string): Promise<BuyResult> {
    const { order, created } = await this.ledger.createPending(itemNumber, idempotencyKey);
    if (!created) return this.replay(order, itemNumber, ctx);
    ctx.log.info({ order_id: order.order_id, item_number: itemNumber }, 'order pending');
    return { order: await this.drive(order, ctx, true), replayed: false };
  }

  /** Drives pending orders older than `minAgeMs` to a final state; returns how many were settled. */
  async reconcile(log: FastifyBaseLogger, minAgeMs: number): Promise<number> {
    const pending = await this.ledger.listPending(new Date(Date.now() - minAgeMs).toISOString());
    let settled = 0;
    for (const order of pending) {
      if (this.inFlight.has(order.order_id)) continue;
      const ctx = { log, requestId: `reconcile-${order.order_id}` };
      try {
        await this.drive(order, ctx, false);
        settled++;
      } catch (err) {
        if (err instanceof AppError && err.statusCode < 500) settled++;
        else break; // the catalog is still away; try the rest next round
      }
    }
    if (pending.length > 0) log.info({ pending: pending.length, settled }, 'reconciled pending orders');
    return settled;
  }

  /**
   * The key was seen before. Same book: repeat the first answer (confirmed → the order, rejected → the same error);
   * if the first attempt is still running here → request_in_progress; if it was left pending (answer lost, or this
   * process restarted) → drive it now with the same order id, which the catalog applies at most once.
   */
  private async replay(order: Order, itemNumber: number, ctx: CallContext): Promise<BuyResult> {
    if (order.item_number !== itemNumber) throw errors.idempotencyKeyReused();
    if (this.inFlight.has(order.order_id)) throw errors.requestInProgress();
    ctx.log.info({ order_id: order.order_id, status: order.status }, 'idempotent retry');
    if (order.status === 'confirmed') return { order, replayed: true };
    if (order.status === 'rejected') throw rejection(order);
    return { order: await this.drive(order, ctx, false), replayed: true };
  }

  private async drive(order: Order, ctx: CallContext, fresh: boolean): Promise<Order> {
    this.inFlight.add(order.order_id);
    try {
      if (fresh) this.options.crashHook?.('after_pending', order);
      return await this.settle(order, ctx);
    } catch (err) {
      if (err instanceof AppError && err.code === 'upstream_unavailable') throw errors.orderPending(order.order_id);
      throw err;
    } finally {
      this.inFlight.delete(order.order_id);
    }
  }

  private async settle(order: Order, ctx: CallContext): Promise<Order> {
    let purchase: Purchase;
    try {
      purchase = await this.catalog.purchase(order.item_number, order.order_id, ctx);
    } catch (err) {
      // A definite "no" from the catalog (out of stock, unknown book) is final; anything else leaves it pending.
      // A buy of a book that does not exist is bad input, and bad input leaves no trace: the order is dropped.
      if (err instanceof AppError && err.code === 'book_not_found') {
        await this.ledger.discard(order.order_id);
        ctx.log.info({ order_id: order.order_id }, 'order dropped: no such book');
      } else if (err instanceof AppError && err.statusCode < 500) {
        await this.ledger.reject(order.order_id, err.code);
        ctx.log.info({ order_id: order.order_id, reason: err.code }, 'order rejected');
      }
      throw err;
    }
    this.options.crashHook?.('before_confirm', order);
    const confirmed = await this.ledger.confirm(order.order_id, purchase.title, purchase.price_cents);
    ctx.log.info({ order_id: order.order_id, price_cents: purchase.price_cents }, 'order confirmed');
    return confirmed;
  }
}

/** The error a rejected order was first answered with, rebuilt from its recorded reason. */
function rejection(order: Order): AppError {
  switch (order.reason) {
    case 'out_of_stock':
      return errors.outOfStock(order.item_number);
    case 'book_not_found':
      return errors.bookNotFound(order.item_number);
    default:
      // Any other definite "no" the catalog gave, with the status that code always has.
      return new AppError(isErrorCode(order.reason) ? order.reason : 'bad_request', `order ${order.order_id} was rejected`);
  }
}
