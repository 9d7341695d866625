import type { Metric, Registry } from 'prom-client';

/** One labelled series of a counter: inc() adds to a number. */
export interface CounterChild {
  inc(by?: number): void;
}

/** One labelled series of a histogram: observe() finds its bucket in a short loop. */
export interface HistogramChild {
  observe(value: number): void;
}

interface Series<L extends string> {
  labels: Record<L, string>;
}

/**
 * Counters and histograms for the hot path (every request, every upstream call), kept in a service's prom-client
 * registry and exported exactly as prom-client's own Counter and Histogram would be: same names, help, labels,
 * buckets and text (test/common/hot-metrics.test.ts compares the two). What differs is the cost of recording: a
 * child bound once to its labels adds to numbers, where prom-client's children hash and validate their labels on
 * every call (~0.4 µs an inc(), ~0.7 µs an observe(), measured).
 */
abstract class HotMetric<L extends string, S extends Series<L>> {
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, S>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series for these labels; made on the first inc() or observe(), as prom-client shows a series from then on. */
  protected seriesFor(labels: Record<L, string>): S {
    const key = this.labelNames.map((name) => labels[name]).join('\u0000');
    let series = this.series.get(key);
    if (!series) {
      // Only the declared labels, in declaration order, as prom-client keeps them.
      const own = Object.fromEntries(this.labelNames.map((name) => [name, String(labels[name])])) as Record<L, string>;
      series = this.create(own);
      this.series.set(key, series);
    }
    return series;
  }

  protected abstract create(labels: Record<L, string>): S;
}

interface CounterSeries<L extends string> extends Series<L> {
  value: number;
}

export class HotCounter<L extends string> extends HotMetric<L, CounterSeries<L>> {
  readonly type = 'counter';

  /** The child for these labels: bind it once and keep it. */
  labels(labels: Record<L, string>): CounterChild {
    let series: CounterSeries<L> | undefined;
    return {
      inc: (by = 1) => {
        series ??= this.seriesFor(labels);
        series.value += by;
      },
    };
  }

  protected create(labels: Record<L, string>): CounterSeries<L> {
    return { labels, value: 0 };
  }

  async get() {
    const values = [...this.series.values()].map(({ labels, value }) => ({ labels, value }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

interface HistogramSeries<L extends string> extends Series<L> {
  /** Observations per bucket (not cumulative); the last slot holds those above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class HotHistogram<L extends string> extends HotMetric<L, HistogramSeries<L>> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  /** The child for these labels: bind it once and keep it. */
  labels(labels: Record<L, string>): HistogramChild {
    let series: HistogramSeries<L> | undefined;
    const bounds = this.buckets;
    return {
      observe: (value: number) => {
        series ??= this.seriesFor(labels);
        let i = 0;
        while (i < bounds.length && value > bounds[i]) i++;
        series.counts[i]++;
        series.sum += value;
        series.count++;
      },
    };
  }

  protected create(labels: Record<L, string>): HistogramSeries<L> {
    return { labels, counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  /** The registry's text format asks for this form: each series' labels apart from the bucket's `le`. */
  async getForPromString() {
    const values: ReturnType<typeof exported>[] = [];
    for (const { labels, counts, sum, count } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += counts[i];
        values.push(exported({ le: this.buckets[i] }, labels, cumulative, `${this.name}_bucket`, null));
      }
      values.push(exported({ le: '+Inf' }, labels, count, `${this.name}_bucket`, null));
      values.push(exported({}, labels, sum, `${this.name}_sum`, undefined));
      values.push(exported({}, labels, count, `${this.name}_count`, undefined));
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** The JSON form: every label of a value in one object. */
  async get() {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return { ...data, values };
  }
}

/** One exported value, in the shape prom-client's Histogram gives (exemplars are never enabled here). */
function exported(labels: Record<string, string | number>, sharedLabels: Record<string, string>, value: number, metricName: string, exemplar: null | undefined) {
  return { labels, sharedLabels, value, metricName, exemplar };
}
