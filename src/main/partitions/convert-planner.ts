/**
 * Plans the conversion of an unpartitioned analytics table (as plain seed DDL builds it) into Strata's partitioned
 * layout. Pure: it reads what information_schema says about the table and returns the one ALTER TABLE that
 * converts it, or why it cannot. No I/O, no local time zone.
 */
import { ErrorCode, StrataError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import type { ConversionPartition, TableConversionPlan } from '../../shared/partitions';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../../shared/rollup';
import {
  PARTITION_SCHEMES,
  boundValue,
  partitionByClause,
  partitionName,
  partitionsFor,
  periodStart,
  shiftPeriod,
  type PartitionGranularity,
  type PartitionedTable,
  type PartitionScheme,
  type PartitionSpec,
} from '../schema/partitions';
import { DEFAULT_KEEP_AHEAD, describeKeepAhead, isManagedTable, keepAheadHorizon, type KeepAhead, type KeepAheadOptions } from './planner';

/** MariaDB's (and MySQL's) limit on the partitions of one table, pmax included. */
export const MAX_PARTITIONS = 8192;

/**
 * How fast `ALTER TABLE … PARTITION BY` copies a table, in bytes of DATA_LENGTH + INDEX_LENGTH per second.
 * Measured in the sandbox (2 cores, MariaDB 10.11, 512 MiB buffer pool): a seed-style analytics_realtime of
 * 500 k rows (64 MiB after ANALYZE TABLE) converted into 218 hourly partitions in 1.8–3.6 s over four runs
 * (18–36 MiB/s, median 29); 1 M and 2 M rows ran at 41–43 MiB/s. Rounded down: real tables rarely sit in memory.
 */
export const COPY_BYTES_PER_SECOND = 25 * 1024 * 1024;

/** One column as information_schema.COLUMNS describes it. */
export interface TableColumn {
  name: string;
  /** DATA_TYPE, such as `timestamp`, `datetime` or `date`. */
  type: string;
  nullable: boolean;
}

/** One index as information_schema.STATISTICS describes it; the primary key is named PRIMARY. */
export interface TableIndex {
  name: string;
  unique: boolean;
  columns: string[];
  /** INDEX_TYPE: BTREE, HASH, FULLTEXT or SPATIAL. */
  kind: string;
}

export interface ConversionInput {
  table: string;
  /** Empty when the table does not exist. */
  columns: readonly TableColumn[];
  indexes: readonly TableIndex[];
  /** True when information_schema.PARTITIONS lists partitions of it. */
  partitioned: boolean;
  /** Names of the foreign keys from or to the table: a partitioned InnoDB table can have neither. */
  foreignKeys?: readonly string[];
  estimatedRows: number;
  dataBytes: number;
  indexBytes: number;
  /** MIN of the partition column; null for an empty table (or before it was read). */
  oldest: Date | null;
  now: Date;
  keepAhead?: KeepAheadOptions;
  retention?: RetentionPolicy;
}

const MS_PER_HOUR = 3_600_000;
const ADJECTIVE: Record<PartitionGranularity, string> = { hour: 'hourly', day: 'daily', month: 'monthly', year: 'yearly' };

/** Refuses, before any I/O, a table name that is not one of the four analytics tables. */
export function requireManagedTable(table: string): PartitionedTable {
  if (!isManagedTable(table)) {
    throw new StrataError(ErrorCode.PartitionTableUnmanaged, `${table} is not a table Strata manages; it converts only ${Object.keys(PARTITION_SCHEMES).join(', ')}`);
  }
  return table;
}

/** The earliest instant retention still keeps rows of `table` for, at `now`. */
function retentionCutoff(table: PartitionedTable, now: Date, retention: RetentionPolicy): Date {
  switch (table) {
    case 'analytics_realtime':
      return new Date(now.getTime() - retention.rawHours * MS_PER_HOUR);
    case 'analytics_hourly':
      return new Date(now.getTime() - retention.hourlyDays * 24 * MS_PER_HOUR);
    case 'analytics_daily':
      return new Date(now.getTime() - retention.dailyDays * 24 * MS_PER_HOUR);
    case 'analytics_monthly':
      return shiftPeriod(now, 'month', -retention.monthlyMonths);
  }
}

function describeRetention(table: PartitionedTable, retention: RetentionPolicy): string {
  const [count, unit] = {
    analytics_realtime: [retention.rawHours, 'hour'],
    analytics_hourly: [retention.hourlyDays, 'day'],
    analytics_daily: [retention.dailyDays, 'day'],
    analytics_monthly: [retention.monthlyMonths, 'month'],
  }[table] as [number, string];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

export function describeSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

const iso = (at: Date) => at.toISOString().replace(/(:00)?\.000Z$/, 'Z');
const identifier = (name: string) => (/^[a-z_][a-z0-9_]*$/i.test(name) ? name : `\`${name.replace(/`/g, '``')}\``);
const columnList = (columns: readonly string[]) => `(${columns.join(', ')})`;

