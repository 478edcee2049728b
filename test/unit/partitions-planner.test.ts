import { describe, expect, it } from 'vitest';
import { DEFAULT_KEEP_AHEAD, keepAheadHorizon, planTable, validateKeepAhead, type ExistingPartition } from '../../src/main/partitions/planner';
import { partitionsFor, type PartitionedTable, type PartitionSpec } from '../../src/main/schema/partitions';
import { ErrorCode } from '../../src/shared/errors';

const at = (iso: string) => new Date(iso);

/** What information_schema.PARTITIONS shows for these partitions followed by pmax. */
function existing(specs: PartitionSpec[], catchAll = true): ExistingPartition[] {
  const rows: ExistingPartition[] = specs.map((spec, index) => ({ name: spec.name, description: String(spec.lessThan), ordinal: index + 1 }));
  if (catchAll) rows.push({ name: 'pmax', description: 'MAXVALUE', ordinal: rows.length + 1 });
  return rows;
}

/** The partitions a table would have after the plan's statement ran. */
function afterApply(table: PartitionedTable, before: PartitionSpec[], now: Date): ExistingPartition[] {
  const plan = planTable({ table, partitions: existing(before), now });
  return existing([...before, ...plan.adds]);
}

describe('partition planner', () => {
  it('adds the daily partitions of a table through three months ahead across a year boundary, in one REORGANIZE of pmax', () => {
    const now = at('2025-10-20T12:00:00Z');
    const before = partitionsFor('analytics_daily', at('2025-09-01T00:00:00Z'), at('2025-11-01T00:00:00Z'));
    const plan = planTable({ table: 'analytics_daily', partitions: existing(before), now });
    expect(plan.adds.map((spec) => spec.name)).toEqual(['p202512', 'p202601']);
    // TO_DAYS('2026-01-01') = 739_982 and TO_DAYS('2026-02-01') = 740_013.
    expect(plan.statements).toEqual([
      'ALTER TABLE analytics_daily REORGANIZE PARTITION pmax INTO (PARTITION p202512 VALUES LESS THAN (739982), PARTITION p202601 VALUES LESS THAN (740013), PARTITION pmax VALUES LESS THAN MAXVALUE)',
    ]);
    expect(plan.warnings.map((warning) => warning.kind)).toEqual(['too-few-ahead']);
    expect(plan.warnings[0]?.message).toBe('analytics_daily: 1 partition after the current one, covering until 2025-12-01T00:00Z; Strata keeps 3 months ahead (until 2026-01-20T12:00Z)');
  });

  it('adds hourly raw partitions across a month and year boundary, starting right after the last one', () => {
    const now = at('2025-12-25T10:30:00Z');
    const before = partitionsFor('analytics_realtime', at('2025-12-24T00:00:00Z'), at('2025-12-31T21:00:00Z'));
    const plan = planTable({ table: 'analytics_realtime', partitions: existing(before), now });
    const names = plan.adds.map((spec) => spec.name);
    expect(names[0]).toBe('p2025123122');
    expect(names).toContain('p2026010100');
    expect(names.at(-1)).toBe('p2026010110');
    expect(plan.adds[0]?.lessThan).toBe(Date.parse('2025-12-31T23:00:00Z') / 1000);
    expect(plan.adds.every((spec, index) => index === 0 || spec.start.getTime() === plan.adds[index - 1]?.end.getTime())).toBe(true);
  });

  it('adds daily partitions of the hourly table across the end of a leap February', () => {
    const now = at('2028-02-25T00:00:00Z');
    const before = partitionsFor('analytics_hourly', at('2028-02-20T00:00:00Z'), at('2028-02-27T00:00:00Z'));
    const plan = planTable({ table: 'analytics_hourly', partitions: existing(before), now });
    expect(plan.adds.map((spec) => spec.name)).toEqual(['p20280228', 'p20280229', 'p20280301', 'p20280302', 'p20280303']);
  });

  it('keeps the yearly partitions of the monthly table three months ahead, so in October it adds next year', () => {
    const before = partitionsFor('analytics_monthly', at('2024-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'));
    expect(planTable({ table: 'analytics_monthly', partitions: existing(before), now: at('2025-09-30T00:00:00Z') }).adds.map((spec) => spec.name)).toEqual([]);
    expect(planTable({ table: 'analytics_monthly', partitions: existing(before), now: at('2025-10-01T00:00:00Z') }).adds.map((spec) => spec.name)).toEqual(['p2026']);
  });

  it('is idempotent: a plan made after applying the previous one is empty, for every table', () => {
    const now = at('2025-01-31T23:30:00Z');
    for (const table of Object.keys(DEFAULT_KEEP_AHEAD) as PartitionedTable[]) {
      const before = partitionsFor(table, at('2024-12-01T00:00:00Z'), at('2025-01-02T00:00:00Z'));
      const second = planTable({ table, partitions: afterApply(table, before, now), now });
      expect({ table, statements: second.statements, warnings: second.warnings }).toEqual({ table, statements: [], warnings: [] });
    }
  });

  it('takes a keep-ahead per table and clamps a month ahead of 31 January to the end of February', () => {
    expect(keepAheadHorizon(at('2025-01-31T06:00:00Z'), { months: 1 }).toISOString()).toBe('2025-02-28T06:00:00.000Z');
    expect(keepAheadHorizon(at('2025-11-15T00:00:00Z'), { months: 3 }).toISOString()).toBe('2026-02-15T00:00:00.000Z');
    const before = partitionsFor('analytics_hourly', at('2025-03-01T00:00:00Z'), at('2025-03-10T00:00:00Z'));
    const plan = planTable({ table: 'analytics_hourly', partitions: existing(before), now: at('2025-03-05T00:00:00Z'), keepAhead: { analytics_hourly: { days: 6 } } });
    expect(plan.adds.map((spec) => spec.name)).toEqual(['p20250311']);
    expect(() => validateKeepAhead({ analytics_daily: { months: 0 } })).toThrow(expect.objectContaining({ code: ErrorCode.PartitionOptionsInvalid }));
  });

  it('warns when the catch-all partition holds rows, with the count', () => {
    const before = partitionsFor('analytics_daily', at('2025-01-01T00:00:00Z'), at('2025-06-01T00:00:00Z'));
    const plan = planTable({ table: 'analytics_daily', partitions: existing(before), catchAllRows: 12, now: at('2025-02-01T00:00:00Z') });
    expect(plan.statements).toEqual([]);
    expect(plan.warnings).toEqual([
      {
        kind: 'catch-all-rows',
        table: 'analytics_daily',
        message: 'analytics_daily: 12 rows in pmax, past the last partition (maintenance fell behind); adding partitions moves them, which rewrites them',
      },
    ]);
  });

  it('reports a table without partitions or missing, and plans nothing for it', () => {
    const now = at('2025-02-01T00:00:00Z');
    const flat = planTable({ table: 'analytics_hourly', partitions: [{ name: null, description: null, ordinal: null }], now });
    expect(flat.statements).toEqual([]);
    expect(flat.warnings.map((warning) => warning.kind)).toEqual(['not-partitioned']);
    expect(planTable({ table: 'analytics_hourly', partitions: [], now }).warnings.map((warning) => warning.kind)).toEqual(['table-missing']);
  });

  it('adds partitions without pmax when the table has no catch-all', () => {
    const before = partitionsFor('analytics_daily', at('2025-01-01T00:00:00Z'), at('2025-03-01T00:00:00Z'));
    const plan = planTable({ table: 'analytics_daily', partitions: existing(before, false), now: at('2025-02-01T00:00:00Z') });
    expect(plan.statements).toEqual(['ALTER TABLE analytics_daily ADD PARTITION (PARTITION p202504 VALUES LESS THAN (739737), PARTITION p202505 VALUES LESS THAN (739768))']);
  });

  it('refuses a table Strata does not manage', () => {
    expect(() => planTable({ table: 'orders', partitions: [], now: at('2025-02-01T00:00:00Z') })).toThrow(
      expect.objectContaining({ code: ErrorCode.PartitionTableUnmanaged, message: expect.stringMatching(/^orders is not a table Strata manages/) }),
    );
  });
});
