/**
 * The storefront with a big catalog: the home page shows a bounded set of books, /books and topic pages are paged
 * with previous and next links, and every page stays under 200 KB (and every JSON answer under 64 KB) with
 * 100,000 books.
 */
import { expect } from 'chai';
import { generateBooks } from '../../catalog-server/seed/generate';
import { startStack, type Stack } from '../helpers/stack';

const HTML = { accept: 'text/html' };
const KB = 1024;

/** The page's previous and next links, decoded as a browser would follow them. */
function links(body: string): { prev?: string; next?: string } {
  const href = (rel: string) => new RegExp(`rel="${rel}" href="([^"]+)"`).exec(body)?.[1]?.replace(/&amp;/g, '&');
  return { prev: href('prev'), next: href('next') };
}

const cards = (body: string) => [...body.matchAll(/<h3><a href="\/lookup\/(\d+)">/g)].map((m) => Number(m[1]));

describe('storefront pages with a bigger catalog: paged', function () {
  this.timeout(30_000);
  let stack: Stack;
  before(async () => {
    stack = await startStack({ books: generateBooks(150, 3) });
  });
  after(() => stack.close());

  const get = async (url: string) => {
    const res = await stack.frontend.inject({ url, headers: HTML });
    expect(res.statusCode, url).to.equal(200);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    return res.body;
  };

  it('when the home page opens, then it shows the topics and the first 12 books, not all 150', async () => {
    const home = await get('/');
    expect(cards(home)).to.deep.equal(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(home).to.include('href="/search/distributed-systems"').and.include('href="/search/graduate-school"');
    expect(home).to.include('href="/books"');
  });

  it('when all books are browsed, then Next leads through 60 at a time to the end, and Previous leads back to the same pages', async () => {
    const first = await get('/books');
    expect(cards(first)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(links(first).prev).to.equal(undefined);
    const second = await get(links(first).next!);
    expect(cards(second)).to.deep.equal(Array.from({ length: 60 }, (_, i) => i + 61));
    const third = await get(links(second).next!);
    expect(cards(third)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 121));
    expect(links(third).next).to.equal(undefined);
    expect(cards(await get(links(third).prev!))).to.deep.equal(cards(second));
    expect(cards(await get(links(second).prev!))).to.deep.equal(cards(first));
  });

  it('when a topic is paged with ?limit=, then its next and previous links keep that page size', async () => {
    const first = await get('/search/graduate-school?limit=7');
    expect(cards(first)).to.have.length(7);
    expect(first).to.include('7 books on this page');
    expect(links(first).next).to.match(/^\/search\/graduate-school\?limit=7&cursor=[A-Za-z0-9_-]+$/);
    const second = await get(links(first).next!);
    expect(cards(second)[0]).to.be.greaterThan(cards(first)[6]);
    expect(cards(await get(links(second).prev!))).to.deep.equal(cards(first));
  });

  it('when a bad cursor is followed, then the browser gets an error page, not a stack trace', async () => {
    for (const url of ['/books?cursor=nope', '/search/graduate-school?cursor=nope']) {
      const res = await stack.frontend.inject({ url, headers: HTML });
      expect(res.statusCode, url).to.equal(400);
      expect(res.headers['content-type']).to.match(/^text\/html/);
    }
  });
});

describe('storefront at 100,000 books: every page under 200 KB, every JSON answer under 64 KB', function () {
  this.timeout(120_000);
  let stack: Stack;
  let onTopic: number;
  before(async () => {
    const books = generateBooks(100_000);
    onTopic = books.filter((b) => b.topic === 'distributed systems').length;
    stack = await startStack({ books });
  });
  after(() => stack.close());

  async function size(url: string, headers: Record<string, string> = HTML, app = stack.frontend): Promise<{ bytes: number; body: string }> {
    const res = await app.inject({ url, headers });
    expect(res.statusCode, url).to.equal(200);
    return { bytes: Buffer.byteLength(res.body), body: res.body };
  }

  it('when the home page, book pages and topic pages are opened, then each is under 200 KB', async () => {
    const home = await size('/');
    expect(home.bytes, '/').to.be.below(200 * KB);
    expect(cards(home.body)).to.have.length(12);
    let books = await size('/books');
    for (let i = 0; i < 3; i++) books = await size(links(books.body).next!);
    expect(books.bytes, 'the fourth page of /books').to.be.below(200 * KB);
    let topic = await size('/search/distributed-systems');
    expect(cards(topic.body)).to.have.length(20);
    for (let i = 0; i < 5; i++) topic = await size(links(topic.body).next!);
    expect(topic.bytes, 'a topic page deep in its topic').to.be.below(200 * KB);
    const biggest = await size('/search/distributed-systems?limit=1000');
    expect(onTopic).to.be.greaterThan(900);
    expect(cards(biggest.body)).to.have.length(Math.min(1000, onTopic));
    expect(biggest.bytes, 'the largest page a topic can ask for').to.be.below(200 * KB);
    expect((await size('/lookup/99999')).bytes).to.be.below(200 * KB);
  });

  it('when the JSON API is asked for its default pages, then each answer is under 64 KB', async () => {
    const json = { accept: 'application/json' };
    for (const [app, url] of [
      [stack.frontend, '/search/distributed-systems'],
      [stack.frontend, '/lookup/99999'],
      [stack.catalog, '/query_by_topic/distributed-systems'],
      [stack.catalog, '/books'],
      [stack.catalog, '/topics'],
    ] as const) {
      const { bytes, body } = await size(url, json, app);
      expect(bytes, url).to.be.below(64 * KB);
      expect(JSON.parse(body)).to.be.an('object');
    }
  });
});
