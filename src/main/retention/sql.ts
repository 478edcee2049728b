/**
 * The SQL a prune runs, per table. Pure strings and parameters; every window is read back as the epoch seconds of
 * its start, computed in SQL under the session's UTC time zone, so no bound depends on a server's local zone.
 */
import { RETAINED_TABLES, type RetentionTable } from '../../shared/retention';
import { PARTITION_SCHEMES } from '../schema/partitions';

export interface Statement {
  sql: string;
  params: unknown[];
}

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** The epoch second of the start of the window (of the next level) each row belongs to. */
const WINDOW_START: Record<RetentionTable, string> = {
  analytics_realtime: 'FLOOR(UNIX_TIMESTAMP(created_at) / 3600) * 3600',
  analytics_hourly: 'UNIX_TIMESTAMP(DATE(hour_start))',
  analytics_daily: "UNIX_TIMESTAMP(DATE_FORMAT(`date`, '%Y-%m-01'))",
  analytics_monthly: "UNIX_TIMESTAMP(DATE_FORMAT(month_start, '%Y-%m-01'))",
};

/** Raw rows are page views; the rollup tables carry theirs in a column. */
const PAGE_VIEWS: Record<RetentionTable, string> = {
  analytics_realtime: 'COUNT(*)',
  analytics_hourly: 'COALESCE(SUM(page_views), 0)',
  analytics_daily: 'COALESCE(SUM(page_views), 0)',
  analytics_monthly: 'COALESCE(SUM(page_views), 0)',
};

export function timeColumn(table: RetentionTable): string {
  return quote(PARTITION_SCHEMES[table].column);
}

/** What one window-totals query reads: a partition holding exactly one window, part of one, or the whole table. */
export type TotalsSource =
  | { kind: 'whole-partition'; partition: string; windowStart: Date }
  | { kind: 'partition-before'; partition: string; before: Date }
  | { kind: 'table-before'; before: Date };

/**
 * Rows and page views per window, as `w` (epoch seconds), `n` and `pv`. A partition that holds exactly one window
 * needs no grouping: a plain COUNT(*) of a partition is the cheapest read InnoDB can do.
 */
export function windowTotalsSql(table: RetentionTable, source: TotalsSource): Statement {
  const from = `${quote(table)}${source.kind === 'table-before' ? '' : ` PARTITION (${quote(source.partition)})`}`;
  const totals = `COUNT(*) AS n, ${PAGE_VIEWS[table]} AS pv`;
  if (source.kind === 'whole-partition') {
    return { sql: `SELECT ? AS w, ${totals} FROM ${from} HAVING n > 0`, params: [Math.floor(source.windowStart.getTime() / 1000)] };
  }
  return {
    sql: `SELECT ${WINDOW_START[table]} AS w, ${totals} FROM ${from} WHERE ${timeColumn(table)} < ? GROUP BY w`,
    params: [source.before],
  };
}

/** Several totals queries in one round trip (a week of raw hours is 168 partitions). */
export function unionAll(statements: readonly Statement[]): Statement {
  return { sql: statements.map((statement) => `(${statement.sql})`).join(' UNION ALL '), params: statements.flatMap((statement) => statement.params) };
}

/** Page views the next level holds per window start in [from, to), as `w` and `pv`. */
export function nextLevelTotalsSql(table: RetentionTable, from: Date, to: Date): Statement | undefined {
  const next = RETAINED_TABLES[table].nextTable;
  if (!next) return undefined;
  const column = timeColumn(next);
  return {
    sql: `SELECT UNIX_TIMESTAMP(${column}) AS w, COALESCE(SUM(page_views), 0) AS pv FROM ${quote(next)} WHERE ${column} >= ? AND ${column} < ? GROUP BY ${column}`,
    params: [from, to],
  };
}

export function dropPartitionsSql(table: RetentionTable, partitions: readonly string[]): string {
  return `ALTER TABLE ${quote(table)} DROP PARTITION ${partitions.map(quote).join(', ')}`;
}

/**
 * One bounded batch of a range delete; repeated until it removes fewer rows than its limit. With `checkedUpTo`
 * (the raw table) only rows the gate counted go: a row above that id came in later and stays.
 */
export function deleteBatchSql(table: RetentionTable, from: Date, to: Date, limit: number, checkedUpTo?: number): Statement {
  const column = timeColumn(table);
  const checked = checkedUpTo === undefined ? '' : ' AND id <= ?';
  return {
    sql: `DELETE FROM ${quote(table)} WHERE ${column} >= ? AND ${column} < ?${checked} LIMIT ${Math.max(1, Math.floor(limit))}`,
    params: checkedUpTo === undefined ? [from, to] : [from, to, checkedUpTo],
  };
}

/**
 * Rows above the noted id in the given partitions, per hour as `w` (epoch seconds) and `n`: a range read on the
 * primary key (id, created_at) that touches only the late rows, so it is cheap enough to run under a WRITE lock.
 * One statement naming the table once: under LOCK TABLES a query may not name a locked table twice.
 */
export function lateRowsInPartitionsSql(table: RetentionTable, partitions: readonly string[], checkedUpTo: number): Statement {
  return {
    sql: `SELECT ${WINDOW_START[table]} AS w, COUNT(*) AS n FROM ${quote(table)} PARTITION (${partitions.map(quote).join(', ')}) WHERE id > ? GROUP BY w`,
    params: [checkedUpTo],
  };
}

/** Rows above the noted id in [from, to), as `n`. */
export function lateRowsInRangeSql(table: RetentionTable, from: Date, to: Date, checkedUpTo: number): Statement {
  const column = timeColumn(table);
  return { sql: `SELECT COUNT(*) AS n FROM ${quote(table)} WHERE id > ? AND ${column} >= ? AND ${column} < ?`, params: [checkedUpTo, from, to] };
}
