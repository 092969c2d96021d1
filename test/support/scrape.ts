export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (enough of the format for prom-client's output). */
export function parseExposition(body: string): Series[] {
  return body.split('\n').filter((line) => line && !line.startsWith('#')).map((line) => {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    return { name: match[1]!, labels, value: Number(match[3]) };
  });
}

/** The value of the one series of `name` whose labels include `labels`; undefined when there is none. */
export function valueOf(series: Series[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = series.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** Scrapes a metrics URL with a real HTTP request. */
export async function scrape(url: string, token?: string): Promise<{ status: number; contentType: string | null; body: string; series: Series[] }> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const body = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), body, series: response.ok ? parseExposition(body) : [] };
}
