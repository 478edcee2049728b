import { describe, expect, it } from 'vitest';
import {
  advancesWatermark,
  DEFAULT_ROLLUP_TUNING,
  extendThroughCompleted,
  hourlyInsertSql,
  MAX_SPARSE_SKETCH_BYTES,
  planDue,
  planRange,
  readyUntil,
  retentionStart,
  sessionSetupSql,
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

  it('daily waits for all 24 hours plus the trailing re-roll; monthly for every day of the month', () => {
    const covered = at('2025-01-01T00:00:00Z');
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), { watermark: at('2025-03-10T02:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-03-09T00:00:00.000Z');
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), { watermark: at('2025-03-10T03:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-03-10T00:00:00.000Z');
    expect(readyUntil('monthly', at('2025-03-10T12:00:00Z'), { watermark: at('2025-02-28T00:00:00Z'), coveredFrom: covered }, tuning)?.toISOString()).toBe('2025-02-01T00:00:00.000Z');
    expect(readyUntil('daily', at('2025-03-10T12:00:00Z'), none, tuning)).toBeNull();
    expect(planDue('daily', at('2025-03-10T12:00:00Z'), none, none, tuning).windows).toEqual([]);
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
