/**
 * Plans the future partitions of the analytics tables. Pure: it reads what information_schema.PARTITIONS says a
 * table has and returns the exact DDL to add what is missing, plus warnings. No I/O, no local time zone.
 */
import { ErrorCode, StrataError } from '../../shared/errors';
import type { PartitionWarning } from '../../shared/partitions';
import {
  PARTITION_SCHEMES,
  partitionDefinitionSql,
  partitionStartFromName,
  partitionsFor,
  periodStart,
  shiftPeriod,
  type BoundKind,
  type PartitionedTable,
  type PartitionSpec,
} from '../schema/partitions';

/** How far past `now` a table must already have partitions. */
export type KeepAhead = { days: number } | { months: number };

/** Raw and hourly data a week ahead, daily and monthly a quarter: enough to survive a long outage of maintenance. */
export const DEFAULT_KEEP_AHEAD = {
  analytics_realtime: { days: 7 },
  analytics_hourly: { days: 7 },
  analytics_daily: { months: 3 },
  analytics_monthly: { months: 3 },
} as const satisfies Record<PartitionedTable, KeepAhead>;

export type KeepAheadOptions = Partial<Record<PartitionedTable, KeepAhead>>;

/** One row of information_schema.PARTITIONS for the table (PARTITION_NAME null: the table is not partitioned). */
export interface ExistingPartition {
  name: string | null;
  /** PARTITION_DESCRIPTION: the `VALUES LESS THAN` integer, or `MAXVALUE`. */
  description: string | null;
  ordinal: number | null;
}

export interface TablePlanInput {
  table: string;
  /** Empty when the table does not exist. */
  partitions: readonly ExistingPartition[];
  /** Rows in the catch-all partition (an exact count), when it has one. */
  catchAllRows?: number;
  now: Date;
  keepAhead?: KeepAheadOptions;
}

export interface TablePlan {
  table: string;
  /** Partitions the statements add, oldest first. */
  adds: PartitionSpec[];
  /** Empty when the table is covered far enough ahead (or cannot be planned: see the warnings). */
  statements: string[];
  warnings: PartitionWarning[];
}

const MS_PER_DAY = 86_400_000;
const TO_DAYS_OF_EPOCH = 719_528;

export function isManagedTable(table: string): table is PartitionedTable {
  return Object.hasOwn(PARTITION_SCHEMES, table);
}

/** The instant a `VALUES LESS THAN` integer stands for: the inverse of boundValue. */
export function boundToDate(value: number, kind: BoundKind): Date {
  return new Date(kind === 'epoch-seconds' ? value * 1000 : (value - TO_DAYS_OF_EPOCH) * MS_PER_DAY);
}

/** `now` plus the keep-ahead; a month ahead of 31 January is the last day of February, not 3 March. */
export function keepAheadHorizon(now: Date, keep: KeepAhead): Date {
  if ('days' in keep) return new Date(now.getTime() + keep.days * MS_PER_DAY);
  const target = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + keep.months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(now.getUTCDate(), lastDay));
  return new Date(target.getTime() + (now.getTime() - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())));
}

