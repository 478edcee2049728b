import { describe, expect, it } from 'vitest';
import type { PartitionMetadata } from '../../src/main/cluster/partition-metadata';
import {
  buildSeries,
  exactPercentilesOf,
  seriesKey,
  failedWindowCounts,
  foldSamples,
  latestRunOf,
  nextFoldRange,
  parseRedisInfo,
  parseScopeKey,
  partitionFigures,
  percentile,
  percentileFromBuckets,
  probeSites,
  queueCountCommand,
  redisInfoFigures,
  replicationLag,
  serverStatusFigures,
  statusMap,
  summarize,
  verifiedBackupAge,
  type RunRow,
  type Sample,
} from '../../src/main/monitor/planner';
import { toDays } from '../../src/main/schema/partitions';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

describe('server status figures', () => {
  const status = (at: number, values: Record<string, number>) => ({ at, status: statusMap(Object.entries(values).map(([Variable_name, Value]) => ({ Variable_name, Value: String(Value) }))) });

  it('turns SHOW GLOBAL STATUS and max_connections into ratios and per-second rates', () => {
    const before = status(T0, { Questions: 1000, Threads_connected: 10, Innodb_buffer_pool_reads: 5, Innodb_buffer_pool_read_requests: 1000, Innodb_row_lock_waits: 2, Uptime: 100 });
    const after = status(T0 + 30_000, { Questions: 1600, Threads_connected: 30, Innodb_buffer_pool_reads: 10, Innodb_buffer_pool_read_requests: 2000, Innodb_row_lock_waits: 8, Uptime: 130 });
    const variables = statusMap([{ Variable_name: 'max_connections', Value: '300' }]);
    expect(serverStatusFigures(after, before, variables)).toEqual({ connectionsRatio: 0.1, qps: 20, bufferPoolHitRatio: 0.995, rowLockWaits: 0.2 });
  });

  it('has no rates on the first cycle or across a server restart', () => {
    const before = status(T0, { Questions: 5000, Uptime: 9000 });
    const restarted = status(T0 + 30_000, { Questions: 40, Uptime: 25 });
    expect(serverStatusFigures(before, undefined, new Map()).qps).toBeNull();
    expect(serverStatusFigures(restarted, before, new Map()).qps).toBeNull();
  });

  it('reads replication lag only from a replica', () => {
    expect(replicationLag([])).toBeUndefined();
    expect(replicationLag([{ Seconds_Behind_Master: 12 }])).toBe(12);
    expect(replicationLag([{ Seconds_Behind_Source: null }])).toBeNull();
  });
});

describe('Redis figures', () => {
  const info = parseRedisInfo('# Memory\r\nused_memory:250\r\nmaxmemory:1000\r\n# Stats\r\nkeyspace_hits:9000\r\nkeyspace_misses:1000\r\nevicted_keys:40\r\n# Clients\r\nconnected_clients:7\r\n');

  it('reads memory, hit ratio and clients from INFO, and evictions per second between cycles', () => {
    const figures = redisInfoFigures(info, T0 + 10_000, { at: T0, evictedKeys: 20 });
    expect(figures.memoryRatio).toEqual({ value: 0.25 });
    expect(figures.hitRatio).toBe(0.9);
    expect(figures.evictions).toBe(2);
    expect(figures.clients).toBe(7);
  });

  it('has no hit ratio until Redis has seen enough lookups: a fresh cluster is not a 0 % cache', () => {
    const fresh = parseRedisInfo('keyspace_hits:0\nkeyspace_misses:12\n');
    expect(redisInfoFigures(fresh, T0, undefined).hitRatio).toBeNull();
    const enough = parseRedisInfo('keyspace_hits:0\nkeyspace_misses:1000\n');
    expect(redisInfoFigures(enough, T0, undefined).hitRatio).toBe(0);
  });

  it('says "no maxmemory" instead of a ratio when Redis has no limit', () => {
    const unlimited = parseRedisInfo('used_memory:250\nmaxmemory:0\n');
    expect(redisInfoFigures(unlimited, T0, undefined).memoryRatio).toEqual({ value: null, note: 'no maxmemory' });
  });

  it('counts Laravel queue lists and sorted sets, and nothing else', () => {
    expect([queueCountCommand('list'), queueCountCommand('zset'), queueCountCommand('none'), queueCountCommand('string')]).toEqual(['llen', 'zcard', undefined, undefined]);
  });
});

describe('chart probe sites', () => {
  it('times the busiest site and one other', () => {
    expect(probeSites([], 0.5)).toEqual([]);
    expect(probeSites([7], 0.5)).toEqual([7]);
    expect(probeSites([7, 3, 9, 4], 0)).toEqual([7, 3]);
    expect(probeSites([7, 3, 9, 4], 0.99)).toEqual([7, 4]);
  });
});

