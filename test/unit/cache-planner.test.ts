import { describe, expect, it } from 'vitest';
import {
  batches,
  compilePatterns,
  describeScope,
  escapeGlob,
  keyTimeRange,
  matchPatterns,
  overlaps,
  parseAppKey,
  rewrittenByBackfill,
  rewrittenByReconcile,
  rewrittenByRollup,
  scopePatterns,
  strataChartStale,
  ttlSeconds,
  type ChangeScope,
} from '../../src/main/cache/planner';
import type { ReconcileReport } from '../../src/shared/reconcile';
import type { RollupReport } from '../../src/shared/rollup';

const patterns = compilePatterns(undefined);
const P = 'laravel_database_laravel_cache_:';
const NOW = new Date('2026-11-20T12:30:00Z');

describe('application cache keys', () => {
  it('reads both default shapes under the Laravel prefix', () => {
    expect(parseAppKey(`${P}site_42_stats_24h`, patterns)).toEqual({ kind: 'stats', siteId: 42 });
    expect(parseAppKey(`${P}chart_42_30d_2026-10-21_2026-11-19`, patterns)).toEqual({ kind: 'chart', siteId: 42, period: '30d', startDate: '2026-10-21', endDate: '2026-11-19' });
  });

  it('ignores other prefixes, other shapes, impossible dates and reversed ranges', () => {
    expect(parseAppKey('site_42_stats_24h', patterns)).toBeUndefined();
    expect(parseAppKey(`${P}site_42_stats_7d`, patterns)).toBeUndefined();
    expect(parseAppKey(`${P}chart_42_1d_2026-02-30_2026-03-01`, patterns)).toBeUndefined();
    expect(parseAppKey(`${P}chart_42_1d_2026-11-02_2026-11-01`, patterns)).toBeUndefined();
    expect(parseAppKey(`${P}chart_x_1d_2026-11-01_2026-11-01`, patterns)).toBeUndefined();
    expect(parseAppKey(`${P}laravel:queue`, patterns)).toBeUndefined();
  });

  it('follows a profile that names another prefix and shapes', () => {
    const custom = compilePatterns({ appKeyPrefix: 'app[1]:', statsKeyPattern: 'stats.{siteId}', chartKeyPattern: 'c:{siteId}:{startDate}:{endDate}:{period}' });
    expect(parseAppKey('app[1]:stats.7', custom)).toEqual({ kind: 'stats', siteId: 7 });
    expect(parseAppKey('app[1]:c:7:2026-11-01:2026-11-02:7d', custom)).toEqual({ kind: 'chart', siteId: 7, period: '7d', startDate: '2026-11-01', endDate: '2026-11-02' });
    // The dot of the shape is literal, not any character.
    expect(parseAppKey('app[1]:statsX7', custom)).toBeUndefined();
    expect(matchPatterns(custom, 7)).toEqual(['app\\[1\\]:stats.7', 'app\\[1\\]:c:7:*:*:*']);
  });

  it('builds SCAN MATCH patterns for every site or one site, escaping glob characters', () => {
    expect(matchPatterns(patterns)).toEqual([`${P}site_*_stats_24h`, `${P}chart_*_*_*_*`]);
    expect(matchPatterns(patterns, 42)).toEqual([`${P}site_42_stats_24h`, `${P}chart_42_*_*_*`]);
    expect(escapeGlob('a*b?c[d]\\')).toBe('a\\*b\\?c\\[d\\]\\\\');
  });

  it('narrows the patterns to a site only when every scope is that site', () => {
    expect(scopePatterns(patterns, [{ sites: { siteId: 5 } }])).toEqual(matchPatterns(patterns, 5));
    expect(scopePatterns(patterns, [{ sites: { siteId: 5 } }, { sites: { siteId: 6 } }])).toEqual(matchPatterns(patterns));
    expect(scopePatterns(patterns, [{ sites: { shards: [0], shardCount: 2 } }])).toEqual(matchPatterns(patterns));
  });
});

