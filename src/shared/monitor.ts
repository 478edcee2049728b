import { z } from 'zod';
import { problemSchema } from './problem';

/**
 * Monitoring (issue 11): what one probe cycle measures, the samples kept on the control shard, and the config
 * advisor. Every figure is a named metric with a scope; alert rules match figures by metric name. Times are
 * ISO-8601 UTC strings.
 */

const isoTime = z.string();

/**
 * Every metric a probe cycle produces. Scope kinds: `cluster`, `shard` (shard index), `level` (shard + rollup level)
 * and `table` (shard + table). Ratios are 0…1; durations are in the unit their name says.
 */
export const METRICS = {
  'shard.up': { unit: 'bool', scope: 'shard', label: 'shard reachable' },
  'shard.latency_ms': { unit: 'ms', scope: 'shard', label: 'round-trip latency' },
  /** The slowest of the dashboards' chart queries in the cycle (24 h hourly, 30 d daily, 1 y monthly). */
  'chart.latency_ms': { unit: 'ms', scope: 'shard', label: 'chart query latency' },
  'shard.connections_ratio': { unit: 'ratio', scope: 'shard', label: 'connections of max_connections' },
  'shard.qps': { unit: 'per_s', scope: 'shard', label: 'queries per second' },
  'shard.buffer_pool_hit_ratio': { unit: 'ratio', scope: 'shard', label: 'InnoDB buffer-pool hit ratio' },
  'shard.row_lock_waits': { unit: 'per_s', scope: 'shard', label: 'row-lock waits per second' },
  'shard.replication_lag_s': { unit: 's', scope: 'shard', label: 'replication lag' },
  'host.cpu_ratio': { unit: 'ratio', scope: 'shard', label: 'host CPU' },
  'host.memory_ratio': { unit: 'ratio', scope: 'shard', label: 'host memory' },
  /** Failed share of Strata's own queries and probes in the cycle. */
  'probe.error_ratio': { unit: 'ratio', scope: 'cluster', label: 'error rate' },
  'redis.up': { unit: 'bool', scope: 'cluster', label: 'Redis reachable' },
  'redis.latency_ms': { unit: 'ms', scope: 'cluster', label: 'Redis latency' },
  'redis.memory_ratio': { unit: 'ratio', scope: 'cluster', label: 'Redis memory of maxmemory' },
  'redis.hit_ratio': { unit: 'ratio', scope: 'cluster', label: 'Redis keyspace hit ratio' },
  'redis.evictions': { unit: 'per_s', scope: 'cluster', label: 'Redis evictions per second' },
  'redis.clients': { unit: 'count', scope: 'cluster', label: 'Redis connected clients' },
  'queue.depth': { unit: 'count', scope: 'cluster', label: 'ingestion queue depth' },
  'watermark.lag_s': { unit: 's', scope: 'level', label: 'watermark lag' },
  /** Duration of the latest committed or failed window of the level on the shard. */
  'aggregation.duration_s': { unit: 's', scope: 'level', label: 'aggregation time of a window' },
  /** Windows whose latest run failed and that no later run repaired (last 24 h). */
  'rollup.failed_windows': { unit: 'count', scope: 'level', label: 'failed windows' },
  'partitions.pmax_rows': { unit: 'count', scope: 'table', label: 'rows in pmax' },
  'partitions.ahead_days': { unit: 'days', scope: 'table', label: 'partitions ahead' },
  'backup.verified_age_s': { unit: 's', scope: 'cluster', label: 'age of the newest verified backup' },
} as const;

export type MetricName = keyof typeof METRICS;
export const METRIC_NAMES = Object.keys(METRICS) as [MetricName, ...MetricName[]];
export const metricNameSchema = z.enum(METRIC_NAMES);
export const SCOPE_KINDS = ['cluster', 'shard', 'level', 'table'] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];

/** Where a figure applies. `key` is its stable text form: `cluster`, `shard:0`, `shard:0/hourly`, `shard:0/analytics_hourly`. */
export const figureScopeSchema = z.object({
  key: z.string().min(1).max(96),
  shard: z.number().int().nonnegative().optional(),
  level: z.string().optional(),
  table: z.string().optional(),
});

/** What is behind a figure, so an alert can point at it: the job run, the shard, the table. */
export const figureLinkSchema = z.object({
  kind: z.enum(['run', 'shard', 'table', 'redis', 'backup', 'queue']),
  /** The job run's id for `run`. */
  runId: z.number().int().optional(),
  shard: z.number().int().nonnegative().optional(),
  table: z.string().optional(),
  windowStart: isoTime.optional(),
  text: z.string(),
});

export const figureSchema = z.object({
  metric: metricNameSchema,
  scope: figureScopeSchema,
  /** Null when it could not be measured (unreachable, or not configured: `note` says which). */
  value: z.number().nullable(),
  note: z.string().optional(),
  link: figureLinkSchema.optional(),
});

