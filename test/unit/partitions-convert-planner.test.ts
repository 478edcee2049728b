import { describe, expect, it } from 'vitest';
import { COPY_BYTES_PER_SECOND, MAX_PARTITIONS, planConversion, type ConversionInput, type TableColumn, type TableIndex } from '../../src/main/partitions/convert-planner';
import { planTable, type ExistingPartition } from '../../src/main/partitions/planner';
import { PARTITION_SCHEMES, boundValue, partitionStartFromName, type PartitionedTable } from '../../src/main/schema/partitions';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import type { TableConversionPlan } from '../../src/shared/partitions';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const at = (iso: string) => new Date(iso);
const column = (name: string, type: string, nullable = false): TableColumn => ({ name, type, nullable });
const index = (name: string, columns: string[], unique = false): TableIndex => ({ name, unique, columns, kind: 'BTREE' });

/** analytics_realtime as a seed's plain DDL builds it: `id BIGINT AUTO_INCREMENT PRIMARY KEY`, no partitions. */
function seedRaw(overrides: Partial<ConversionInput> = {}): ConversionInput {
  return {
    table: 'analytics_realtime',
    columns: [column('id', 'bigint'), column('site_id', 'int'), column('created_at', 'timestamp'), column('visitor_id', 'bigint'), column('path', 'varchar'), column('referrer', 'varchar', true)],
    indexes: [index('PRIMARY', ['id'], true), index('idx_site_created', ['site_id', 'created_at'])],
    partitioned: false,
    estimatedRows: 1_000_000,
    dataBytes: 80 * 1024 * 1024,
    indexBytes: 40 * 1024 * 1024,
    oldest: at('2025-03-10T06:20:00Z'),
    now: at('2025-03-10T10:30:00Z'),
    ...overrides,
  };
}

function rollup(table: PartitionedTable, overrides: Partial<ConversionInput> = {}): ConversionInput {
  const time = PARTITION_SCHEMES[table].column;
  return {
    table,
    columns: [column('site_id', 'int'), column(time, table === 'analytics_hourly' ? 'datetime' : 'date'), column('page_views', 'bigint'), column('visitors', 'int')],
    indexes: [index('PRIMARY', ['site_id', time], true)],
    partitioned: false,
    estimatedRows: 5000,
    dataBytes: 1024 * 1024,
    indexBytes: 0,
    oldest: null,
    now: at('2025-10-20T12:00:00Z'),
    ...overrides,
  };
}

/** What information_schema.PARTITIONS would show after the plan's ALTER ran. */
function partitionsAfter(plan: TableConversionPlan): ExistingPartition[] {
  const { boundKind } = PARTITION_SCHEMES[plan.table as PartitionedTable];
  return plan.partitions.map((partition, position) => ({
    name: partition.name,
    description: partition.to === null ? 'MAXVALUE' : String(boundValue(new Date(partition.to), boundKind)),
    ordinal: position + 1,
  }));
}

const refusal = (plan: TableConversionPlan) => (plan.action === 'refused' ? plan.problem?.message : undefined);