describe('which keys a change makes stale', () => {
  const chart = (siteId: number, startDate: string, endDate: string) => ({ kind: 'chart' as const, siteId, period: '1d', startDate, endDate });
  const day = { from: new Date('2026-11-10T00:00:00Z'), to: new Date('2026-11-11T00:00:00Z') };

  it('gives a chart its whole inclusive days and the stats key the 24 h before now', () => {
    expect(keyTimeRange(chart(1, '2026-11-10', '2026-11-12'), NOW)).toEqual({ from: new Date('2026-11-10T00:00:00Z'), to: new Date('2026-11-13T00:00:00Z') });
    expect(keyTimeRange({ kind: 'stats', siteId: 1 }, NOW)).toEqual({ from: new Date('2026-11-19T12:30:00Z'), to: NOW });
  });

  it('overlaps a chart whose days touch the range, not the days just before or after', () => {
    const scope = { sites: { siteId: 1 }, ...day };
    expect(overlaps(chart(1, '2026-11-10', '2026-11-10'), scope, NOW)).toBe(true);
    expect(overlaps(chart(1, '2026-11-01', '2026-11-30'), scope, NOW)).toBe(true);
    expect(overlaps(chart(1, '2026-11-09', '2026-11-09'), scope, NOW)).toBe(false);
    expect(overlaps(chart(1, '2026-11-11', '2026-11-12'), scope, NOW)).toBe(false);
    expect(overlaps(chart(2, '2026-11-10', '2026-11-10'), scope, NOW)).toBe(false);
  });

  it('overlaps the stats key only when the range reaches into the last 24 h', () => {
    expect(overlaps({ kind: 'stats', siteId: 1 }, { sites: { siteId: 1 }, ...day }, NOW)).toBe(false);
    expect(overlaps({ kind: 'stats', siteId: 1 }, { sites: { siteId: 1 }, from: new Date('2026-11-20T10:00:00Z'), to: new Date('2026-11-20T11:00:00Z') }, NOW)).toBe(true);
  });

  it('routes sites to shards by site_id % shard count, and takes any time without a range', () => {
    const shard1 = { sites: { shards: [1], shardCount: 2 } };
    expect(overlaps(chart(3, '2020-01-01', '2020-01-01'), shard1, NOW)).toBe(true);
    expect(overlaps(chart(4, '2020-01-01', '2020-01-01'), shard1, NOW)).toBe(false);
    expect(overlaps(chart(4, '2020-01-01', '2020-01-01'), { sites: { all: true } }, NOW)).toBe(true);
  });

  it('describes scopes in words', () => {
    expect(describeScope({ sites: { all: true } })).toBe('all sites');
    expect(describeScope({ sites: { siteId: 9 }, ...day })).toBe('site 9 from 2026-11-10T00:00:00.000Z to 2026-11-11T00:00:00.000Z');
    expect(describeScope({ sites: { shards: [0, 1], shardCount: 2 } })).toBe('the sites of shards 0,1');
  });
});

