import { describe, expect, it } from 'vitest';
import {
  checkRange,
  compareLevel,
  describeLevels,
  levelRange,
  levelTotalsSql,
  shardOutcome,
  sourceTotalsSql,
  totalsByWindow,
  windowsAbove,
  windowsToReRoll,
} from '../../src/main/reconcile/planner';
import { formatReconcileReport, parseReconcileOptions } from '../../src/cli/commands/reconcile';
import { summariseReconcile } from '../../src/main/scheduler/jobs';
import { ErrorCode } from '../../src/shared/errors';
import type { ReconcileReport } from '../../src/shared/reconcile';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const at = (text: string) => new Date(text);
const ms = (text: string) => Date.parse(text);
const NOW = at('2026-12-02T10:20:00Z');

describe('what each level is compared over', () => {
  it('hourly: the closed hours raw retention still holds, up to the hourly watermark', () => {
    expect(levelRange('hourly', NOW, DEFAULT_RETENTION, at('2026-12-02T10:00:00Z'))).toEqual({ from: at('2026-11-30T11:00:00Z'), to: at('2026-12-02T10:00:00Z') });
    // Hours after the watermark are the rollup's own next work, not late data.
    expect(levelRange('hourly', NOW, DEFAULT_RETENTION, at('2026-12-02T06:00:00Z'))).toEqual({ from: at('2026-11-30T11:00:00Z'), to: at('2026-12-02T06:00:00Z') });
  });

  it('daily and monthly: the whole days (months) their source retention still holds, up to their watermark', () => {
    expect(levelRange('daily', NOW, DEFAULT_RETENTION, at('2026-12-02T00:00:00Z'))).toEqual({ from: at('2026-11-26T00:00:00Z'), to: at('2026-12-02T00:00:00Z') });
    expect(levelRange('monthly', NOW, DEFAULT_RETENTION, at('2026-12-01T00:00:00Z'))).toEqual({ from: at('2026-01-01T00:00:00Z'), to: at('2026-12-01T00:00:00Z') });
  });

  it('narrows to the whole windows covering an asked range, never past retention or the watermark', () => {
    const asked = { from: at('2026-12-01T10:30:00Z'), to: at('2026-12-01T12:10:00Z') };
    expect(levelRange('hourly', NOW, DEFAULT_RETENTION, at('2026-12-02T10:00:00Z'), asked)).toEqual({ from: at('2026-12-01T10:00:00Z'), to: at('2026-12-01T13:00:00Z') });
    expect(levelRange('daily', NOW, DEFAULT_RETENTION, at('2026-12-02T00:00:00Z'), asked)).toEqual({ from: at('2026-12-01T00:00:00Z'), to: at('2026-12-02T00:00:00Z') });
    const old = { from: at('2026-11-01T00:00:00Z'), to: at('2026-11-02T00:00:00Z') };
    expect(levelRange('hourly', NOW, DEFAULT_RETENTION, at('2026-12-02T10:00:00Z'), old)).toEqual({ note: expect.stringContaining('still in its source') });
  });

  it('says so when a level never ran on the shard', () => {
    expect(levelRange('monthly', NOW, DEFAULT_RETENTION, null)).toEqual({ note: 'the monthly level has never been rolled up on this shard' });
  });

  it('refuses half a range or one that ends before it starts, with the reconcile code', () => {
    expect(() => checkRange('2026-12-01T00:00:00Z', undefined)).toThrow(expect.objectContaining({ code: ErrorCode.ReconcileInvalid }));
    expect(() => checkRange('2026-12-02T00:00:00Z', '2026-12-01T00:00:00Z')).toThrow(/must be before/);
    expect(checkRange(undefined, undefined)).toBeUndefined();
  });
});

