/**
 * The probe cycle's pure half: the SQL each probe sends, how server answers become figures, the queue's key plan,
 * and the downsampling and percentile math of the sample store. No I/O here; service.ts and samples.ts run it.
 */
import { makeScope, type Figure, type FigureLink, type MetricName, type MonitorRange, type MonitorSeries } from '../../shared/monitor';
import { ROLLUP_LEVELS } from '../../shared/rollup';
import { boundToDate } from '../partitions/planner';
import { PARTITION_SCHEMES, type PartitionedTable } from '../schema/partitions';
import type { PartitionMetadata } from '../cluster/partition-metadata';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Every probe statement gets this long: a shard slower than that is a finding, not something to wait for. */
export const PROBE_DEADLINE_MS = 5 * SECOND;
/** The busiest sites change slowly; finding them costs a scan of the latest day, so it is done this rarely. */
export const SITE_CACHE_MS = 10 * MINUTE;
export const BUCKET_SECONDS = 300;
export const DOWNSAMPLE_EVERY_MS = 5 * MINUTE;
export const RAW_RETENTION_MS = 48 * HOUR;
export const BUCKET_RETENTION_MS = 35 * DAY;
/** Rows one prune statement deletes, so a long-stopped recorder catching up never holds locks for long. */
export const PRUNE_BATCH_ROWS = 20_000;
/** How much raw history one downsampling pass folds; a recorder that was away catches up over a few passes. */
export const MAX_FOLD_SPAN_MS = 6 * HOUR;
/** Rows counted at most in pmax: past this the figure says "at least", which is all an alert needs. */
export const PMAX_COUNT_CAP = 100_000;
/** Rows of run history a cycle reads per shard for the failed-window count. */
export const RUN_ROWS_CAP = 5000;

export const RANGE_MS: Record<MonitorRange, number> = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY };

// ---------------------------------------------------------------------------------------------------------------
// Probe SQL

export const PING_SQL = 'SELECT 1';
export const STATUS_NAMES = ['Questions', 'Threads_connected', 'Innodb_buffer_pool_reads', 'Innodb_buffer_pool_read_requests', 'Innodb_row_lock_waits', 'Uptime'] as const;
export const STATUS_SQL = `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_NAMES.map((name) => `'${name}'`).join(', ')})`;
export const VARIABLES_SQL = "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('max_connections')";
/** MySQL 8.4 knows only the first spelling, MariaDB before 10.5 and MySQL before 8.0.22 only the second. */
export const REPLICA_STATUS_SQL = ['SHOW REPLICA STATUS', 'SHOW SLAVE STATUS'] as const;

/** Sites of the latest day, busiest first: the chart probes time the busiest and one picked at random. */
export const SITES_SQL = `SELECT site_id FROM analytics_daily
   WHERE date = (SELECT MAX(date) FROM analytics_daily)
   ORDER BY page_views DESC LIMIT 100`;

export interface Statement {
  sql: string;
  params: unknown[];
}

function utcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY) * DAY);
}

function utcMonth(at: Date, monthsBack = 0): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() - monthsBack, 1));
}

/** The dashboards' three chart queries for one site: its last 24 h hourly, 30 days daily, a year monthly. */
export function chartQueries(siteId: number, now: Date): Array<Statement & { chart: string }> {
  const hourEnd = new Date(Math.floor(now.getTime() / HOUR) * HOUR + HOUR);
  const dayEnd = new Date(utcDay(now).getTime() + DAY);
  return [
    {
      chart: '24 h hourly',
      sql: 'SELECT hour_start, page_views, visitors FROM analytics_hourly WHERE site_id = ? AND hour_start >= ? AND hour_start < ? ORDER BY hour_start',
      params: [siteId, new Date(hourEnd.getTime() - DAY), hourEnd],
    },
    {
      chart: '30 d daily',
      sql: 'SELECT date, page_views, visitors FROM analytics_daily WHERE site_id = ? AND date >= ? AND date < ? ORDER BY date',
      params: [siteId, new Date(dayEnd.getTime() - 30 * DAY), dayEnd],
    },
    {
      chart: '1 y monthly',
      sql: 'SELECT month_start, page_views, visitors FROM analytics_monthly WHERE site_id = ? AND month_start >= ? AND month_start < ? ORDER BY month_start',
      params: [siteId, utcMonth(now, 11), utcMonth(now, -1)],
    },
  ];
}

