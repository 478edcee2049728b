import { describe, expect, it } from 'vitest';
import { DEFAULT_DEMO_DAYS, firstPartitionStart, planDemoHistory } from '../../src/main/sandbox/demo-planner';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const at = (text: string) => new Date(text);
const DAY_MS = 86_400_000;

describe("the demo's history", () => {
  it('spans at least 9 days by default, more than hourly rows are kept, so every retention rule has something to prune', () => {
    const plan = planDemoHistory(at('2026-03-10T14:35:12Z'), DEFAULT_DEMO_DAYS);
    const days = (plan.to.getTime() - plan.from.getTime()) / DAY_MS;
    expect(days).toBeGreaterThanOrEqual(9);
    expect(days).toBeGreaterThan(DEFAULT_RETENTION.hourlyDays + 1);
    // Whole UTC days back from today, up to the last complete hour: no hour of the range is still filling.
    expect(plan.from.toISOString()).toBe('2026-02-28T00:00:00.000Z');
    expect(plan.to.toISOString()).toBe('2026-03-10T14:00:00.000Z');
  });

  it('rolls up every complete hour, day and month of the history, finer levels first, so catch-up only has the recent windows left', () => {
    const plan = planDemoHistory(at('2026-03-10T14:35:12Z'), 10);
    expect(plan.rollups.map(({ level, from, to }) => [level, from.toISOString(), to.toISOString()])).toEqual([
      ['hourly', '2026-02-28T00:00:00.000Z', '2026-03-10T14:00:00.000Z'],
      ['daily', '2026-02-28T00:00:00.000Z', '2026-03-10T00:00:00.000Z'],
      ['monthly', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'],
    ]);
  });

  it('skips the monthly rollup when the whole history lies in the current month', () => {
    const plan = planDemoHistory(at('2026-03-25T08:00:00Z'), 10);
    expect(plan.rollups.map((range) => range.level)).toEqual(['hourly', 'daily']);
  });

  it('refuses a history of no days', () => {
    expect(() => planDemoHistory(at('2026-03-10T14:35:12Z'), 0)).toThrow(RangeError);
  });

  it("finds where a table's partitions start from its first partition's name, whatever order they are listed in", () => {
    const partitions = [
      { name: 'p20260309', ordinal: 2, to: '2026-03-10T00:00:00.000Z' },
      { name: 'pmax', ordinal: 3, to: null },
      { name: 'p20260308', ordinal: 1, to: '2026-03-09T00:00:00.000Z' },
    ];
    expect(firstPartitionStart('analytics_hourly', partitions)?.toISOString()).toBe('2026-03-08T00:00:00.000Z');
    expect(firstPartitionStart('analytics_hourly', [{ name: 'pmax', ordinal: 1, to: null }])).toBeUndefined();
    expect(firstPartitionStart('analytics_realtime', [])).toBeUndefined();
  });
});
