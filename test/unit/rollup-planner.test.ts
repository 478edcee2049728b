import { describe, expect, it } from 'vitest';
import {
  advancesWatermark,
  changedLookback,
  changedWindows,
  DEFAULT_ROLLUP_TUNING,
  extendThroughCompleted,
  extendThroughUnchanged,
  hourlyInsertSql,
  MAX_SPARSE_SKETCH_BYTES,
  planDue,
  planRange,
  readyUntil,
  retentionStart,
  sessionSetupSql,
  shortSource,
  windowTotalsSql,
} from '../../src/main/rollup/planner';
import { SKETCH_SQL } from '../../src/main/sketch/hll';
import { ErrorCode } from '../../src/shared/errors';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const at = (text: string) => new Date(text);
const starts = (windows: Array<{ start: Date }>) => windows.map((window) => window.start.toISOString());
const none = { watermark: null, coveredFrom: null };
const tuning = DEFAULT_ROLLUP_TUNING;

describe('rollup windows', () => {
  it('keeps the retention defaults in one shared place: raw 2 days, hourly 7 days, daily 1 year, monthly 5 years', () => {
    expect(DEFAULT_RETENTION).toEqual({ rawHours: 48, hourlyDays: 7, dailyDays: 365, monthlyMonths: 60 });
    expect(retentionStart('hourly', at('2025-03-10T10:30:00Z'), DEFAULT_RETENTION).toISOString()).toBe('2025-03-08T11:00:00.000Z');
    expect(retentionStart('daily', at('2025-03-10T10:30:00Z'), DEFAULT_RETENTION).toISOString()).toBe('2025-03-04T00:00:00.000Z');
    expect(retentionStart('monthly', at('2025-03-10T10:30:00Z'), DEFAULT_RETENTION).toISOString()).toBe('2024-04-01T00:00:00.000Z');
  });

  it('hourly: re-rolls the 3 hours before the watermark, then every finished hour after it, oldest first', () => {
    const plan = planDue('hourly', at('2025-03-10T10:30:00Z'), { watermark: at('2025-03-10T07:00:00Z'), coveredFrom: null }, undefined, tuning);
    expect(plan.windows.map((window) => [window.start.toISOString().slice(11, 16), window.reason])).toEqual([
      ['04:00', 'trailing'],
      ['05:00', 'trailing'],
      ['06:00', 'trailing'],
      ['07:00', 'due'],
      ['08:00', 'due'],
      ['09:00', 'due'],
    ]);
  });

  it('hourly catch-up after a long outage starts at what raw retention still holds', () => {
    const plan = planDue('hourly', at('2025-03-10T10:30:00Z'), { watermark: at('2025-03-01T00:00:00Z'), coveredFrom: null }, undefined, { ...tuning, trailingHours: 0 });
    expect(plan.lostBefore?.toISOString()).toBe('2025-03-08T11:00:00.000Z');
    expect(plan.windows[0]?.start.toISOString()).toBe('2025-03-08T11:00:00.000Z');
    expect(plan.windows).toHaveLength(47);
  });

  it('a level that never ran begins where retention begins (hourly) or where its source coverage begins', () => {
    expect(planDue('hourly', at('2025-03-10T10:30:00Z'), none, undefined, tuning).windows[0]?.start.toISOString()).toBe('2025-03-08T11:00:00.000Z');
    const daily = planDue('daily', at('2025-03-10T10:30:00Z'), none, { watermark: at('2025-03-10T10:00:00Z'), coveredFrom: at('2025-03-08T11:00:00Z') }, tuning);
    // 03-08 lacks its first 11 hours, so the first complete day is 03-09; 03-10 is not over.
    expect(starts(daily.windows)).toEqual(['2025-03-09T00:00:00.000Z']);
  });

  it('daily waits for all 24 hours of the day; monthly for every day of the month', () => {
    const covered = at('2025-01-01T00:00:00Z');
    // Issue 9: the trailing re-roll no longer holds a day back a whole day; it is carried up afterwards instead.
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), { watermark: at('2025-03-09T23:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-03-09T00:00:00.000Z');
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), { watermark: at('2025-03-10T00:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-03-10T00:00:00.000Z');
    expect(readyUntil('monthly', at('2025-03-10T12:00:00Z'), { watermark: at('2025-02-28T00:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-02-01T00:00:00.000Z');
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), none, tuning)).toBeNull();
    expect(planDue('daily', at('2025-03-10T12:00:00Z'), none, none, tuning).windows).toEqual([]);
  });

  describe('on time, with the default schedules (hourly at :00, daily at 02:00, monthly on the 1st at 03:00)', () => {
    const covered = at('2025-01-01T00:00:00Z');
    /** The hourly level after the hourly run at `time` (each run rolls the hour that just ended). */
    const hourlyAfterRunAt = (time: string) => ({ watermark: periodStartHour(at(time)), coveredFrom: covered });
    const periodStartHour = (time: Date) => new Date(Math.floor(time.getTime() / 3_600_000) * 3_600_000);

    it('plans day D at the 02:00 run on D+1, across a day and a month boundary, whichever of hourly and daily goes first', () => {
      for (const [day, nextDay] of [['2025-03-09', '2025-03-10'], ['2025-03-31', '2025-04-01']]) {
        const daily = { watermark: at(`${day}T00:00:00Z`), coveredFrom: covered };
        // At 02:00 the hourly watermark is 01:00 (the 01:00 run) or 02:00 (the 02:00 run already done): D is due either way.
        for (const hourly of [hourlyAfterRunAt(`${nextDay}T01:00:00Z`), hourlyAfterRunAt(`${nextDay}T02:00:00Z`)]) {
          expect(starts(planDue('daily', at(`${nextDay}T02:00:00Z`), daily, hourly, tuning).windows)).toEqual([`${day}T00:00:00.000Z`]);
        }
        // Not before its last hour was rolled up: at 23:30 on D the hourly watermark is 23:00.
        expect(planDue('daily', at(`${day}T23:30:00Z`), daily, hourlyAfterRunAt(`${day}T23:00:00Z`), tuning).windows).toEqual([]);
      }
    });

    it('plans month M at the 03:00 run on the 1st of M+1, once the 02:00 daily run rolled up its last day', () => {
      const monthly = { watermark: at('2025-03-01T00:00:00Z'), coveredFrom: covered };
      const dailyAfterTheFirst = { watermark: at('2025-04-01T00:00:00Z'), coveredFrom: covered };
      expect(starts(planDue('monthly', at('2025-04-01T03:00:00Z'), monthly, dailyAfterTheFirst, tuning).windows)).toEqual(['2025-03-01T00:00:00.000Z']);
      const dailyBeforeIt = { watermark: at('2025-03-31T00:00:00Z'), coveredFrom: covered };
      expect(planDue('monthly', at('2025-04-01T01:00:00Z'), monthly, dailyBeforeIt, tuning).windows).toEqual([]);
    });

    it('re-rolls a day or month rolled up before whose source changed since, oldest first, before the due windows', () => {
      const daily = { watermark: at('2025-04-01T00:00:00Z'), coveredFrom: covered };
      const hourly = hourlyAfterRunAt('2025-04-02T02:00:00Z');
      // The 03:00 hourly run re-rolled 23:00 of Mar 31 after the daily run had rolled the day up.
      const plan = planDue('daily', at('2025-04-02T02:00:00Z'), daily, hourly, tuning, [at('2025-03-31T00:00:00Z'), at('2025-04-01T00:00:00Z')]);
      expect(plan.windows.map((window) => [window.start.toISOString().slice(0, 10), window.reason])).toEqual([
        ['2025-03-31', 'trailing'],
        ['2025-04-01', 'due'],
      ]);
      const lookback = changedLookback('daily', at('2025-04-02T02:00:00Z'), daily, hourly, tuning);
      expect([lookback?.from.toISOString(), lookback?.to.toISOString()]).toEqual(['2025-03-28T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
      expect(changedLookback('hourly', at('2025-04-02T02:00:00Z'), hourly, undefined, tuning)).toBeNull();
      const monthly = changedLookback('monthly', at('2025-04-01T03:00:00Z'), { watermark: at('2025-04-01T00:00:00Z'), coveredFrom: covered }, { watermark: at('2025-04-01T00:00:00Z'), coveredFrom: covered }, tuning);
      expect([monthly?.from.toISOString(), monthly?.to.toISOString()]).toEqual(['2025-02-01T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
    });

    it('compares each window rolled up with its source now in one grouped statement per level', () => {
      expect(windowTotalsSql('hourly')).toMatch(/COUNT\(\*\) FROM analytics_realtime WHERE created_at >= \? AND created_at < \?/);
      expect(windowTotalsSql('daily')).toMatch(/FROM analytics_daily WHERE date >= \? AND date < \?[\s\S]*SUM\(page_views\) FROM analytics_hourly/);
      expect(windowTotalsSql('monthly')).toMatch(/FROM analytics_monthly [\s\S]*FROM analytics_daily/);
      const rows = [
        { w: Date.parse('2025-03-30T00:00:00Z') / 1000, target_views: '100', source_views: '100' },
        { w: Date.parse('2025-03-31T00:00:00Z') / 1000, target_views: '100', source_views: '130' },
        { w: Date.parse('2025-04-01T00:00:00Z') / 1000, target_views: null, source_views: '7' },
      ];
      expect(changedWindows(rows).map((start) => start.toISOString())).toEqual(['2025-03-31T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
      // A source with fewer page views than its rollup was pruned: a due run does not roll it up again from there.
      const pruned = [{ w: Date.parse('2025-03-29T00:00:00Z') / 1000, target_views: '100', source_views: '60' }, ...rows];
      expect(changedWindows(pruned, { grewOnly: true }).map((start) => start.toISOString())).toEqual(['2025-03-31T00:00:00.000Z', '2025-04-01T00:00:00.000Z']);
      expect(changedWindows(pruned)).toHaveLength(3);
    });

    it('finds a window whose source holds fewer page views than its rows, the rule reconciliation and the lookback share', () => {
      // windowTotalsSql over one window answers one row for it (none when neither side has rows).
      expect(shortSource([{ target_views: '245', source_views: '1' }])).toEqual({ sourceViews: 1, rolledUpViews: 245 });
      expect(shortSource([{ target_views: '245', source_views: null }])).toEqual({ sourceViews: 0, rolledUpViews: 245 });
      expect(shortSource([{ target_views: '245', source_views: '245' }])).toBeUndefined();
      expect(shortSource([{ target_views: null, source_views: '7' }])).toBeUndefined();
      expect(shortSource([])).toBeUndefined();
    });
  });

  it('a range becomes exactly the whole windows that cover it, however old', () => {
    expect(starts(planRange('hourly', at('2001-05-01T10:20:00Z'), at('2001-05-01T12:00:01Z')))).toEqual([
      '2001-05-01T10:00:00.000Z',
      '2001-05-01T11:00:00.000Z',
      '2001-05-01T12:00:00.000Z',
    ]);
    expect(starts(planRange('monthly', at('2024-01-31T23:00:00Z'), at('2024-03-01T00:00:00Z')))).toEqual(['2024-01-01T00:00:00.000Z', '2024-02-01T00:00:00.000Z']);
    const february = planRange('daily', at('2024-02-01T00:00:00Z'), at('2024-03-01T00:00:00Z'));
    expect(february).toHaveLength(29);
  });

  it('refuses a range that is empty, reversed or too large', () => {
    const refused = expect.objectContaining({ code: ErrorCode.RollupInvalid });
    expect(() => planRange('hourly', at('2025-03-02T00:00:00Z'), at('2025-03-01T00:00:00Z'))).toThrow(refused);
    expect(() => planRange('hourly', at('2025-03-01T00:00:00Z'), at('2025-03-01T00:00:00Z'))).toThrow(refused);
    expect(() => planRange('hourly', at('2000-01-01T00:00:00Z'), at('2030-01-01T00:00:00Z'))).toThrow(refused);
  });

  it('moves a watermark only with a complete window that continues it', () => {
    const window = { start: at('2025-03-10T05:00:00Z'), end: at('2025-03-10T06:00:00Z'), reason: 'range' as const };
    const until = at('2025-03-10T10:00:00Z');
    expect(advancesWatermark(window, at('2025-03-10T05:00:00Z'), until)).toBe(true);
    expect(advancesWatermark(window, at('2025-03-10T04:00:00Z'), until)).toBe(false);
    expect(advancesWatermark(window, at('2025-03-10T06:00:00Z'), until)).toBe(false);
    expect(advancesWatermark(window, null, until)).toBe(false);
    expect(advancesWatermark(window, at('2025-03-10T05:00:00Z'), at('2025-03-10T05:00:00Z'))).toBe(false);
  });

  it('walks the watermark over windows done earlier out of order, up to the first gap', () => {
    const done = ['2025-03-10T06:00:00Z', '2025-03-10T07:00:00Z', '2025-03-10T09:00:00Z'].map(at);
    expect(extendThroughCompleted('hourly', at('2025-03-10T06:00:00Z'), done).toISOString()).toBe('2025-03-10T08:00:00.000Z');
    expect(extendThroughCompleted('hourly', at('2025-03-10T05:00:00Z'), done).toISOString()).toBe('2025-03-10T05:00:00.000Z');
  });

  it('walks the watermark only over completed windows whose source is unchanged, and never over one still to run', () => {
    const done = ['2025-03-10T06:00:00Z', '2025-03-10T07:00:00Z', '2025-03-10T08:00:00Z'].map(at);
    expect(extendThroughUnchanged('hourly', at('2025-03-10T06:00:00Z'), done, []).toISOString()).toBe('2025-03-10T09:00:00.000Z');
    expect(extendThroughUnchanged('hourly', at('2025-03-10T06:00:00Z'), done, [at('2025-03-10T07:00:00Z')]).toISOString()).toBe('2025-03-10T07:00:00.000Z');
    expect(extendThroughUnchanged('hourly', at('2025-03-10T06:00:00Z'), done, [], at('2025-03-10T08:00:00Z')).toISOString()).toBe('2025-03-10T08:00:00.000Z');
  });

  it('builds the hourly rollup as one statement: one sorted pass per site with exact visitors and a sketch entry per page view', () => {
    const sql = hourlyInsertSql();
    expect(sql).toMatch(/^INSERT INTO analytics_hourly \(site_id, hour_start, page_views, visitors, visitors_sketch\)\nSELECT SQL_BIG_RESULT site_id, \?, COUNT\(\*\), COUNT\(DISTINCT visitor_id\), /);
    expect(sql).toContain(`GROUP_CONCAT(${SKETCH_SQL.entry('visitor_id')} SEPARATOR '')`);
    expect(sql).toContain('WHERE created_at >= ? AND created_at < ?');
    expect(sql).toMatch(/GROUP BY site_id\s+ORDER BY NULL$/);
    expect(sql.match(/FROM /g)).toHaveLength(1);
  });

  it('limits GROUP_CONCAT to whole sketch entries, so a sketch cut short is told by its length', () => {
    const limit = (bytes?: number) => Number(sessionSetupSql(1 << 20, bytes)[1]?.match(/group_concat_max_len = (\d+)/)?.[1]);
    expect(limit()).toBe(MAX_SPARSE_SKETCH_BYTES - 2);
    expect(MAX_SPARSE_SKETCH_BYTES).toBeLessThanOrEqual(16_777_215);
    expect(limit() % 4).toBe(0);
    expect(limit(2 + 4 * 10 + 3)).toBe(4 * 10);
    expect(limit(1)).toBe(4);
    expect(limit(1e12)).toBe(limit());
  });
});
