import type { Order } from '../../common/schemas';
import type { ListOptions, OrderLedger } from '../../order-server/ledger/types';

/**
 * Walks a ledger's pages from the newest order, following `next` to the end; `between` runs after each page but the
 * last (orders arriving mid-walk). Used by the paging contract and by the audits that read every order.
 */
export async function walkOrders(
  ledger: OrderLedger,
  options: Omit<ListOptions, 'after'>,
  between?: () => Promise<unknown>,
): Promise<Order[][]> {
  const pages: Order[][] = [];
  let after: number | undefined;
  do {
    const page = await ledger.list({ ...options, after });
    pages.push(page.orders);
    after = page.next ?? undefined;
    if (after !== undefined) await between?.();
  } while (after !== undefined);
  return pages;
}
