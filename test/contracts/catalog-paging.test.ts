/**
 * How every CatalogStore pages its listings, on SQLite and PostgreSQL: a topic's books and all books, forward
 * (next) and back (prev), by key, through the store interface only.
 */
import { expect } from 'chai';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page, PageRequest } from '../../common/paging';
import type { Book } from '../../common/schemas';
import type { CatalogStore } from '../../catalog-server/store/types';
import { usePostgres } from '../helpers/postgres';
import { pgCatalog, sqliteCatalog, type Backend } from './backends';

/** 40 books with gaps between ids (2, 4, … 80): 30 on one topic, spelled two ways, and 10 on another. */
const BOOKS: Book[] = Array.from({ length: 40 }, (_, i) => ({
  id: 2 * (i + 1),
  title: `Book ${2 * (i + 1)}`,
  topic: i % 4 === 3 ? 'small topic' : i === 5 ? 'big_topic' : 'Big Topic',
  stock: 1,
  price_cents: 100,
}));
const BIG = BOOKS.filter((b) => b.topic !== 'small topic').map(({ id, title }) => ({ id, title }));
const SEED_PATH = join(tmpdir(), `bazar-paging-seed-${process.pid}.json`);

/** Follows `next` from the first page to the last; returns every page. */
async function walkForward<P extends Page<unknown>>(read: (page: PageRequest) => Promise<P>, limit: number): Promise<P[]> {
  const pages = [await read({ limit })];
  while (pages[pages.length - 1].next !== null) pages.push(await read({ limit, after: pages[pages.length - 1].next! }));
  return pages;
}

function catalogPagingContract(backend: Backend<CatalogStore>): void {
  let store: CatalogStore;
  beforeEach(async () => {
    store = await (await backend.fresh()).open();
  });
  afterEach(() => backend.cleanup());

  const topicPage = async (page: PageRequest) => (await store.findByTopic('big topic', page))!;

  it("when a topic is walked with next, then each of its books comes once, in id order, every page naming the topic as its first book does", async () => {
    const pages = await walkForward(topicPage, 7);
    expect(pages.map((p) => p.items.length)).to.deep.equal([7, 7, 7, 7, 2]);
    expect(pages.flatMap((p) => p.items)).to.deep.equal(BIG);
    expect(pages.map((p) => p.topic)).to.deep.equal(Array(5).fill('Big Topic'));
    expect(pages[0].prev).to.equal(null);
    expect(pages[4].next).to.equal(null);
  });

  it('when the last page is full, then it still says there is no next page (no empty page at the end)', async () => {
    const pages = await walkForward(topicPage, 10);
    expect(pages.map((p) => p.items.length)).to.deep.equal([10, 10, 10]);
    expect(pages[2].next).to.equal(null);
  });

  it('when walking back with prev from the last page, then the same pages come in reverse, the first with no prev', async () => {
    const forward = await walkForward(topicPage, 7);
    const back = [forward[forward.length - 1]];
    while (back[back.length - 1].prev !== null) back.push(await topicPage({ limit: 7, before: back[back.length - 1].prev! }));
    expect(back.map((p) => p.items)).to.deep.equal(forward.map((p) => p.items).reverse());
    expect(back[back.length - 1]).to.include({ prev: null });
    // A page reached backwards leads forward again.
    expect((await topicPage({ limit: 7, after: back[1].next! })).items).to.deep.equal(forward[forward.length - 1].items);
  });

  it('when a page starts past the end of a known topic, then it is empty, not "no such topic"; for an unknown topic, null', async () => {
    expect(await store.findByTopic('BIG-TOPIC', { limit: 5, after: 1000 })).to.deep.equal({ topic: 'Big Topic', items: [], next: null, prev: null });
    expect(await store.findByTopic('no such topic', { limit: 5, after: 4 })).to.equal(null);
    expect(await store.findByTopic('no such topic', { limit: 5, before: 4 })).to.equal(null);
  });

  it('when all books are walked with next and back with prev, then each comes once, in id order', async () => {
    const read = (page: PageRequest) => store.pageBooks(page);
    const pages = await walkForward(read, 9);
    expect(pages.flatMap((p) => p.items)).to.deep.equal(BOOKS);
    expect(pages.flatMap((p) => p.items)).to.deep.equal(await store.listBooks());
    const before = await read({ limit: 9, before: pages[2].items[0].id });
    expect(before).to.deep.equal({ ...pages[1], prev: pages[1].items[0].id });
    expect(await read({ limit: 9, before: BOOKS[0].id })).to.deep.equal({ items: [], next: null, prev: null });
  });

  it('when listing topics, then one entry per topic key, spelled as its first book spells it', async () => {
    expect(await store.listTopics()).to.deep.equal(['Big Topic', 'small topic']);
  });
}

describe('CatalogStore contract: pages', function () {
  this.timeout(30_000);
  before(() => writeFileSync(SEED_PATH, JSON.stringify(BOOKS)));
  after(() => rmSync(SEED_PATH, { force: true }));

  describe('on SQLite', () => catalogPagingContract(sqliteCatalog(SEED_PATH)));

  describe('on PostgreSQL', () => {
    const cluster = usePostgres();
    catalogPagingContract(pgCatalog(cluster, SEED_PATH));
  });
});
