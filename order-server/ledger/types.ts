import type { Order } from '../../common/schemas';
import type { DatabaseBackend } from '../../common/config';

/** A page of orders, newest first: `after` is the key of the last order of the page before (OrderPage.next). */
export interface ListOptions {
  limit: number;
  status?: Order['status'];
  after?: number;
}

/**
 * Orders newest first, by the ledger's own sequence number: it grows with every order written (never reused), so
 * "newest first" is one total order, whatever the clocks said and however many orders share a millisecond. A walk
 * from `next` to `next` sees each order that existed when it began exactly once: orders written meanwhile have
 * higher numbers than any the walk still has to read.
 */
export interface OrderPage {
  orders: Order[];
  /** The sequence number of the last order here, to pass as `after`; null on the last page. */
  next: number | null;
}

/** What createPending() did: wrote a new pending order, or found the one an earlier buy with the key wrote. */
export interface CreateResult {
  order: Order;
  /** False when the idempotency key already belonged to an order, which is returned instead. */
  created: boolean;
}

/**
 * The right to drive one pending order (ask the catalog, then settle it), held in the ledger so every order
 * replica sees it: a retry on another replica gets request_in_progress, and two reconcile rounds never drive one
 * order at once. It expires by itself, so a replica that dies holding one blocks nobody for long.
 */
export interface Lease {
  /** One claim by one replica, never reused, so a late release cannot free a lease someone else took since. */
  owner: string;
  /** How long it holds; longer than a buy may take, so a live holder never loses it. */
  ms: number;
}

/**
 * The order server's durable ledger. An order is written as pending before the catalog is asked, so a crash at any
 * point leaves a record that reconciliation can finish. Async so a networked backend (PostgreSQL) can implement it.
 */
export interface OrderLedger {
  readonly backend: DatabaseBackend;
  /**
   * Writes a new pending order held under `lease`, or, when `idempotencyKey` was seen before, returns that key's
   * order untouched (its lease too).
   */
  createPending(itemNumber: number, idempotencyKey?: string, lease?: Lease): Promise<CreateResult>;
  /** Takes the lease of a pending order nobody holds (or whose lease expired); null when it is held or final. */
  claim(orderId: string, lease: Lease): Promise<Order | null>;
  /** Gives the lease back if `owner` still holds it, so a retry need not wait for it to expire. */
  release(orderId: string, owner: string): Promise<void>;
  /** Moves a pending order to confirmed (freeing its lease); an order already final is returned unchanged. */
  confirm(orderId: string, title: string, priceCents: number): Promise<Order>;
  reject(orderId: string, reason: string): Promise<Order>;
  /** Removes a pending order that was never a real buy (the book does not exist); final orders are kept. */
  discard(orderId: string): Promise<void>;
  get(orderId: string): Promise<Order | null>;
  /** The order an Idempotency-Key made, or null: what became of a client's buy (the chaos suite's audit asks). */
  getByKey(idempotencyKey: string): Promise<Order | null>;
  list(options: ListOptions): Promise<OrderPage>;
  /** Pending orders created at or before `olderThan` (ISO time) whose lease is free, oldest first. */
  listPending(olderThan: string): Promise<Order[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
