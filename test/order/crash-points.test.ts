/**
 * The buy path has three places where a crash could split "the catalog decremented" from "the ledger says
 * confirmed". For each, the order server dies there (a crash hook that throws, passed only by this test), comes back
 * with the same ledger file, and reconcile must finish the order exactly once.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import pino from 'pino';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import type { PurchaseResult } from '../../catalog-server/store/types';
import { BuyService, type CrashPoint } from '../../order-server/buy-service';
import { CatalogClient } from '../../order-server/clients/catalog-client';
import { SqliteOrderLedger } from '../../order-server/ledger/sqlite-ledger';
import { TEST_TOKEN, tempDir } from '../helpers/stack';

class SimulatedCrash extends Error {}

/** A catalog whose process "dies" right after committing a purchase: the decrement is durable, the answer is lost. */
class CrashAfterCommitStore extends SqliteCatalogStore {
  armed = false;
  override async purchase(id: number, orderId: string): Promise<PurchaseResult> {
    const result = await super.purchase(id, orderId);
    if (this.armed) {
      this.armed = false;
      throw new SimulatedCrash('catalog died after commit');
    }
    return result;
  }
}

const log = pino({ level: 'silent' });
const ctx = { log, requestId: 'crash-test' };

describe('order: recovery from a crash at each point of the buy path', function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof tempDir>;
  let store: CrashAfterCommitStore;
  let catalogApp: App;
  let catalog: CatalogClient;
  let ledgerPath: string;

  beforeEach(async () => {
    tmp = tempDir();
    store = new CrashAfterCommitStore(join(tmp.dir, 'catalog.db'), DEFAULT_SEED_PATH);
    catalogApp = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent' });
    const url = await catalogApp.listen({ host: '127.0.0.1', port: 0 });
    catalog = new CatalogClient({ origin: url, token: TEST_TOKEN, timeoutMs: 2000 });
    ledgerPath = join(tmp.dir, 'orders.db');
  });
  afterEach(async () => {
    await catalog.close();
    await catalogApp.close();
    tmp.remove();
  });

  /** Runs one buy that dies at `point`, then "restarts" the order server on the same ledger file and reconciles. */
  async function crashThenRecover(point: CrashPoint | 'catalog_after_commit') {
    const before = (await store.getBook(1))!.stock;
    const ledger = new SqliteOrderLedger(ledgerPath);
    const crashing = new BuyService(ledger, catalog, {
      crashHook: (at) => {
        if (at === point) throw new SimulatedCrash(`died at ${at}`);
      },
    });
    if (point === 'catalog_after_commit') store.armed = true;
    const outcome = await crashing.buy(1, ctx, 'crash-key').then(
      () => 'answered',
      (err: Error) => err.constructor.name + ':' + ((err as { code?: string }).code ?? ''),
    );
    // A fresh ledger per test: the one order in it is the one the crash left.
    const [left] = (await ledger.list({ limit: 100 })).orders;
    const purchaseAtCrash = await store.getPurchase(left!.order_id);
    await ledger.close(); // the process is gone; only the file remains

    const reopened = new SqliteOrderLedger(ledgerPath);
    const recovered = new BuyService(reopened, catalog);
    const settled = await recovered.reconcile(log, 0);
    const after = await reopened.get(left!.order_id);
    const settledAgain = await recovered.reconcile(log, 0);
    const retry = await recovered.buy(1, ctx, 'crash-key');
    const orders = (await reopened.list({ limit: 100 })).orders;
    await reopened.close();
    return { before, outcome, left: left!, purchaseAtCrash, settled, after: after!, settledAgain, retry, orders };
  }

  async function expectExactlyOnce(r: Awaited<ReturnType<typeof crashThenRecover>>) {
    expect(r.left.status, 'left pending by the crash').to.equal('pending');
    expect(r.settled).to.equal(1);
    expect(r.after.status).to.equal('confirmed');
    expect(r.after.price_cents).to.equal(3000);
    expect(r.settledAgain, 'a second round finds nothing to do').to.equal(0);
    expect((await store.getBook(1))!.stock, 'stock dropped exactly once').to.equal(r.before - 1);
    const purchase = await store.getPurchase(r.left.order_id);
    expect(purchase?.outcome).to.equal('purchased');
    expect(r.retry).to.deep.equal({ order: r.after, replayed: true });
    expect(r.orders).to.have.length(1);
  }

  it('when the order server dies after writing the pending order, then reconcile buys it once', async () => {
    const r = await crashThenRecover('after_pending');
    expect(r.outcome).to.equal('SimulatedCrash:');
    expect(r.purchaseAtCrash, 'catalog never asked before the crash').to.equal(null);
    await expectExactlyOnce(r);
  });

  it('when the catalog dies after committing the decrement, then reconcile confirms without a second decrement', async () => {
    const r = await crashThenRecover('catalog_after_commit');
    expect(r.outcome, 'the client was told the order is pending').to.equal('AppError:upstream_unavailable');
    expect(r.purchaseAtCrash?.outcome, 'decrement already recorded').to.equal('purchased');
    await expectExactlyOnce(r);
  });

  it('when the order server dies after the catalog answered but before confirming, then reconcile confirms it once', async () => {
    const r = await crashThenRecover('before_confirm');
    expect(r.outcome).to.equal('SimulatedCrash:');
    expect(r.purchaseAtCrash?.outcome, 'decrement already recorded').to.equal('purchased');
    await expectExactlyOnce(r);
  });

  it('when the crashed order meets an empty shelf, then reconcile rejects it and stock stays at zero', async () => {
    await store.updateBook(1, { stock: 0 });
    const ledger = new SqliteOrderLedger(ledgerPath);
    const crashing = new BuyService(ledger, catalog, {
      crashHook: (at) => {
        if (at === 'after_pending') throw new SimulatedCrash(at);
      },
    });
    await crashing.buy(1, ctx, 'empty').catch(() => undefined);
    const recovered = new BuyService(ledger, catalog);
    expect(await recovered.reconcile(log, 0)).to.equal(1);
    expect((await ledger.list({ limit: 100 })).orders.map((o) => o.status)).to.deep.equal(['rejected']);
    expect((await store.getBook(1))!.stock).to.equal(0);
    await ledger.close();
  });
});
