import type { App } from '../../common/base-app';

/**
 * Reads one sample from a Prometheus text answer: `sample(text, 'http_requests_total{route="/x",status="200"}')`
 * matches the line with that name and exactly those labels in any order (prom-client orders them its own way).
 * Undefined when absent.
 */
export function sample(text: string, selector: string): number | undefined {
  const want = parseLine(`${selector} 0`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(want.name)) continue;
    const got = parseLine(line);
    if (got.name === want.name && got.labels === want.labels) return got.value;
  }
  return undefined;
}

function parseLine(line: string): { name: string; labels: string; value: number } {
  const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
  if (!match) return { name: '', labels: '', value: NaN };
  const labels = (match[2] ?? '').match(/\w+="(?:[^"\\]|\\.)*"/g) ?? [];
  return { name: match[1], labels: labels.sort().join(','), value: Number(match[3]) };
}

/** One sample of an in-process app's /metrics (0 when absent). */
export async function metric(app: App, selector: string): Promise<number> {
  return sample((await app.inject({ method: 'GET', url: '/metrics' })).body, selector) ?? 0;
}
