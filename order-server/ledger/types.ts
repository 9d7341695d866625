import type { Order } from '../../common/schemas';

export interface ListOptions {
  limit: number;
  status?: Order['status'];
}

/** What createPending() did: wrote a new pending order, or found the one an earlier buy with the key wrote. */
export interface CreateResult {
  order: Order;
  /** False when the idempotency key already belonged to an order, which is returned instead. */
  created: boolean;
}

/**
 * The order server's durable ledger. An order is written as pending before the catalog is asked, so a crash at any
 * point leaves a record that reconciliation can finish. Async so a PostgreSQL ledger can implement it.
 */
export interface OrderLedger {
  /** Writes a new pending order, or, when `idempotencyKey` was seen before, returns that key's order untouched. */
  createPending(itemNumber: number, idempotencyKey?: string): Promise<CreateResult>;
  /** Moves a pending order to confirmed; an order already final is returned unchanged. */
  confirm(orderId: string, title: string, priceCents: number): Promise<Order>;
  reject(orderId: string, reason: string): Promise<Order>;
  /** Removes a pending order that was never a real buy (the book does not exist); final orders are kept. */
  discard(orderId: string): Promise<void>;
  get(orderId: string): Promise<Order | null>;
  list(options: ListOptions): Promise<Order[]>;
  /** Pending orders created at or before `olderThan` (ISO time), oldest first. */
  listPending(olderThan: string): Promise<Order[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
