/**
 * Browsing a bigger catalog in a real browser (headless Debian Chromium, JavaScript off): the home page shows the
 * first books and leads to all of them, and the next and previous links walk the pages of all books and of a topic.
 */
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { generateBooks } from '../../catalog-server/seed/generate';
import { startStack, type Stack } from '../helpers/stack';
import { launchChromium, requireChromium, screenshotPath, type Browser } from './chromium';

const titles = (page: Page) => page.locator('.card h3').allInnerTexts();

describe('browser: paging through a bigger catalog', function () {
  this.timeout(120_000);
  const books = generateBooks(150, 3);
  let stack: Stack;
  let browser: Browser;
  let page: Page;

  before(async function () {
    requireChromium(this);
    stack = await startStack({ books });
    browser = await launchChromium();
    page = await (await browser.newContext({ javaScriptEnabled: false, baseURL: stack.urls.frontend })).newPage();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('when a visitor goes from the home page to all books, then Next and Previous walk 60 books at a time', async () => {
    await page.goto('/');
    expect(await titles(page)).to.deep.equal(books.slice(0, 12).map((b) => b.title));
    await page.screenshot({ path: screenshotPath('20-home-150-books'), fullPage: true });
    await page.getByRole('link', { name: 'See all books' }).click();
    expect(new URL(page.url()).pathname).to.equal('/books');
    expect(await page.locator('h1').innerText()).to.equal('All books');
    expect(await titles(page)).to.deep.equal(books.slice(0, 60).map((b) => b.title));
    expect(await page.locator('a[rel="prev"]').count()).to.equal(0);

    await page.getByRole('link', { name: 'Next →' }).click();
    expect(await titles(page)).to.deep.equal(books.slice(60, 120).map((b) => b.title));
    await page.getByRole('link', { name: 'Next →' }).click();
    expect(await titles(page)).to.deep.equal(books.slice(120).map((b) => b.title));
    expect(await page.locator('a[rel="next"]').count()).to.equal(0);
    await page.screenshot({ path: screenshotPath('21-all-books-last-page'), fullPage: true });

    await page.getByRole('link', { name: '← Previous' }).click();
    expect(await titles(page)).to.deep.equal(books.slice(60, 120).map((b) => b.title));
  });

  it('when a visitor pages through a topic, then each page follows the last and Previous goes back', async () => {
    const onTopic = books.filter((b) => b.topic === 'graduate school').map((b) => b.title);
    await page.goto('/search/graduate-school?limit=10');
    expect(await titles(page)).to.deep.equal(onTopic.slice(0, 10));
    await page.getByRole('link', { name: 'Next →' }).click();
    expect(new URL(page.url()).searchParams.get('limit')).to.equal('10');
    expect(await titles(page)).to.deep.equal(onTopic.slice(10, 20));
    await page.screenshot({ path: screenshotPath('22-topic-page-2'), fullPage: true });
    await page.getByRole('link', { name: '← Previous' }).click();
    expect(await titles(page)).to.deep.equal(onTopic.slice(0, 10));
  });
});
