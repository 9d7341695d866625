/**
 * The classroom demonstration in a real browser: a teacher opens /status, stops one catalog replica, and watches
 * the page (which reloads itself) show it ejected and the cache dark, while lookups keep answering from the other
 * replica; then starts it again and watches it return.
 */
import { expect } from 'chai';
import type { BrowserContext, Page } from 'playwright-core';
import { startReplicatedStack, type ReplicatedStack } from '../helpers/replicas';
import { launchChromium, requireChromium, screenshotPath, type Browser } from './chromium';
import { waitFor } from '../helpers/wait';


describe('browser: the status page while a catalog replica is stopped', function () {
  this.timeout(120_000);
  let stack: ReplicatedStack;
  let browser: Browser;
  let context: BrowserContext;

  before(async function () {
    requireChromium(this);
    stack = await startReplicatedStack({ probeIntervalMs: 200 });
    await waitFor('cache live', () => stack.frontend.reads.live);
    browser = await launchChromium();
    // JavaScript off: the page must reload itself (meta refresh) and read well without it.
    context = await browser.newContext({ javaScriptEnabled: false, baseURL: stack.frontendUrl });
  });

  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  /**
   * A screenshot of /status as it is now, taken on a page of its own with the self-reload removed: a screenshot
   * taken while the page reloads itself can wait forever for a frame.
   */
  async function snapshot(name: string): Promise<void> {
    const page = await context.newPage();
    await page.route('**/status', async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(/<meta http-equiv="refresh"[^>]*>/, '');
      await route.fulfill({ response, body });
    });
    await page.goto('/status');
    await page.screenshot({ path: screenshotPath(name), fullPage: true });
    await page.close();
  }

  const stateOf = (page: Page, origin: string) => page.locator(`table[data-upstream="catalog"] tr[data-origin="${origin}"] .state`);
  const streamOf = (page: Page, origin: string) => page.locator(`table.subscriptions tr[data-origin="${origin}"] .state`);

  it('when a teacher stops one catalog replica, then the page shows it ejected and the cache dark while lookups still answer, and shows it back after a restart', async () => {
    const [stopped, other] = stack.catalogUrls;
    const status = await context.newPage();
    const res = await status.goto('/status');
    expect(res!.status()).to.equal(200);
    expect(await status.locator('h1').innerText()).to.equal('Status');
    expect(await stateOf(status, stopped).innerText()).to.equal('in rotation');
    expect(await stateOf(status, other).innerText()).to.equal('in rotation');
    expect(await status.locator('.cache-state').innerText()).to.equal('live');
    await snapshot('status-01-all-up');

    await stack.stopCatalog(0);
    // No reload by the test: the page's own refresh brings the news.
    await stateOf(status, stopped).filter({ hasText: /^(ejected|probing)$/ }).waitFor({ timeout: 15_000 });
    await streamOf(status, stopped).filter({ hasText: 'connecting' }).waitFor({ timeout: 15_000 });
    expect(await status.locator('.cache-state').innerText()).to.equal('dark');
    expect(await stateOf(status, other).innerText()).to.equal('in rotation');
    expect(await status.locator(`table[data-upstream="catalog"] tr[data-origin="${stopped}"] td`).last().innerText()).to.match(/connection refused/);

    const shop = await context.newPage();
    for (const id of [1, 2, 3]) {
      const lookup = await shop.goto(`/lookup/${id}`);
      expect(lookup!.status(), `lookup ${id} while a replica is down`).to.equal(200);
      expect(await shop.locator('.facts .price').count()).to.equal(1);
    }
    // The page refreshes itself; wait for a refresh that counts the lookups the other replica answered.
    const answeredByOther = () =>
      status.locator(`table[data-upstream="catalog"] tr[data-origin="${other}"] td.num`).nth(1).innerText({ timeout: 2000 }).then(Number, () => 0);
    await waitFor('the other replica to be seen answering the lookups', async () => (await answeredByOther()) >= 3, 15_000);
    await snapshot('status-02-replica-stopped');

    await stack.restartCatalog(0);
    await stateOf(status, stopped).filter({ hasText: 'in rotation' }).waitFor({ timeout: 15_000 });
    await status.locator('.cache-state').filter({ hasText: 'live' }).waitFor({ timeout: 15_000 });
    await snapshot('status-03-replica-back');
    await Promise.all([status.close(), shop.close()]);
  });
});
