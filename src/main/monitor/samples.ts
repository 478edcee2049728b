import type { Figure, MetricName } from '../../shared/monitor';
import type { ControlShard } from '../state';
import {
  BUCKET_RETENTION_MS,
  BUCKET_SECONDS,
  exactPercentilesOf,
  foldSamples,
  nextFoldRange,
  PRUNE_BATCH_ROWS,
  RAW_RETENTION_MS,
  seriesKey,
  type Bucket,
  type ExactPercentiles,
  type Sample,
} from './planner';

/** Rows of one INSERT: well under max_allowed_packet, however many shards a cycle measured. */
const INSERT_BATCH_ROWS = 500;
/** A read of samples stops here, so a range over a huge cluster cannot take the control shard's memory. */
const READ_CAP_ROWS = 500_000;
const PRUNE_PASSES = 10;

type Row = Record<string, unknown>;

function metricFilter(metrics: readonly MetricName[] | undefined): { sql: string; params: unknown[] } {
  return metrics && metrics.length > 0 ? { sql: ` AND metric IN (${metrics.map(() => '?').join(', ')})`, params: [...metrics] } : { sql: '', params: [] };
}

/**
 * The monitoring samples on the control shard: raw figures of each recorded cycle (kept 48 h) and their 5-minute
 * buckets (kept 35 days). Only the scheduler's lease holder writes, so every console reads one history.
 */
export class MonitorSampleStore {
  constructor(private readonly control: ControlShard) {}

  /** Writes every figure that has a value; a sample already there (same metric, scope and instant) is kept. */
  async write(at: Date, figures: readonly Figure[]): Promise<number> {
    const rows = figures.filter((figure) => figure.value !== null && Number.isFinite(figure.value));
    for (let offset = 0; offset < rows.length; offset += INSERT_BATCH_ROWS) {
      const batch = rows.slice(offset, offset + INSERT_BATCH_ROWS);
      await this.control.query(
        `INSERT IGNORE INTO strata_monitor_samples (metric, scope, at, value) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')}`,
        batch.flatMap((figure) => [figure.metric, figure.scope.key, at, figure.value]),
        { kind: 'write' },
      );
    }
    return rows.length;
  }

  /** Folds the completed 5-minute buckets not folded yet, then drops what is past retention. */
  async downsample(now: Date): Promise<{ buckets: number; prunedSamples: number; prunedBuckets: number }> {
    const [last] = await this.control.query<Row[]>('SELECT UNIX_TIMESTAMP(MAX(bucket_start)) AS last FROM strata_monitor_buckets WHERE seconds = ?', [BUCKET_SECONDS]);
    const [oldest] = await this.control.query<Row[]>('SELECT UNIX_TIMESTAMP(MIN(at)) AS oldest FROM strata_monitor_samples');
    const lastStart = last?.last === null || last?.last === undefined ? null : Number(last.last) * 1000;
    const oldestAt = oldest?.oldest === null || oldest?.oldest === undefined ? null : Number(oldest.oldest) * 1000;
    const range = nextFoldRange(lastStart, oldestAt, now.getTime());
    let folded = 0;
    if (range) {
      const buckets = foldSamples(await this.readRaw(new Date(range.from), new Date(range.to)));
      folded = await this.writeBuckets(buckets);
    }
    const prunedSamples = await this.prune('DELETE FROM strata_monitor_samples WHERE at < ? LIMIT ?', new Date(now.getTime() - RAW_RETENTION_MS));
    const prunedBuckets = await this.prune('DELETE FROM strata_monitor_buckets WHERE bucket_start < ? LIMIT ?', new Date(now.getTime() - BUCKET_RETENTION_MS));
    return { buckets: folded, prunedSamples, prunedBuckets };
  }

  /** Raw samples with from ≤ at < to, oldest first. */
  async readRaw(from: Date, to: Date, metrics?: readonly MetricName[]): Promise<Sample[]> {
    const filter = metricFilter(metrics);
    const rows = await this.control.query<Row[]>(
      `SELECT metric, scope, UNIX_TIMESTAMP(at) AS at, value FROM strata_monitor_samples WHERE at >= ? AND at < ?${filter.sql} ORDER BY at LIMIT ${READ_CAP_ROWS}`,
      [from, to, ...filter.params],
    );
    return rows.map((row) => ({ metric: row.metric as MetricName, scope: String(row.scope), at: Math.round(Number(row.at) * 1000), value: Number(row.value) }));
  }