/** Why the partition expression cannot read the column, or undefined when it can. */
function typeProblem(table: PartitionedTable, scheme: PartitionScheme, column: TableColumn): string | undefined {
  const type = column.type.toUpperCase();
  const unchanged = 'Strata does not change column types: change it yourself, then convert';
  if (scheme.boundKind === 'epoch-seconds') {
    if (type === 'TIMESTAMP') return undefined;
    const why = type === 'DATETIME' ? ' (a DATETIME has no time zone, so its epoch seconds would depend on the session)' : '';
    return `${column.name} is ${type}, but Strata partitions ${table} by ${scheme.expression}, which MariaDB and MySQL allow only on a TIMESTAMP column${why}. ${unchanged} (converting DATETIME values to TIMESTAMP reads them in the session time zone: use the one they were written in)`;
  }
  if (type === 'DATE' || type === 'DATETIME') return undefined;
  const why = type === 'TIMESTAMP' ? ' (the date of a TIMESTAMP depends on the session time zone, so MariaDB and MySQL refuse it in a partition expression)' : '';
  return `${column.name} is ${type}, but Strata partitions ${table} by ${scheme.expression}, which needs a DATE or DATETIME column${why}. ${unchanged}`;
}

/**
 * The one ALTER TABLE that gives `table` Strata's partitions: one per period from the period of the oldest row
 * through `now` plus the keep-ahead, and pmax. Rows older than retention keeps go into a single first partition,
 * so an old table never needs more partitions than a Strata-built one. A primary key without the partition column
 * is extended with it; any other unique key without it is refused, since extending it would weaken what it enforces.
 */
