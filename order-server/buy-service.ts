import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { AppError, errors, isErrorCode } from '../common/errors';
import type { CallContext } from '../common/upstream';
import type { Order, Purchase } from '../common/schemas';
import type { CatalogClient } from './clients/catalog-client';
import type { Lease, OrderLedger } from './ledger/types';

/** The order server's own crash points on the buy path (the catalog's, "decremented but answer lost", is the catalog's). */
export type CrashPoint = 'after_pending' | 'before_confirm';

export interface BuyServiceOptions {
  /**
   * How long a buy holds its order's lease (default 3000 ms). Longer than a buy can take (the catalog call's
   * deadline plus the ledger writes), so it only runs out when its holder died.
   */
  leaseMs?: number;
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
  /**
   * Names this process in the leases it takes. The lease (in the ledger, not in memory) is what makes a retry on
   * any order replica answer request_in_progress while a buy runs, and keeps two reconcile rounds off one order.
   */
  private readonly replica = randomUUID().slice(0, 8);
  private claims = 0;

  constructor(
    private readonly ledger: OrderLedger,
    private readonly catalog: CatalogClient,
    private readonly options: BuyServiceOptions = {},
  ) {}

  async buy(itemNumber: number, ctx: CallContext, idempotencyKey?: string): Promise<BuyResult> {
    // A new order is written already leased to this buy: no second write on the hot path.
    const lease = this.newLease();
    const { order, created } = await this.ledger.createPending(itemNumber, idempotencyKey, lease);
    if (!created) return this.replay(order, itemNumber, ctx);
    ctx.log.info({ order_id: order.order_id, item_number: itemNumber }, 'order pending');
    return { order: await this.drive(order, lease, ctx, true), replayed: false };
  }

  /** Drives pending orders older than `minAgeMs` to a final state; returns how many were settled. */
  async reconcile(log: FastifyBaseLogger, minAgeMs: number): Promise<number> {
    const pending = await this.ledger.listPending(new Date(Date.now() - minAgeMs).toISOString());
    let settled = 0;
    for (const candidate of pending) {
      // Another replica's round or a buy may have taken it since it was listed; then it is theirs.
      const lease = this.newLease();
      const order = await this.ledger.claim(candidate.order_id, lease);
      if (!order) continue;
      const ctx = { log, requestId: `reconcile-${order.order_id}` };
      try {
        await this.drive(order, lease, ctx, false);
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
   * if the first attempt is still running on any replica (it holds the lease) → request_in_progress; if it was
   * left pending (answer lost, or its replica died and the lease ran out) → drive it now with the same order id,
   * which the catalog applies at most once.
   */
  private async replay(order: Order, itemNumber: number, ctx: CallContext): Promise<BuyResult> {
    if (order.item_number !== itemNumber) throw errors.idempotencyKeyReused();
    ctx.log.info({ order_id: order.order_id, status: order.status }, 'idempotent retry');
    if (order.status === 'confirmed') return { order, replayed: true };
    if (order.status === 'rejected') throw rejection(order);
    const lease = this.newLease();
    const claimed = await this.ledger.claim(order.order_id, lease);
    // Held by a running buy, or settled a moment ago: either way the client's next retry gets the final answer.
    if (!claimed) throw errors.requestInProgress();
    return { order: await this.drive(claimed, lease, ctx, false), replayed: true };
  }

  private newLease(): Lease {
    return { owner: `${this.replica}:${++this.claims}`, ms: this.options.leaseMs ?? 3000 };
  }

  /** Settles an order whose lease this call holds; settling frees the lease, and so does failing. */
  private async drive(order: Order, lease: Lease, ctx: CallContext, fresh: boolean): Promise<Order> {
    try {
      if (fresh) this.options.crashHook?.('after_pending', order);
      return await this.settle(order, ctx);
    } catch (err) {
      // Left pending: free it now so a retry need not wait for the lease to run out. If this write fails too,
      // the lease still runs out by itself.
      await this.ledger.release(order.order_id, lease.owner).catch((releaseErr: unknown) =>
        ctx.log.warn({ err: releaseErr, order_id: order.order_id }, 'could not release the order lease'),
      );
      if (err instanceof AppError && err.code === 'upstream_unavailable') throw errors.orderPending(order.order_id);
      throw err;
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