describe('the totals SQL', () => {
  it('counts raw rows per hour in one statement whose created_at range prunes the raw partitions', () => {
    const statement = sourceTotalsSql('hourly', at('2026-12-01T00:00:00Z'), at('2026-12-02T00:00:00Z'));
    expect(statement.sql).toBe(
      'SELECT FLOOR(UNIX_TIMESTAMP(created_at) / 3600) * 3600 AS w, COUNT(*) AS pv FROM analytics_realtime WHERE `created_at` >= ? AND `created_at` < ? GROUP BY w',
    );
    expect(statement.params).toEqual([at('2026-12-01T00:00:00Z'), at('2026-12-02T00:00:00Z')]);
  });

  it('sums page views of hours per day, days per month, and of the level itself per window', () => {
    expect(sourceTotalsSql('daily', NOW, NOW).sql).toContain('UNIX_TIMESTAMP(DATE(hour_start)) AS w, COALESCE(SUM(page_views), 0) AS pv FROM analytics_hourly');
    expect(sourceTotalsSql('monthly', NOW, NOW).sql).toContain("UNIX_TIMESTAMP(DATE_FORMAT(`date`, '%Y-%m-01')) AS w");
    expect(levelTotalsSql('daily', NOW, NOW).sql).toBe(
      'SELECT UNIX_TIMESTAMP(`date`) AS w, COALESCE(SUM(page_views), 0) AS pv FROM analytics_daily WHERE `date` >= ? AND `date` < ? GROUP BY `date`',
    );
  });

  it('reads rows back as window start → page views', () => {
    expect(totalsByWindow([{ w: '1764547200', pv: '42' }, { w: 1764550800, pv: 7 }])).toEqual(
      new Map([
        [1764547200_000, 42],
        [1764550800_000, 7],
      ]),
    );
  });
});

describe('comparing a level with its source', () => {
  const range = { from: at('2026-12-01T00:00:00Z'), to: at('2026-12-01T04:00:00Z') };
  const source = new Map([
    [ms('2026-12-01T00:00:00Z'), 100],
    [ms('2026-12-01T01:00:00Z'), 130],
    [ms('2026-12-01T02:00:00Z'), 50],
  ]);
  const hourly = new Map([
    [ms('2026-12-01T00:00:00Z'), 100],
    [ms('2026-12-01T01:00:00Z'), 100],
    [ms('2026-12-01T02:00:00Z'), 80],
  ]);

  it('lists late rows to re-roll and keeps a window whose source is short; matching windows are only counted', () => {
    const compared = compareLevel('hourly', range, source, hourly, new Set(), false);
    expect(compared.windowsChecked).toBe(4);
    expect(compared.windows).toEqual([
      { windowStart: '2026-12-01T01:00:00.000Z', windowEnd: '2026-12-01T02:00:00.000Z', finding: 'late-rows', sourcePageViews: 130, levelPageViews: 100, action: 're-rolled' },
      { windowStart: '2026-12-01T02:00:00.000Z', windowEnd: '2026-12-01T03:00:00.000Z', finding: 'source-short', sourcePageViews: 50, levelPageViews: 80, action: 'kept' },
    ]);
    expect(windowsToReRoll(compared).map((window) => window.windowStart)).toEqual(['2026-12-01T01:00:00.000Z']);
  });

  it('in a dry run says what it would re-roll', () => {
    expect(compareLevel('hourly', range, source, hourly, new Set(), true).windows[0]?.action).toBe('would-re-roll');
  });

  it('re-rolls the day and month above a re-rolled hour, even while their totals still match', () => {
    const days = windowsAbove('hourly', [ms('2026-12-01T01:00:00Z'), ms('2026-12-01T05:00:00Z')]);
    expect(days).toEqual(new Set([ms('2026-12-01T00:00:00Z')]));
    expect(windowsAbove('daily', days)).toEqual(new Set([ms('2026-12-01T00:00:00Z')]));
    expect(windowsAbove('monthly', days)).toEqual(new Set());
    const compared = compareLevel('daily', { from: at('2026-11-30T00:00:00Z'), to: at('2026-12-02T00:00:00Z') }, new Map([[ms('2026-12-01T00:00:00Z'), 280]]), new Map([[ms('2026-12-01T00:00:00Z'), 280]]), days, true);
    expect(compared.windows).toEqual([expect.objectContaining({ windowStart: '2026-12-01T00:00:00.000Z', finding: 'cascade', action: 'would-re-roll' })]);
  });

  it('gives each shard an outcome: matched, repaired, differs (dry run), unrepaired or failed', () => {
    const late = compareLevel('hourly', range, new Map([[ms('2026-12-01T01:00:00Z'), 130]]), new Map([[ms('2026-12-01T01:00:00Z'), 100]]), new Set(), false);
    const matched = compareLevel('hourly', range, hourly, hourly, new Set(), false);
    const short = compareLevel('hourly', range, source, hourly, new Set(), false);
    expect(shardOutcome([matched], false, false)).toBe('matched');
    expect(shardOutcome([late], false, false)).toBe('repaired');
    expect(shardOutcome([late], true, false)).toBe('differs');
    expect(shardOutcome([short], false, false)).toBe('unrepaired');
    expect(shardOutcome([matched], false, true)).toBe('failed');
    late.windows[0]!.action = 'failed';
    expect(shardOutcome([late], false, false)).toBe('failed');
  });

  it('describes what it found with both totals, for the run history', () => {
    const compared = compareLevel('hourly', range, source, hourly, new Set(), false);
    expect(describeLevels([compared, { level: 'monthly', windowsChecked: 0, windows: [], note: 'never rolled up' }])).toBe(
      'hourly 2026-12-01T00:00Z–2026-12-01T04:00Z: 4 checked; 2026-12-01T01:00Z raw 130 vs hourly 100 late-rows re-rolled, 2026-12-01T02:00Z raw 50 vs hourly 80 source-short kept; monthly: not checked (never rolled up)',
    );
  });
});

