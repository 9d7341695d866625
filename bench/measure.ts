import autocannon from 'autocannon';

export interface Load {
  url: string;
  /** A fixed cycle of requests each connection repeats (e.g. nine lookups and one buy). */
  requests: { method: 'GET' | 'POST'; path: string; body?: string }[];
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

export interface Measurement {
  requests: number;
  rps: number;
  /** Milliseconds, from every response's own time (autocannon's summary rounds to whole milliseconds). */
  latency: { p50: number; p90: number; p99: number; p999: number; max: number };
  errors: number;
  non2xx: number;
  timeouts: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Runs autocannon at a fixed number of connections for a fixed time and summarizes it. */
export async function measure(load: Load): Promise<Measurement> {
  let times = new Float64Array(1 << 16);
  let n = 0;
  let done!: (result: autocannon.Result) => void;
  let failed!: (err: unknown) => void;
  const finished = new Promise<autocannon.Result>((res, rej) => ((done = res), (failed = rej)));
  const instance = autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    pipelining: 1,
    timeout: 10,
    headers: { accept: 'application/json', ...load.headers },
    requests: load.requests.map((r) => ({
      method: r.method,
      path: r.path,
      body: r.body,
      headers: r.body === undefined ? undefined : { 'content-type': 'application/json' },
    })),
  }, (err, result) => (err ? failed(err) : done(result)));
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
    if (n === times.length) {
      const bigger = new Float64Array(times.length * 2);
      bigger.set(times);
      times = bigger;
    }
    times[n++] = responseTime;
  });
  const result = await finished;
  const sorted = times.subarray(0, n).sort();
  const total = result.requests.total;
  return {
    requests: total,
    rps: total / load.durationS,
    latency: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: n > 0 ? sorted[n - 1] : 0,
    },
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
  };
}
