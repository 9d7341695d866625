import { expect } from 'chai';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import type { CatalogStore } from '../../catalog-server/store/types';
import { AUTH, TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

describe('catalog: writes', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: CatalogStore;
  let app: App;

  beforeEach(() => {
    tmp = tempDir();
    store = newCatalogStore(tmp.dir);
    app = buildCatalogApp({ store, token: TEST_TOKEN, logLevel: 'silent' });
  });
  afterEach(async () => {
    await app.close();
    tmp.remove();
  });

  const put = (url: string, payload: unknown, headers: Record<string, string> = AUTH) =>
    app.inject({ method: 'PUT', url, payload: payload as object, headers });
  const post = (url: string, payload?: unknown, headers: Record<string, string> = AUTH) =>
    app.inject({ method: 'POST', url, payload: payload as object | undefined, headers });

  describe('PUT /update/:n', () => {
    it('when stock and price are given, then the book is updated and returned', async () => {
      const res = await put('/update/3', { stock: 9, price_cents: 1234 });
      expect(res.statusCode).to.equal(200);
      expect(res.json()).to.include({ id: 3, stock: 9, price_cents: 1234 });
      expect(await store.getBook(3)).to.include({ stock: 9, price_cents: 1234 });
    });

    it('when only the price is given, then the stock is left alone', async () => {
      await put('/update/3', { price_cents: 999 });
      expect(await store.getBook(3)).to.include({ stock: 5, price_cents: 999 });
    });

    it('when the book does not exist, then 404 book_not_found', async () => {
      const res = await put('/update/77', { stock: 1 });
      expect(res.statusCode).to.equal(404);
      expect(res.json().error.code).to.equal('book_not_found');
    });

    const rejected: Array<[string, unknown, string]> = [
      ['negative stock', { stock: -1 }, 'validation_failed'],
      ['fractional stock', { stock: 1.5 }, 'validation_failed'],
      ['negative price', { price_cents: -100 }, 'validation_failed'],
      ['fractional price', { price_cents: 12.5 }, 'validation_failed'],
      ['stock as a string', { stock: '5' }, 'validation_failed'],
      ['an unknown field', { stock: 1, title: 'hacked' }, 'validation_failed'],
      ['an empty body', {}, 'validation_failed'],
    ];
    for (const [what, body, code] of rejected) {
      it(`when the body has ${what}, then 400 ${code} and the book is unchanged`, async () => {
        const before = await store.getBook(1);
        const res = await put('/update/1', body);
        expect(res.statusCode).to.equal(400);
        expect(res.json().error.code).to.equal(code);
        expect(await store.getBook(1)).to.deep.equal(before);
      });
    }

    it('when the body is not JSON, then 400 validation_failed and nothing changes', async () => {
      const before = await store.listBooks();
      const res = await put('/update/1', '{"stock": 1', { ...AUTH, 'content-type': 'application/json' });
      expect(res.statusCode).to.equal(400);
      expect(res.json()).to.deep.equal({ error: { code: 'validation_failed', message: 'the request body is not valid JSON' } });
      expect(await store.listBooks()).to.deep.equal(before);
    });

    it('when the body is sent as text, then 415 unsupported_media_type and nothing changes', async () => {
      const res = await put('/update/1', 'stock=1', { ...AUTH, 'content-type': 'text/plain' });
      expect(res.statusCode).to.equal(415);
      expect(res.json().error.code).to.equal('unsupported_media_type');
      expect((await store.getBook(1))?.stock).to.equal(5);
    });

    for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999']) {
      it(`when the item number is '${bad}', then 400 invalid_item_number and nothing changes`, async () => {
        const before = await store.listBooks();
        const res = await put(`/update/${bad}`, { stock: 0 });
        expect(res.statusCode).to.equal(400);
        expect(res.json().error.code).to.equal('invalid_item_number');
        expect(await store.listBooks()).to.deep.equal(before);
      });
    }
  });

  describe('tokens', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['no token', {}],
      ['a wrong token', { authorization: 'Bearer not-the-token-at-all' }],
      ['the token without Bearer', { authorization: TEST_TOKEN }],
    ];
    for (const [what, headers] of cases) {
      it(`when a write comes with ${what}, then 401 unauthorized and nothing changes`, async () => {
        const before = await store.listBooks();
        for (const res of [
          await put('/update/1', { stock: 0 }, headers),
          await post('/restock', { stock: 0 }, headers),
          await post('/purchase/1', { order_id: 'o-unauth' }, headers),
        ]) {
          expect(res.statusCode).to.equal(401);
          expect(res.headers['www-authenticate']).to.equal('Bearer realm="bazar"');
          expect(res.json().error.code).to.equal('unauthorized');
          expect(res.body).not.to.include(TEST_TOKEN);
        }
        expect(await store.listBooks()).to.deep.equal(before);
        expect(await store.getPurchase('o-unauth')).to.equal(null);
      });
    }

    it('when a bad request comes without a token, then 401 comes first and reveals nothing about the body', async () => {
      const res = await put('/update/1', { stock: -5 }, {});
      expect(res.statusCode).to.equal(401);
    });
  });

  describe('POST /restock', () => {
    it('when new stock arrives with no body, then every book is set to 5', async () => {
      await store.updateBook(1, { stock: 0 });
      await store.updateBook(4, { stock: 2 });
      const res = await post('/restock');
      expect(res.statusCode).to.equal(200);
      expect((await store.listBooks()).map((b) => b.stock)).to.deep.equal([5, 5, 5, 5]);
      expect(res.json().books.map((b: { stock: number }) => b.stock)).to.deep.equal([5, 5, 5, 5]);
    });

    it('when a stock is given, then every book is set to it', async () => {
      await post('/restock', { stock: 12 });
      expect((await store.listBooks()).map((b) => b.stock)).to.deep.equal([12, 12, 12, 12]);
    });

    it('when the stock is negative or has unknown fields, then 400 and nothing changes', async () => {
      for (const body of [{ stock: -1 }, { stock: 2, all: true }]) {
        const res = await post('/restock', body);
        expect(res.statusCode).to.equal(400);
        expect(res.json().error.code).to.equal('validation_failed');
      }
      expect((await store.listBooks()).map((b) => b.stock)).to.deep.equal([5, 5, 5, 5]);
    });
  });

  describe('POST /purchase/:n', () => {
    it('when stock is left, then one is taken, the purchase is recorded with the catalog price, and 201', async () => {
      const res = await post('/purchase/2', { order_id: 'order-a' });
      expect(res.statusCode).to.equal(201);
      expect(res.json()).to.include({ order_id: 'order-a', item_number: 2, price_cents: 5000, outcome: 'purchased', stock_after: 4 });
      expect((await store.getBook(2))?.stock).to.equal(4);
      expect(await store.getPurchase('order-a')).to.include({ item_number: 2, outcome: 'purchased' });
    });

    it('when the same order id comes again, then the first result is returned and nothing more is taken', async () => {
      const first = await post('/purchase/2', { order_id: 'order-b' });
      const again = await post('/purchase/2', { order_id: 'order-b' });
      expect(again.statusCode).to.equal(200);
      expect(again.json()).to.deep.equal(first.json());
      expect((await store.getBook(2))?.stock).to.equal(4);
    });

    it('when the order id was used for another book, then 422 order_id_reused and nothing is taken', async () => {
      await post('/purchase/2', { order_id: 'order-c' });
      const res = await post('/purchase/3', { order_id: 'order-c' });
      expect(res.statusCode).to.equal(422);
      expect(res.json().error.code).to.equal('order_id_reused');
      expect((await store.getBook(3))?.stock).to.equal(5);
    });

    it('when the book is sold out, then 409 out_of_stock, stock stays 0, and a retry gives the same answer', async () => {
      await store.updateBook(1, { stock: 0 });
      const res = await post('/purchase/1', { order_id: 'order-d' });
      expect(res.statusCode).to.equal(409);
      expect(res.json().error.code).to.equal('out_of_stock');
      await store.updateBook(1, { stock: 3 });
      const retry = await post('/purchase/1', { order_id: 'order-d' });
      expect(retry.statusCode).to.equal(409);
      expect((await store.getBook(1))?.stock).to.equal(3);
    });

    it('when the book does not exist, then 404 and no purchase is recorded', async () => {
      const res = await post('/purchase/40', { order_id: 'order-e' });
      expect(res.statusCode).to.equal(404);
      expect(await store.getPurchase('order-e')).to.equal(null);
    });

    for (const body of [{}, { order_id: '' }, { order_id: 'has space' }, { order_id: 'x'.repeat(65) }, { order_id: 'o', price_cents: 1 }]) {
      it(`when the body is ${JSON.stringify(body).slice(0, 40)}, then 400 validation_failed and nothing is taken`, async () => {
        const res = await post('/purchase/1', body);
        expect(res.statusCode).to.equal(400);
        expect(res.json().error.code).to.equal('validation_failed');
        expect((await store.getBook(1))?.stock).to.equal(5);
      });
    }
  });
});
