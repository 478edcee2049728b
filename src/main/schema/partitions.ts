/**
 * Names and bounds of the time-range partitions of the analytics tables. Pure: no I/O, no local time zone.
 * Migrations use it to create the first partitions; partition maintenance uses it to add and drop later ones.
 */

/** How much time one partition holds. */
export type PartitionGranularity = 'hour' | 'day' | 'month' | 'year';

/**
 * How a RANGE bound is written: epoch seconds for `UNIX_TIMESTAMP(col)`, day numbers for `TO_DAYS(col)`.
 * Both are computed here as integers, so no bound depends on a session's time zone.
 */
export type BoundKind = 'epoch-seconds' | 'to-days';

export interface PartitionScheme {
  granularity: PartitionGranularity;
  /** The column the partition expression reads. */
  column: string;
  /** The `PARTITION BY RANGE (…)` expression, as written in the DDL. */
  expression: string;
  boundKind: BoundKind;
}

export const PARTITION_SCHEMES = {
  analytics_realtime: { granularity: 'hour', column: 'created_at', expression: 'UNIX_TIMESTAMP(created_at)', boundKind: 'epoch-seconds' },
  analytics_hourly: { granularity: 'day', column: 'hour_start', expression: 'TO_DAYS(hour_start)', boundKind: 'to-days' },
  analytics_daily: { granularity: 'month', column: 'date', expression: 'TO_DAYS(date)', boundKind: 'to-days' },
  analytics_monthly: { granularity: 'year', column: 'month_start', expression: 'TO_DAYS(month_start)', boundKind: 'to-days' },
} as const satisfies Record<string, PartitionScheme>;

export type PartitionedTable = keyof typeof PARTITION_SCHEMES;

/** The catch-all last partition; rows land there only when maintenance fell behind. */
export const CATCH_ALL_PARTITION = 'pmax';

export interface PartitionSpec {
  /** `pYYYYMMDDHH`, `pYYYYMMDD`, `pYYYYMM` or `pYYYY`, after the UTC start of the period it holds. */
  name: string;
  /** First instant of the period (inclusive). */
  start: Date;
  /** First instant of the next period (exclusive). */
  end: Date;
  /** The `VALUES LESS THAN` integer: `end` as epoch seconds or as a TO_DAYS day number. */
  lessThan: number;
}

const MS_PER_DAY = 86_400_000;
/** MySQL's TO_DAYS('1970-01-01'): day numbers count from year 0 of the proleptic Gregorian calendar. */
const TO_DAYS_OF_EPOCH = 719_528;

// Date.UTC normalises overflowing fields (hour 24, month 12, day 0), which is what makes month and year
// boundaries and leap days come out right without any calendar tables. date-fns would work in local time.
function utc(year: number, month = 0, day = 1, hour = 0): Date {
  return new Date(Date.UTC(year, month, day, hour));
}

/** The start of the period of `granularity` that contains `at`. */
export function periodStart(at: Date, granularity: PartitionGranularity): Date {
  return shiftPeriod(at, granularity, 0);
}

/** The start of the period `count` periods after (or before, when negative) the one that contains `at`. */
export function shiftPeriod(at: Date, granularity: PartitionGranularity, count: number): Date {
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  switch (granularity) {
    case 'hour':
      return utc(year, month, at.getUTCDate(), at.getUTCHours() + count);
    case 'day':
      return utc(year, month, at.getUTCDate() + count);
    case 'month':
      return utc(year, month + count);
    case 'year':
      return utc(year + count);
  }
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The partition name for the period that starts at `start`. */
export function partitionName(start: Date, granularity: PartitionGranularity): string {
  const digits = [pad(start.getUTCFullYear(), 4), pad(start.getUTCMonth() + 1), pad(start.getUTCDate()), pad(start.getUTCHours())];
  const parts = { year: 1, month: 2, day: 3, hour: 4 }[granularity];
  return `p${digits.slice(0, parts).join('')}`;
}

/** Reads a partition name back into the start of its period; undefined for pmax or a name this scheme never makes. */
export function partitionStartFromName(name: string, granularity: PartitionGranularity): Date | undefined {
  const digits = { year: 4, month: 6, day: 8, hour: 10 }[granularity];
  const match = new RegExp(`^p(\\d{${digits}})$`).exec(name);
  if (!match?.[1]) return undefined;
  const text = match[1];
  const field = (from: number, to: number, fallback: number) => (text.length >= to ? Number(text.slice(from, to)) : fallback);
  const start = utc(field(0, 4, 0), field(4, 6, 1) - 1, field(6, 8, 1), field(8, 10, 0));
  // A name like p20240230 would silently roll over into March; it is not one of ours.
  return partitionName(start, granularity) === name ? start : undefined;
}

/** Day number of a UTC instant as MySQL's TO_DAYS computes it for that date. */
export function toDays(at: Date): number {
  return Math.floor(at.getTime() / MS_PER_DAY) + TO_DAYS_OF_EPOCH;
}

export function boundValue(end: Date, kind: BoundKind): number {
  return kind === 'epoch-seconds' ? Math.floor(end.getTime() / 1000) : toDays(end);
}

/** The partition of `table` that holds the instant `at`. */
export function partitionAt(table: PartitionedTable, at: Date): PartitionSpec {
  const scheme: PartitionScheme = PARTITION_SCHEMES[table];
  const start = periodStart(at, scheme.granularity);
  const end = shiftPeriod(start, scheme.granularity, 1);
  return { name: partitionName(start, scheme.granularity), start, end, lessThan: boundValue(end, scheme.boundKind) };
}

/** Every partition of `table` from the one holding `from` through the one holding `to`, oldest first. */
export function partitionsFor(table: PartitionedTable, from: Date, to: Date): PartitionSpec[] {
  const partitions: PartitionSpec[] = [];
  const last = periodStart(to, PARTITION_SCHEMES[table].granularity).getTime();
  for (let current = partitionAt(table, from); current.start.getTime() <= last; current = partitionAt(table, current.end)) {
    partitions.push(current);
  }
  return partitions;
}

/** The partitions from `back` periods before the one holding `now` through `ahead` periods after it. */
export function partitionsAround(table: PartitionedTable, now: Date, back: number, ahead: number): PartitionSpec[] {
  const { granularity } = PARTITION_SCHEMES[table];
  return partitionsFor(table, shiftPeriod(now, granularity, -back), shiftPeriod(now, granularity, ahead));
}

/** One partition definition, as used in CREATE TABLE and in REORGANIZE PARTITION pmax INTO (…). */
export function partitionDefinitionSql(partition: PartitionSpec): string {
  return `PARTITION ${partition.name} VALUES LESS THAN (${partition.lessThan})`;
}

export const CATCH_ALL_DEFINITION_SQL = `PARTITION ${CATCH_ALL_PARTITION} VALUES LESS THAN MAXVALUE`;

/** The whole `PARTITION BY RANGE (…) (…, pmax)` clause of a CREATE TABLE. */
export function partitionByClause(table: PartitionedTable, partitions: readonly PartitionSpec[]): string {
  const definitions = [...partitions.map(partitionDefinitionSql), CATCH_ALL_DEFINITION_SQL];
  return `PARTITION BY RANGE (${PARTITION_SCHEMES[table].expression}) (\n  ${definitions.join(',\n  ')}\n)`;
}