describe('conversion planner', () => {
  it('extends a seed primary key (id) with created_at and partitions raw rows hourly from the oldest row through a week ahead', () => {
    const plan = planConversion(seedRaw());
    expect(plan.action).toBe('convert');
    expect(plan.primaryKeyBefore).toEqual(['id']);
    expect(plan.primaryKeyAfter).toEqual(['id', 'created_at']);
    const names = plan.partitions.map((partition) => partition.name);
    expect(names[0]).toBe('p2025031006');
    expect(names.at(-2)).toBe('p2025031710');
    expect(names.at(-1)).toBe('pmax');
    expect(names).toHaveLength(4 + 1 + 168 + 1);
    // 2025-03-10T07:00Z = 1741590000: the first partition's bound; it takes anything earlier too.
    expect(plan.statement).toMatch(/^ALTER TABLE analytics_realtime DROP PRIMARY KEY, ADD PRIMARY KEY \(id, created_at\) PARTITION BY RANGE \(UNIX_TIMESTAMP\(created_at\)\) \(\n {2}PARTITION p2025031006 VALUES LESS THAN \(1741590000\),\n/);
    expect(plan.statement).toMatch(/,\n {2}PARTITION pmax VALUES LESS THAN MAXVALUE\n\)$/);
    expect(plan.partitions[0]).toEqual({ name: 'p2025031006', from: null, to: '2025-03-10T07:00:00.000Z' });
    expect(plan.partitions.at(-1)).toEqual({ name: 'pmax', from: '2025-03-17T11:00:00.000Z', to: null });
    expect(plan.warnings).toContain('The primary key changes from (id) to (id, created_at), as MariaDB and MySQL require the partition column in every unique key: (id) alone is no longer enforced unique.');
  });

  it('estimates the time from the size and warns that the copy blocks writes, needs disk and wants ingestion paused', () => {
    const plan = planConversion(seedRaw());
    expect(plan.estimatedSeconds).toBe(Math.ceil((120 * 1024 * 1024) / COPY_BYTES_PER_SECOND));
    const [copy] = plan.warnings;
    expect(copy).toContain('copies the whole table (~1,000,000 rows, 120.0 MiB)');
    expect(copy).toContain('COPY algorithm, so writes to analytics_realtime are blocked for the whole time');
    expect(copy).toContain("free disk of about the table's size (120.0 MiB)");
    expect(copy).toContain('Run it while ingestion is paused.');
  });

  it("leaves a primary key that holds the partition column as it is, and converts a rollup table with an id key and a unique (site_id, hour_start)", () => {
    const monthly = planConversion(rollup('analytics_monthly', { oldest: at('2023-05-01T00:00:00Z') }));
    // TO_DAYS of 1 January 2024, 2025, 2026 and 2027; the keep-ahead of 3 months reaches into 2026.
    expect(monthly.statement).toBe(
      'ALTER TABLE analytics_monthly PARTITION BY RANGE (TO_DAYS(month_start)) (\n  PARTITION p2023 VALUES LESS THAN (739251),\n  PARTITION p2024 VALUES LESS THAN (739617),\n  PARTITION p2025 VALUES LESS THAN (739982),\n  PARTITION p2026 VALUES LESS THAN (740347),\n  PARTITION pmax VALUES LESS THAN MAXVALUE\n)',
    );
    expect(monthly.primaryKeyAfter).toEqual(['site_id', 'month_start']);
    expect(monthly.warnings.some((warning) => warning.includes('primary key'))).toBe(false);

    const hourly = planConversion(
      rollup('analytics_hourly', {
        columns: [column('id', 'bigint'), column('site_id', 'int'), column('hour_start', 'datetime'), column('page_views', 'bigint')],
        indexes: [index('PRIMARY', ['id'], true), index('uniq_site_hour', ['site_id', 'hour_start'], true)],
        oldest: at('2025-10-18T05:00:00Z'),
      }),
    );
    expect(hourly.action).toBe('convert');
    expect(hourly.statement).toMatch(/^ALTER TABLE analytics_hourly DROP PRIMARY KEY, ADD PRIMARY KEY \(id, hour_start\) PARTITION BY RANGE \(TO_DAYS\(hour_start\)\)/);
    expect(hourly.partitions.map((partition) => partition.name)).toEqual(['p20251018', 'p20251019', 'p20251020', 'p20251021', 'p20251022', 'p20251023', 'p20251024', 'p20251025', 'p20251026', 'p20251027', 'pmax']);
  });

  it('refuses, naming the key, a unique key other than the primary key that lacks the partition column', () => {
    const plan = planConversion(seedRaw({ indexes: [index('PRIMARY', ['id'], true), index('uniq_visit', ['site_id', 'visitor_id', 'path'], true)] }));
    expect(plan.action).toBe('refused');
    expect(plan.statement).toBeNull();
    expect(plan.problem?.code).toBe(ErrorCode.ConversionRefused);
    expect(refusal(plan)).toBe(
      'analytics_realtime: unique key uniq_visit (site_id, visitor_id, path) does not include created_at; MariaDB and MySQL require the partition column in every unique key, and adding it would change what the key guarantees. Drop the key or add created_at to it yourself, then convert',
    );
  });

  it('refuses a DATETIME created_at for UNIX_TIMESTAMP and a TIMESTAMP rollup column for TO_DAYS, without changing column types', () => {
    const raw = planConversion(seedRaw({ columns: [column('id', 'bigint'), column('site_id', 'int'), column('created_at', 'datetime')] }));
    expect(raw.action).toBe('refused');
    expect(refusal(raw)).toMatch(/^analytics_realtime: created_at is DATETIME, but Strata partitions analytics_realtime by UNIX_TIMESTAMP\(created_at\), which MariaDB and MySQL allow only on a TIMESTAMP column \(a DATETIME has no time zone/);
    expect(refusal(raw)).toContain('Strata does not change column types');

    const hourly = planConversion(rollup('analytics_hourly', { columns: [column('site_id', 'int'), column('hour_start', 'timestamp')] }));
    expect(refusal(hourly)).toMatch(/^analytics_hourly: hour_start is TIMESTAMP, but Strata partitions analytics_hourly by TO_DAYS\(hour_start\), which needs a DATE or DATETIME column/);
    expect(refusal(planConversion(rollup('analytics_daily', { columns: [column('site_id', 'int'), column('date', 'varchar')] })))).toContain('date is VARCHAR');
  });

  it('refuses to extend the primary key with a nullable column, which MariaDB would silently make NOT NULL', () => {
    const plan = planConversion(seedRaw({ columns: [column('id', 'bigint'), column('created_at', 'timestamp', true)] }));
    expect(refusal(plan)).toContain('created_at allows NULL');
  });

  it('puts every row older than retention keeps into one first partition named after the period of the oldest row', () => {
    const now = at('2025-03-10T10:30:00Z');
    const plan = planConversion(seedRaw({ oldest: at('2024-11-02T13:45:00Z'), now }));
    const [first, second] = plan.partitions;
    // Retention keeps 48 hours: the regular partitions start with the hour holding now - 48 h.
    expect(first).toEqual({ name: 'p2024110213', from: null, to: '2025-03-08T10:00:00.000Z' });
    expect(second).toEqual({ name: 'p2025030810', from: '2025-03-08T10:00:00.000Z', to: '2025-03-08T11:00:00.000Z' });
    expect(plan.partitions).toHaveLength(1 + DEFAULT_RETENTION.rawHours + 1 + 168 + 1);
    expect(partitionStartFromName(first?.name ?? '', 'hour')?.toISOString()).toBe('2024-11-02T13:00:00.000Z');
    expect(plan.warnings.at(-1)).toBe(
      'Rows before 2025-03-08T10:00Z (retention keeps 48 hours; the oldest is from 2024-11-02T13:45Z) all go into one first partition p2024110213, which retention later removes as a whole.',
    );
    // Partition maintenance reads the converted table as covered: nothing to add, no warnings.
    expect(planTable({ table: 'analytics_realtime', partitions: partitionsAfter(plan), now })).toMatchObject({ statements: [], warnings: [] });
  });

  it('refuses a conversion that would need more than 8192 partitions, and converts one just under the limit', () => {
    const old = at('2023-01-01T00:00:00Z');
    const over = planConversion(seedRaw({ oldest: old, retention: { ...DEFAULT_RETENTION, rawHours: 24 * 366 } }));
    expect(over.action).toBe('refused');
    // 8784 hours back and 168 ahead, the current hour, the first partition for older rows and pmax.
    expect(refusal(over)).toBe(
      'analytics_realtime: it would need 8955 partitions (hourly from 2024-03-09T10:00Z through 2025-03-17T10:30Z, plus pmax and one for older rows), and MariaDB and MySQL allow at most 8192; shorten the retention (8784 hours) or the keep-ahead (7 days), then convert',
    );

    const under = planConversion(seedRaw({ oldest: old, retention: { ...DEFAULT_RETENTION, rawHours: MAX_PARTITIONS - 168 - 3 } }));
    expect(under.action).toBe('convert');
    expect(under.partitions).toHaveLength(MAX_PARTITIONS);
  });

  it('makes monthly partitions of the daily table across a year boundary, and hourly raw ones across midnight of a new year', () => {
    const daily = planConversion(rollup('analytics_daily', { oldest: at('2025-10-15T00:00:00Z'), now: at('2025-12-20T08:00:00Z') }));
    expect(daily.partitions.map((partition) => partition.name)).toEqual(['p202510', 'p202511', 'p202512', 'p202601', 'p202602', 'p202603', 'pmax']);
    expect(daily.statement).toContain('PARTITION p202512 VALUES LESS THAN (739982)');

    const raw = planConversion(seedRaw({ oldest: at('2025-12-31T21:10:00Z'), now: at('2025-12-31T22:30:00Z') }));
    expect(raw.partitions.slice(0, 5).map((partition) => partition.name)).toEqual(['p2025123121', 'p2025123122', 'p2025123123', 'p2026010100', 'p2026010101']);
    expect(raw.statement).toContain(`PARTITION p2025123123 VALUES LESS THAN (${Date.parse('2026-01-01T00:00:00Z') / 1000})`);
  });

  it('converts an empty table into the partitions a fresh Strata schema would have around now', () => {
    const plan = planConversion(rollup('analytics_hourly', { estimatedRows: 0, dataBytes: 16384, oldest: null, now: at('2025-10-20T12:00:00Z') }));
    expect(plan.action).toBe('convert');
    expect(plan.oldestRow).toBeNull();
    expect(plan.partitions[0]).toEqual({ name: 'p20251013', from: null, to: '2025-10-14T00:00:00.000Z' });
    expect(plan.partitions.at(-2)?.name).toBe('p20251027');
    expect(plan.estimatedSeconds).toBe(1);
  });

  it('has nothing to do for a table that is already partitioned, and refuses a missing one', () => {
    const partitioned = planConversion(seedRaw({ partitioned: true, indexes: [index('PRIMARY', ['id', 'created_at'], true)] }));
    expect(partitioned).toMatchObject({ action: 'already-partitioned', statement: null, partitions: [], warnings: [] });
    expect(partitioned.problem).toBeUndefined();

    const missing = planConversion(seedRaw({ columns: [], indexes: [] }));
    expect(refusal(missing)).toBe('analytics_realtime: the table does not exist; strata schema apply creates it already partitioned');
  });

  it('refuses a table Strata does not manage with PartitionTableUnmanaged, naming the tables it does', () => {
    const call = () => planConversion(seedRaw({ table: 'page_views' }));
    expect(call).toThrow(StrataError);
    expect(call).toThrow('page_views is not a table Strata manages; it converts only analytics_realtime, analytics_hourly, analytics_daily, analytics_monthly');
    try {
      call();
    } catch (error) {
      expect((error as StrataError).code).toBe(ErrorCode.PartitionTableUnmanaged);
    }
  });
});
