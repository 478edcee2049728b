import { describe, expect, it } from 'vitest';
import { expiredBefore, planTablePrune, retentionCutoff, type NextLevelCoverage, type PartitionFacts, type TablePruneInput } from '../../src/main/retention/planner';
import { dropPartitionsSql, deleteBatchSql, windowTotalsSql } from '../../src/main/retention/sql';
import { DEFAULT_RETENTION_SETTINGS, retentionPolicyProblems } from '../../src/shared/retention';

const HOUR = 3_600_000;
const at = (text: string) => new Date(text);
const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/** One partition per hour from `first` for `count` hours, then the catch-all. */
function hourlyPartitions(first: Date, count: number): PartitionFacts[] {
  const partitions: PartitionFacts[] = Array.from({ length: count }, (_, index) => {
    const from = new Date(first.getTime() + index * HOUR);
    return { name: `p${iso(from).slice(0, 13).replace(/[-T]/g, '')}`, from: index === 0 ? null : from, to: new Date(from.getTime() + HOUR), rows: 100, bytes: 16_384 };
  });
  partitions.push({ name: 'pmax', from: partitions.at(-1)!.to, to: null, rows: 0, bytes: 16_384 });
  return partitions;
}

const covered = (watermark: string | null, coveredFrom: string | null = null): NextLevelCoverage => ({
  watermark: watermark ? at(watermark) : null,
  coveredFrom: coveredFrom ? at(coveredFrom) : null,
  rolledUpWindows: new Set(),
});

function rawInput(overrides: Partial<TablePruneInput>): TablePruneInput {
  return {
    table: 'analytics_realtime',
    now: at('2026-11-25T12:30:00Z'),
    policy: DEFAULT_RETENTION_SETTINGS,
    partitioned: true,
    partitions: hourlyPartitions(at('2026-11-23T06:00:00Z'), 60),
    expiredWindows: [],
    nextLevelTotals: new Map(),
    coverage: covered('2026-11-25T12:00:00Z', '2026-11-01T00:00:00Z'),
    ...overrides,
  };
}

describe('retention cutoffs', () => {
  it('counts raw in hours, hourly and daily in days and monthly in calendar months, all in UTC', () => {
    const now = at('2026-03-01T02:15:00Z');
    expect(iso(retentionCutoff('analytics_realtime', now, DEFAULT_RETENTION_SETTINGS))).toBe('2026-02-27T02:15:00Z');
    expect(iso(retentionCutoff('analytics_hourly', now, DEFAULT_RETENTION_SETTINGS))).toBe('2026-02-22T02:15:00Z');
    expect(iso(retentionCutoff('analytics_daily', now, DEFAULT_RETENTION_SETTINGS))).toBe('2025-03-01T02:15:00Z');
    expect(iso(retentionCutoff('analytics_monthly', now, DEFAULT_RETENTION_SETTINGS))).toBe('2021-03-01T00:00:00Z');
  });

  it('expires only whole windows: the window the cutoff falls in stays, across a year boundary too', () => {
    expect(iso(expiredBefore('analytics_realtime', at('2027-01-01T00:30:00Z')))).toBe('2027-01-01T00:00:00Z');
    expect(iso(expiredBefore('analytics_hourly', at('2026-12-31T23:59:00Z')))).toBe('2026-12-31T00:00:00Z');
    expect(iso(expiredBefore('analytics_daily', at('2027-01-15T08:00:00Z')))).toBe('2027-01-01T00:00:00Z');
  });
});

