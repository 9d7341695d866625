/**
 * The storefront in a real browser (headless Debian Chromium through playwright-core), against the three real
 * services in this process. Screenshots of every page land in test-artifacts/screenshots (git-ignored).
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { buildFrontendApp } from '../../frontend-server/app';
import type { App } from '../../common/base-app';
import { AUTH, TEST_TOKEN, startStack, type Stack } from '../helpers/stack';
import { launchChromium, requireChromium, screenshotPath, type Browser } from './chromium';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function shoot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: screenshotPath(name), fullPage });
}

describe('browser: the storefront in headless Chromium', function () {
  this.timeout(120_000);
  let stack: Stack;
  let browser: Browser;
  let noJs: BrowserContext;

  before(async function () {
    requireChromium(this);
    // One book whose title and topic are hostile, as if someone had put them in the database.
    stack = await startStack({
      books: [
        { id: 1, title: 'How to get a good grade in DOS in 20 minutes a day', topic: 'distributed systems', stock: 5, price_cents: 3000 },
        { id: 2, title: 'RPCs for Dummies', topic: 'distributed systems', stock: 5, price_cents: 5000 },
        { id: 3, title: 'Xen and the Art of Surviving Graduate School', topic: 'graduate school', stock: 5, price_cents: 2500 },
        { id: 4, title: 'Cooking for the Impatient Graduate Student', topic: 'graduate school', stock: 5, price_cents: 1500 },
        { id: 5, title: '<script>alert(4)</script> Hacking', topic: '"><svg onload=alert(3)>', stock: 3, price_cents: 999 },
      ],
    });
    browser = await launchChromium();
    // The walk runs with JavaScript off: the store must work without it.
    noJs = await browser.newContext({ javaScriptEnabled: false, baseURL: stack.urls.frontend });
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('when a visitor walks home → topic → book → buy, then the confirmation shows the order and the new stock', async () => {
    const page = await noJs.newPage();
    const home = await page.goto('/');
    expect(home!.status()).to.equal(200);
    expect(await page.locator('h1').innerText()).to.equal('Books for distributed minds');
    expect(await page.locator('.chips a').allInnerTexts()).to.have.members([
      'distributed systems', 'graduate school', '"><svg onload=alert(3)>',
    ]);
    expect(await page.locator('.grid .card').count()).to.equal(5);
    expect(await page.locator('.card', { hasText: 'RPCs for Dummies' }).locator('.badge').innerText()).to.equal('5 in stock');
    await shoot(page, '01-home');

    await page.getByRole('link', { name: 'distributed systems', exact: true }).click();
    expect(new URL(page.url()).pathname).to.equal('/search/distributed-systems');
    expect(await page.locator('h1').innerText()).to.equal('Books on distributed systems');
    expect(await page.locator('.card h3').allInnerTexts()).to.deep.equal([
      'How to get a good grade in DOS in 20 minutes a day',
      'RPCs for Dummies',
    ]);
    await shoot(page, '02-topic');

    await page.getByRole('link', { name: 'RPCs for Dummies' }).click();
    expect(new URL(page.url()).pathname).to.equal('/lookup/2');
    expect(await page.locator('h1').innerText()).to.equal('RPCs for Dummies');
    expect(await page.locator('.facts .price').innerText()).to.equal('$50.00');
    expect(await page.locator('.facts .badge').innerText()).to.equal('5 in stock');
    await shoot(page, '03-book');

    const [answer] = await Promise.all([
      page.waitForResponse((res) => res.request().method() === 'POST'),
      page.getByRole('button', { name: 'Buy for $50.00' }).click(),
    ]);
    expect(answer.status()).to.equal(201);
    await page.waitForLoadState();
    expect(await page.locator('h1').innerText()).to.equal('Thank you for your order');
    const orderId = await page.locator('.order-id').innerText();
    expect(orderId).to.match(UUID);
    expect(await page.locator('.facts .price').innerText()).to.equal('$50.00');
    expect(await page.locator('.stock-left').innerText()).to.equal('4 in stock');
    await shoot(page, '04-confirmation');

    // The page tells the truth: the ledger holds the order and the catalog the new stock.
    expect((await stack.ledger.get(orderId))?.status).to.equal('confirmed');
    expect((await stack.store.getBook(2))?.stock).to.equal(4);
    await page.close();
  });

  it('when GET /buy/<n> is opened, then it shows the book with a Buy button and buys nothing', async () => {
    const page = await noJs.newPage();
    const res = await page.goto('/buy/1');
    expect(res!.status()).to.equal(200);
    expect(await page.locator('h1').innerText()).to.include('How to get a good grade in DOS');
    expect(await page.locator('form[action="/buy/1"][method="post"] button').count()).to.equal(1);
    await shoot(page, '05-buy-confirm');
    expect((await stack.store.getBook(1))?.stock).to.equal(5);
    await page.close();
  });

  it('when a book is bought to sold out, then its page disables buying and a stale Buy gets the sold-out page', async () => {
    const update = await stack.catalog.inject({ method: 'PUT', url: '/update/3', headers: AUTH, payload: { stock: 2 } });
    expect(update.statusCode).to.equal(200);
    const page = await noJs.newPage();
    const stale = await noJs.newPage();
    await stale.goto('/lookup/3');
    expect(await stale.locator('.facts .badge').innerText()).to.equal('Only 2 left');

    for (const left of ['Only 1 left', 'Sold out']) {
      await page.goto('/lookup/3');
      await page.getByRole('button', { name: 'Buy for $25.00' }).click();
      await page.waitForLoadState();
      expect(await page.locator('h1').innerText()).to.equal('Thank you for your order');
      expect(await page.locator('.stock-left').innerText()).to.equal(left);
    }
    await page.goto('/lookup/3');
    const button = page.getByRole('button', { name: 'Sold out' });
    expect(await button.isDisabled()).to.equal(true);
    expect(await page.locator('form[action="/buy/3"]').count()).to.equal(0);
    expect(await page.locator('#sold-out-note').innerText()).to.include('Every copy has been sold');
    await shoot(page, '06-sold-out');

    // The second tab still shows the Buy button from before; pressing it now must be refused, plainly.
    const [answer] = await Promise.all([
      stale.waitForResponse((res) => res.request().method() === 'POST'),
      stale.getByRole('button', { name: 'Buy for $25.00' }).click(),
    ]);
    expect(answer.status()).to.equal(409);
    await stale.waitForLoadState();
    expect(await stale.locator('h1').innerText()).to.equal('Sold out');
    expect(await stale.locator('[role=alert]').innerText()).to.include('is out of stock');
    expect(await stale.getByRole('link', { name: 'Back to the book' }).getAttribute('href')).to.equal('/lookup/3');
    await shoot(stale, '07-out-of-stock');
    expect((await stack.store.getBook(3))?.stock).to.equal(0);
    await Promise.all([page.close(), stale.close()]);
  });

  it('when a book number does not exist, then a 404 page explains and links to all books', async () => {
    const page = await noJs.newPage();
    const res = await page.goto('/lookup/999');
    expect(res!.status()).to.equal(404);
    expect(await page.locator('h1').innerText()).to.equal('No such book');
    expect(await page.getByRole('link', { name: 'See all books' }).getAttribute('href')).to.equal('/');
    await shoot(page, '08-unknown-book');
    await page.close();
  });

  it('when the catalog is down, then a 503 page says so and offers to try again', async () => {
    // A second frontend whose catalog and order servers do not exist (nothing listens on port 1).
    const lonely: App = buildFrontendApp({
      catalogUrl: 'http://127.0.0.1:1',
      orderUrl: 'http://127.0.0.1:1',
      token: TEST_TOKEN,
      logLevel: 'silent',
    });
    const url = await lonely.listen({ host: '127.0.0.1', port: 0 });
    // Its own browser, closed before the server: a browser's idle sockets would hold the server's close open.
    const own = await browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await own.newPage();
      const res = await page.goto(`${url}/lookup/1`);
      expect(res!.status()).to.equal(503);
      expect(await page.locator('h1').innerText()).to.equal('The store is briefly unavailable');
      expect(await page.locator('[role=alert]').innerText()).to.include('catalog service is unavailable');
      expect(await page.getByRole('link', { name: 'Try again' }).getAttribute('href')).to.equal('/lookup/1');
      await shoot(page, '09-unavailable');
    } finally {
      await own.close();
      await lonely.close();
    }
  });

  it('when someone searches for markup, then it comes back as text and no script runs', async () => {
    const js = await browser.newContext({ baseURL: stack.urls.frontend });
    const page = await js.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    for (const [n, payload] of ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'].entries()) {
      await page.goto('/');
      await page.getByLabel('Search books by topic').fill(payload);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForLoadState('load');
      expect(await page.locator('[role=alert]').innerText()).to.include(payload);
      expect(await page.getByLabel('Search books by topic').inputValue()).to.equal(payload);
      expect(await page.locator('main script, main img, main svg').count()).to.equal(0);
      await shoot(page, `10-search-markup-${n + 1}`);
    }
    // The hostile title and topic from the database are shown as text on every page that carries them.
    await page.goto('/');
    expect(await page.locator('.card', { hasText: 'Hacking' }).locator('h3').innerText()).to.equal('<script>alert(4)</script> Hacking');
    await page.goto('/lookup/5');
    expect(await page.locator('h1').innerText()).to.equal('<script>alert(4)</script> Hacking');
    await page.getByRole('link', { name: '"><svg onload=alert(3)>' }).first().click();
    expect(await page.locator('h1 .topic-name').innerText()).to.equal('"><svg onload=alert(3)>');
    expect(await page.locator('main script, main img, main svg').count()).to.equal(0);
    await shoot(page, '11-hostile-topic');
    expect(dialogs).to.deep.equal([]);
  });

  it('when viewed on a phone, then nothing overflows sideways and focus is visible for keyboard users', async () => {
    const phone = await browser.newContext({
      baseURL: stack.urls.frontend,
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    const page = await phone.newPage();
    for (const [path, name] of [['/', '12-home-phone'], ['/lookup/2', '13-book-phone']]) {
      await page.goto(path);
      // Expressions as strings: the browser's DOM types are not part of this Node program.
      const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
      const innerWidth = await page.evaluate<number>('window.innerWidth');
      expect(scrollWidth).to.be.at.most(innerWidth);
      await shoot(page, name);
    }
    await page.goto('/');
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).to.equal('Skip to content');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).to.not.equal('none');
    // Every form control is labelled.
    const unlabelled = await page.evaluate<number>(
      '[...document.querySelectorAll("input")].filter((i) => !i.labels || i.labels.length === 0).length',
    );
    expect(unlabelled).to.equal(0);
  });

  it('when the system prefers dark mode, then the pages switch to the dark palette', async () => {
    const dark = await browser.newContext({ baseURL: stack.urls.frontend, colorScheme: 'dark' });
    const page = await dark.newPage();
    await page.goto('/lookup/1');
    const background = await page.evaluate<string>('getComputedStyle(document.documentElement).backgroundColor');
    expect(background).to.equal('rgb(27, 25, 22)');
    await shoot(page, '14-book-dark');
  });
});
