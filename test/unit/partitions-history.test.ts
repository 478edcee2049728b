import { describe, expect, it } from 'vitest';
import { planHistoryRange, type ExistingPartition } from '../../src/main/partitions/planner';
import { toDays } from '../../src/main/schema/partitions';
import { ErrorCode } from '../../src/shared/errors';

const at = (text: string) => new Date(text);
/** A daily table (monthly partitions) whose first partition is p202611, then p202612 and the catch-all. */
const daily: ExistingPartition[] = [
  { name: 'p202611', description: String(toDays(at('2026-12-01T00:00:00Z'))), ordinal: 1 },
  { name: 'p202612', description: String(toDays(at('2027-01-01T00:00:00Z'))), ordinal: 2 },
  { name: 'pmax', description: 'MAXVALUE', ordinal: 3 },
];

describe('partitions for older history', () => {
  it('splits the first partition into one partition per month of the range, across a year boundary, up to its own month', () => {
    const plan = planHistoryRange({ table: 'analytics_daily', partitions: daily, from: at('2025-11-15T00:00:00Z'), to: at('2026-02-01T00:00:00Z') });
    // The range is widened to whole months and up to November 2026, so no month is left without its partition.
    expect(plan.adds.map((spec) => spec.name)).toEqual(['p202511', 'p202512', 'p202601', 'p202602', 'p202603', 'p202604', 'p202605', 'p202606', 'p202607', 'p202608', 'p202609', 'p202610']);
    expect(plan.statements).toHaveLength(1);
    expect(plan.statements[0]).toMatch(/^ALTER TABLE analytics_daily REORGANIZE PARTITION p202611 INTO \(PARTITION p202511 VALUES LESS THAN \(\d+\), .*, PARTITION p202611 VALUES LESS THAN \(\d+\)\)$/);
    expect(plan.statements[0]).toContain(`PARTITION p202512 VALUES LESS THAN (${toDays(at('2026-01-01T00:00:00Z'))})`);
  });

  it('refuses an empty range, an overlapping one and a table Strata does not manage', () => {
    const refused = (table: string, from: string, to: string) => () => planHistoryRange({ table, partitions: daily, from: at(from), to: at(to) });
    expect(refused('analytics_daily', '2025-06-01T00:00:00Z', '2025-06-01T00:00:00Z')).toThrow(expect.objectContaining({ code: ErrorCode.PartitionOptionsInvalid, message: expect.stringContaining('is empty') }));
    expect(refused('analytics_daily', '2025-06-01T00:00:00Z', '2026-11-15T00:00:00Z')).toThrow(
      expect.objectContaining({ code: ErrorCode.PartitionOptionsInvalid, message: expect.stringContaining('overlaps existing partitions of analytics_daily, which start at 2026-11-01T00:00Z (p202611)') }),
    );
    expect(refused('visits', '2025-06-01T00:00:00Z', '2025-07-01T00:00:00Z')).toThrow(expect.objectContaining({ code: ErrorCode.PartitionTableUnmanaged }));
  });

  it('refuses a table without partitions: it must be converted first', () => {
    expect(() => planHistoryRange({ table: 'analytics_daily', partitions: [{ name: null, description: null, ordinal: null }], from: at('2025-01-01T00:00:00Z'), to: at('2025-02-01T00:00:00Z') })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('convert it first') }),
    );
  });
});