export const monitorShardSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  /** True when the profile names a node exporter for the shard; without one CPU and memory are "not configured", never 0. */
  hostMetricsConfigured: z.boolean(),
});

/** One probe cycle: every figure measured, with who measured it and how long the cycle took. */
export const monitorSnapshotSchema = z.object({
  at: isoTime,
  durationMs: z.number().nonnegative(),
  /** Queries sent to the shards and Redis by this cycle. */
  queries: z.number().int().nonnegative(),
  shards: z.array(monitorShardSchema),
  redisReachable: z.boolean(),
  figures: z.array(figureSchema),
  /** True when these figures were written to the cluster's samples (this process holds the scheduler lease). */
  recorded: z.boolean(),
});

export const MONITOR_RANGES = ['1h', '24h', '7d'] as const;
export const monitorRangeSchema = z.enum(MONITOR_RANGES);

export const monitorSeriesRequestSchema = z
  .object({
    range: monitorRangeSchema.default('24h'),
    metrics: z.array(metricNameSchema).min(1).max(METRIC_NAMES.length).optional(),
  })
  .strict();

export const seriesPointSchema = z.object({ at: isoTime, value: z.number(), min: z.number(), max: z.number() });

export const monitorSeriesSchema = z.object({
  metric: metricNameSchema,
  scope: figureScopeSchema,
  /** Bucket width of the points: raw samples for 1 h, downsampled buckets for longer ranges. */
  stepSeconds: z.number().int().positive(),
  points: z.array(seriesPointSchema),
  p50: z.number().nullable(),
  p95: z.number().nullable(),
  p99: z.number().nullable(),
});

export const monitorSeriesReportSchema = z.object({
  range: monitorRangeSchema,
  from: isoTime,
  to: isoTime,
  series: z.array(monitorSeriesSchema),
});

/** Config advisor: one shard setting, index or partitioning against the cluster's recommendations. */
export const ADVICE_SEVERITIES = ['ok', 'info', 'warning'] as const;
export const adviceFindingSchema = z.object({
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  /** `innodb_buffer_pool_size`, `index:analytics_hourly.(site_id, hour_start)`, … */
  subject: z.string(),
  severity: z.enum(ADVICE_SEVERITIES),
  actual: z.string().optional(),
  recommended: z.string().optional(),
  /** Why, in one or two sentences, including trade-offs (durability of flush_log_at_trx_commit = 2). */
  message: z.string(),
  /** The statement that would fix it, when one does. */
  fix: z.string().optional(),
});

export const adviceReportSchema = z.object({
  checkedAt: isoTime,
  findings: z.array(adviceFindingSchema),
  unreadShards: z.array(z.object({ shard: z.number().int().nonnegative(), shardName: z.string(), problem: problemSchema })),
});

export type Figure = z.infer<typeof figureSchema>;
export type FigureScope = z.infer<typeof figureScopeSchema>;
export type FigureLink = z.infer<typeof figureLinkSchema>;
export type MonitorShard = z.infer<typeof monitorShardSchema>;
export type MonitorSnapshot = z.infer<typeof monitorSnapshotSchema>;
export type MonitorRange = z.infer<typeof monitorRangeSchema>;
export type MonitorSeriesRequest = z.infer<typeof monitorSeriesRequestSchema>;
export type MonitorSeries = z.infer<typeof monitorSeriesSchema>;
export type MonitorSeriesReport = z.infer<typeof monitorSeriesReportSchema>;
export type AdviceFinding = z.infer<typeof adviceFindingSchema>;
export type AdviceReport = z.infer<typeof adviceReportSchema>;

/** The stable text key of a scope. */
export function scopeKey(scope: { shard?: number; level?: string; table?: string }): string {
  if (scope.shard === undefined) return 'cluster';
  const suffix = scope.level ?? scope.table;
  return suffix ? `shard:${scope.shard}/${suffix}` : `shard:${scope.shard}`;
}

export function makeScope(scope: { shard?: number; level?: string; table?: string }): FigureScope {
  return { key: scopeKey(scope), ...scope };
}

function formatDuration(seconds: number): string {
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** A figure's value in its unit, as the CLI and the console print it: "12.3 ms", "45.2 %", "3.1 h", "yes". */
export function formatMetricValue(metric: MetricName, value: number | null, note?: string): string {
  if (value === null) return note ?? 'unknown';
  switch (METRICS[metric].unit) {
    case 'ms':
      return `${value.toFixed(value < 10 ? 1 : 0)} ms`;
    case 'ratio':
      return `${(value * 100).toFixed(1)} %`;
    case 's':
      return formatDuration(value);
    case 'per_s':
      return `${value.toFixed(value < 10 ? 2 : 0)}/s`;
    case 'bool':
      return value >= 1 ? 'yes' : 'no';
    case 'days':
      return `${value.toFixed(0)} d`;
    case 'count':
      return value.toLocaleString('en-US');
  }
}
