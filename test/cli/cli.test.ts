/**
 * The `bazar` command run as a child process (bin/bazar.js, as `npx bazar` runs it) against the three real services
 * listening on loopback. The shim builds dist/ when a source is newer than the last build; `before` does that once
 * so no single test pays for it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../cli/main';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { buildIfNeeded } = require('../../scripts/build-if-needed.js') as { buildIfNeeded: () => void };
import { projectRoot } from '../../common/paths';
import { freePorts } from '../../support/ports';
import { TEST_TOKEN, startStack, type Stack } from '../helpers/stack';

const BIN = join(projectRoot(__dirname), 'bin', 'bazar.js');
const ANSI = /\x1b\[/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('cli: bazar against the real services', function () {
  this.timeout(60_000);
  let stack: Stack;
  let env: Record<string, string>;

  const bazar = (args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<Run> =>
    new Promise((resolve) => {
      const childEnv = { ...env, ...extraEnv };
      for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
      execFile(process.execPath, [BIN, ...args], { env: childEnv as NodeJS.ProcessEnv, timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      });
    });

  /** Errors are one line on stderr, nothing on stdout. */
  const expectOneLineError = (run: Run, code: number, ...parts: string[]) => {
    expect(run.code, run.stderr).to.equal(code);
    expect(run.stdout).to.equal('');
    expect(run.stderr).to.match(/^bazar: [^\n]+\n$/);
    for (const part of parts) expect(run.stderr).to.include(part);
  };

  before(function () {
    this.timeout(180_000);
    buildIfNeeded();
  });

  beforeEach(async () => {
    stack = await startStack();
    env = {
      PATH: process.env.PATH ?? '',
      BAZAR_URL: stack.urls.frontend,
      BAZAR_CATALOG_URL: stack.urls.catalog,
      BAZAR_ORDER_URL: stack.urls.order,
      BAZAR_TOKEN: TEST_TOKEN,
    };
  });

  afterEach(async () => {
    await stack.close();
  });

  it('when searching a topic, then an aligned table lists its books with price and stock, without colour off a TTY', async () => {
    const run = await bazar(['search', 'distributed-systems']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.not.match(ANSI);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^ITEM\s+TITLE\s+TOPIC\s+PRICE\s+STOCK$/);
    expect(lines[1]).to.match(/^\s+1\s+How to get a good grade in DOS in 20 minutes a day\s+distributed systems\s+\$30\.00\s+5$/);
    expect(lines[2]).to.match(/^\s+2\s+RPCs for Dummies\s+distributed systems\s+\$50\.00\s+5$/);
    // Aligned: every column starts where its header starts, and right-aligned price columns end together.
    for (const line of lines.slice(1)) {
      expect(line.indexOf('distributed systems')).to.equal(lines[0].indexOf('TOPIC'));
      expect(line.indexOf('$') + '$30.00'.length).to.equal(lines[0].indexOf('PRICE') + 'PRICE'.length);
    }
  });

  it('when --json is given, then the service answer is printed as JSON for scripts', async () => {
    const search = await bazar(['search', 'graduate school', '--json']);
    expect(search.code).to.equal(0);
    expect(JSON.parse(search.stdout)).to.deep.equal({
      topic: 'graduate school',
      items: [
        { id: 3, title: 'Xen and the Art of Surviving Graduate School' },
        { id: 4, title: 'Cooking for the Impatient Graduate Student' },
      ],
      next_cursor: null,
      prev_cursor: null,
    });
    const lookup = await bazar(['lookup', '2', '--json']);
    expect(JSON.parse(lookup.stdout)).to.deep.equal(await stack.store.getBook(2));
    const topics = await bazar(['topics', '--json']);
    expect(JSON.parse(topics.stdout)).to.deep.equal({ topics: ['distributed systems', 'graduate school'] });
  });

  it('when searching with --limit, then one page and a hint; with --all, every page, walking the cursor', async () => {
    const page = await bazar(['search', 'distributed-systems', '--limit', '1']);
    expect(page.code, page.stderr).to.equal(0);
    const lines = page.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(/^\s+1\s+How to get a good grade/);
    expect(lines[2]).to.equal("More books on 'distributed systems': add --all to list them all.");
    const all = await bazar(['search', 'distributed-systems', '--limit', '1', '--all']);
    expect(all.stdout.trimEnd().split('\n').map((line) => line.trim().split(/\s+/)[0])).to.deep.equal(['ITEM', '1', '2']);
    const json = JSON.parse((await bazar(['search', 'distributed-systems', '--limit', '1', '--all', '--json'])).stdout);
    expect(json).to.deep.include({ topic: 'distributed systems', next_cursor: null });
    expect(json.items.map((b: { id: number }) => b.id)).to.deep.equal([1, 2]);
  });

  it('when looking up a book and listing topics, then people get readable records', async () => {
    const lookup = await bazar(['lookup', '3']);
    expect(lookup.code).to.equal(0);
    expect(lookup.stdout).to.match(/^Item\s+3$/m).and.match(/^Title\s+Xen and the Art of Surviving Graduate School$/m);
    expect(lookup.stdout).to.match(/^Price\s+\$25\.00$/m).and.match(/^Stock\s+5$/m);
    const topics = await bazar(['topics']);
    expect(topics.stdout).to.equal('TOPIC\ndistributed systems\ngraduate school\n');
  });

  it('when buying, then the order is confirmed in the ledger and the stock left is shown', async () => {
    const run = await bazar(['buy', '2', '--json']);
    expect(run.code, run.stderr).to.equal(0);
    const order = JSON.parse(run.stdout);
    expect(order).to.include({ item_number: 2, title: 'RPCs for Dummies', price_cents: 5000, status: 'confirmed' });
    expect((await stack.ledger.get(order.order_id))?.status).to.equal('confirmed');

    const human = await bazar(['buy', '2']);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.include('Bought “RPCs for Dummies” for $50.00.').and.match(/^Stock left\s+3$/m);
    expect((await stack.store.getBook(2))?.stock).to.equal(3);
  });

  it('when a book is bought to sold out, then the next buy exits 1 with one line saying what to do', async () => {
    expect((await bazar(['update', '4', '--stock', '1'])).code).to.equal(0);
    expect((await bazar(['buy', '4'])).code).to.equal(0);
    const run = await bazar(['buy', '4']);
    expectOneLineError(run, 1, 'out of stock', 'bazar restock');
    expect((await stack.store.getBook(4))?.stock).to.equal(0);
    expect((await bazar(['lookup', '4'])).stdout).to.match(/^Stock\s+sold out$/m);
  });

  it('when a book or topic does not exist, then exit 1 and a hint', async () => {
    expectOneLineError(await bazar(['lookup', '99']), 1, 'no book with item number 99', 'bazar search');
    expectOneLineError(await bazar(['buy', '99']), 1, 'no book with item number 99');
    expectOneLineError(await bazar(['search', 'cooking']), 1, "no books on topic 'cooking'", 'bazar topics');
  });

  it('when updating with a price in dollars, then the catalog stores exact integer cents', async () => {
    const run = await bazar(['update', '1', '--stock', '7', '--price', '12.50']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/^Price\s+\$12\.50$/m);
    expect(await stack.store.getBook(1)).to.include({ stock: 7, price_cents: 1250 });
    // 0.29 is 0.28999… as a binary float; it must still be 29 cents.
    expect((await bazar(['update', '1', '--price', '0.29'])).code).to.equal(0);
    expect(await stack.store.getBook(1)).to.include({ stock: 7, price_cents: 29 });
  });

  it('when a price has more than two decimals or update has nothing to change, then exit 2 and nothing changes', async () => {
    expectOneLineError(await bazar(['update', '1', '--price', '12.505']), 2, 'at most two decimals');
    expectOneLineError(await bazar(['update', '1', '--price', '-3']), 2, '--price');
    expectOneLineError(await bazar(['update', '1', '--stock', '-1']), 2, '--stock');
    expectOneLineError(await bazar(['update', '1']), 2, '--stock, --price or both');
    expect(await stack.store.getBook(1)).to.include({ stock: 5, price_cents: 3000 });
  });

  it('when restocking, then every book gets the stock asked for (5 by default)', async () => {
    await bazar(['update', '3', '--stock', '0']);
    const run = await bazar(['restock', '--stock', '3']);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('Restocked every book to 3.');
    expect((await stack.store.listBooks()).map((b) => b.stock)).to.deep.equal([3, 3, 3, 3]);
    expect((await bazar(['restock'])).code).to.equal(0);
    expect((await stack.store.listBooks()).map((b) => b.stock)).to.deep.equal([5, 5, 5, 5]);
  });

  it('when listing orders, then the ledger rows are shown, newest first', async () => {
    const bought = JSON.parse((await bazar(['buy', '1', '--json'])).stdout);
    const run = await bazar(['orders']);
    expect(run.code, run.stderr).to.equal(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^ORDER\s+ITEM\s+TITLE\s+PRICE\s+STATUS\s+CREATED$/);
    expect(lines[1]).to.include(bought.order_id).and.include('$30.00').and.include('confirmed');
    const json = JSON.parse((await bazar(['orders', '--json', '--limit', '1'])).stdout);
    expect(json.orders.map((o: { order_id: string }) => o.order_id)).to.deep.equal([bought.order_id]);
  });

  it('when listing orders with --limit, then one page and a hint; with --all, every order newest first, walking the cursor', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) ids.unshift(JSON.parse((await bazar(['buy', String(n), '--json'])).stdout).order_id);
    const page = await bazar(['orders', '--limit', '2']);
    const lines = page.stdout.trimEnd().split('\n');
    expect(lines.slice(1, 3).map((line) => line.split(/\s+/)[0])).to.deep.equal(ids.slice(0, 2));
    expect(lines[3]).to.equal('More orders: add --all to list them all.');
    const all = await bazar(['orders', '--limit', '2', '--all']);
    expect(all.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/\s+/)[0])).to.deep.equal(ids);
    const json = JSON.parse((await bazar(['orders', '--all', '--json', '--limit', '1'])).stdout);
    expect(json).to.deep.include({ next_cursor: null });
    expect(json.orders.map((o: { order_id: string }) => o.order_id)).to.deep.equal(ids);
  });

  it('when an admin command has no or a wrong token, then exit 1 telling to set BAZAR_TOKEN, and nothing changes', async () => {
    expectOneLineError(await bazar(['orders'], { BAZAR_TOKEN: undefined }), 1, 'BAZAR_TOKEN');
    expectOneLineError(await bazar(['restock', '--stock', '0'], { BAZAR_TOKEN: 'wrong-token-0123456789' }), 1, 'BAZAR_TOKEN');
    expect((await stack.store.listBooks()).map((b) => b.stock)).to.deep.equal([5, 5, 5, 5]);
  });

  it('when the command line is wrong, then exit 2 with the problem and a pointer to --help', async () => {
    expectOneLineError(await bazar(['frobnicate']), 2, "unknown command 'frobnicate'", '--help');
    expectOneLineError(await bazar(['lookup', 'abc']), 2, 'positive integer');
    expectOneLineError(await bazar(['lookup']), 2, '<n>');
    expectOneLineError(await bazar(['buy', '1', '--stock', '2']), 2, 'takes no --stock');
    expectOneLineError(await bazar(['lookup', '1', '--all']), 2, 'takes no --all');
    expectOneLineError(await bazar(['orders', '--limit', '0']), 2, '--limit must be a whole number from 1 to 1000');
    expectOneLineError(await bazar(['search', 'x', '--limit', '1001']), 2, '--limit must be a whole number from 1 to 1000');
    expectOneLineError(await bazar(['lookup', '1', '--bogus']), 2, '--bogus');
    expectOneLineError(await bazar(['lookup', '1', '--url', 'not a url']), 2, '--url or BAZAR_URL');
    const help = await bazar(['--help']);
    expect(help.code).to.equal(0);
    expect(help.stdout).to.include('Usage: bazar <command>').and.include('Exit codes');
    expect((await bazar([])).code).to.equal(2);
  });

  it('when a service is down, then exit 3 naming the URL to fix', async () => {
    const [port] = await freePorts(1);
    expectOneLineError(await bazar(['lookup', '1', '--url', `http://127.0.0.1:${port}`]), 3, 'connection refused', '--url or BAZAR_URL');
    expectOneLineError(await bazar(['orders'], { BAZAR_ORDER_URL: `http://127.0.0.1:${port}` }), 3, '--order-url or BAZAR_ORDER_URL');
    // The frontend is up but the catalog behind it is not: the frontend's 503 becomes exit 3.
    await stack.catalog.close();
    expectOneLineError(await bazar(['lookup', '1']), 3, 'catalog service is unavailable');
  });

  it('when stdout is a terminal, then tables are coloured; otherwise never', async () => {
    const out: string[] = [];
    const io = (colour: boolean) => ({ stdout: (t: string) => out.push(t), stderr: (t: string) => out.push(t), colour });
    expect(await main(['lookup', '2'], env, io(true))).to.equal(0);
    expect(out.join('')).to.match(ANSI);
    out.length = 0;
    expect(await main(['lookup', '2', '--json'], env, io(true))).to.equal(0);
    expect(out.join('')).to.not.match(ANSI);
  });
});
