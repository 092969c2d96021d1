import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { BUDGET_NAMES } from '../../src/login/sms-codes/ports.ts';
import { prometheusMetrics } from '../../src/observability/prometheus.ts';

// Names in PromQL that are not metrics: functions, keywords, aggregation modifiers.
const promql = new Set(['sum', 'min', 'max', 'avg', 'count', 'rate', 'increase', 'irate', 'histogram_quantile', 'by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'le']);

/** The metric names an expression reads: identifiers outside label matchers, strings and ranges. */
function metricsIn(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][\w:]*/g)].map((m) => m[0]).filter((name) => !promql.has(name) && !/^\d/.test(name));
}

/** Every series name the registry exposes (histograms as their _bucket, _sum and _count). */
async function exposed(): Promise<Set<string>> {
  const { registry } = prometheusMetrics();
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

const dashboard = JSON.parse(readFileSync('deploy/grafana-dashboard.json', 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
const rules = parseYaml(readFileSync('deploy/prometheus-alerts.yml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
const alerts = rules.groups.flatMap((g) => g.rules);

describe('deploy/: the dashboard and the alert rules', () => {
  it('reads the names out of PromQL (the check below would pass on a blind reader)', () => {
    expect(metricsIn('sum by (provider) (rate(keystep_sms_sends_total{status!="sent"}[10m])) / sum by (provider) (rate(x_total[10m])) > 0.5')).toEqual(['keystep_sms_sends_total', 'x_total']);
    expect(metricsIn('histogram_quantile(0.95, sum by (le, factor) (rate(keystep_step_duration_seconds_bucket[5m])))')).toEqual(['keystep_step_duration_seconds_bucket']);
    expect(metricsIn('min by (country) (a) < 0.3 and on (country) sum by (country) (increase(b{purpose="otp"}[1h])) > 20')).toEqual(['a', 'b']);
  });

  it('select only budget values Keystep counts refusals under', () => {
    const counted = new Set<string>([...BUDGET_NAMES, 'backoff', 'paused']);
    const used = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...alerts.map((a) => a.expr)]
      .flatMap((expr) => [...expr.matchAll(/\bbudget=~?"([^"]*)"/g)].flatMap((m) => m[1]!.split('|')));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((value) => !counted.has(value))).toEqual([]);
  });

  it('use only metrics Keystep has', async () => {
    const names = await exposed();
    const used = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...alerts.map((a) => a.expr)];
    expect(used.length).toBeGreaterThan(20);
    const unknown = used.flatMap((expr) => metricsIn(expr).filter((name) => !names.has(name)).map((name) => `${name} in ${expr}`));
    expect(unknown).toEqual([]);
  });

  it('alert on a failing gateway, a low conversion ratio and lock storms', () => {
    const reads = (alert: string) => metricsIn(alerts.find((a) => a.alert === alert)?.expr ?? '');
    expect(reads('KeystepSmsGatewayFailing')).toContain('keystep_sms_sends_total');
    expect(reads('KeystepSmsCircuitOpen')).toContain('keystep_sms_circuit_state');
    expect(reads('KeystepSmsConversionLow')).toContain('keystep_sms_conversion_ratio');
    expect(reads('KeystepLockStorm')).toContain('keystep_locks_total');
  });

  it('the dashboard shows every metric of Keystep\'s own', async () => {
    const own = [...(await exposed())].filter((n) => n.startsWith('keystep_') && !/_(bucket|sum|count)$/.test(n));
    const shown = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))).map((n) => n.replace(/_bucket$/, '')));
    expect(own.filter((n) => !shown.has(n))).toEqual([]);
  });
});
