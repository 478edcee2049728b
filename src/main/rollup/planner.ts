import { ErrorCode, StrataError } from '../../shared/errors';
import { DEFAULT_RETENTION, DEFAULT_TRAILING_HOURS, type RetentionPolicy, type RollupLevel } from '../../shared/rollup';
import { periodStart, shiftPeriod, type PartitionedTable, type PartitionGranularity } from '../schema/partitions';
import { DENSE_SKETCH_BYTES, HEADER_BYTES, SKETCH_SQL, SPARSE_ENTRY_BYTES } from '../sketch/hll';

/**
 * The rollup planner: which windows a level needs, and the SQL that computes one. Pure: no connections,
 * no clock of its own, so every rule is unit-tested directly.
 */

export interface LevelSpec {
  level: RollupLevel;
  granularity: Extract<PartitionGranularity, 'hour' | 'day' | 'month'>;
  target: PartitionedTable;
  targetColumn: string;
  source: PartitionedTable;
  sourceColumn: string;
  /** The level whose watermark says the source is complete; none for hourly (raw is complete once the hour ends). */
  sourceLevel?: RollupLevel;
}

export const LEVELS: Record<RollupLevel, LevelSpec> = {
  hourly: { level: 'hourly', granularity: 'hour', target: 'analytics_hourly', targetColumn: 'hour_start', source: 'analytics_realtime', sourceColumn: 'created_at' },
  daily: { level: 'daily', granularity: 'day', target: 'analytics_daily', targetColumn: 'date', source: 'analytics_hourly', sourceColumn: 'hour_start', sourceLevel: 'hourly' },
  monthly: { level: 'monthly', granularity: 'month', target: 'analytics_monthly', targetColumn: 'month_start', source: 'analytics_daily', sourceColumn: 'date', sourceLevel: 'daily' },
};

export interface RollupWindow {
  start: Date;
  end: Date;
  reason: 'due' | 'trailing' | 'range';
}

export interface RollupTuning {
  retention: RetentionPolicy;
  trailingHours: number;
  /** Session tmp_table_size and max_heap_table_size: the hourly GROUP BY stays in memory up to this. */
  sessionTempTableBytes: number;
  /** The longest sketch the hourly statement builds in SQL; a site with more page views is sketched register by register. */
  sqlSketchBytes: number;
  /** Rows per INSERT when daily and monthly rows are written from Node. */
  insertBatchRows: number;
  /** Sketch bytes per merged INSERT, whichever of the two limits comes first. */
  insertBatchSketchBytes: number;
  /** Source rows per page a daily or monthly merge reads (a dense sketch is 16 KiB, so at most 8 MiB a page). */
  mergePageRows: number;
  /** A range may not ask for more windows than this in one run. */
  maxWindows: number;
}

export const DEFAULT_ROLLUP_TUNING: RollupTuning = {
  retention: { ...DEFAULT_RETENTION },
  trailingHours: DEFAULT_TRAILING_HOURS,
  sessionTempTableBytes: 512 * 1024 * 1024,
  sqlSketchBytes: 16_777_214,
  insertBatchRows: 500,
  insertBatchSketchBytes: 1_048_576,
  mergePageRows: 500,
  maxWindows: 100_000,
};

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The first period start at or after `at`. */
export function ceilPeriod(at: Date, granularity: PartitionGranularity): Date {
  const start = periodStart(at, granularity);
  return start.getTime() === at.getTime() ? start : shiftPeriod(start, granularity, 1);
}

function windowsBetween(spec: LevelSpec, from: Date, until: Date, reason: RollupWindow['reason']): RollupWindow[] {
  const windows: RollupWindow[] = [];
  for (let start = periodStart(from, spec.granularity); start < until; ) {
    const end = shiftPeriod(start, spec.granularity, 1);
    if (end > until && reason !== 'range') break;
    windows.push({ start, end, reason });
    start = end;
  }
  return windows;
}

/** The oldest window start whose source data retention still holds at `now`. */
export function retentionStart(level: RollupLevel, now: Date, retention: RetentionPolicy): Date {
  const spec = LEVELS[level];
  const oldestSource = {
    hourly: new Date(now.getTime() - retention.rawHours * HOUR_MS),
    daily: new Date(now.getTime() - retention.hourlyDays * DAY_MS),
    monthly: new Date(now.getTime() - retention.dailyDays * DAY_MS),
  }[level];
  return ceilPeriod(oldestSource, spec.granularity);
}