  /** Exact p50/p95/p99 of each series' raw samples with from ≤ at < to, from their values only. */
  async rawPercentiles(from: Date, to: Date, metrics?: readonly MetricName[]): Promise<Map<string, ExactPercentiles>> {
    const filter = metricFilter(metrics);
    const rows = await this.control.query<Row[]>(`SELECT metric, scope, value FROM strata_monitor_samples WHERE at >= ? AND at < ?${filter.sql} LIMIT ${READ_CAP_ROWS}`, [from, to, ...filter.params]);
    const values = new Map<string, number[]>();
    for (const row of rows) {
      const key = seriesKey(String(row.metric), String(row.scope));
      let list = values.get(key);
      if (!list) values.set(key, (list = []));
      list.push(Number(row.value));
    }
    return exactPercentilesOf(values);
  }

  /** Stored buckets starting in from ≤ start < to, oldest first. */
  async readBuckets(from: Date, to: Date, metrics?: readonly MetricName[]): Promise<Bucket[]> {
    const filter = metricFilter(metrics);
    const rows = await this.control.query<Row[]>(
      `SELECT metric, scope, seconds, UNIX_TIMESTAMP(bucket_start) AS start, samples, min_value, max_value, avg_value, p50, p95, p99
         FROM strata_monitor_buckets WHERE seconds = ? AND bucket_start >= ? AND bucket_start < ?${filter.sql} ORDER BY bucket_start LIMIT ${READ_CAP_ROWS}`,
      [BUCKET_SECONDS, from, to, ...filter.params],
    );
    return rows.map((row) => ({
      metric: row.metric as MetricName,
      scope: String(row.scope),
      seconds: Number(row.seconds),
      start: Number(row.start) * 1000,
      count: Number(row.samples),
      min: Number(row.min_value),
      max: Number(row.max_value),
      avg: Number(row.avg_value),
      p50: Number(row.p50),
      p95: Number(row.p95),
      p99: Number(row.p99),
    }));
  }

  /** When the oldest raw sample was taken, or null when there is none. */
  async oldestRaw(): Promise<Date | null> {
    const [row] = await this.control.query<Row[]>('SELECT UNIX_TIMESTAMP(MIN(at)) AS oldest FROM strata_monitor_samples');
    return row?.oldest === null || row?.oldest === undefined ? null : new Date(Number(row.oldest) * 1000);
  }

  /** Writes folded buckets, replacing any of the same start (the bench folds a week of samples at once with it). */
  async writeBuckets(buckets: readonly Bucket[]): Promise<number> {
    for (let offset = 0; offset < buckets.length; offset += INSERT_BATCH_ROWS) {
      const batch = buckets.slice(offset, offset + INSERT_BATCH_ROWS);
      // A bucket folded again (a pass that was cut short) is replaced by the fuller fold.
      await this.control.query(
        `INSERT INTO strata_monitor_buckets (metric, scope, seconds, bucket_start, samples, min_value, max_value, avg_value, p50, p95, p99)
         VALUES ${batch.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON DUPLICATE KEY UPDATE samples = VALUES(samples), min_value = VALUES(min_value), max_value = VALUES(max_value), avg_value = VALUES(avg_value),
                                 p50 = VALUES(p50), p95 = VALUES(p95), p99 = VALUES(p99)`,
        batch.flatMap((bucket) => [bucket.metric, bucket.scope, bucket.seconds, new Date(bucket.start), bucket.count, bucket.min, bucket.max, bucket.avg, bucket.p50, bucket.p95, bucket.p99]),
        { kind: 'write' },
      );
    }
    return buckets.length;
  }

  private async prune(sql: string, before: Date): Promise<number> {
    let removed = 0;
    for (let pass = 0; pass < PRUNE_PASSES; pass += 1) {
      const result = await this.control.query<{ affectedRows?: number }>(sql, [before, PRUNE_BATCH_ROWS], { kind: 'write' });
      const affected = Number(result.affectedRows ?? 0);
      removed += affected;
      if (affected < PRUNE_BATCH_ROWS) break;
    }
    return removed;
  }
}