export function planConversion(input: ConversionInput): TableConversionPlan {
  const table = requireManagedTable(input.table);
  const scheme: PartitionScheme = PARTITION_SCHEMES[table];
  const keep: KeepAhead = input.keepAhead?.[table] ?? DEFAULT_KEEP_AHEAD[table];
  const retention = input.retention ?? DEFAULT_RETENTION;
  const primary = input.indexes.find((index) => index.name === 'PRIMARY');
  const primaryKeyBefore = primary?.columns ?? [];
  const oldestValid = input.oldest !== null && !Number.isNaN(input.oldest.getTime());
  const base: TableConversionPlan = {
    table,
    action: 'refused',
    column: scheme.column,
    expression: scheme.expression,
    estimatedRows: Math.max(0, Math.round(input.estimatedRows)),
    dataBytes: input.dataBytes,
    indexBytes: input.indexBytes,
    oldestRow: input.oldest && oldestValid ? input.oldest.toISOString() : null,
    primaryKeyBefore,
    primaryKeyAfter: primaryKeyBefore,
    partitions: [],
    statement: null,
    estimatedSeconds: 0,
    warnings: [],
  };
  const refuse = (message: string): TableConversionPlan => ({ ...base, problem: { code: ErrorCode.ConversionRefused, message: `${table}: ${message}` } });

  if (input.columns.length === 0) return refuse('the table does not exist; strata schema apply creates it already partitioned');
  if (input.partitioned) return { ...base, action: 'already-partitioned' };

  const column = input.columns.find((candidate) => candidate.name.toLowerCase() === scheme.column);
  if (!column) return refuse(`the table has no ${scheme.column} column, which Strata partitions it by (${scheme.expression})`);
  const wrongType = typeProblem(table, scheme, column);
  if (wrongType) return refuse(wrongType);

  const holdsColumn = (index: TableIndex) => index.columns.some((name) => name.toLowerCase() === scheme.column);
  const unsupported = input.indexes.filter((index) => index.kind === 'FULLTEXT' || index.kind === 'SPATIAL');
  if (unsupported.length > 0) {
    return refuse(`partitioned tables cannot have FULLTEXT or SPATIAL indexes, and it has ${unsupported.map((index) => `${index.kind} ${index.name}`).join(', ')}: drop them yourself first`);
  }
  if (input.foreignKeys && input.foreignKeys.length > 0) {
    return refuse(`partitioned InnoDB tables cannot have foreign keys or be referenced by one, and it has ${input.foreignKeys.join(', ')}: drop them yourself first`);
  }
  // Extending another unique key would make it allow rows it refuses today: the user must decide about it.
  const blocking = input.indexes.filter((index) => index.unique && index !== primary && !holdsColumn(index));
  if (blocking.length > 0) {
    const keys = blocking.map((index) => `${index.name} ${columnList(index.columns)}`).join(', ');
    return refuse(
      `unique key${blocking.length === 1 ? '' : 's'} ${keys} ${blocking.length === 1 ? 'does' : 'do'} not include ${scheme.column}; MariaDB and MySQL require the partition column in every unique key, and adding it would change what the key guarantees. Drop the key or add ${scheme.column} to it yourself, then convert`,
    );
  }
  const extendPrimary = primary !== undefined && !holdsColumn(primary);
  if (extendPrimary && column.nullable) {
    return refuse(
      `${scheme.column} allows NULL, and the primary key must be extended with it, which MariaDB would do by silently making it NOT NULL (or fail on a NULL row). Make it NOT NULL yourself first`,
    );
  }

  const { granularity } = scheme;
  const now = input.now;
  const keepFrom = periodStart(retentionCutoff(table, now, retention), granularity);
  const current = periodStart(now, granularity);
  const horizon = keepAheadHorizon(now, keep);
  let from = keepFrom;
  let first: PartitionSpec | undefined;
  if (input.oldest !== null) {
    const oldestStart = oldestValid ? periodStart(input.oldest, granularity) : undefined;
    if (oldestStart === undefined || oldestStart.getTime() < keepFrom.getTime()) {
      // Named after the period of its oldest row, so reading the name back never claims it starts later than its data.
      const start = oldestStart ?? shiftPeriod(keepFrom, granularity, -1);
      first = { name: partitionName(start, granularity), start, end: keepFrom, lessThan: boundValue(keepFrom, scheme.boundKind) };
    } else {
      from = oldestStart.getTime() < current.getTime() ? oldestStart : current;
    }
  }
  const regular = partitionsFor(table, from, horizon);
  const specs = first ? [first, ...regular] : regular;
  const total = specs.length + 1;
  if (total > MAX_PARTITIONS) {
    return refuse(
      `it would need ${total} partitions (${ADJECTIVE[granularity]} from ${iso(from)} through ${iso(horizon)}, plus pmax${first ? ' and one for older rows' : ''}), and MariaDB and MySQL allow at most ${MAX_PARTITIONS}; shorten the retention (${describeRetention(table, retention)}) or the keep-ahead (${describeKeepAhead(keep)}), then convert`,
    );
  }

  const primaryKeyAfter = extendPrimary ? [...primaryKeyBefore, column.name] : primaryKeyBefore;
  const keyChange = extendPrimary ? `DROP PRIMARY KEY, ADD PRIMARY KEY ${columnList(primaryKeyAfter.map(identifier))} ` : '';
  const partitions: ConversionPartition[] = specs.map((spec, position) => ({ name: spec.name, from: position === 0 ? null : spec.start.toISOString(), to: spec.end.toISOString() }));
  partitions.push({ name: 'pmax', from: specs.at(-1)?.end.toISOString() ?? null, to: null });
  const bytes = input.dataBytes + input.indexBytes;
  const estimatedSeconds = Math.max(1, Math.ceil(bytes / COPY_BYTES_PER_SECOND));

  const warnings = [
    `The ALTER copies the whole table (~${base.estimatedRows.toLocaleString('en-US')} rows, ${formatBytes(bytes)}), about ${describeSeconds(estimatedSeconds)} at ${COPY_BYTES_PER_SECOND / 1024 / 1024} MiB/s: MariaDB and MySQL repartition with the COPY algorithm, so writes to ${table} are blocked for the whole time, and reads too, since Strata holds a write lock to compare the row counts before and after. It needs free disk of about the table's size (${formatBytes(bytes)}) on the shard. Run it while ingestion is paused.`,
  ];
  if (extendPrimary) {
    warnings.push(
      `The primary key changes from ${columnList(primaryKeyBefore)} to ${columnList(primaryKeyAfter)}, as MariaDB and MySQL require the partition column in every unique key: ${columnList(primaryKeyBefore)} alone is no longer enforced unique.`,
    );
  }
  if (first) {
    const oldest = base.oldestRow ? `; the oldest is from ${iso(new Date(base.oldestRow))}` : '';
    warnings.push(
      `Rows before ${iso(keepFrom)} (retention keeps ${describeRetention(table, retention)}${oldest}) all go into one first partition ${first.name}, which retention later removes as a whole.`,
    );
  }
  return {
    ...base,
    action: 'convert',
    primaryKeyAfter,
    partitions,
    statement: `ALTER TABLE ${table} ${keyChange}${partitionByClause(table, specs)}`,
    estimatedSeconds,
    warnings,
  };
}