/** The sites a cycle times: the busiest and, when there are others, one picked by `random` (0 ≤ r < 1). */
export function probeSites(sites: readonly number[], random: number): number[] {
  if (sites.length === 0) return [];
  const busiest = sites[0] as number;
  if (sites.length === 1) return [busiest];
  const other = sites[1 + Math.floor(random * (sites.length - 1))] as number;
  return [busiest, other];
}

/**
 * Recent rollup runs this shard's history holds (of any shard: a run of a shard that was down is recorded on
 * another one), newest first, for the failed-window count; `s` is started_at in epoch seconds.
 */
export function recentRunsSql(since: Date): Statement {
  return {
    sql: `SELECT id, shard_index, level, UNIX_TIMESTAMP(window_start) AS w, outcome, duration_ms, rows_read, UNIX_TIMESTAMP(started_at) AS s
            FROM strata_job_runs WHERE job = 'rollup' AND started_at >= ? AND window_start IS NOT NULL
           ORDER BY started_at DESC, id DESC LIMIT ${RUN_ROWS_CAP}`,
    params: [since],
  };
}

/** The latest committed or failed window of each level of one shard, however old. */
export function latestRunsSql(shard: number): Statement {
  const one = `(SELECT id, shard_index, level, UNIX_TIMESTAMP(window_start) AS w, outcome, duration_ms, rows_read, UNIX_TIMESTAMP(started_at) AS s
                 FROM strata_job_runs WHERE job = 'rollup' AND level = ? AND (shard_index = ? OR shard_index IS NULL)
                  AND outcome IN ('ok', 'fenced', 'failed') AND window_start IS NOT NULL
                ORDER BY started_at DESC, id DESC LIMIT 1)`;
  return { sql: ROLLUP_LEVELS.map(() => one).join(' UNION ALL '), params: ROLLUP_LEVELS.flatMap((level) => [level, shard]) };
}

export const PARTITIONED_TABLES = Object.keys(PARTITION_SCHEMES) as PartitionedTable[];

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** Exact rows in the catch-all partition, counted no further than PMAX_COUNT_CAP. */
export function pmaxCountSql(table: string, partition: string): string {
  return `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${quote(table)} PARTITION (${quote(partition)}) LIMIT ${PMAX_COUNT_CAP}) AS capped`;
}

/** The newest verified part of each shard: its age is how old a restore that is known to work would be. */
export const VERIFIED_BACKUP_SQL = `SELECT shard_index, UNIX_TIMESTAMP(MAX(finished_at)) AS newest FROM strata_backup_parts
  WHERE outcome = 'ok' AND verify_outcome = 'ok' AND finished_at IS NOT NULL GROUP BY shard_index`;

// ---------------------------------------------------------------------------------------------------------------
// Server answers → figures

type Row = Record<string, unknown>;

/** SHOW STATUS / SHOW VARIABLES rows as name → number (non-numeric values are left out). */
export function statusMap(rows: readonly Row[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const row of rows) {
    const name = String(row.Variable_name ?? row.variable_name ?? '');
    const value = Number(row.Value ?? row.value);
    if (name && Number.isFinite(value)) map.set(name, value);
  }
  return map;
}

/** A status reading and when it was taken, kept between cycles for the per-second rates. */
export interface StatusReading {
  at: number;
  status: Map<string, number>;
}

/** A counter's change per second; null without a previous reading, or when the server restarted in between. */
export function ratePerSecond(name: string, current: StatusReading, previous: StatusReading | undefined): number | null {
  if (!previous) return null;
  const seconds = (current.at - previous.at) / SECOND;
  const now = current.status.get(name);
  const before = previous.status.get(name);
  if (seconds <= 0 || now === undefined || before === undefined || now < before) return null;
  const uptime = current.status.get('Uptime');
  const uptimeBefore = previous.status.get('Uptime');
  if (uptime !== undefined && uptimeBefore !== undefined && uptime < uptimeBefore) return null;
  return (now - before) / seconds;
}

export interface ServerStatusFigures {
  connectionsRatio: number | null;
  qps: number | null;
  bufferPoolHitRatio: number | null;
  rowLockWaits: number | null;
}

