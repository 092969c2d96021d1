import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { bearerMatches } from '../../src/http/metrics-routes.ts';
import { wireMetrics } from '../../src/metrics-wiring.ts';
import { conversionTally } from '../../src/observability/conversion.ts';
import { prometheusMetrics } from '../../src/observability/prometheus.ts';
import { metricDefinitions, noMetrics } from '../../src/shared/metrics.ts';
import { parseExposition, valueOf } from '../support/scrape.ts';
import { TestClock } from '../support/sms.ts';

const TOKEN = 'a-metrics-token-of-forty-characters-0123';

describe('metrics', () => {
  it('are off unless served: no registry, the no-op port', () => {
    const config = loadConfig({}, { env: 'test', demo: false });
    expect(wireMetrics(config, new TestClock(), undefined as never)).toEqual({ metrics: noMetrics });
  });

  it('settings: the listener on loopback by default; a token that is too short or holds spaces is refused', () => {
    expect(loadConfig({ KEYSTEP_METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(() => loadConfig({ KEYSTEP_METRICS_BEARER_TOKEN: 'short' })).toThrow(/metrics\.bearerToken \(KEYSTEP_METRICS_BEARER_TOKEN\)/);
    expect(() => loadConfig({ KEYSTEP_METRICS_BEARER_TOKEN: `${TOKEN} x` })).toThrow(/printable characters without spaces/);
    expect(() => loadConfig({ KEYSTEP_METRICS_PORT: '70000' })).toThrow(/metrics\.port/);
  });

  it('the bearer token matches only exactly, in a header of the Bearer scheme', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    for (const header of [undefined, '', 'Bearer', 'Bearer ', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Bearer ${TOKEN} extra`, TOKEN]) {
      expect(bearerMatches(header, TOKEN), String(header)).toBe(false);
    }
  });

  it('the registry has every metric of the list, with its labels and nothing else of ours', async () => {
    const metrics = prometheusMetrics();
    metrics.count('keystep_step_results_total', { factor: 'password', outcome: 'passed' });
    metrics.gauge('keystep_sms_circuit_state', () => [{ labels: { provider: 'http' }, value: 2 }]);
    const json = await metrics.registry.getMetricsAsJSON();
    expect(json.filter((m) => m.name.startsWith('keystep_')).map((m) => m.name).sort()).toEqual(Object.keys(metricDefinitions).sort());
    const series = parseExposition((await metrics.scrape()).body);
    expect(valueOf(series, 'keystep_step_results_total', { factor: 'password', outcome: 'passed' })).toBe(1);
    expect(valueOf(series, 'keystep_sms_circuit_state', { provider: 'http' })).toBe(2);
    // A label the list does not name is a programming error, not a new series.
    expect(() => metrics.count('keystep_step_results_total', { factor: 'password', outcome: 'passed', username: 'x' } as never)).toThrow();
  });

  it('two registries keep apart (two apps in one process)', async () => {
    const a = prometheusMetrics();
    const b = prometheusMetrics();
    a.count('keystep_logins_started_total', { client: 'app' });
    expect(valueOf(parseExposition((await b.scrape()).body), 'keystep_logins_started_total', { client: 'app' })).toBeUndefined();
  });

  it('conversion: codes entered over codes sent per country, over the last hour only', () => {
    const clock = new TestClock();
    const tally = conversionTally(clock);
    tally.sent('GB');
    tally.sent('GB');
    tally.verified('GB');
    tally.sent('US');
    expect(tally.ratios()).toEqual([{ country: 'GB', ratio: 0.5 }, { country: 'US', ratio: 0 }]);
    clock.advance(59 * 60);
    tally.sent('GB');
    tally.verified('GB');
    expect(tally.ratios()).toContainEqual({ country: 'GB', ratio: 2 / 3 });
    clock.advance(2 * 60);
    // The first sends left the window; a code entered for a send that left it counts at most 1.
    expect(tally.ratios()).toEqual([{ country: 'GB', ratio: 1 }]);
    clock.advance(61 * 60);
    expect(tally.ratios()).toEqual([]);
  });
});
