import { expect } from 'chai';
import { startStack, type Stack } from '../helpers/stack';
import type { App } from '../../common/base-app';
import { sample } from '../helpers/metrics';

async function scrape(app: App): Promise<{ type: string; text: string }> {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).to.equal(200);
  return { type: String(res.headers['content-type']), text: res.body };
}


describe('GET /metrics on every service', function () {
  this.timeout(20_000);
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack();
  });

  afterEach(async () => {
    await stack.close();
  });

  it('when requests were answered, then each service counts them by route pattern and status, with latency histograms', async () => {
    await stack.frontend.inject({ method: 'GET', url: '/lookup/1' });
    await stack.frontend.inject({ method: 'GET', url: '/lookup/2' });
    await stack.frontend.inject({ method: 'GET', url: '/lookup/abc' });
    await stack.frontend.inject({ method: 'GET', url: '/no/such/page' });
    const { type, text } = await scrape(stack.frontend);
    expect(type).to.match(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'http_requests_total{method="GET",route="/lookup/:n",status="200",service="frontend"}')).to.equal(2);
    expect(sample(text, 'http_requests_total{method="GET",route="/lookup/:n",status="400",service="frontend"}')).to.equal(1);
    expect(sample(text, 'http_requests_total{method="GET",route="unmatched",status="404",service="frontend"}')).to.equal(1);
    expect(sample(text, 'http_request_duration_seconds_count{method="GET",route="/lookup/:n",status="200",service="frontend"}')).to.equal(2);
    expect(sample(text, 'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/lookup/:n",status="200",service="frontend"}')).to.equal(2);
    expect(text).to.contain('process_cpu_user_seconds_total');
  });

  it('when a buy goes through all three tiers, then upstream latency by target, database transaction time by backend and pending orders are exported', async () => {
    const buy = await stack.frontend.inject({ method: 'POST', url: '/buy/1' });
    expect(buy.statusCode).to.equal(201);
    const frontend = (await scrape(stack.frontend)).text;
    expect(sample(frontend, 'upstream_request_duration_seconds_count{target="order",method="POST",outcome="201",service="frontend"}')).to.equal(1);
    const order = (await scrape(stack.order)).text;
    expect(sample(order, 'upstream_request_duration_seconds_count{target="catalog",method="POST",outcome="201",service="order"}')).to.equal(1);
    expect(sample(order, 'db_transaction_seconds_count{op="createPending",backend="sqlite",service="order"}')).to.equal(1);
    expect(sample(order, 'db_transaction_seconds_count{op="confirm",backend="sqlite",service="order"}')).to.equal(1);
    expect(sample(order, 'orders_pending{service="order"}')).to.equal(0);
    const catalog = (await scrape(stack.catalog)).text;
    expect(sample(catalog, 'db_transaction_seconds_count{op="purchase",backend="sqlite",service="catalog"}')).to.equal(1);
    expect(sample(catalog, 'http_requests_total{method="POST",route="/purchase/:n",status="201",service="catalog"}')).to.equal(1);
  });

  it('when an order is left pending, then orders_pending counts it', async () => {
    await stack.ledger.createPending(2);
    expect(sample((await scrape(stack.order)).text, 'orders_pending{service="order"}')).to.equal(1);
  });

  it('when two stacks run in one process, then their counters do not leak into each other', async () => {
    const other = await startStack();
    try {
      await stack.frontend.inject({ method: 'GET', url: '/lookup/1' });
      const mine = (await scrape(stack.frontend)).text;
      const theirs = (await scrape(other.frontend)).text;
      expect(sample(mine, 'http_requests_total{method="GET",route="/lookup/:n",status="200",service="frontend"}')).to.equal(1);
      expect(sample(theirs, 'http_requests_total{method="GET",route="/lookup/:n",status="200",service="frontend"}')).to.equal(undefined);
    } finally {
      await other.close();
    }
  });
});
