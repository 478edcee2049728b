import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import type { AlertList } from '../../src/shared/alerts';
import { makeScope, METRIC_NAMES, type Figure, type MonitorSnapshot } from '../../src/shared/monitor';
import { PROMETHEUS_NAMES, StrataMetrics } from '../../src/main/metrics/collector';

const figure = (metric: Figure['metric'], scope: { shard?: number; level?: string; table?: string }, value: number | null, extra: Partial<Figure> = {}): Figure => ({
  metric,
  scope: makeScope(scope),
  value,
  ...extra,
});

/** A cycle on two shards: shard1 has no node exporter, so its host figures are null ("not configured"). */
export function handBuiltSnapshot(overrides: Partial<MonitorSnapshot> = {}): MonitorSnapshot {
  return {
    at: '2026-12-02T10:00:00.000Z',
    durationMs: 240,
    queries: 38,
    redisReachable: true,
    recorded: true,
    shards: [
      { index: 0, name: 'shard0', reachable: true, hostMetricsConfigured: true },
      { index: 1, name: 'eu-1', reachable: true, hostMetricsConfigured: false },
    ],
    figures: [
      figure('shard.up', { shard: 0 }, 1),
      figure('shard.up', { shard: 1 }, 1),
      figure('shard.latency_ms', { shard: 0 }, 0.8),
      figure('chart.latency_ms', { shard: 1 }, 12.5),
      figure('host.cpu_ratio', { shard: 0 }, 0.25),
      figure('host.cpu_ratio', { shard: 1 }, null, { note: 'not configured' }),
      figure('redis.up', {}, 1),
      figure('queue.depth', {}, 17),
      figure('watermark.lag_s', { shard: 0, level: 'hourly' }, 1800),
      figure('watermark.lag_s', { shard: 1, level: 'daily' }, 86_400),
      figure('aggregation.duration_s', { shard: 0, level: 'hourly' }, 42, { link: { kind: 'run', runId: 7, text: 'run 7' } }),
      figure('partitions.pmax_rows', { shard: 1, table: 'analytics_hourly' }, 0),
      figure('backup.verified_age_s', {}, 3600),
    ],
    ...overrides,
  };
}

async function scrape(metrics: StrataMetrics): Promise<Map<string, PrometheusFamily>> {
  return new Map(parsePrometheusTextFormat(await metrics.text()).map((family) => [family.name, family]));
}