describe('strata reconcile', () => {
  it('refuses bad input with one numbered error before anything connects', () => {
    const refused = (options: Parameters<typeof parseReconcileOptions>[0]) => {
      try {
        parseReconcileOptions(options);
      } catch (error) {
        return error as { code: number; message: string };
      }
      throw new Error('not refused');
    };
    expect(refused({ shards: '0,x' })).toMatchObject({ code: ErrorCode.ReconcileInvalid, message: "--shards must be shard indexes separated by commas, such as 0,2, got '0,x'" });
    expect(refused({ from: '2026-12-01T00:00:00Z' }).message).toMatch(/--from and --to go together/);
    expect(refused({ from: 'yesterday', to: '2026-12-01T00:00:00Z' }).code).toBe(ErrorCode.ReconcileInvalid);
    expect(refused({ from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' }).message).toMatch(/must be before --to/);
    expect(parseReconcileOptions({ from: '2026-12-01T05:00Z', to: '2026-12-01T06:00:00Z', shards: '1,0,1' })).toEqual({ from: '2026-12-01T05:00:00.000Z', to: '2026-12-01T06:00:00.000Z', shards: [1, 0] });
  });

  const report: ReconcileReport = {
    runId: 'r1',
    checkedAt: '2026-12-02T10:20:00.000Z',
    dryRun: false,
    trigger: 'manual',
    ok: false,
    warnings: [],
    shards: [
      {
        shard: 0,
        shardName: 'shard0',
        outcome: 'repaired',
        levels: [
          {
            level: 'hourly',
            from: '2026-11-30T11:00:00.000Z',
            to: '2026-12-02T10:00:00.000Z',
            windowsChecked: 47,
            windows: [{ windowStart: '2026-12-02T00:00:00.000Z', windowEnd: '2026-12-02T01:00:00.000Z', finding: 'late-rows', sourcePageViews: 19_302, levelPageViews: 19_272, action: 're-rolled' }],
          },
          { level: 'daily', windowsChecked: 0, windows: [], note: 'the daily level has never been rolled up on this shard' },
        ],
      },
      { shard: 1, shardName: 'shard1', outcome: 'failed', problem: { code: 3001, message: 'shard1 (127.0.0.1:3307): connection refused; is the server running?' }, levels: [] },
    ],
  };

  it('prints per shard the windows checked, each difference with both totals, what was done, and names a shard it could not read', () => {
    expect(formatReconcileReport(report).split('\n')).toEqual([
      'shard0     hourly  2026-11-30T11:00Z → 2026-12-02T10:00Z: 47 windows checked, 1 to look at',
      'shard0       2026-12-02T00:00Z  raw 19,302  hourly 19,272  late-rows  re-rolled',
      'shard0     daily   not checked: the daily level has never been rolled up on this shard',
      'shard0     repaired',
      'shard1     FAILED: shard1 (127.0.0.1:3307): connection refused; is the server running?',
      'NOT OK: reconciliation, run r1; shard1 failed',
    ]);
  });

  it('sums a scheduled run up in one line for the agent', () => {
    expect(summariseReconcile(report)).toEqual({ ok: false, summary: '2 shards: shard0 repaired (1 hourly re-rolled), shard1 failed: shard1 (127.0.0.1:3307): connection refused; is the server running?' });
  });
});
