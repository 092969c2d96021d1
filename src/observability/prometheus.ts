import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricDefinitions, type Metrics, type MetricName, type Sample } from '../shared/metrics.ts';

export interface PrometheusMetrics extends Metrics {
  readonly registry: Registry;
  /** The text a Prometheus scrape gets. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

type Reader = () => Sample<never>[];

/**
 * The Metrics port on prom-client, with a registry of its own (not prom-client's global one), so
 * that two Keystep apps in one process (tests) keep apart. Node's default metrics come along.
 */
export function prometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const readers = new Map<MetricName, Reader[]>();
  const made = new Map<MetricName, Counter | Histogram | Gauge>();

  for (const [name, def] of Object.entries(metricDefinitions) as [MetricName, (typeof metricDefinitions)[MetricName]][]) {
    const common = { name, help: def.help, labelNames: [...def.labels] as string[], registers: [registry] };
    if (def.kind === 'counter') made.set(name, new Counter(common));
    else if (def.kind === 'histogram') made.set(name, new Histogram({ ...common, buckets: [...def.buckets] }));
    else {
      made.set(name, new Gauge({
        ...common,
        // Read at each scrape: the values belong to other parts (the pool, the circuit breaker).
        collect() {
          this.reset();
          for (const read of readers.get(name) ?? []) {
            for (const sample of read()) this.set(sample.labels as Record<string, string>, sample.value);
          }
        },
      }));
    }
  }

  return {
    registry,
    count(name, labels, by = 1) {
      (made.get(name) as Counter).inc(labels as Record<string, string>, by);
    },
    observe(name, labels, value) {
      (made.get(name) as Histogram).observe(labels as Record<string, string>, value);
    },
    gauge(name, read) {
      readers.set(name, [...(readers.get(name) ?? []), read as Reader]);
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