describe('Strata metrics in the Prometheus text format', () => {
  it('names every monitor metric once, in Prometheus style', () => {
    const names = METRIC_NAMES.map((metric) => PROMETHEUS_NAMES[metric]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^strata_[a-z_]+$/);
  });

  it("sets a gauge per figure labelled by the shard's name and level or table; an unmeasured figure has no series", async () => {
    const metrics = new StrataMetrics();
    metrics.observeSnapshot(handBuiltSnapshot());
    const families = await scrape(metrics);
    expect(families.get('strata_watermark_lag_seconds')).toMatchObject({
      type: 'GAUGE',
      metrics: [
        { labels: { shard: 'shard0', level: 'hourly' }, value: '1800' },
        { labels: { shard: 'eu-1', level: 'daily' }, value: '86400' },
      ],
    });
    expect(families.get('strata_probe_latency_ms')?.metrics).toEqual([{ labels: { shard: 'shard0' }, value: '0.8' }]);
    expect(families.get('strata_chart_query_latency_ms')?.metrics).toEqual([{ labels: { shard: 'eu-1' }, value: '12.5' }]);
    expect(families.get('strata_host_cpu_ratio')?.metrics).toEqual([{ labels: { shard: 'shard0' }, value: '0.25' }]);
    expect(families.get('strata_queue_depth')?.metrics).toEqual([{ value: '17' }]);
    expect(families.get('strata_partitions_pmax_rows')?.metrics).toEqual([{ labels: { shard: 'eu-1', table: 'analytics_hourly' }, value: '0' }]);
    expect(families.get('strata_monitor_cycle_duration_seconds')?.metrics).toEqual([{ value: '0.24' }]);
    expect(families.get('strata_monitor_cycle_queries')?.metrics).toEqual([{ value: '38' }]);
  });

  it('drops the series of a shard that stopped answering instead of repeating its last value', async () => {
    const metrics = new StrataMetrics();
    metrics.observeSnapshot(handBuiltSnapshot());
    const down = handBuiltSnapshot();
    down.figures = down.figures.filter((candidate) => candidate.metric !== 'shard.latency_ms').map((candidate) => (candidate.metric === 'shard.up' && candidate.scope.shard === 0 ? { ...candidate, value: 0 } : candidate));
    metrics.observeSnapshot(down);
    const families = await scrape(metrics);
    expect(families.get('strata_probe_latency_ms')?.metrics ?? []).toEqual([]);
    expect(families.get('strata_shard_up')?.metrics).toContainEqual({ labels: { shard: 'shard0' }, value: '0' });
  });

  it('counts each window once in the duration histogram, however many cycles show it', async () => {
    const metrics = new StrataMetrics();
    metrics.observeSnapshot(handBuiltSnapshot());
    metrics.observeSnapshot(handBuiltSnapshot({ at: '2026-12-02T10:00:30.000Z' }));
    const next = handBuiltSnapshot();
    next.figures = [figure('aggregation.duration_s', { shard: 0, level: 'hourly' }, 400, { link: { kind: 'run', runId: 8, text: 'run 8' } })];
    metrics.observeSnapshot(next);
    const histogram = (await scrape(metrics)).get('strata_window_duration_seconds');
    expect(histogram?.type).toBe('HISTOGRAM');
    expect(histogram?.metrics[0]?.buckets).toMatchObject({ '60': '1', '300': '1', '600': '2', '+Inf': '2' });
    // The parser folds a labelled histogram's _count and _sum away (prom2json's flattening), so read those lines.
    const text = await metrics.text();
    expect(text).toContain('strata_window_duration_seconds_count{level="hourly",shard="shard0"} 2');
    expect(text).toContain('strata_window_duration_seconds_sum{level="hourly",shard="shard0"} 442');
  });

  it('counts runs by job and outcome, and gives each alert 1 for its state and 0 for the others', async () => {
    const metrics = new StrataMetrics();
    const run = { job: 'rollup-hourly' as const, trigger: 'schedule' as const, fencingToken: 3, startedAt: '2026-12-02T10:00:00.000Z', durationMs: 900, summary: '' };
    metrics.observeRun({ ...run, outcome: 'ok' });
    metrics.observeRun({ ...run, outcome: 'ok' });
    metrics.observeRun({ ...run, outcome: 'failed' });
    const list: AlertList = {
      firing: 1,
      pending: 0,
      alerts: [
        { rule: 'shard-unreachable', scope: makeScope({ shard: 1 }), state: 'firing', severity: 'critical', value: 0, threshold: 1, since: '2026-12-02T10:00:00.000Z', message: 'shard1 is unreachable' },
      ],
    };
    metrics.observeAlerts(list);
    const families = await scrape(metrics);
    expect(families.get('strata_runs_total')).toMatchObject({
      type: 'COUNTER',
      metrics: [
        { labels: { job: 'rollup-hourly', outcome: 'ok' }, value: '2' },
        { labels: { job: 'rollup-hourly', outcome: 'failed' }, value: '1' },
      ],
    });
    const states = families.get('strata_alert_state')?.metrics ?? [];
    expect(states.filter((sample) => sample.value === '1')).toEqual([{ labels: { rule: 'shard-unreachable', scope: 'shard:1', state: 'firing', severity: 'critical' }, value: '1' }]);
    expect(states.map((sample) => sample.labels?.state)).toEqual(['inactive', 'pending', 'firing', 'resolved']);
    expect(families.get('strata_alerts_firing')?.metrics).toEqual([{ value: '1' }]);
  });
});