export function serverStatusFigures(current: StatusReading, previous: StatusReading | undefined, variables: Map<string, number>): ServerStatusFigures {
  const connected = current.status.get('Threads_connected');
  const maxConnections = variables.get('max_connections');
  const reads = current.status.get('Innodb_buffer_pool_reads');
  const requests = current.status.get('Innodb_buffer_pool_read_requests');
  return {
    connectionsRatio: connected !== undefined && maxConnections ? connected / maxConnections : null,
    qps: ratePerSecond('Questions', current, previous),
    // Since the server started: the ratio a DBA compares with the usual 99 % target.
    bufferPoolHitRatio: reads !== undefined && requests ? Math.max(0, 1 - reads / requests) : null,
    rowLockWaits: ratePerSecond('Innodb_row_lock_waits', current, previous),
  };
}

/** Seconds behind the primary; undefined when the shard is not a replica, null when replication is stopped. */
export function replicationLag(rows: readonly Row[]): number | null | undefined {
  const row = rows[0];
  if (!row) return undefined;
  const lag = row.Seconds_Behind_Master ?? row.Seconds_Behind_Source;
  return lag === null || lag === undefined ? null : Number(lag);
}

/** Redis INFO text as field → value. */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

/**
 * Below this many lookups since the server started, the hit ratio says nothing: a fresh cluster's handful of misses
 * (Strata's own reads of keys not yet written) would read 0 % and fire the hit-ratio alert on every new install.
 */
export const REDIS_MIN_LOOKUPS = 1000;

export interface RedisReading {
  at: number;
  evictedKeys: number;
}

export interface RedisInfoFigures {
  memoryRatio: { value: number | null; note?: string };
  hitRatio: number | null;
  evictions: number | null;
  clients: number | null;
  reading: RedisReading | undefined;
}

export function redisInfoFigures(info: Map<string, string>, at: number, previous: RedisReading | undefined): RedisInfoFigures {
  const number = (name: string) => (info.has(name) ? Number(info.get(name)) : undefined);
  const used = number('used_memory');
  const maxmemory = number('maxmemory');
  const hits = number('keyspace_hits');
  const misses = number('keyspace_misses');
  const evicted = number('evicted_keys');
  const clients = number('connected_clients');
  const seconds = previous ? (at - previous.at) / SECOND : 0;
  return {
    memoryRatio: !maxmemory ? { value: null, note: 'no maxmemory' } : { value: (used ?? 0) / maxmemory },
    hitRatio: hits !== undefined && misses !== undefined && hits + misses >= REDIS_MIN_LOOKUPS ? hits / (hits + misses) : null,
    evictions: previous && evicted !== undefined && seconds > 0 && evicted >= previous.evictedKeys ? (evicted - previous.evictedKeys) / seconds : null,
    clients: clients ?? null,
    reading: evicted === undefined ? undefined : { at, evictedKeys: evicted },
  };
}

