import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { App } from '../../common/base-app';
import { buildCatalogApp } from '../../catalog-server/app';
import { DEFAULT_SEED_PATH } from '../../catalog-server/config';
import { TEST_TOKEN, newCatalogStore, tempDir } from '../helpers/stack';

const seed = JSON.parse(readFileSync(DEFAULT_SEED_PATH, 'utf8')) as Array<{ id: number; title: string; topic: string }>;

describe('catalog: reads', () => {
  let tmp: ReturnType<typeof tempDir>;
  let app: App;

  beforeEach(() => {
    tmp = tempDir();
    app = buildCatalogApp({ store: newCatalogStore(tmp.dir), token: TEST_TOKEN, logLevel: 'silent' });
  });
  afterEach(async () => {
    await app.close();
    tmp.remove();
  });

  it('when the database is new, then it holds exactly the books of the seed file, in one page', async () => {
    const res = await app.inject('/books');
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ books: seed, next_cursor: null, prev_cursor: null });
  });

  it('when the seed is read, then it is the report lab: four books, stock 5, book 2 costs 5000 cents', async () => {
    const { books } = (await app.inject('/books')).json();
    expect(books).to.have.length(4);
    expect(books.every((b: { stock: number }) => b.stock === 5)).to.equal(true);
    expect(books.find((b: { id: number }) => b.id === 2)).to.include({ title: 'RPCs for Dummies', price_cents: 5000 });
  });

  for (const spelling of ['distributed systems', 'Distributed-Systems', 'DISTRIBUTED_SYSTEMS', 'distributed%20systems']) {
    it(`when searching the topic as '${spelling}', then both distributed-systems books are found`, async () => {
      const res = await app.inject(`/query_by_topic/${spelling}`);
      expect(res.statusCode).to.equal(200);
      const expected = seed.filter((b) => b.topic === 'distributed systems').map(({ id, title }) => ({ id, title }));
      expect(res.json()).to.deep.equal({ topic: 'distributed systems', items: expected, next_cursor: null, prev_cursor: null });
    });
  }

  it('when a topic is read a page at a time, then next_cursor leads through it and prev_cursor back', async () => {
    const first = (await app.inject('/query_by_topic/graduate-school?limit=1')).json();
    expect(first).to.deep.include({ topic: 'graduate school', items: [{ id: 3, title: seed[2].title }], prev_cursor: null });
    const second = (await app.inject(`/query_by_topic/graduate-school?limit=1&cursor=${first.next_cursor}`)).json();
    expect(second).to.deep.include({ topic: 'graduate school', items: [{ id: 4, title: seed[3].title }], next_cursor: null });
    const back = (await app.inject(`/query_by_topic/graduate-school?limit=1&cursor=${second.prev_cursor}`)).json();
    expect(back).to.deep.equal(first);
  });

  it('when all books are read a page at a time, then next_cursor leads through them once each and prev_cursor back', async () => {
    const pages = [(await app.inject('/books?limit=3')).json()];
    pages.push((await app.inject(`/books?limit=3&cursor=${pages[0].next_cursor}`)).json());
    expect(pages.map((p) => p.books.map((b: { id: number }) => b.id))).to.deep.equal([[1, 2, 3], [4]]);
    expect(pages[1].next_cursor).to.equal(null);
    expect((await app.inject(`/books?limit=3&cursor=${pages[1].prev_cursor}`)).json()).to.deep.equal(pages[0]);
  });

  it('when a page is asked with a bad limit or a cursor this listing did not give out, then 400 validation_failed', async () => {
    const topicCursor = (await app.inject('/query_by_topic/graduate-school?limit=1')).json().next_cursor;
    const booksCursor = (await app.inject('/books?limit=1')).json().next_cursor;
    for (const url of [
      '/books?limit=0',
      '/books?limit=1001',
      '/books?limit=1.5',
      '/books?offset=100',
      `/books?cursor=${topicCursor}`,
      `/query_by_topic/graduate-school?cursor=${booksCursor}`,
      '/query_by_topic/graduate-school?cursor=not-a-cursor',
      `/query_by_topic/graduate-school?cursor=${'A'.repeat(201)}`,
    ]) {
      const res = await app.inject(url);
      expect(res.statusCode, url).to.equal(400);
      expect(res.json().error.code, url).to.equal('validation_failed');
    }
  });

  it('when the topic is unknown, then 404 topic_not_found lists the known topics', async () => {
    const res = await app.inject('/query_by_topic/cooking');
    expect(res.statusCode).to.equal(404);
    expect(res.json().error.code).to.equal('topic_not_found');
    expect(res.json().error.message).to.include('distributed systems').and.include('graduate school');
  });

  it('when looking up book 2, then its title, topic, stock and price come back', async () => {
    const res = await app.inject('/query_by_item_number/2');
    expect(res.statusCode).to.equal(200);
    expect(res.json()).to.deep.equal({ ...seed[1], stock: 5, price_cents: 5000 });
  });

  it('when looking up an item number no book has, then 404 book_not_found', async () => {
    const res = await app.inject('/query_by_item_number/99');
    expect(res.statusCode).to.equal(404);
    expect(res.json()).to.deep.equal({ error: { code: 'book_not_found', message: 'there is no book with item number 99' } });
  });

  for (const bad of ['abc', '-1', '0', '1.5', '99999999999999999999', '1e3', '0x10', '%20']) {
    it(`when the item number is '${bad}', then 400 invalid_item_number`, async () => {
      const res = await app.inject(`/query_by_item_number/${bad}`);
      expect(res.statusCode).to.equal(400);
      expect(res.json().error.code).to.equal('invalid_item_number');
    });
  }

  it('when listing topics, then each topic appears once', async () => {
    const res = await app.inject('/topics');
    expect(res.json()).to.deep.equal({ topics: [...new Set(seed.map((b) => b.topic))].sort() });
  });

  it('when a path is unknown or malformed, then a JSON 404 or 400 error, never a stack trace', async () => {
    const missing = await app.inject('/nope');
    expect(missing.statusCode).to.equal(404);
    expect(missing.json().error.code).to.equal('not_found');
    const malformed = await app.inject('/query_by_topic/%E0%A4%A');
    expect(malformed.statusCode).to.equal(400);
    expect(malformed.json().error.code).to.equal('validation_failed');
  });

  it('when asked for health and readiness, then both answer ok with the database reachable', async () => {
    expect((await app.inject('/healthz')).json()).to.deep.equal({ status: 'ok' });
    expect((await app.inject('/readyz')).json()).to.deep.equal({ status: 'ready', checks: { database: 'ok' } });
  });

  it('when a request carries x-request-id, then the answer echoes it; otherwise one is made up', async () => {
    expect((await app.inject({ url: '/topics', headers: { 'x-request-id': 'trace-42' } })).headers['x-request-id']).to.equal('trace-42');
    expect((await app.inject('/topics')).headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });
});