describe('what a run rewrote', () => {
  const window = (start: string, end: string, outcome: 'ok' | 'failed' | 'fenced' = 'ok') => ({ windowStart: start, windowEnd: end, outcome, rowsRead: 1, rowsWritten: 1, durationMs: 1 });

  it('takes a rollup run’s windows before the watermark it began with (re-runs), per shard, not the new ones or failed ones', () => {
    const report: RollupReport = {
      runId: 'r1',
      level: 'hourly',
      trigger: 'schedule',
      ok: true,
      shards: [
        {
          shard: 0,
          shardName: 'shard0',
          watermarkBefore: '2026-11-20T10:00:00.000Z',
          watermarkAfter: '2026-11-20T12:00:00.000Z',
          windows: [
            window('2026-11-20T08:00:00.000Z', '2026-11-20T09:00:00.000Z'),
            window('2026-11-20T09:00:00.000Z', '2026-11-20T10:00:00.000Z', 'fenced'),
            window('2026-11-20T10:00:00.000Z', '2026-11-20T11:00:00.000Z'),
          ],
        },
        { shard: 1, shardName: 'shard1', watermarkBefore: '2026-11-20T10:00:00.000Z', watermarkAfter: null, windows: [window('2026-11-20T07:00:00.000Z', '2026-11-20T08:00:00.000Z', 'failed')] },
        { shard: 2, shardName: 'shard2', watermarkBefore: null, watermarkAfter: null, windows: [window('2026-11-20T07:00:00.000Z', '2026-11-20T08:00:00.000Z')] },
      ],
    };
    expect(rewrittenByRollup(report, 3)).toEqual([{ sites: { shards: [0], shardCount: 3 }, from: new Date('2026-11-20T08:00:00Z'), to: new Date('2026-11-20T10:00:00Z') }]);
    expect(rewrittenByRollup({ ...report, trigger: 'backfill' }, 3).map((scope) => scope.sites)).toEqual([
      { shards: [0], shardCount: 3 },
      { shards: [2], shardCount: 3 },
    ]);
  });

  it("finds Strata's own cached Traffic charts a change makes stale: a site's by shard and time, top and cluster charts by time", () => {
    const scopes: ChangeScope[] = [{ sites: { shards: [0], shardCount: 2 }, from: new Date('2026-11-20T00:00:00Z'), to: new Date('2026-11-21T00:00:00Z') }];
    const key = (scope: string, from: string, to: string) => `strata:chart:v1:${scope}:${from}:${to}`;
    expect(strataChartStale(key('site:4', '2026-11-20T12:00:00.000Z', '2026-11-21T12:00:00.000Z'), scopes)).toBe(true);
    expect(strataChartStale(key('site:3', '2026-11-20T12:00:00.000Z', '2026-11-21T12:00:00.000Z'), scopes)).toBe(false);
    expect(strataChartStale(key('site:4', '2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'), scopes)).toBe(false);
    expect(strataChartStale(key('cluster', '2026-10-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'), scopes)).toBe(true);
    expect(strataChartStale(key('top:10', '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z'), scopes)).toBe(false);
    expect(strataChartStale('strata:chart:v1:garbled', scopes)).toBe(true);
  });

  it('skips a scheduled re-roll whose page views did not change (the hourly trailing re-roll), but not a manual re-run', () => {
    const unchanged = { ...window('2026-11-20T08:00:00.000Z', '2026-11-20T09:00:00.000Z'), pageViewsChanged: false };
    const late = { ...window('2026-11-20T09:00:00.000Z', '2026-11-20T10:00:00.000Z'), pageViewsChanged: true };
    const report: RollupReport = {
      runId: 'r2',
      level: 'hourly',
      trigger: 'schedule',
      ok: true,
      shards: [{ shard: 0, shardName: 'shard0', watermarkBefore: '2026-11-20T10:00:00.000Z', watermarkAfter: '2026-11-20T11:00:00.000Z', windows: [unchanged, late] }],
    };
    expect(rewrittenByRollup(report, 1)).toEqual([{ sites: { shards: [0], shardCount: 1 }, from: new Date('2026-11-20T09:00:00Z'), to: new Date('2026-11-20T10:00:00Z') }]);
    expect(rewrittenByRollup({ ...report, shards: [{ ...report.shards[0]!, windows: [unchanged] }] }, 1)).toEqual([]);
    expect(rewrittenByRollup({ ...report, trigger: 'manual', shards: [{ ...report.shards[0]!, windows: [unchanged] }] }, 1)).toHaveLength(1);
  });

  it('takes a reconciliation’s late-row re-rolls, not its cascade, nothing from a dry run', () => {
    const report: ReconcileReport = {
      runId: 'c1',
      checkedAt: NOW.toISOString(),
      dryRun: false,
      trigger: 'manual',
      ok: true,
      warnings: [],
      shards: [
        {
          shard: 1,
          shardName: 'shard1',
          outcome: 'repaired',
          levels: [
            { level: 'hourly', windowsChecked: 48, windows: [{ windowStart: '2026-11-19T05:00:00.000Z', windowEnd: '2026-11-19T06:00:00.000Z', finding: 'late-rows', sourcePageViews: 5, levelPageViews: 4, action: 're-rolled' }] },
            { level: 'daily', windowsChecked: 7, windows: [{ windowStart: '2026-11-19T00:00:00.000Z', windowEnd: '2026-11-20T00:00:00.000Z', finding: 'cascade', sourcePageViews: 5, levelPageViews: 4, action: 're-rolled' }] },
          ],
        },
      ],
    };
    expect(rewrittenByReconcile(report, 2)).toEqual([{ sites: { shards: [1], shardCount: 2 }, from: new Date('2026-11-19T05:00:00Z'), to: new Date('2026-11-19T06:00:00Z') }]);
    expect(rewrittenByReconcile({ ...report, dryRun: true }, 2)).toEqual([]);
  });

  it('takes a backfill’s finished windows of its own level on the shards they ran on', () => {
    const windows = [
      { level: 'hourly', windowStart: '2026-11-10T00:00:00.000Z', windowEnd: '2026-11-10T01:00:00.000Z', outcome: 'ok', shards: [0, 1] },
      { level: 'hourly', windowStart: '2026-11-10T23:00:00.000Z', windowEnd: '2026-11-11T00:00:00.000Z', outcome: 'ok', shards: [1] },
      { level: 'hourly', windowStart: '2026-11-11T00:00:00.000Z', windowEnd: '2026-11-11T01:00:00.000Z', outcome: 'failed', shards: [0, 1] },
      { level: 'monthly', windowStart: '2026-11-01T00:00:00.000Z', windowEnd: '2026-12-01T00:00:00.000Z', outcome: 'ok', shards: [0, 1] },
    ];
    expect(rewrittenByBackfill(windows, 'hourly', 2)).toEqual([
      { sites: { shards: [0], shardCount: 2 }, from: new Date('2026-11-10T00:00:00Z'), to: new Date('2026-11-10T01:00:00Z') },
      { sites: { shards: [1], shardCount: 2 }, from: new Date('2026-11-10T00:00:00Z'), to: new Date('2026-11-11T00:00:00Z') },
    ]);
    expect(rewrittenByBackfill([], 'daily', 2)).toEqual([]);
  });
});

describe('batches and replies', () => {
  it('splits into bounded batches and reads TTL replies', () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batches([], 2)).toEqual([]);
    expect(ttlSeconds(300)).toBe(300);
    expect(ttlSeconds(-1)).toBeNull();
    expect(ttlSeconds(-2)).toBeNull();
  });
});
