import { expect } from 'chai';
import { Counter, Histogram, Registry } from 'prom-client';
import { HotCounter, HotHistogram } from '../../common/hot-metrics';

const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The same metrics twice: prom-client's own classes in one registry, the hot ones in another. */
function twins() {
  const registries = [new Registry(), new Registry()];
  for (const registry of registries) registry.setDefaultLabels({ service: 'frontend' });
  const labelNames = ['method', 'route', 'status'] as const;
  const promCounter = new Counter({ name: 'requests_total', help: 'Requests', labelNames, registers: [registries[0]] });
  const promHistogram = new Histogram({ name: 'request_seconds', help: 'Time', labelNames, buckets: BUCKETS, registers: [registries[0]] });
  const hotCounter = new HotCounter('requests_total', 'Requests', labelNames, registries[1]);
  const hotHistogram = new HotHistogram('request_seconds', 'Time', labelNames, BUCKETS, registries[1]);
  return { registries, promCounter, promHistogram, hotCounter, hotHistogram };
}

describe('hot metrics: exported exactly as prom-client exports its own', () => {
  it('when the same requests are counted and timed by both, then /metrics text and the JSON form are identical', async () => {
    const { registries, promCounter, promHistogram, hotCounter, hotHistogram } = twins();
    const observations: [string, string, string, number][] = [
      ['GET', '/lookup/:n', '200', 0.0003],
      ['GET', '/lookup/:n', '200', 0.0001], // exactly on a bound
      ['GET', '/lookup/:n', '404', 0.004],
      ['POST', '/buy/:n', '201', 0.02],
      ['GET', '/lookup/:n', '200', 3], // above every bound
      ['POST', '/buy/:n', '201', 0.7],
    ];
    const bound = new Map<string, { count: ReturnType<typeof hotCounter.labels>; time: ReturnType<typeof hotHistogram.labels> }>();
    for (const [method, route, status, seconds] of observations) {
      const labels = { method, route, status };
      promCounter.inc(labels);
      promHistogram.observe(labels, seconds);
      const key = `${method} ${route} ${status}`;
      if (!bound.has(key)) bound.set(key, { count: hotCounter.labels(labels), time: hotHistogram.labels(labels) });
      bound.get(key)!.count.inc();
      bound.get(key)!.time.observe(seconds);
    }
    const [promText, hotText] = await Promise.all(registries.map((r) => r.metrics()));
    expect(hotText).to.equal(promText);
    expect(hotText).to.contain('request_seconds_bucket{le="+Inf",service="frontend",method="GET",route="/lookup/:n",status="200"} 3');
    const [promJson, hotJson] = await Promise.all(registries.map((r) => r.getMetricsAsJSON()));
    expect(hotJson).to.deep.equal(promJson);
  });

  it('when a child is bound but never used, then its series does not appear, as with prom-client', async () => {
    const { registries, promCounter, promHistogram, hotCounter, hotHistogram } = twins();
    const labels = { method: 'GET', route: '/x', status: '200' };
    promCounter.labels(labels);
    promHistogram.labels(labels);
    hotCounter.labels(labels);
    hotHistogram.labels(labels);
    const [promText, hotText] = await Promise.all(registries.map((r) => r.metrics()));
    expect(hotText).to.equal(promText);
    expect(hotText).not.to.contain('route="/x"');
  });
});
