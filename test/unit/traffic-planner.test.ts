import { describe, expect, it } from 'vitest';
import {
  chartCacheKey,
  chartCacheTtlSeconds,
  chartSql,
  chooseTable,
  foldRows,
  heldFrom,
  isCutSketch,
  parseRange,
  planShard,
  planVisitorTiles,
  provisionalNote,
  segmentSql,
  seriesUntil,
  topSitesSql,
  type ChartRow,
} from '../../src/main/traffic/planner';
import { sketchOf } from '../../src/main/sketch/hll';
import { ErrorCode } from '../../src/shared/errors';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const NOW = new Date('2026-12-02T15:20:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const at = (text: string) => new Date(text);
const retention = { ...DEFAULT_RETENTION };

describe('the table a chart reads', () => {
  it.each([
    { span: 1 * DAY, table: 'analytics_hourly' },
    { span: 3 * DAY - 1000, table: 'analytics_hourly' },
    { span: 3 * DAY, table: 'analytics_daily' },
    { span: 30 * DAY, table: 'analytics_daily' },
    { span: 365 * DAY, table: 'analytics_daily' },
    { span: 366 * DAY, table: 'analytics_daily' },
    { span: 367 * DAY, table: 'analytics_monthly' },
    { span: 5 * 365 * DAY, table: 'analytics_monthly' },
  ])('a range of $span ms ending now reads $table', ({ span, table }) => {
    expect(chooseTable(ago(span), NOW, NOW, retention).table).toBe(table);
  });

  it('moves a 2-day range from 10 days ago to daily rows, since hourly rows are kept 7 days, and says so', () => {
    const choice = chooseTable(ago(10 * DAY), ago(8 * DAY), NOW, retention);
    expect(choice.table).toBe('analytics_daily');
    expect(choice.reason).toBe('the range is 2 days, under 3 days: hourly rows; hourly rows are kept 7 days (from 2026-11-25), the range starts 2026-11-22: daily rows');
    expect([choice.from.toISOString(), choice.to.toISOString()]).toEqual(['2026-11-22T00:00:00.000Z', '2026-11-25T00:00:00.000Z']);
  });

  it('keeps a 2-day range inside the hourly retention on hourly rows, and follows a changed policy', () => {
    expect(chooseTable(ago(6 * DAY), ago(4 * DAY), NOW, retention).table).toBe('analytics_hourly');
    expect(chooseTable(ago(6 * DAY), ago(4 * DAY), NOW, { ...retention, hourlyDays: 3 }).table).toBe('analytics_daily');
  });

  it('moves a month-long range from two years ago to monthly rows (daily rows are kept a year)', () => {
    const choice = chooseTable(ago(730 * DAY), ago(700 * DAY), NOW, retention);
    expect(choice.table).toBe('analytics_monthly');
    expect(choice.reason).toContain('daily rows are kept 365 days');
  });

  it('says from when monthly rows exist for history older than monthly retention', () => {
    const choice = chooseTable(at('2015-01-01T00:00:00Z'), NOW, NOW, retention);
    expect(choice.table).toBe('analytics_monthly');
    expect(choice.reason).toMatch(/monthly rows are kept 60 months, so nothing before 2021-12-01$/);
  });

  it('widens the range to whole periods of its table', () => {
    const hourly = chooseTable(at('2026-12-01T10:20:00Z'), at('2026-12-02T10:05:00Z'), NOW, retention);
    expect([hourly.from.toISOString(), hourly.to.toISOString()]).toEqual(['2026-12-01T10:00:00.000Z', '2026-12-02T11:00:00.000Z']);
    const monthly = chooseTable(at('2022-03-15T00:00:00Z'), at('2026-12-02T00:00:00Z'), NOW, retention);
    expect([monthly.from.toISOString(), monthly.to.toISOString()]).toEqual(['2022-03-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  it('holds each level from where its prune window holding the cutoff starts', () => {
    expect(heldFrom('raw', NOW, retention).toISOString()).toBe('2026-11-30T15:00:00.000Z');
    expect(heldFrom('hourly', NOW, retention).toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(heldFrom('daily', NOW, retention).toISOString()).toBe('2025-12-01T00:00:00.000Z');
    expect(heldFrom('monthly', NOW, retention).toISOString()).toBe('2021-12-01T00:00:00.000Z');
  });
});

describe('the range of a request', () => {
  it('refuses a range that is backwards, empty, not ISO, before 2000 or more than a year ahead, with TrafficInvalid', () => {
    for (const [from, to] of [
      ['2026-12-02', '2026-12-01'],
      ['2026-12-02', '2026-12-02'],
      ['yesterday', '2026-12-02'],
      ['1999-12-31', '2026-12-02'],
      ['2026-12-01', '2028-01-01'],
      ['2026-12-01T00:00+02:00', '2026-12-02'],
    ] as const) {
      expect(() => parseRange(from, to, NOW)).toThrow(expect.objectContaining({ code: ErrorCode.TrafficInvalid }));
    }
    expect(parseRange('2026-12-01T05Z', '2026-12-02', NOW)).toEqual({ from: at('2026-12-01T05:00:00Z'), to: at('2026-12-02T00:00:00Z') });
  });
});

describe('provisional windows', () => {
  const hourly = chooseTable(ago(DAY), NOW, NOW, retention);

  it('reads hourly rows up to the hourly watermark and raw rows after it, marked provisional', () => {
    const plan = planShard(hourly, { hourly: at('2026-12-02T10:00:00Z'), daily: null, monthly: null });
    expect(plan.segments.map((segment) => [segment.source, segment.from.toISOString(), segment.to.toISOString(), segment.provisional])).toEqual([
      ['analytics_hourly', '2026-12-01T15:00:00.000Z', '2026-12-02T10:00:00.000Z', false],
      ['analytics_realtime', '2026-12-02T10:00:00.000Z', '2026-12-02T16:00:00.000Z', true],
    ]);
    expect(plan.provisionalFrom?.toISOString()).toBe('2026-12-02T10:00:00.000Z');
  });

  it('fills a month not rolled up yet from daily, hourly and raw rows in turn', () => {
    const monthly = chooseTable(ago(5 * 365 * DAY), NOW, NOW, retention);
    const plan = planShard(monthly, { hourly: at('2026-12-02T15:00:00Z'), daily: at('2026-12-02T00:00:00Z'), monthly: at('2026-12-01T00:00:00Z') });
    expect(plan.segments.map((segment) => [segment.source, segment.from.toISOString(), segment.to.toISOString()])).toEqual([
      ['analytics_monthly', '2021-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
      ['analytics_daily', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      ['analytics_hourly', '2026-12-02T00:00:00.000Z', '2026-12-02T15:00:00.000Z'],
      ['analytics_realtime', '2026-12-02T15:00:00.000Z', '2027-01-01T00:00:00.000Z'],
    ]);
    expect(plan.provisionalFrom?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('has no provisional window when the watermark covers the range, and reads raw rows only where a level never ran', () => {
    const old = chooseTable(ago(10 * DAY), ago(8 * DAY), NOW, retention);
    const covered = planShard(old, { hourly: at('2026-12-02T15:00:00Z'), daily: at('2026-12-02T00:00:00Z'), monthly: null });
    expect(covered.segments.map((segment) => segment.source)).toEqual(['analytics_daily']);
    expect(covered.provisionalFrom).toBeNull();
    const never = planShard(hourly, { hourly: null, daily: null, monthly: null });
    expect(never.segments.map((segment) => segment.source)).toEqual(['analytics_realtime']);
    expect(never.provisionalFrom?.toISOString()).toBe(hourly.from.toISOString());
  });

  it('marks every point from the earliest provisional start of any shard, and ends the series at the current period', () => {
    const until = seriesUntil(hourly, NOW);
    expect(until.toISOString()).toBe('2026-12-02T16:00:00.000Z');
    const folded = foldRows([], { granularity: 'hour', from: hourly.from, until, provisionalFrom: [null, at('2026-12-02T13:00:00Z')] });
    expect(folded.series).toHaveLength(25);
    expect(folded.series.filter((point) => point.provisional).map((point) => point.t)).toEqual(['2026-12-02T13:00:00.000Z', '2026-12-02T14:00:00.000Z', '2026-12-02T15:00:00.000Z']);
    const future = chooseTable(ago(DAY), new Date(NOW.getTime() + DAY), NOW, retention);
    expect(future.table).toBe('analytics_hourly');
    expect(seriesUntil(future, NOW).toISOString()).toBe('2026-12-02T16:00:00.000Z');
  });

  it('names the shards whose windows are provisional', () => {
    expect(provisionalNote('hourly', [{ shardName: 'shard0', from: null }, { shardName: 'shard1', from: at('2026-12-02T10:00:00Z') }], at('2026-12-02T16:00:00Z'))).toBe(
      'not rolled up hourly yet, computed from the levels below and raw rows (provisional): shard1 from 2026-12-02T10:00Z',
    );
    expect(provisionalNote('hourly', [{ shardName: 'shard0', from: null }], NOW)).toBeUndefined();
  });
});

describe('the SQL of a chart', () => {
  const plan = planShard(chooseTable(ago(30 * DAY), NOW, NOW, retention), { hourly: at('2026-12-02T15:00:00Z'), daily: at('2026-12-02T00:00:00Z'), monthly: null });

  it('reads each part with a sargable range on its own column, grouped to the chart period, in one UNION ALL', () => {
    const statement = chartSql({ ...plan, tiles: [] }, 'day', { kind: 'site', siteId: 42 })!;
    expect(statement.sql.split('UNION ALL')).toHaveLength(3);
    // The chart table's own rows are one per period: no sketch to merge; the levels below bring theirs.
    expect(statement.sql).toContain('SELECT site_id, UNIX_TIMESTAMP(DATE(date)) AS t, page_views, visitors, NULL AS sketch, 0 AS provisional');
    expect(statement.sql).toContain('UNIX_TIMESTAMP(DATE(hour_start)) AS t, page_views, visitors, visitors_sketch AS sketch, 1 AS provisional');
    expect(statement.sql).toContain('FROM analytics_daily WHERE site_id = ? AND date >= ? AND date < ?');
    expect(statement.sql).toContain('UNIX_TIMESTAMP(DATE(hour_start)) AS t');
    expect(statement.sql).toContain('FROM analytics_hourly WHERE site_id = ? AND hour_start >= ? AND hour_start < ?');
    expect(statement.sql).toMatch(/COUNT\(DISTINCT visitor_id\) AS visitors,\s+CONCAT\(X'030e', GROUP_CONCAT\(DISTINCT CHAR\(CRC32\(visitor_id\)/);
    expect(statement.sql).toContain('FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ? GROUP BY site_id, t');
    expect(statement.params).toEqual([42, at('2026-11-02T00:00:00Z'), at('2026-12-02T00:00:00Z'), 42, at('2026-12-02T00:00:00Z'), at('2026-12-02T15:00:00Z'), 42, at('2026-12-02T15:00:00Z'), at('2026-12-03T00:00:00Z')]);
  });

  it('adds the visitor tiles to the same statement as part 1, raw rows grouped by site over the tile', () => {
    const statement = chartSql(plan, 'day', { kind: 'site', siteId: 42 })!;
    expect(statement.sql.split('UNION ALL')).toHaveLength(3 + plan.tiles!.length);
    expect(statement.sql).toMatch(/visitors_sketch AS sketch, 0 AS provisional, 0 AS is_raw, 1 AS part\s+FROM analytics_daily WHERE site_id = \? AND date >= \? AND date < \?/);
    expect(statement.sql).toMatch(/1 AS is_raw, 1 AS part\s+FROM analytics_realtime WHERE site_id = \? AND created_at >= \? AND created_at < \? GROUP BY site_id\)/);
  });

  it('filters a list of sites with IN, and a cluster not at all', () => {
    expect(segmentSql(plan.segments[0]!, 'day', { kind: 'sites', siteIds: [1, 2] }).sql).toContain('WHERE site_id IN (?) AND date >= ?');
    expect(segmentSql(plan.segments[0]!, 'day', { kind: 'all' }).sql).toContain('FROM analytics_daily WHERE date >= ? AND date < ?');
    // A whole shard's chart-table rows are summed per period in the shard; the provisional parts stay per site.
    expect(segmentSql(plan.segments[0]!, 'day', { kind: 'all' }).sql).toMatch(/^SELECT -1 AS site_id, .* SUM\(page_views\) AS page_views, SUM\(visitors\) AS visitors, NULL AS sketch/);
    expect(segmentSql(plan.segments[0]!, 'day', { kind: 'all' }).sql).toMatch(/GROUP BY t$/);
    expect(segmentSql(plan.segments[1]!, 'day', { kind: 'all' }).sql).toMatch(/^SELECT site_id, /);
    expect(chartSql({ segments: [], provisionalFrom: null }, 'day', { kind: 'all' })).toBeNull();
  });

  it('ranks a shard’s sites by page views over every part', () => {
    const statement = topSitesSql(plan, 5)!;
    expect(statement.sql).toMatch(/GROUP BY site_id ORDER BY page_views DESC, site_id LIMIT \?$/);
    expect(statement.sql).toContain('SELECT site_id, COUNT(*) AS page_views FROM analytics_realtime WHERE created_at >= ?');
    expect(statement.params.at(-1)).toBe(5);
  });
});

describe('the visitor tiles of a range', () => {
  const tiles = (from: string, to: string, watermarks: Parameters<typeof planVisitorTiles>[2]) =>
    planVisitorTiles(at(from), at(to), watermarks).map((tile) => `${tile.source} ${tile.from.toISOString().slice(0, 13)} ${tile.to.toISOString().slice(0, 13)}`);

  it('takes whole months from monthly rows, the days around them from daily rows, then hours, then raw rows', () => {
    expect(tiles('2025-12-02T00:00:00Z', '2026-12-03T00:00:00Z', { monthly: at('2026-12-01T00:00:00Z'), daily: at('2026-12-02T00:00:00Z'), hourly: at('2026-12-02T15:00:00Z') })).toEqual([
      'analytics_daily 2025-12-02T00 2026-01-01T00',
      'analytics_monthly 2026-01-01T00 2026-12-01T00',
      'analytics_daily 2026-12-01T00 2026-12-02T00',
      'analytics_hourly 2026-12-02T00 2026-12-02T15',
      'analytics_realtime 2026-12-02T15 2026-12-03T00',
    ]);
  });

  it('never reads a level past its watermark, nor one that never ran', () => {
    expect(tiles('2026-12-01T15:00:00Z', '2026-12-02T16:00:00Z', { monthly: null, daily: null, hourly: at('2026-12-02T10:00:00Z') })).toEqual([
      'analytics_hourly 2026-12-01T15 2026-12-02T10',
      'analytics_realtime 2026-12-02T10 2026-12-02T16',
    ]);
    expect(tiles('2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z', { monthly: at('2026-11-01T00:00:00Z'), daily: at('2026-11-20T00:00:00Z'), hourly: at('2026-11-20T05:00:00Z') })).toEqual([
      'analytics_daily 2026-11-01T00 2026-11-20T00',
      'analytics_hourly 2026-11-20T00 2026-11-20T05',
      'analytics_realtime 2026-11-20T05 2026-12-01T00',
    ]);
  });
});

describe('folding rows into a series and totals', () => {
  const row = (site: number, t: string, pageViews: number, ids: number[], extra: Partial<ChartRow> = {}): ChartRow => ({
    site_id: site,
    t: at(t).getTime() / 1000,
    page_views: pageViews,
    visitors: ids.length,
    sketch: sketchOf(ids),
    provisional: 0,
    is_raw: 0,
    ...extra,
  });
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, index) => from + index);

  it('merges sketches for a range instead of summing visitors, and sums sites for a cluster', () => {
    const folded = foldRows(
      [
        row(1, '2026-12-01T00:00:00Z', 10, range(0, 100)),
        row(1, '2026-12-02T00:00:00Z', 20, range(50, 150)),
        row(2, '2026-12-02T00:00:00Z', 5, range(0, 40)),
      ],
      { granularity: 'day', from: at('2026-12-01T00:00:00Z'), until: at('2026-12-03T00:00:00Z'), provisionalFrom: [null] },
    );
    expect(folded.series).toEqual([
      { t: '2026-12-01T00:00:00.000Z', pageViews: 10, visitors: 100, provisional: false },
      { t: '2026-12-02T00:00:00.000Z', pageViews: 25, visitors: 140, provisional: false },
    ]);
    expect(folded.sites.get(1)).toEqual({ pageViews: 30, visitors: 150 });
    expect(folded.totals).toEqual({ pageViews: 35, visitors: 190 });
  });

  it('merges the rows of a lower level that make one period, and marks it provisional', () => {
    const folded = foldRows(
      [row(1, '2026-12-02T00:00:00Z', 3, [1, 2, 3], { provisional: 1 }), row(1, '2026-12-02T00:00:00Z', 2, [3, 4], { provisional: 1, is_raw: 1 })],
      { granularity: 'day', from: at('2026-12-02T00:00:00Z'), until: at('2026-12-03T00:00:00Z'), provisionalFrom: [null] },
    );
    expect(folded.series).toEqual([{ t: '2026-12-02T00:00:00.000Z', pageViews: 5, visitors: 4, provisional: true }]);
  });

  it('adds the shards’ summed rows to the points and takes every site’s visitors from its tiles', () => {
    const folded = foldRows(
      [
        row(-1, '2026-12-01T00:00:00Z', 10, [], { visitors: 7 }),
        row(-1, '2026-12-01T00:00:00Z', 5, [], { visitors: 3 }),
        row(1, '2026-12-02T00:00:00Z', 4, [1, 2], { provisional: 1 }),
        row(1, '2026-12-01T00:00:00Z', 14, range(0, 6), { part: 1 }),
        row(2, '2026-12-01T00:00:00Z', 5, range(0, 3), { part: 1 }),
      ],
      { granularity: 'day', from: at('2026-12-01T00:00:00Z'), until: at('2026-12-03T00:00:00Z'), provisionalFrom: [at('2026-12-02T00:00:00Z')] },
    );
    expect(folded.series).toEqual([
      { t: '2026-12-01T00:00:00.000Z', pageViews: 15, visitors: 10, provisional: false },
      { t: '2026-12-02T00:00:00.000Z', pageViews: 4, visitors: 2, provisional: true },
    ]);
    expect(folded.totals).toEqual({ pageViews: 19, visitors: 9 });
    expect([...folded.sites.keys()].sort()).toEqual([1, 2]);
  });

  it('takes a site’s range visitors from its visitor tiles when the rows have them', () => {
    const folded = foldRows(
      [
        row(1, '2026-12-01T00:00:00Z', 10, range(0, 100), { sketch: null }),
        row(1, '2026-12-02T00:00:00Z', 20, range(50, 150), { sketch: null }),
        row(1, '2026-12-01T00:00:00Z', 30, range(0, 150), { part: 1 }),
      ],
      { granularity: 'day', from: at('2026-12-01T00:00:00Z'), until: at('2026-12-03T00:00:00Z'), provisionalFrom: [null] },
    );
    expect(folded.series.map((point) => point.visitors)).toEqual([100, 100]);
    expect(folded.sites.get(1)).toEqual({ pageViews: 30, visitors: 150 });
  });

  it('tells a raw sketch GROUP_CONCAT cut short from a whole one', () => {
    expect(isCutSketch(row(1, '2026-12-02T00:00:00Z', 3, [1, 2, 3], { is_raw: 1 }))).toBe(false);
    expect(isCutSketch(row(1, '2026-12-02T00:00:00Z', 3, [1, 2, 3], { is_raw: 1, visitors: 5 }))).toBe(true);
    expect(isCutSketch(row(1, '2026-12-02T00:00:00Z', 3, [1, 2, 3], { visitors: 5 }))).toBe(false);
  });
});

describe('the chart cache', () => {
  it('keys a request under strata:chart:v1: and keeps a day 5 minutes, anything longer an hour', () => {
    expect(chartCacheKey({ kind: 'site', siteId: 7 }, at('2026-12-01T00:00:00Z'), at('2026-12-02T00:00:00Z'))).toBe('strata:chart:v1:site:7:2026-12-01T00:00:00.000Z:2026-12-02T00:00:00.000Z');
    expect(chartCacheKey({ kind: 'top', limit: 10 }, NOW, NOW)).toMatch(/^strata:chart:v1:top:10:/);
    expect(chartCacheKey({ kind: 'cluster' }, NOW, NOW)).toMatch(/^strata:chart:v1:cluster:/);
    expect(chartCacheTtlSeconds(ago(DAY), NOW)).toBe(300);
    expect(chartCacheTtlSeconds(ago(DAY + 1000), NOW)).toBe(3600);
  });
});
