/**
 * The cache's guarantee holds page by page: a search is cached per page (topic, limit, cursor), and a change to
 * a topic drops every page of it before the write is acknowledged, including a page whose fill was in flight.
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../common/base-app';
import type { PageRequest } from '../../common/paging';
import type { Book, TopicResult } from '../../common/schemas';
import { SqliteCatalogStore } from '../../catalog-server/store/sqlite-store';
import { Gate, startGatedStack } from '../helpers/gated-stack';
import { metric } from '../helpers/metrics';
import { AUTH, startStack, tempDir, type Stack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';

/** 12 books on one topic (three pages of 5) and 6 on another. */
const BOOKS: Book[] = Array.from({ length: 18 }, (_, i) => ({
  id: i + 1,
  title: `Book ${i + 1}`,
  topic: i < 12 ? 'distributed systems' : 'cooking',
  stock: 5,
  price_cents: 1000,
}));

const searchHits = (app: App) => metric(app, 'cache_hits_total{kind="search",service="frontend"}');
const entries = (app: App) => metric(app, 'cache_entries{service="frontend"}');

async function search(frontend: App, url: string): Promise<TopicResult> {
  const res = await frontend.inject({ method: 'GET', url });
  expect(res.statusCode, url).to.equal(200);
  return res.json<TopicResult>();
}

/** Every page of a topic, following next_cursor, as URLs and answers. */
async function walk(frontend: App, topic: string, limit: number): Promise<{ url: string; page: TopicResult }[]> {
  const pages = [{ url: `/search/${topic}?limit=${limit}`, page: await search(frontend, `/search/${topic}?limit=${limit}`) }];
  for (let cursor = pages[0].page.next_cursor; cursor !== null; cursor = pages[pages.length - 1].page.next_cursor) {
    const url = `/search/${topic}?limit=${limit}&cursor=${cursor}`;
    pages.push({ url, page: await search(frontend, url) });
  }
  return pages;
}

describe('frontend cache: search pages are never stale', function () {
  this.timeout(20_000);
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ books: BOOKS });
    await waitFor('frontend subscribed', () => stack.frontend.reads.live);
  });
  afterEach(() => stack.close());

  it("when a book of a topic is bought, then none of that topic's cached pages is served again, and other topics' pages still are", async () => {
    const pages = await walk(stack.frontend, 'distributed-systems', 5);
    expect(pages.map(({ page }) => page.items.length)).to.deep.equal([5, 5, 2]);
    const cooking = await search(stack.frontend, '/search/cooking?limit=5');
    for (const { url } of pages) await search(stack.frontend, url);
    await search(stack.frontend, '/search/cooking?limit=5');
    expect(await searchHits(stack.frontend)).to.equal(4, 'every page was cached');
    expect(await entries(stack.frontend)).to.equal(4);

    const bought = await stack.frontend.inject({ method: 'POST', url: '/buy/12' }); // a book on the last page
    expect(bought.statusCode).to.equal(201);
    expect(await entries(stack.frontend)).to.equal(1, "the topic's three pages were dropped; book 12 was never looked up");
    for (const { url, page } of pages) {
      const fresh = await stack.catalog.inject(url.replace('/search/', '/query_by_topic/'));
      expect(await search(stack.frontend, url)).to.deep.equal(fresh.json()).and.to.deep.equal(page);
    }
    expect(await searchHits(stack.frontend)).to.equal(4, 'no page of the changed topic was a hit');
    expect(await search(stack.frontend, '/search/cooking?limit=5')).to.deep.equal(cooking);
    expect(await searchHits(stack.frontend)).to.equal(5, "the other topic's page still was");
  });
});

describe('frontend cache: a page fill in flight while its topic changes', function () {
  this.timeout(20_000);

  it('when a purchase on the topic commits while a page is being read, then that page is not cached', async () => {
    const seed = tempDir();
    const seedPath = join(seed.dir, 'books.json');
    writeFileSync(seedPath, JSON.stringify(BOOKS));
    // A store whose reads of a page after a cursor, once the gate is armed, read their rows and then wait for the test.
    const gate = new Gate();
    class GatedStore extends SqliteCatalogStore {
      override async findByTopic(topic: string, page: PageRequest) {
        const found = await super.findByTopic(topic, page);
        if (page.after !== undefined) await gate.pass();
        return found;
      }
    }
    const { catalog, frontend, close } = await startGatedStack((dir) => new GatedStore(join(dir, 'catalog.db'), seedPath));
    try {
      const first = await search(frontend, '/search/distributed-systems?limit=5');
      const url = `/search/distributed-systems?limit=5&cursor=${first.next_cursor}`;

      const { reached, release } = gate.arm();
      const slowPage = search(frontend, url);
      await reached; // the catalog has read page 2 for this fill
      const purchase = await catalog.inject({ method: 'POST', url: '/purchase/7', headers: AUTH, payload: { order_id: 'page-race' } });
      expect(purchase.statusCode).to.equal(201); // acknowledged: the frontend has dropped the topic's pages
      release();
      const answered = await slowPage;

      expect(await search(frontend, url)).to.deep.equal(answered);
      expect(await searchHits(frontend)).to.equal(0, 'the fill that raced the change must not have been stored');
      await search(frontend, url);
      expect(await searchHits(frontend)).to.equal(1, 'a fill after the change is cached');
    } finally {
      await close();
      seed.remove();
    }
  });
});
