import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { silentLogger } from '../../src/main/log';
import { ClusterMonitorService } from '../../src/main/monitor/service';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createClusterState } from '../../src/main/state';
import { ErrorCode } from '../../src/shared/errors';
import type { Figure, MetricName, MonitorSnapshot } from '../../src/shared/monitor';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { waitFor } from '../support/time';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** A little after the start of the current 5-minute bucket, so the clock's buckets line up with real partitions. */
const START = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE + 10_000;

function figureOf(snapshot: MonitorSnapshot, metric: MetricName, key: string): Figure | undefined {
  return snapshot.figures.find((figure) => figure.metric === metric && figure.scope.key === key);
}

describe('monitoring probe cycles on a 2-shard cluster', () => {
  let cluster: TestCluster;
  let connections: ClusterConnections;
  let monitor: ClusterMonitorService;
  let clock = new Date(START);
  const tick = (ms = 30_000) => (clock = new Date(clock.getTime() + ms));
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, nodeExporter: true });
    // Shard 0 has its host's node exporter; shard 1's profile names none.
    const [first, second] = cluster.profile.shards;
    const { nodeExporterUrl: _unused, ...withoutExporter } = second!;
    connections = new ClusterConnections({ ...cluster.profile, shards: [first!, withoutExporter] }, new EnvSecretResolver());
    monitor = new ClusterMonitorService(connections, createClusterState(connections, silentLogger), silentLogger.scope('monitor'), { now: () => clock, isRecorder: () => false });

    const today = new Date(Math.floor(START / (24 * HOUR)) * 24 * HOUR);
    for (const shard of [0, 1]) {
      for (const site of [shard + 1, shard + 3, shard + 5]) {
        await query(shard, 'INSERT INTO analytics_daily (site_id, date, page_views, visitors) VALUES (?, ?, ?, ?)', [site, today, 100 * site, 10]);
        await query(shard, 'INSERT INTO analytics_hourly (site_id, hour_start, page_views, visitors) VALUES (?, ?, ?, ?)', [site, new Date(START - HOUR - (START % HOUR)), 10 * site, 5]);
      }
    }
    await advanceWatermark((sql, params) => query(0, sql, params), { level: 'hourly', to: new Date(START - 2 * HOUR - (START % HOUR)), by: 'test', at: new Date(START) });
    const record = (windowStart: number, outcome: string, durationMs: number, startedAt: number) =>
      cluster.services.state.history.record({
        job: 'rollup',
        level: 'hourly',
        shard: 0,
        windowStart: new Date(windowStart),
        windowEnd: new Date(windowStart + HOUR),
        trigger: 'manual',
        host: 'test',
        runId: randomUUID(),
        startedAt: new Date(startedAt),
        finishedAt: new Date(startedAt + durationMs),
        outcome,
        durationMs,
      });
    await record(START - 5 * HOUR, 'failed', 1500, START - 20 * MINUTE);
    await record(START - 4 * HOUR, 'ok', 2500, START - 10 * MINUTE);
    const redis = await cluster.services.connections.redisClient();
    await redis.rpush('laravel_database_queues:analytics', 'job1', 'job2', 'job3');
    await redis.zadd('laravel_database_queues:analytics:delayed', 1, 'job4', 2, 'job5');
  });

  afterAll(async () => {
    await monitor?.dispose();
    await connections?.dispose();
    await cluster?.down();
  });

  it('measures both shards, their hosts, Redis, the queue and what Strata records', async () => {
    const first = await monitor.runCycle();
    expect(figureOf(first, 'shard.qps', 'shard:0')).toMatchObject({ value: null, note: 'warming up' });
    expect(figureOf(first, 'host.cpu_ratio', 'shard:0')).toMatchObject({ value: null, note: 'warming up' });
    tick();
    const snapshot = await monitor.runCycle();

    expect(snapshot.recorded).toBe(false);
    expect(snapshot.queries).toBeGreaterThan(20);
    expect(snapshot.shards.map((shard) => [shard.index, shard.reachable, shard.hostMetricsConfigured])).toEqual([
      [0, true, true],
      [1, true, false],
    ]);
    for (const key of ['shard:0', 'shard:1']) {
      expect(figureOf(snapshot, 'shard.up', key)?.value).toBe(1);
      expect(figureOf(snapshot, 'shard.latency_ms', key)?.value).toBeGreaterThan(0);
      expect(figureOf(snapshot, 'chart.latency_ms', key)?.value).toBeGreaterThan(0);
      expect(figureOf(snapshot, 'shard.connections_ratio', key)?.value).toBeGreaterThan(0);
      expect(figureOf(snapshot, 'shard.connections_ratio', key)?.value).toBeLessThan(1);
      // The cycle's own queries between the two cycles, over the 30 s of the clock.
      expect(figureOf(snapshot, 'shard.qps', key)?.value).toBeGreaterThan(0);
      expect(figureOf(snapshot, 'shard.buffer_pool_hit_ratio', key)?.value).toBeGreaterThan(0.5);
      expect(figureOf(snapshot, 'shard.row_lock_waits', key)?.value).toBe(0);
      expect(figureOf(snapshot, 'shard.replication_lag_s', key)).toBeUndefined();
    }
    const cpu = figureOf(snapshot, 'host.cpu_ratio', 'shard:0')?.value;
    const memory = figureOf(snapshot, 'host.memory_ratio', 'shard:0')?.value;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(1);
    expect(memory).toBeGreaterThan(0);
    expect(memory).toBeLessThan(1);
    expect(figureOf(snapshot, 'host.cpu_ratio', 'shard:1')).toMatchObject({ value: null, note: 'not configured' });
    expect(figureOf(snapshot, 'host.memory_ratio', 'shard:1')).toMatchObject({ value: null, note: 'not configured' });

    const watermark = START - 2 * HOUR - (START % HOUR);
    expect(figureOf(snapshot, 'watermark.lag_s', 'shard:0/hourly')?.value).toBeCloseTo((clock.getTime() - watermark) / 1000, 3);
    expect(figureOf(snapshot, 'watermark.lag_s', 'shard:1/hourly')).toMatchObject({ value: null, note: 'no watermark yet' });
    const aggregation = figureOf(snapshot, 'aggregation.duration_s', 'shard:0/hourly');
    expect(aggregation?.value).toBe(2.5);
    expect(aggregation?.link).toMatchObject({ kind: 'run', shard: 0, windowStart: new Date(START - 4 * HOUR).toISOString() });
    expect(aggregation?.link?.runId).toBeGreaterThan(0);
    expect(figureOf(snapshot, 'rollup.failed_windows', 'shard:0/hourly')?.value).toBe(1);
    expect(figureOf(snapshot, 'rollup.failed_windows', 'shard:1/hourly')?.value).toBe(0);
    expect(figureOf(snapshot, 'partitions.pmax_rows', 'shard:0/analytics_hourly')?.value).toBe(0);
    expect(figureOf(snapshot, 'partitions.ahead_days', 'shard:1/analytics_hourly')?.value).toBeGreaterThan(1);
    expect(figureOf(snapshot, 'backup.verified_age_s', 'cluster')).toMatchObject({ value: null, note: 'no verified backup' });

    expect(snapshot.redisReachable).toBe(true);
    expect(figureOf(snapshot, 'redis.up', 'cluster')?.value).toBe(1);
    expect(figureOf(snapshot, 'redis.latency_ms', 'cluster')?.value).toBeGreaterThan(0);
    expect(figureOf(snapshot, 'redis.memory_ratio', 'cluster')).toMatchObject({ value: null, note: 'no maxmemory' });
    expect(figureOf(snapshot, 'redis.clients', 'cluster')?.value).toBeGreaterThan(0);
    expect(figureOf(snapshot, 'redis.evictions', 'cluster')?.value).toBe(0);
    expect(figureOf(snapshot, 'queue.depth', 'cluster')?.value).toBe(5);
    expect(figureOf(snapshot, 'probe.error_ratio', 'cluster')?.value).toBe(0);
  });

  it('marks a stopped shard unreachable with nulls and still measures the other', async () => {
    await cluster.stopShard(1);
    try {
      tick();
      const snapshot = await monitor.runCycle();
      const stopped = snapshot.shards.find((shard) => shard.index === 1);
      expect(stopped).toMatchObject({ reachable: false, problem: { code: ErrorCode.ShardUnreachable } });
      expect(figureOf(snapshot, 'shard.up', 'shard:1')?.value).toBe(0);
      for (const [metric, key] of [
        ['shard.latency_ms', 'shard:1'],
        ['chart.latency_ms', 'shard:1'],
        ['shard.qps', 'shard:1'],
        ['watermark.lag_s', 'shard:1/daily'],
        ['partitions.pmax_rows', 'shard:1/analytics_realtime'],
      ] as const) {
        expect(figureOf(snapshot, metric, key)).toMatchObject({ value: null, note: 'unreachable' });
      }
      expect(figureOf(snapshot, 'shard.up', 'shard:0')?.value).toBe(1);
      expect(figureOf(snapshot, 'chart.latency_ms', 'shard:0')?.value).toBeGreaterThan(0);
      expect(figureOf(snapshot, 'probe.error_ratio', 'cluster')?.value).toBeGreaterThan(0);
    } finally {
      await cluster.startShard(1);
    }
  });

  it('runs cycles on its interval once started, tells listeners, and stops after the running cycle', async () => {
    const timed = new ClusterMonitorService(connections, createClusterState(connections, silentLogger), silentLogger.scope('monitor'), { now: () => clock, intervalMs: 20, isRecorder: () => false });
    const seen: MonitorSnapshot[] = [];
    const unsubscribe = timed.onCycle((snapshot) => seen.push(snapshot));
    try {
      timed.start();
      await waitFor(() => seen.length >= 2, 'two timed cycles');
      await timed.stop();
      const afterStop = seen.length;
      expect(seen.every((snapshot) => snapshot.shards.length === 2 && !snapshot.recorded)).toBe(true);
      expect(await timed.snapshot()).toBe(seen[afterStop - 1]);
      await timed.runCycle();
      expect(seen.length).toBe(afterStop + 1);
    } finally {
      unsubscribe();
      await timed.dispose();
    }
  });

  it('records samples on the control shard and reads them back as series with percentiles, downsampled and pruned', async () => {
    // A sample and a bucket older than their retention, which the next downsampling must remove.
    await query(0, 'INSERT INTO strata_monitor_samples (metric, scope, at, value) VALUES (?, ?, ?, ?)', ['shard.latency_ms', 'shard:0', new Date(clock.getTime() - 49 * HOUR), 1]);
    await query(0, 'INSERT INTO strata_monitor_buckets (metric, scope, seconds, bucket_start, samples, min_value, max_value, avg_value, p50, p95, p99) VALUES (?, ?, 300, ?, 1, 1, 1, 1, 1, 1, 1)', [
      'shard.latency_ms',
      'shard:0',
      new Date(clock.getTime() - 36 * 24 * HOUR),
    ]);
    const recorded: MonitorSnapshot[] = [];
    for (let cycle = 0; cycle < 14; cycle += 1) {
      tick();
      recorded.push(await monitor.runCycle({ record: true }));
    }
    expect(recorded.every((snapshot) => snapshot.recorded)).toBe(true);

    const hour = await monitor.series({ range: '1h', metrics: ['shard.latency_ms', 'shard.up'] });
    const latency = hour.series.find((series) => series.metric === 'shard.latency_ms' && series.scope.key === 'shard:0');
    expect(latency?.stepSeconds).toBe(30);
    expect(latency?.points).toHaveLength(14);
    expect(latency?.points.map((point) => point.value)).toEqual(recorded.map((snapshot) => figureOf(snapshot, 'shard.latency_ms', 'shard:0')?.value));
    expect(latency?.p50).toBeGreaterThan(0);
    expect(latency!.p50!).toBeLessThanOrEqual(latency!.p95!);
    expect(latency!.p95!).toBeLessThanOrEqual(latency!.p99!);
    expect(hour.series.find((series) => series.metric === 'shard.up' && series.scope.key === 'shard:1')?.points.every((point) => point.value === 1)).toBe(true);
    expect(hour.series.every((series) => ['shard.latency_ms', 'shard.up'].includes(series.metric))).toBe(true);

    const [buckets] = await query<Array<{ n: number }>>(0, 'SELECT COUNT(*) AS n FROM strata_monitor_buckets WHERE metric = ? AND scope = ?', ['shard.latency_ms', 'shard:0']);
    expect(Number(buckets?.n)).toBeGreaterThan(0);
    const [old] = await query<Array<{ samples: number; buckets: number }>>(
      0,
      'SELECT (SELECT COUNT(*) FROM strata_monitor_samples WHERE at < ?) AS samples, (SELECT COUNT(*) FROM strata_monitor_buckets WHERE bucket_start < ?) AS buckets',
      [new Date(clock.getTime() - 48 * HOUR), new Date(clock.getTime() - 35 * 24 * HOUR)],
    );
    expect([Number(old?.samples), Number(old?.buckets)]).toEqual([0, 0]);

    const day = await monitor.series({ range: '24h', metrics: ['shard.latency_ms'] });
    const daily = day.series.find((series) => series.scope.key === 'shard:0');
    expect(daily?.stepSeconds).toBe(300);
    expect(daily?.points.length).toBeGreaterThanOrEqual(2);
    expect(daily?.points.every((point) => point.min <= point.value && point.value <= point.max)).toBe(true);
    expect(daily?.p95).toBe(latency?.p95);

    const week = await monitor.series({ range: '7d', metrics: ['shard.latency_ms'] });
    expect(week.series.find((series) => series.scope.key === 'shard:0')?.p50).toBeGreaterThan(0);
  });
});