describe('run history figures', () => {
  const run = (id: number, shard: number | null, windowStart: number, outcome: string, startedAt: number, level = 'hourly'): RunRow => ({ id, shard, level, windowStart, outcome, durationMs: 1000 * id, startedAt, rowsRead: 10 });

  it('counts windows whose latest run failed, across the shards that recorded them', () => {
    const counts = failedWindowCounts(
      new Map([
        // Shard 0 holds its own runs and a failure of shard 1 recorded while shard 1 was down.
        [0, [run(1, 0, 100, 'failed', 10), run(2, 0, 100, 'ok', 20), run(3, 0, 200, 'failed', 30), run(4, 1, 300, 'failed', 40)]],
        [1, [run(5, 1, 400, 'ok', 50), run(6, null, 500, 'failed', 60)]],
      ]),
    );
    expect(Object.fromEntries(counts)).toEqual({ '0/hourly': 1, '1/hourly': 2 });
  });

  it('no longer counts a shard-down guess once the watermark has passed its window, but keeps real failures', () => {
    // Shard 1 rolled window 100 up, then a due run found it down and recorded window 100 failed without reaching it.
    const guess: RunRow = { ...run(2, 1, 100, 'failed', 20), durationMs: 0, rowsRead: 0 };
    const rows = new Map([[0, [run(1, 1, 100, 'ok', 10), guess, run(3, 1, 200, 'failed', 30)]]]);
    expect(Object.fromEntries(failedWindowCounts(rows))).toEqual({ '1/hourly': 2 });
    // Watermark at 200: the guess for 100 goes; window 200, which a run reached and failed, still counts.
    expect(Object.fromEntries(failedWindowCounts(rows, new Map([['1/hourly', 200]])))).toEqual({ '1/hourly': 1 });
    // A failed re-roll below the watermark that did reach the shard still counts.
    const reroll = new Map([[0, [run(4, 1, 50, 'failed', 40)]]]);
    expect(Object.fromEntries(failedWindowCounts(reroll, new Map([['1/hourly', 200]])))).toEqual({ '1/hourly': 1 });
  });

  it('takes the newest committed or failed run as the latest aggregation time', () => {
    const latest = latestRunOf('hourly', 0, [run(1, 0, 100, 'ok', 10), run(2, 0, 200, 'cancelled', 30), run(3, 0, 150, 'failed', 20), run(4, 0, 300, 'ok', 40, 'daily')]);
    expect(latest?.id).toBe(3);
  });
});

describe('partition figures', () => {
  const now = new Date(Date.UTC(2026, 11, 2, 12));
  const dayBound = (daysAhead: number) => String(toDays(new Date(Date.UTC(2026, 11, 2 + daysAhead))));
  const partition = (table: string, name: string | null, description: string | null): PartitionMetadata => ({ table, name, ordinal: 1, method: 'RANGE', expression: null, description, estimatedRows: 0, dataBytes: 0, indexBytes: 0 });

  it('gives rows in pmax and the days of partitions ahead, and says why when it cannot', () => {
    const figures = partitionFigures(0, [partition('analytics_hourly', 'p20261202', dayBound(1)), partition('analytics_hourly', 'p20261209', dayBound(8)), partition('analytics_hourly', 'pmax', 'MAXVALUE'), partition('analytics_daily', null, null)], new Map([['analytics_hourly', 3]]), now);
    const of = (metric: string, table: string) => figures.find((figure) => figure.metric === metric && figure.scope.table === table);
    expect(of('partitions.pmax_rows', 'analytics_hourly')?.value).toBe(3);
    expect(of('partitions.ahead_days', 'analytics_hourly')?.value).toBeCloseTo(7.5, 6);
    expect(of('partitions.ahead_days', 'analytics_daily')).toMatchObject({ value: null, note: 'not partitioned' });
    expect(of('partitions.pmax_rows', 'analytics_monthly')).toMatchObject({ value: null, note: 'table missing' });
    expect(of('partitions.ahead_days', 'analytics_hourly')?.scope.key).toBe('shard:0/analytics_hourly');
  });
});

describe('verified backup age', () => {
  const now = new Date(T0);
  it('is the stalest shard newest verified part, naming shards without one', () => {
    expect(verifiedBackupAge([], ['shard0', 'shard1'], now)).toEqual({ value: null, note: 'no verified backup' });
    expect(verifiedBackupAge([{ shard_index: 0, newest: T0 / 1000 - 60 }, { shard_index: 1, newest: T0 / 1000 - 3600 }], ['shard0', 'shard1'], now)).toEqual({ value: 3600 });
    expect(verifiedBackupAge([{ shard_index: 0, newest: T0 / 1000 - 60 }], ['shard0', 'shard1'], now)).toEqual({ value: 60, note: 'no verified backup of shard1' });
  });
});

