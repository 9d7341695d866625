/**
 * The chaos suite's audit (test/helpers/invariants.ts) inside the lab: run in a service guest's network namespace
 * (`ip netns exec <ns> node -r ts-node/register/transpile-only lab-audit.ts`), the test's own namespace having no
 * route there and the database guests letting only the catalog and order guests in. Reads a LabAuditRequest as JSON
 * on its standard input (the URLs carry the database password: kept off the command line) and prints the answer as
 * JSON: every order id (`orders`), or the audit of the store's databases (`audit`).
 */
import { PgOrderLedger } from '../../order-server/ledger/pg-ledger';
import { auditStore, type Seeded } from '../helpers/invariants';
import { walkOrders } from '../helpers/ledger-pages';
import type { BuyHistory } from '../helpers/shopper';

export type LabAuditRequest =
  | { mode: 'orders'; ordersUrl: string }
  | { mode: 'audit'; catalogUrl: string; ordersUrl: string; seed: Seeded[]; histories: BuyHistory[]; others: string[] };

async function orderIds(ordersUrl: string): Promise<string[]> {
  const ledger = await PgOrderLedger.open(ordersUrl, { max: 1 });
  try {
    return (await walkOrders(ledger, { limit: 1000 })).flat().map((o) => o.order_id);
  } finally {
    await ledger.close();
  }
}

async function main(request: LabAuditRequest): Promise<unknown> {
  if (request.mode === 'orders') return orderIds(request.ordersUrl);
  const { catalogUrl, ordersUrl, seed, histories, others } = request;
  return auditStore({ catalogUrl, ordersUrl }, seed, histories, { others: new Set(others) });
}

let input = '';
process.stdin.on('data', (chunk: Buffer) => (input += chunk.toString()));
process.stdin.on('end', () => {
  main(JSON.parse(input) as LabAuditRequest).then(
    (answer) => process.stdout.write(JSON.stringify(answer)),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
});