describe('retention policy checks', () => {
  it('accepts the defaults and refuses retentions shorter than the next level needs, naming why', () => {
    expect(retentionPolicyProblems(DEFAULT_RETENTION_SETTINGS)).toEqual([]);
    const problems = retentionPolicyProblems({ ...DEFAULT_RETENTION_SETTINGS, rawHours: 4, dailyDays: 31 });
    expect(problems).toEqual([
      expect.stringMatching(/^rawHours 4 is shorter than the next level's rollup lag: keep at least 5 hours, because the hourly rollup re-reads the last 3 hours/),
      expect.stringMatching(/^dailyDays 31 is shorter .* keep at least 32 days, because the monthly rollup reads every day of a month/),
    ]);
  });
});

describe('planning a prune of one table', () => {
  it('drops the partitions of expired, rolled-up, reconciled hours and nothing from the retained ones', () => {
    const expired = [at('2026-11-23T07:00:00Z'), at('2026-11-23T08:00:00Z')];
    const plan = planTablePrune(
      rawInput({
        expiredWindows: expired.map((start) => ({ start, pageViews: 100 })),
        nextLevelTotals: new Map(expired.map((start) => [start.getTime(), 100])),
      }),
    );
    expect(plan.cutoff).toBe('2026-11-23T12:30:00Z');
    // The first partition (06:00, open below) and the empty hours up to 12:00 go too; 12:00–13:00 holds the cutoff.
    expect(plan.drops.map((drop) => drop.name)).toEqual(['p2026112306', 'p2026112307', 'p2026112308', 'p2026112309', 'p2026112310', 'p2026112311']);
    expect(plan.drops[1]).toEqual({ name: 'p2026112307', from: '2026-11-23T07:00:00Z', to: '2026-11-23T08:00:00Z', rows: 100, bytes: 16_384 });
    expect(plan).toMatchObject({ deletes: [], kept: [], rows: 200, bytes: 6 * 16_384 });
  });

  it('keeps an hour the hourly rollup has not covered, and every partition holding it', () => {
    const start = at('2026-11-23T09:00:00Z');
    const plan = planTablePrune(rawInput({ expiredWindows: [{ start, pageViews: 40 }], coverage: covered('2026-11-23T09:00:00Z', '2026-11-01T00:00:00Z') }));
    expect(plan.drops.map((drop) => drop.name)).not.toContain('p2026112309');
    expect(plan.kept).toEqual([
      expect.objectContaining({
        windowStart: '2026-11-23T09:00:00Z',
        windowEnd: '2026-11-23T10:00:00Z',
        reason: 'not-rolled-up',
        message: expect.stringContaining('its watermark is 2026-11-23T09:00:00Z'),
      }),
    ]);
    expect(plan.rows).toBe(0);
  });

  it('does not count a watermark as coverage before the window it began with, but does count a recorded backfill', () => {
    const start = at('2026-10-20T05:00:00Z');
    const input = rawInput({ expiredWindows: [{ start, pageViews: 3 }], nextLevelTotals: new Map([[start.getTime(), 3]]), partitioned: false, partitions: [] });
    expect(planTablePrune(input).kept.map((kept) => kept.reason)).toEqual(['not-rolled-up']);
    const backfilled = planTablePrune({ ...input, coverage: { ...input.coverage, rolledUpWindows: new Set([start.getTime()]) } });
    expect(backfilled.kept).toEqual([]);
    expect(backfilled.deletes).toEqual([{ from: '2026-10-20T05:00:00Z', to: '2026-10-20T06:00:00Z', rows: 3, nextLevelPageViews: 3 }]);
  });

  it('holds back a window whose totals differ from the next level, with both numbers', () => {
    const start = at('2026-11-23T08:00:00Z');
    const plan = planTablePrune(rawInput({ expiredWindows: [{ start, pageViews: 1204 }], nextLevelTotals: new Map([[start.getTime(), 1200]]) }));
    expect(plan.kept).toEqual([expect.objectContaining({ reason: 'totals-differ', sourcePageViews: 1204, nextLevelPageViews: 1200 })]);
    expect(plan.kept[0]?.message).toBe(
      'raw 2026-11-23T08:00:00Z–2026-11-23T09:00:00Z holds 1,204 page views but hourly holds 1,200; kept until they agree: strata rollup --level hourly --from 2026-11-23T08:00:00Z --to 2026-11-23T09:00:00Z',
    );
    expect(plan.drops.map((drop) => drop.name)).not.toContain('p2026112308');
  });

  it('lets a partly pruned window go on only while the next level still holds what was checked', () => {
    const start = at('2026-11-23T08:00:00Z');
    const base = rawInput({ partitioned: false, partitions: [], expiredWindows: [{ start, pageViews: 700 }], nextLevelTotals: new Map([[start.getTime(), 1000]]) });
    expect(planTablePrune({ ...base, partialWindows: new Map([[start.getTime(), 1000]]) }).deletes).toHaveLength(1);
    const changed = planTablePrune({ ...base, partialWindows: new Map([[start.getTime(), 1100]]) });
    expect(changed.deletes).toEqual([]);
    expect(changed.kept[0]?.message).toContain('was partly pruned when hourly held 1,100 page views');
    // More rows than were checked means rows arrived after the check: they have not been rolled up.
    expect(planTablePrune({ ...base, expiredWindows: [{ start, pageViews: 1001 }], partialWindows: new Map([[start.getTime(), 1000]]) }).deletes).toEqual([]);
  });

  it('deletes by window inside a partition that also holds a window it must keep', () => {
    // A first partition that holds everything before 10:00 (a converted table): two hours may go, one may not.
    const partitions: PartitionFacts[] = [
      { name: 'p2026112309', from: null, to: at('2026-11-23T10:00:00Z'), rows: 300, bytes: 65_536 },
      { name: 'pmax', from: at('2026-11-23T10:00:00Z'), to: null, rows: 0, bytes: 16_384 },
    ];
    const starts = ['2026-11-23T07:00:00Z', '2026-11-23T08:00:00Z', '2026-11-23T09:00:00Z'].map(at);
    const plan = planTablePrune(
      rawInput({
        partitions,
        expiredWindows: starts.map((start) => ({ start, pageViews: 100 })),
        nextLevelTotals: new Map(starts.slice(0, 2).map((start) => [start.getTime(), 100])),
      }),
    );
    expect(plan.drops).toEqual([]);
    expect(plan.deletes.map((range) => range.from)).toEqual(['2026-11-23T07:00:00Z', '2026-11-23T08:00:00Z']);
    // The watermark covers 09:00 but the hourly level holds none of its 100 page views.
    expect(plan.kept.map((kept) => [kept.windowStart, kept.reason, kept.nextLevelPageViews])).toEqual([['2026-11-23T09:00:00Z', 'totals-differ', 0]]);
  });

  it('never drops the partition that holds the cutoff, or the catch-all', () => {
    const plan = planTablePrune(rawInput({}));
    expect(plan.drops.map((drop) => drop.name)).not.toContain('p2026112312');
    expect(plan.drops.map((drop) => drop.name)).not.toContain('pmax');
  });

  it('prunes daily rows by whole months across a year boundary, once each month is rolled up and reconciled', () => {
    const months = [at('2025-11-01T00:00:00Z'), at('2025-12-01T00:00:00Z'), at('2026-01-01T00:00:00Z')];
    const partitions: PartitionFacts[] = [
      { name: 'p202511', from: null, to: months[1]!, rows: 30, bytes: 1 },
      { name: 'p202512', from: months[1]!, to: months[2]!, rows: 31, bytes: 1 },
      { name: 'p202601', from: months[2]!, to: at('2026-02-01T00:00:00Z'), rows: 31, bytes: 1 },
      { name: 'pmax', from: at('2026-02-01T00:00:00Z'), to: null, rows: 0, bytes: 1 },
    ];
    const plan = planTablePrune({
      table: 'analytics_daily',
      now: at('2027-01-20T03:00:00Z'),
      policy: DEFAULT_RETENTION_SETTINGS,
      partitioned: true,
      partitions,
      expiredWindows: months.slice(0, 2).map((start) => ({ start, pageViews: 5000 })),
      nextLevelTotals: new Map(months.slice(0, 2).map((start) => [start.getTime(), 5000])),
      coverage: covered('2027-01-01T00:00:00Z', '2025-01-01T00:00:00Z'),
    });
    // 365 days before 2027-01-20 is 2026-01-20: January 2026 is not over at the cutoff, so it stays.
    expect(plan.cutoff).toBe('2026-01-20T03:00:00Z');
    expect(plan.drops.map((drop) => drop.name)).toEqual(['p202511', 'p202512']);
  });

  it('lets monthly rows go without a next level once they are five years old', () => {
    const old = at('2021-05-01T00:00:00Z');
    const plan = planTablePrune({
      table: 'analytics_monthly',
      now: at('2026-11-25T04:00:00Z'),
      policy: DEFAULT_RETENTION_SETTINGS,
      partitioned: false,
      partitions: [],
      expiredWindows: [{ start: old, pageViews: 900 }],
      nextLevelTotals: new Map(),
      coverage: covered(null),
    }, new Map([[old.getTime(), 12]]));
    expect(plan.deletes).toEqual([{ from: '2021-05-01T00:00:00Z', to: '2021-06-01T00:00:00Z', rows: 12 }]);
  });
});

describe('prune SQL', () => {
  it('counts a one-window partition without grouping and groups a wider one by window', () => {
    expect(windowTotalsSql('analytics_realtime', { kind: 'whole-partition', partition: 'p2026112307', windowStart: at('2026-11-23T07:00:00Z') })).toEqual({
      sql: 'SELECT ? AS w, COUNT(*) AS n, COUNT(*) AS pv FROM `analytics_realtime` PARTITION (`p2026112307`) HAVING n > 0',
      params: [Date.UTC(2026, 10, 23, 7) / 1000],
    });
    expect(windowTotalsSql('analytics_hourly', { kind: 'partition-before', partition: 'p20261120', before: at('2026-11-21T00:00:00Z') }).sql).toBe(
      'SELECT UNIX_TIMESTAMP(DATE(hour_start)) AS w, COUNT(*) AS n, COALESCE(SUM(page_views), 0) AS pv FROM `analytics_hourly` PARTITION (`p20261120`) WHERE `hour_start` < ? GROUP BY w',
    );
  });

  it('drops many partitions in one statement and deletes in bounded batches', () => {
    expect(dropPartitionsSql('analytics_realtime', ['p2026112306', 'p2026112307'])).toBe('ALTER TABLE `analytics_realtime` DROP PARTITION `p2026112306`, `p2026112307`');
    expect(deleteBatchSql('analytics_daily', at('2025-11-01T00:00:00Z'), at('2025-12-01T00:00:00Z'), 5000).sql).toBe(
      'DELETE FROM `analytics_daily` WHERE `date` >= ? AND `date` < ? LIMIT 5000',
    );
  });
});