export function describeKeepAhead(keep: KeepAhead): string {
  const [count, unit] = 'days' in keep ? [keep.days, 'day'] : [keep.months, 'month'];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** Refuses a keep-ahead that is not a whole number of days or months of at least one. */
export function validateKeepAhead(options: KeepAheadOptions): void {
  for (const [table, keep] of Object.entries(options)) {
    if (!isManagedTable(table)) throw new StrataError(ErrorCode.PartitionTableUnmanaged, `${table} is not a table Strata manages; it keeps partitions of ${Object.keys(PARTITION_SCHEMES).join(', ')}`);
    const count = 'days' in keep ? keep.days : keep.months;
    if (!Number.isInteger(count) || count < 1) throw new StrataError(ErrorCode.PartitionOptionsInvalid, `${table}: keep-ahead must be a whole number of days or months of at least 1, got ${JSON.stringify(keep)}`);
  }
}

const iso = (at: Date) => at.toISOString().replace(':00:00.000Z', ':00Z');

/**
 * The statement that makes `table` hold partitions through `now` plus its keep-ahead. New partitions start right
 * after the last bounded one, so they never overlap it, and a plan made after applying this one is empty.
 */
export function planTable(input: TablePlanInput): TablePlan {
  const { table, now } = input;
  if (!isManagedTable(table)) {
    throw new StrataError(ErrorCode.PartitionTableUnmanaged, `${table} is not a table Strata manages; it keeps partitions of ${Object.keys(PARTITION_SCHEMES).join(', ')}`);
  }
  const scheme = PARTITION_SCHEMES[table];
  const keep: KeepAhead = input.keepAhead?.[table] ?? DEFAULT_KEEP_AHEAD[table];
  const plan: TablePlan = { table, adds: [], statements: [], warnings: [] };
  const warn = (kind: PartitionWarning['kind'], message: string) => plan.warnings.push({ kind, table, message: `${table}: ${message}` });

  if (input.partitions.length === 0) {
    warn('table-missing', 'the table does not exist; run strata schema apply');
    return plan;
  }
  const named = [...input.partitions].filter((partition) => partition.name !== null).sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  if (named.length === 0) {
    warn('not-partitioned', `the table is not partitioned, so Strata cannot add or drop partitions of it; convert it with strata partitions convert --table ${table} (or Convert… on the Partitions page)`);
    return plan;
  }

  const catchAll = named.find((partition) => partition.description === 'MAXVALUE');
  if (catchAll && (input.catchAllRows ?? 0) > 0) {
    warn(
      'catch-all-rows',
      `${input.catchAllRows} row${input.catchAllRows === 1 ? '' : 's'} in ${catchAll.name}, past the last partition (maintenance fell behind); adding partitions moves them, which rewrites them`,
    );
  }

  const bounded = named.filter((partition) => partition !== catchAll);
  const lastBound = bounded.reduce<number | undefined>((max, partition) => Math.max(max ?? -Infinity, Number(partition.description)), undefined);
  const coveredUntil = lastBound === undefined ? undefined : boundToDate(lastBound, scheme.boundKind);
  const horizon = keepAheadHorizon(now, keep);
  if (coveredUntil && coveredUntil.getTime() > horizon.getTime()) return plan;

  const futureCount = bounded.filter((partition) => boundToDate(Number(partition.description), scheme.boundKind).getTime() > shiftPeriod(now, scheme.granularity, 1).getTime()).length;
  warn(
    'too-few-ahead',
    `${futureCount} partition${futureCount === 1 ? '' : 's'} after the current one, covering until ${coveredUntil ? iso(coveredUntil) : 'nothing'}; Strata keeps ${describeKeepAhead(keep)} ahead (until ${iso(horizon)})`,
  );

  // A first period that started before the last bound would end up shorter than its name says, but its bound
  // is still above the last one, so the ranges stay contiguous and never overlap.
  const from = coveredUntil ?? periodStart(now, scheme.granularity);
  const adds = partitionsFor(table, from, horizon).filter((spec) => lastBound === undefined || spec.lessThan > lastBound);
  const existingNames = new Set(named.map((partition) => partition.name));
  const clash = adds.find((spec) => existingNames.has(spec.name));
  if (clash) {
    warn('name-conflict', `partition ${clash.name} already exists with another bound; rename it by hand before Strata adds partitions`);
    return plan;
  }
  const definitions = adds.map(partitionDefinitionSql);
  plan.adds = adds;
  plan.statements = [
    catchAll
      ? `ALTER TABLE ${table} REORGANIZE PARTITION ${catchAll.name} INTO (${[...definitions, `PARTITION ${catchAll.name} VALUES LESS THAN MAXVALUE`].join(', ')})`
      : `ALTER TABLE ${table} ADD PARTITION (${definitions.join(', ')})`,
  ];
  return plan;
}

export interface HistoryRangeInput {
  table: string;
  partitions: readonly ExistingPartition[];
  from: Date;
  to: Date;
}

/**
 * Partitions for older history (imported rows) below the first partition: `REORGANIZE` of the first partition into
 * one partition per period of [from, to) plus itself. The range may not overlap a partition that already has its
 * own period, and it is extended up to the first partition's period so no gap is left.
 */
/** What can be refused before any shard is read: a table Strata does not manage, an empty range. */
export function validateHistoryRange(table: string, from: Date, to: Date): asserts table is PartitionedTable {
  if (!isManagedTable(table)) {
    throw new StrataError(ErrorCode.PartitionTableUnmanaged, `${table} is not a table Strata manages; it keeps partitions of ${Object.keys(PARTITION_SCHEMES).join(', ')}`);
  }
  if (!(from < to)) throw new StrataError(ErrorCode.PartitionOptionsInvalid, `the range ${iso(from)} – ${iso(to)} is empty: --from must be before --to`);
}

export function planHistoryRange(input: HistoryRangeInput): TablePlan {
  const { table } = input;
  validateHistoryRange(table, input.from, input.to);
  const scheme = PARTITION_SCHEMES[table];
  const named = input.partitions.filter((partition) => partition.name !== null).sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  if (named.length === 0) {
    throw new StrataError(ErrorCode.PartitionOptionsInvalid, `${table} is not partitioned (or missing) on this shard: convert it first with strata partitions convert`);
  }
  const first = named[0]!;
  if (first.description === 'MAXVALUE') {
    throw new StrataError(ErrorCode.PartitionOptionsInvalid, `${table} has only its catch-all partition; add partitions ahead with strata partitions apply first`);
  }
  // The first partition holds everything below its bound, but by its name its own period starts here.
  const firstBound = boundToDate(Number(first.description), scheme.boundKind);
  const firstStart = partitionStartFromName(first.name!, scheme.granularity) ?? shiftPeriod(firstBound, scheme.granularity, -1);
  const from = periodStart(input.from, scheme.granularity);
  if (input.to > firstStart) {
    throw new StrataError(
      ErrorCode.PartitionOptionsInvalid,
      `the range ${iso(input.from)} – ${iso(input.to)} overlaps existing partitions of ${table}, which start at ${iso(firstStart)} (${first.name}); only older history can be added below them`,
    );
  }
  const adds = partitionsFor(table, from, new Date(firstStart.getTime() - 1));
  const existingNames = new Set(named.map((partition) => partition.name));
  const plan: TablePlan = { table, adds, statements: [], warnings: [] };
  const clash = adds.find((spec) => existingNames.has(spec.name));
  if (clash) throw new StrataError(ErrorCode.PartitionOptionsInvalid, `partition ${clash.name} already exists in ${table}; the range overlaps it`);
  if (adds.length > 0) {
    const definitions = [...adds.map(partitionDefinitionSql), `PARTITION ${first.name} VALUES LESS THAN (${first.description})`];
    plan.statements = [`ALTER TABLE ${table} REORGANIZE PARTITION ${first.name} INTO (${definitions.join(', ')})`];
  }
  return plan;
}