/** The command that counts the jobs in a queue key of a given Redis TYPE; none for a missing or foreign key. */
export function queueCountCommand(type: string): 'llen' | 'zcard' | undefined {
  // Laravel keeps waiting jobs in a list, delayed and reserved ones in sorted sets.
  if (type === 'list') return 'llen';
  if (type === 'zset') return 'zcard';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Run history → aggregation figures

export interface RunRow {
  id: number;
  shard: number | null;
  level: string;
  windowStart: number;
  outcome: string;
  durationMs: number | null;
  startedAt: number;
  rowsRead: number;
}

export function toRunRow(row: Row): RunRow {
  return {
    id: Number(row.id),
    shard: row.shard_index === null || row.shard_index === undefined ? null : Number(row.shard_index),
    level: String(row.level),
    windowStart: Number(row.w),
    outcome: String(row.outcome),
    durationMs: row.duration_ms === null || row.duration_ms === undefined ? null : Number(row.duration_ms),
    startedAt: Number(row.s),
    rowsRead: Number(row.rows_read ?? 0),
  };
}

const newerRun = (a: RunRow, b: RunRow) => a.startedAt > b.startedAt || (a.startedAt === b.startedAt && a.id > b.id);

/**
 * Windows of `shard` and `level` whose latest run failed, over runs read from every shard (the rows of a run
 * recorded by a shard without an index count for the shard that read them, as completedWindowsSql does).
 * `watermarks` (epoch s by `shard/level`) drops the failures of a run that never reached its shard (no time, no rows)
 * for a window the watermark has passed: a due run that found its shard down records the last whole window, which
 * an earlier run may already have rolled up, and that guess must not keep the alert firing once the shard is back.
 */
export function failedWindowCounts(rowsByReader: ReadonlyMap<number, readonly RunRow[]>, watermarks: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const latest = new Map<string, RunRow & { owner: number }>();
  for (const [reader, rows] of rowsByReader) {
    for (const row of rows) {
      const owner = row.shard ?? reader;
      const key = `${owner}/${row.level}/${row.windowStart}`;
      const seen = latest.get(key);
      if (!seen || newerRun(row, seen)) latest.set(key, { ...row, owner });
    }
  }
  const counts = new Map<string, number>();
  for (const run of latest.values()) {
    if (run.outcome !== 'failed') continue;
    const key = `${run.owner}/${run.level}`;
    const watermark = watermarks.get(key);
    const neverReachedShard = run.durationMs === 0 && run.rowsRead === 0;
    if (neverReachedShard && watermark !== undefined && run.windowStart < watermark) continue;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** The newest of the candidate runs of one level (from the shard's own latest and from recent history). */
export function latestRunOf(level: string, shard: number, candidates: readonly RunRow[]): RunRow | undefined {
  return candidates
    .filter((run) => run.level === level && (run.shard === shard || run.shard === null) && ['ok', 'fenced', 'failed'].includes(run.outcome))
    .reduce<RunRow | undefined>((best, run) => (!best || newerRun(run, best) ? run : best), undefined);
}

export function runLink(run: RunRow, shard: number, shardName: string): FigureLink {
  const windowStart = new Date(run.windowStart * SECOND).toISOString();
  const seconds = run.durationMs === null ? 'unknown time' : `${(run.durationMs / SECOND).toFixed(1)} s`;
  return { kind: 'run', runId: run.id, shard, windowStart, text: `${run.level} window ${windowStart} on ${shardName}: ${run.outcome} in ${seconds}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Partitions → figures

/** pmax rows and days of partitions ahead of `now` per table; a table missing or unpartitioned gets nulls. */
export function partitionFigures(shard: number, partitions: readonly PartitionMetadata[], pmaxRows: ReadonlyMap<string, number>, now: Date): Figure[] {
  const figures: Figure[] = [];
  for (const table of PARTITIONED_TABLES) {
    const scope = makeScope({ shard, table });
    const link: FigureLink = { kind: 'table', shard, table, text: `${table} on shard ${shard}` };
    const named = partitions.filter((partition) => partition.table === table && partition.name !== null);
    if (named.length === 0) {
      const note = partitions.some((partition) => partition.table === table) ? 'not partitioned' : 'table missing';
      figures.push({ metric: 'partitions.pmax_rows', scope, value: null, note, link }, { metric: 'partitions.ahead_days', scope, value: null, note, link });
      continue;
    }
    const bounds = named.filter((partition) => partition.description !== 'MAXVALUE').map((partition) => Number(partition.description));
    const rows = pmaxRows.get(table);
    figures.push({ metric: 'partitions.pmax_rows', scope, value: rows ?? null, ...(rows === undefined ? { note: 'no pmax partition' } : {}), link });
    if (bounds.length === 0) {
      figures.push({ metric: 'partitions.ahead_days', scope, value: null, note: 'only the catch-all partition', link });
    } else {
      const coveredUntil = boundToDate(Math.max(...bounds), PARTITION_SCHEMES[table].boundKind);
      figures.push({ metric: 'partitions.ahead_days', scope, value: (coveredUntil.getTime() - now.getTime()) / DAY, link });
    }
  }
  return figures;
}

/** The catch-all partition of a table, whose rows mean partition maintenance fell behind. */
export function catchAllPartition(partitions: readonly PartitionMetadata[], table: string): string | undefined {
  return partitions.find((partition) => partition.table === table && partition.description === 'MAXVALUE')?.name ?? undefined;
}

/**
 * The age of the cluster's newest verified backup: of the stalest shard's newest verified part, so one shard whose
 * backups stopped verifying is not hidden by the others. Shards without any verified part are named in the note.
 */
export function verifiedBackupAge(rows: readonly Row[], shardNames: readonly string[], now: Date): { value: number | null; note?: string } {
  const newest = new Map(rows.map((row) => [Number(row.shard_index), Number(row.newest)]));
  const ages = shardNames.flatMap((_, index) => (newest.has(index) ? [now.getTime() / SECOND - (newest.get(index) as number)] : []));
  if (ages.length === 0) return { value: null, note: 'no verified backup' };
  const missing = shardNames.filter((_, index) => !newest.has(index));
  return { value: Math.max(0, Math.max(...ages)), ...(missing.length > 0 ? { note: `no verified backup of ${missing.join(', ')}` } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Percentiles and downsampling

/** The p-th percentile (0…100) of ascending values, interpolated between the closest ranks; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  return low + ((sorted[upper] as number) - low) * (rank - lower);
}

export interface Summary {
  count: number;
  min: number;
  max: number;
  avg: number;
  p50: number;
  p95: number;
  p99: number;
}

export function summarize(values: readonly number[]): Summary | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    count: sorted.length,
    min: sorted[0] as number,
    max: sorted[sorted.length - 1] as number,
    avg: sum / sorted.length,
    p50: percentile(sorted, 50) as number,
    p95: percentile(sorted, 95) as number,
    p99: percentile(sorted, 99) as number,
  };
}

export interface Sample {
  metric: MetricName;
  scope: string;
  /** Epoch milliseconds. */
  at: number;
  value: number;
}

export interface Bucket extends Summary {
  metric: MetricName;
  scope: string;
  seconds: number;
  /** Epoch milliseconds of the bucket's first instant. */
  start: number;
}

export function bucketStartOf(at: number, seconds = BUCKET_SECONDS): number {
  const width = seconds * SECOND;
  return Math.floor(at / width) * width;
}

/** Folds raw samples into buckets of `seconds` per metric and scope, with the summary computed from the values. */
export function foldSamples(samples: readonly Sample[], seconds = BUCKET_SECONDS): Bucket[] {
  const groups = new Map<string, { metric: MetricName; scope: string; start: number; values: number[] }>();
  for (const sample of samples) {
    const start = bucketStartOf(sample.at, seconds);
    const key = `${sample.metric}\u0000${sample.scope}\u0000${start}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { metric: sample.metric, scope: sample.scope, start, values: [] }));
    group.values.push(sample.value);
  }
  return [...groups.values()]
    .map((group) => ({ metric: group.metric, scope: group.scope, seconds, start: group.start, ...(summarize(group.values) as Summary) }))
    .sort((a, b) => a.start - b.start || a.metric.localeCompare(b.metric) || a.scope.localeCompare(b.scope));
}

/**
 * The completed buckets the next downsampling pass folds: from the bucket after the last one folded (or the
 * oldest raw sample's), up to the bucket `now` is in (not included: it is still filling), at most MAX_FOLD_SPAN_MS.
 */
export function nextFoldRange(lastFoldedStart: number | null, oldestSample: number | null, now: number): { from: number; to: number } | undefined {
  const width = BUCKET_SECONDS * SECOND;
  const from = lastFoldedStart !== null ? lastFoldedStart + width : oldestSample !== null ? bucketStartOf(oldestSample) : null;
  if (from === null) return undefined;
  // Raw samples older than their retention are gone; folding would only find nothing.
  const start = Math.max(from, bucketStartOf(now - RAW_RETENTION_MS));
  const to = Math.min(bucketStartOf(now), start + MAX_FOLD_SPAN_MS);
  return to > start ? { from: start, to } : undefined;
}

/**
 * A percentile over a window from its buckets when the raw samples are gone: the sample-weighted percentile of the
 * buckets' own percentile. An approximation (a percentile of percentiles), close when buckets hold similar counts
 * and the value does not swing widely inside a bucket; exact percentiles need the raw samples, kept 48 h.
 */
export function percentileFromBuckets(buckets: ReadonlyArray<Pick<Bucket, 'count' | 'p50' | 'p95' | 'p99'>>, p: 50 | 95 | 99): number | null {
  const key = `p${p}` as const;
  const sorted = buckets.filter((bucket) => bucket.count > 0).sort((a, b) => a[key] - b[key]);
  const total = sorted.reduce((sum, bucket) => sum + bucket.count, 0);
  if (total === 0) return null;
  const target = (p / 100) * total;
  let seen = 0;
  for (const bucket of sorted) {
    seen += bucket.count;
    if (seen >= target) return bucket[key];
  }
  return (sorted[sorted.length - 1] as Bucket)[key];
}

/** Parses a stored scope key back into its parts: `shard:0/hourly` → { shard: 0, level: 'hourly' }. */
export function parseScopeKey(key: string): { shard?: number; level?: string; table?: string } {
  const match = /^shard:(\d+)(?:\/(.+))?$/.exec(key);
  if (!match) return {};
  const shard = Number(match[1]);
  const suffix = match[2];
  if (!suffix) return { shard };
  return (ROLLUP_LEVELS as readonly string[]).includes(suffix) ? { shard, level: suffix } : { shard, table: suffix };
}

export interface SeriesInput {
  range: MonitorRange;
  /** Raw samples in the window (for 1 h all points; for longer ranges the percentiles and the unbucketed tail). */
  raw: readonly Sample[];
  /** Stored buckets in the window (empty for 1 h). */
  buckets: readonly Bucket[];
  /** Raw samples cover the whole window: percentiles come from them, else from the buckets (approximate). */
  rawCoversWindow: boolean;
  /** Seconds between probe cycles, the step of raw points. */
  intervalSeconds: number;
  /** Exact percentiles of the whole window (seriesKey → p50/p95/p99); they win over the raw and the buckets. */
  exactPercentiles?: ReadonlyMap<string, ExactPercentiles>;
}

export type ExactPercentiles = Record<'p50' | 'p95' | 'p99', number | null>;

/** How a series is keyed in maps: its metric and scope key. */
export const seriesKey = (metric: string, scope: string): string => `${metric}\u0000${scope}`;

/**
 * Exact percentiles of each series from its values alone: a day of samples is a quarter of a million rows, and
 * fetching only (metric, scope, value) unordered is twice as fast as the samples with their times, and faster than
 * ranking them on the server with window functions (measured: 0.56 s, 1.2 s, 1.8 s for 248 k samples).
 */
export function exactPercentilesOf(values: ReadonlyMap<string, number[]>): Map<string, ExactPercentiles> {
  const result = new Map<string, ExactPercentiles>();
  for (const [key, list] of values) {
    const sorted = [...list].sort((a, b) => a - b);
    result.set(key, { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) });
  }
  return result;
}

/**
 * One series per metric and scope. 1 h: one point per raw sample. 24 h / 7 d: one point per 5-minute bucket, the
 * stored ones, then the raw samples not folded yet folded here the same way.
 */
export function buildSeries(input: SeriesInput): MonitorSeries[] {
  const series = new Map<string, { metric: MetricName; scope: string; points: MonitorSeries['points']; raw: number[]; buckets: Bucket[] }>();
  const entry = (metric: MetricName, scope: string) => {
    const key = seriesKey(metric, scope);
    let found = series.get(key);
    if (!found) series.set(key, (found = { metric, scope, points: [], raw: [], buckets: [] }));
    return found;
  };
  for (const sample of input.raw) entry(sample.metric, sample.scope).raw.push(sample.value);
  const bucketed = input.range !== '1h';
  if (!bucketed) {
    for (const sample of [...input.raw].sort((a, b) => a.at - b.at)) {
      entry(sample.metric, sample.scope).points.push({ at: new Date(sample.at).toISOString(), value: sample.value, min: sample.value, max: sample.value });
    }
  } else {
    const lastStored = new Map<string, number>();
    for (const bucket of input.buckets) {
      const key = seriesKey(bucket.metric, bucket.scope);
      lastStored.set(key, Math.max(lastStored.get(key) ?? -Infinity, bucket.start));
    }
    const tail = foldSamples(input.raw.filter((sample) => sample.at >= (lastStored.get(seriesKey(sample.metric, sample.scope)) ?? -Infinity) + BUCKET_SECONDS * SECOND));
    for (const bucket of [...input.buckets, ...tail].sort((a, b) => a.start - b.start)) {
      const found = entry(bucket.metric, bucket.scope);
      found.buckets.push(bucket);
      found.points.push({ at: new Date(bucket.start).toISOString(), value: bucket.avg, min: bucket.min, max: bucket.max });
    }
  }
  return [...series.values()]
    .sort((a, b) => a.metric.localeCompare(b.metric) || a.scope.localeCompare(b.scope, 'en', { numeric: true }))
    .map((found) => {
      const exact = input.exactPercentiles?.get(seriesKey(found.metric, found.scope));
      const fromRaw = (input.rawCoversWindow || !bucketed) && found.raw.length > 0;
      const sorted = fromRaw && !exact ? [...found.raw].sort((a, b) => a - b) : [];
      const pick = (p: 50 | 95 | 99) => (exact ? exact[`p${p}`] : fromRaw ? percentile(sorted, p) : percentileFromBuckets(found.buckets, p));
      return {
        metric: found.metric,
        scope: makeScope(parseScopeKey(found.scope)),
        stepSeconds: bucketed ? BUCKET_SECONDS : Math.max(1, Math.round(input.intervalSeconds)),
        points: found.points,
        p50: pick(50),
        p95: pick(95),
        p99: pick(99),
      };
    });
}