describe('percentiles and downsampling', () => {
  it('interpolates percentiles between the closest ranks', () => {
    const values = Array.from({ length: 101 }, (_, index) => index);
    expect([percentile(values, 50), percentile(values, 95), percentile(values, 99)]).toEqual([50, 95, 99]);
    expect(percentile([10, 20], 50)).toBe(15);
    expect(percentile([], 50)).toBeNull();
    expect(summarize([3, 1, 2])).toEqual({ count: 3, min: 1, max: 3, avg: 2, p50: 2, p95: 2.9, p99: 2.98 });
  });

  it('folds raw samples into 5-minute buckets per metric and scope', () => {
    const samples: Sample[] = [
      { metric: 'shard.latency_ms', scope: 'shard:0', at: T0 + 10_000, value: 2 },
      { metric: 'shard.latency_ms', scope: 'shard:0', at: T0 + 4 * MINUTE, value: 4 },
      { metric: 'shard.latency_ms', scope: 'shard:0', at: T0 + 5 * MINUTE, value: 10 },
      { metric: 'shard.latency_ms', scope: 'shard:1', at: T0 + 10_000, value: 7 },
    ];
    const buckets = foldSamples(samples);
    expect(buckets.map((bucket) => [bucket.scope, new Date(bucket.start).toISOString(), bucket.count, bucket.avg, bucket.max])).toEqual([
      ['shard:0', '2026-12-02T12:00:00.000Z', 2, 3, 4],
      ['shard:1', '2026-12-02T12:00:00.000Z', 1, 7, 7],
      ['shard:0', '2026-12-02T12:05:00.000Z', 1, 10, 10],
    ]);
  });

  it('folds only completed buckets, after the last one folded, within raw retention and a bounded span', () => {
    expect(nextFoldRange(null, null, T0)).toBeUndefined();
    expect(nextFoldRange(null, T0 + 2 * MINUTE, T0 + 12 * MINUTE)).toEqual({ from: T0, to: T0 + 10 * MINUTE });
    expect(nextFoldRange(T0, T0, T0 + 7 * MINUTE)).toBeUndefined();
    const longAway = nextFoldRange(T0, T0, T0 + 72 * 60 * MINUTE);
    expect(longAway).toEqual({ from: T0 + 24 * 60 * MINUTE, to: T0 + 30 * 60 * MINUTE });
  });

  it('approximates a window percentile from buckets, weighting each bucket by its samples', () => {
    const buckets = [
      { count: 90, p50: 10, p95: 20, p99: 30 },
      { count: 10, p50: 100, p95: 200, p99: 300 },
    ];
    expect(percentileFromBuckets(buckets, 50)).toBe(10);
    expect(percentileFromBuckets(buckets, 95)).toBe(200);
    expect(percentileFromBuckets([], 95)).toBeNull();
  });

  it('builds raw series for 1 h and bucketed series with the unfolded tail for longer ranges', () => {
    const raw: Sample[] = Array.from({ length: 20 }, (_, index) => ({ metric: 'chart.latency_ms', scope: 'shard:0', at: T0 + index * 30_000, value: index + 1 }));
    const [hour] = buildSeries({ range: '1h', raw, buckets: [], rawCoversWindow: true, intervalSeconds: 30 });
    expect(hour).toMatchObject({ metric: 'chart.latency_ms', scope: { key: 'shard:0', shard: 0 }, stepSeconds: 30, p50: 10.5 });
    expect(hour?.points).toHaveLength(20);

    const stored = foldSamples(raw.filter((sample) => sample.at < T0 + 5 * MINUTE));
    const [day] = buildSeries({ range: '24h', raw, buckets: stored, rawCoversWindow: true, intervalSeconds: 30 });
    expect(day?.stepSeconds).toBe(300);
    expect(day?.points.map((point) => [point.at, point.value, point.min, point.max])).toEqual([
      ['2026-12-02T12:00:00.000Z', 5.5, 1, 10],
      ['2026-12-02T12:05:00.000Z', 15.5, 11, 20],
    ]);
    expect(day?.p99).toBeCloseTo(19.81, 6);
  });

  it('takes the exact percentiles of a window from the values of each series, in any order', () => {
    const values = Array.from({ length: 1001 }, (_, index) => ((index * 7919) % 1001) / 10);
    const sorted = [...values].sort((a, b) => a - b);
    const exact = exactPercentilesOf(new Map([[seriesKey('chart.latency_ms', 'shard:1'), values]]));
    expect(exact.get(seriesKey('chart.latency_ms', 'shard:1'))).toEqual({ p50: percentile(sorted, 50), p95: 95, p99: 99 });
  });

  it('reads stored scope keys back into scopes', () => {
    expect(parseScopeKey('cluster')).toEqual({});
    expect(parseScopeKey('shard:3')).toEqual({ shard: 3 });
    expect(parseScopeKey('shard:1/daily')).toEqual({ shard: 1, level: 'daily' });
    expect(parseScopeKey('shard:0/analytics_monthly')).toEqual({ shard: 0, table: 'analytics_monthly' });
  });
});