/** A level's watermark row on one shard, as the planner needs it. */
export interface LevelState {
  watermark: Date | null;
  coveredFrom: Date | null;
}

/**
 * The exclusive end up to which a level's windows are ready on a shard: an hour once it is over; a day once the
 * hourly watermark has passed its last hour; a month once the daily watermark has passed its last day. Null when
 * the source level has never run. A day is rolled up as soon as every hour of it was rolled up once; the trailing
 * re-roll of its last hours (and any later re-roll) is carried up afterwards, because a day or month whose source
 * totals changed since is planned again (see planDue's `changed`). So with the default schedules the row of day D
 * exists after the 02:00 daily run on D+1, and the row of month M after the 03:00 monthly run on the 1st of M+1.
 */
export function readyUntil(level: RollupLevel, now: Date, source: LevelState | undefined, _tuning?: Pick<RollupTuning, 'trailingHours'>): Date | null {
  if (level === 'hourly') return periodStart(now, 'hour');
  if (!source?.watermark) return null;
  return periodStart(source.watermark, level === 'daily' ? 'day' : 'month');
}

/**
 * Where a due run looks for windows it rolled up before whose source changed since (late rows re-rolled into an
 * hour, a re-rolled day): the windows before the watermark whose source retention still holds whole, one window
 * in from the retention limit so a source being pruned is never mistaken for a changed one.
 */
export function changedLookback(
  level: RollupLevel,
  now: Date,
  state: LevelState,
  source: LevelState | undefined,
  tuning: Pick<RollupTuning, 'retention'>,
): { from: Date; to: Date } | null {
  if (level === 'hourly' || !state.watermark) return null;
  const spec = LEVELS[level];
  const oldest = shiftPeriod(retentionStart(level, now, tuning.retention), spec.granularity, 1);
  const recent = shiftPeriod(periodStart(state.watermark, spec.granularity), spec.granularity, level === 'daily' ? -8 : -2);
  // Only where the source level holds every window whole (its coverage), so a partial source never looks newer.
  const coverage = [state.coveredFrom, source?.coveredFrom].map((covered) => (covered ? ceilPeriod(covered, spec.granularity).getTime() : 0));
  const from = new Date(Math.max(oldest.getTime(), recent.getTime(), ...coverage));
  return from < state.watermark ? { from, to: state.watermark } : null;
}

export interface DuePlan {
  windows: RollupWindow[];
  /** Where the due windows start: the watermark, or where a new watermark begins. */
  continueFrom: Date;
  /** Set when the watermark is older than retention holds: those windows can no longer be rolled up. */
  lostBefore?: Date;
  readyUntil: Date | null;
}

/**
 * The windows a scheduled or catch-up run does on one shard, oldest first: for hourly the trailing re-roll of the
 * last hours before the watermark, then every complete window after the watermark within retention. A level that
 * never ran starts where its source's coverage starts (or at the retention limit).
 */
export function planDue(
  level: RollupLevel,
  now: Date,
  state: LevelState,
  source: LevelState | undefined,
  tuning: Pick<RollupTuning, 'retention' | 'trailingHours'>,
  /** Starts of windows before the watermark whose source totals changed since they were rolled up: re-rolled first. */
  changed: readonly Date[] = [],
): DuePlan {
  const spec = LEVELS[level];
  const oldest = retentionStart(level, now, tuning.retention);
  const until = readyUntil(level, now, source, tuning);
  const sourceStart = source?.coveredFrom ? ceilPeriod(source.coveredFrom, spec.granularity) : oldest;
  const wanted = state.watermark ?? (sourceStart > oldest ? sourceStart : oldest);
  const continueFrom = wanted > oldest ? wanted : oldest;
  const lostBefore = state.watermark && state.watermark < oldest ? oldest : undefined;
  const trailing: RollupWindow[] = [];
  if (level === 'hourly' && state.watermark && tuning.trailingHours > 0) {
    const trailingStart = new Date(Math.max(state.watermark.getTime() - tuning.trailingHours * HOUR_MS, oldest.getTime()));
    trailing.push(...windowsBetween(spec, trailingStart, state.watermark, 'trailing'));
  }
  if (state.watermark) {
    const planned = new Set(trailing.map((window) => window.start.getTime()));
    for (const start of [...changed].sort((a, b) => a.getTime() - b.getTime())) {
      const window = periodStart(start, spec.granularity);
      if (window < oldest || window >= state.watermark || planned.has(window.getTime())) continue;
      planned.add(window.getTime());
      trailing.push({ start: window, end: shiftPeriod(window, spec.granularity, 1), reason: 'trailing' });
    }
    trailing.sort((a, b) => a.start.getTime() - b.start.getTime());
  }
  const due = until ? windowsBetween(spec, continueFrom, until, 'due') : [];
  return { windows: [...trailing, ...due], continueFrom, lostBefore, readyUntil: until };
}

/** Exactly the whole windows that cover [from, to), oldest first. */
export function planRange(level: RollupLevel, from: Date, to: Date, tuning: Pick<RollupTuning, 'maxWindows'> = DEFAULT_ROLLUP_TUNING): RollupWindow[] {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new StrataError(ErrorCode.RollupInvalid, 'from and to must be valid times');
  if (from >= to) throw new StrataError(ErrorCode.RollupInvalid, `from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  const spec = LEVELS[level];
  const approximate = (to.getTime() - from.getTime()) / { hour: HOUR_MS, day: DAY_MS, month: 28 * DAY_MS }[spec.granularity];
  if (approximate > tuning.maxWindows) {
    throw new StrataError(ErrorCode.RollupInvalid, `the range holds more than ${tuning.maxWindows} ${level} windows; split it into smaller ranges`);
  }
  return windowsBetween(spec, from, to, 'range');
}

/**
 * Whether finishing `window` moves the watermark, given where it continues from: only a window that contains
 * that point and is complete (ends by `readyUntil`) does.
 */
export function advancesWatermark(window: RollupWindow, continueFrom: Date | null, until: Date | null): boolean {
  if (!continueFrom || !until) return false;
  return window.start <= continueFrom && continueFrom < window.end && window.end <= until;
}

/** Walks forward from `from` over windows already completed earlier (out of order), to the end of the chain. */
export function extendThroughCompleted(level: RollupLevel, from: Date, completedStarts: readonly Date[]): Date {
  const done = new Set(completedStarts.map((start) => start.getTime()));
  let end = from;
  while (done.has(end.getTime())) end = shiftPeriod(end, LEVELS[level].granularity, 1);
  return end;
}

/** The start of a source row's window at `level`, as a SQL expression of the same type as the target column. */
function windowOf(level: RollupLevel, column: string): string {
  return { hourly: `CAST(DATE_FORMAT(${column}, '%Y-%m-%d %H:00:00') AS DATETIME)`, daily: `DATE(${column})`, monthly: `CAST(DATE_FORMAT(${column}, '%Y-%m-01') AS DATE)` }[level];
}

/**
 * Page views per window of a level on one shard, as rolled up (`target_views`) and as its source holds them now
 * (`source_views`: raw rows for hourly, the sum of hourly rows for daily, of daily rows for monthly), in one grouped
 * statement over [from, to). A window whose two totals differ has changed since it was rolled up. Answers `w`, the
 * window start in epoch seconds, in window order; windows without rows on either side are absent.
 * Params: from, to, from, to.
 */
export function windowTotalsSql(level: RollupLevel): string {
  const { target, targetColumn, source, sourceColumn } = LEVELS[level];
  const sourceViews = level === 'hourly' ? 'COUNT(*)' : 'SUM(page_views)';
  return `SELECT UNIX_TIMESTAMP(w) AS w, SUM(target_views) AS target_views, SUM(source_views) AS source_views FROM (
  SELECT ${targetColumn} AS w, SUM(page_views) AS target_views, 0 AS source_views FROM ${target} WHERE ${targetColumn} >= ? AND ${targetColumn} < ? GROUP BY ${targetColumn}
  UNION ALL
  SELECT ${windowOf(level, sourceColumn)} AS w, 0, ${sourceViews} FROM ${source} WHERE ${sourceColumn} >= ? AND ${sourceColumn} < ? GROUP BY 1
) AS totals GROUP BY w ORDER BY w`;
}

/**
 * Window starts whose rolled-up page views differ from their source's, from windowTotalsSql rows. With `grewOnly`,
 * only those whose source has more (late rows, a re-rolled window below): a source with fewer was pruned or lost
 * rows, and rolling up again from it would lose them above too.
 */
export function changedWindows(
  rows: ReadonlyArray<{ w: number | string; target_views: number | string | null; source_views: number | string | null }>,
  options: { grewOnly?: boolean } = {},
): Date[] {
  return rows
    .filter((row) => {
      const target = Number(row.target_views ?? 0);
      const source = Number(row.source_views ?? 0);
      return options.grewOnly ? source > target : source !== target;
    })
    .map((row) => new Date(Number(row.w) * 1000));
}

/**
 * For one window's windowTotalsSql rows: its page views as rolled up and as its source holds them, when the source
 * holds fewer (pruned or deleted rows). Rolling such a window up again would replace its rows with fewer page
 * views, so it is kept, as reconciliation keeps a `source-short` window and a due run's lookback skips it.
 */
export function shortSource(
  rows: ReadonlyArray<{ target_views: number | string | null; source_views: number | string | null }>,
): { sourceViews: number; rolledUpViews: number } | undefined {
  const rolledUpViews = rows.reduce((sum, row) => sum + Number(row.target_views ?? 0), 0);
  const sourceViews = rows.reduce((sum, row) => sum + Number(row.source_views ?? 0), 0);
  return sourceViews < rolledUpViews ? { sourceViews, rolledUpViews } : undefined;
}

/**
 * Walks forward from `from` over windows already completed earlier (out of order) whose source has not changed
 * since, to the end of the chain; it never passes `stopAt` (a window this run is still to do).
 */
export function extendThroughUnchanged(level: RollupLevel, from: Date, completedStarts: readonly Date[], changedStarts: readonly Date[], stopAt?: Date): Date {
  const changed = new Set(changedStarts.map((start) => start.getTime()));
  const done = completedStarts.filter((start) => !changed.has(start.getTime()));
  const end = extendThroughCompleted(level, from, done);
  return stopAt && end > stopAt && stopAt >= from ? stopAt : end;
}

/**
 * Session settings of a rollup connection: non-locking reads of the source, large in-memory temporary tables,
 * and GROUP_CONCAT long enough for a SQL-built sketch of `sqlSketchBytes` (header included). The limit is whole
 * entries, so a longer sketch is cut on an entry boundary and its length tells it was cut.
 */
export function sessionSetupSql(tempTableBytes: number, sqlSketchBytes: number = MAX_SPARSE_SKETCH_BYTES): string[] {
  const bytes = Math.floor(tempTableBytes);
  const entryBytes = Math.floor((Math.min(Math.max(sqlSketchBytes, HEADER_BYTES + SPARSE_ENTRY_BYTES), MAX_SPARSE_SKETCH_BYTES) - HEADER_BYTES) / SPARSE_ENTRY_BYTES) * SPARSE_ENTRY_BYTES;
  return [
    'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED',
    `SET SESSION tmp_table_size = ${bytes}, max_heap_table_size = ${bytes}, group_concat_max_len = ${entryBytes}`,
  ];
}

/** The longest sketch a MEDIUMBLOB holds, in whole 4-byte entries: one SQL sketch collects up to 4,194,303 page views. */
export const MAX_SPARSE_SKETCH_BYTES = HEADER_BYTES + Math.floor((16_777_215 - HEADER_BYTES) / SPARSE_ENTRY_BYTES) * SPARSE_ENTRY_BYTES;

export function deleteWindowSql(level: RollupLevel): string {
  const { target, targetColumn } = LEVELS[level];
  return `DELETE FROM ${target} WHERE ${targetColumn} >= ? AND ${targetColumn} < ?`;
}

/**
 * The whole hourly rollup of one window as one statement inside the shard, in one sorted pass: SQL_BIG_RESULT
 * makes MariaDB/MySQL group by sorting the window's rows by site (measured about twice as fast as the in-memory
 * hash table it otherwise builds for a large GROUP BY), and in that sorted stream each site's exact distinct
 * visitors, its page views and its sketch entries (one per raw row, repeats allowed) come out together.
 * Params: hour start, then the window [start, end) on created_at, which prunes to the hour's one partition.
 */
export function hourlyInsertSql(): string {
  return `INSERT INTO analytics_hourly (site_id, hour_start, page_views, visitors, visitors_sketch)
SELECT SQL_BIG_RESULT site_id, ?, COUNT(*), COUNT(DISTINCT visitor_id), CONCAT(${SKETCH_SQL.header}, GROUP_CONCAT(${SKETCH_SQL.entry('visitor_id')} SEPARATOR ''))
  FROM analytics_realtime
 WHERE created_at >= ? AND created_at < ?
 GROUP BY site_id
 ORDER BY NULL`;
}

/**
 * Hourly rows whose SQL-built sketch is larger than the dense form (more than 4,096 page views), or was cut short
 * at the GROUP_CONCAT limit (fewer entries than page views); they are redone from Node, so no stored sketch is
 * larger than the dense form.
 */
export function oversizedSketchesSql(): string {
  return `SELECT site_id, page_views, visitors, visitors_sketch FROM analytics_hourly
 WHERE hour_start = ? AND site_id > ? AND (LENGTH(visitors_sketch) > ${DENSE_SKETCH_BYTES} OR LENGTH(visitors_sketch) <> ${HEADER_BYTES} + ${SPARSE_ENTRY_BYTES} * page_views)
 ORDER BY site_id LIMIT ?`;
}

/**
 * For a site with more page views in the hour than one SQL sketch collects (its GROUP_CONCAT was cut): its distinct
 * visitor hashes when it has few enough visitors for a sparse sketch, else its registers. Params: site, window
 * start, window end.
 */
export function siteHashesSql(): string {
  return `SELECT DISTINCT ${SKETCH_SQL.hash('visitor_id')} AS h FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?`;
}

export function siteRegistersSql(): string {
  return `SELECT ${SKETCH_SQL.register('h')} AS register, MAX(${SKETCH_SQL.rank('h')}) AS \`rank\`
  FROM (${siteHashesSql()}) AS hashes
 GROUP BY register`;
}

/** Replaces the sketches of hourly rows that exist, many in one statement; params: [[site_id, hour_start, sketch], …]. */
export function updateSketchesSql(): string {
  return 'INSERT INTO analytics_hourly (site_id, hour_start, visitors_sketch) VALUES ? ON DUPLICATE KEY UPDATE visitors_sketch = VALUES(visitors_sketch)';
}

/** Raw rows one hourly window read: its page views are exactly that count. */
export function windowPageViewsSql(level: RollupLevel): string {
  const { target, targetColumn } = LEVELS[level];
  return `SELECT COALESCE(SUM(page_views), 0) AS page_views, COUNT(*) AS row_count FROM ${target} WHERE ${targetColumn} >= ? AND ${targetColumn} < ?`;
}

/**
 * One page of the source rows of a daily or monthly window, in primary-key order (site, then period) so Node merges
 * one site at a time: the rows after (afterSite, afterPeriod), at most `limit`. Keyset pages are short indexed range
 * reads, each a statement of its own with a deadline, and memory stays flat however large the window.
 * Params: window start, window end, afterSite, afterSite, afterPeriod, limit.
 */
export function mergeSourcePageSql(level: RollupLevel): string {
  const { source, sourceColumn } = LEVELS[level];
  return `SELECT site_id, ${sourceColumn} AS period, page_views, visitors, visitors_sketch FROM ${source}
 WHERE ${sourceColumn} >= ? AND ${sourceColumn} < ? AND (site_id > ? OR (site_id = ? AND ${sourceColumn} > ?))
 ORDER BY site_id, ${sourceColumn} LIMIT ?`;
}

/** One multi-row INSERT of merged rows; params: [[site_id, period, page_views, visitors, sketch], …]. */
export function insertMergedSql(level: RollupLevel): string {
  const { target, targetColumn } = LEVELS[level];
  return `INSERT INTO ${target} (site_id, ${targetColumn}, page_views, visitors, visitors_sketch) VALUES ?`;
}
