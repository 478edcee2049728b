import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionName } from '../../src/main/schema/partitions';
import type { RollupReport, RunRecord } from '../../src/shared/rollup';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: its hours lie inside the raw partitions the schema created at start. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const at = (offsetHours: number) => new Date(D0 + offsetHours * HOUR);
const iso = (offsetHours: number) => at(offsetHours).toISOString();
const short = (offsetHours: number) => iso(offsetHours).replace(':00.000Z', 'Z');

describe('a rollup never replaces rolled-up rows with fewer page views because their source is gone', () => {
  let cluster: TestCluster;
  const query = <T>(sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(0, sql, params);
  const cli = (args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  /** Every row of a level in [from, to), as the rollup left it. */
  const rowsOf = (table: string, column: string, from: Date, to: Date) =>
    query<Array<Record<string, unknown>>>(`SELECT site_id, ${column}, page_views, visitors, HEX(visitors_sketch) AS sketch FROM ${table} WHERE ${column} >= ? AND ${column} < ? ORDER BY site_id, ${column}`, [from, to]);

  async function pageViews(table: string, column: string, from: Date, to: Date): Promise<number> {
    const [row] = await query<Array<{ total: number | string }>>(`SELECT COALESCE(SUM(page_views), 0) AS total FROM ${table} WHERE ${column} >= ? AND ${column} < ?`, [from, to]);
    return Number(row?.total ?? 0);
  }

  async function latestRun(level: string, start: Date): Promise<RunRecord | undefined> {
    const runs = await cluster.services.rollup.runs({ limit: 200, level: level as RunRecord['level'] });
    return runs.find((run) => run.windowStart === start.toISOString());
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
    await cluster.services.generator.run({ from: iso(0), to: iso(24), sites: 6, views: 6_000, seed: 4 });
    expect((await cluster.services.rollup.runRange('hourly', at(0), at(24), { trigger: 'manual' })).ok).toBe(true);
    expect((await cluster.services.rollup.runRange('daily', at(0), at(24), { trigger: 'manual' })).ok).toBe(true);
    await query('REPLACE INTO strata_watermarks (level, watermark, fencing_token, covered_from) VALUES (?, ?, 0, ?), (?, ?, 0, ?)', ['hourly', at(24), at(0), 'daily', at(24), at(0)]);
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('an hour whose raw partition was dropped keeps its rows when one late row arrives and a range re-rolls it; the range goes on', async () => {
    const before = await rowsOf('analytics_hourly', 'hour_start', at(5), at(6));
    const rolledUp = await pageViews('analytics_hourly', 'hour_start', at(5), at(6));
    expect(rolledUp).toBeGreaterThan(1);
    await query(`ALTER TABLE analytics_realtime DROP PARTITION ${partitionName(at(5), 'hour')}`);
    await query('INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (1, ?, 42, ?)', [new Date(at(5).getTime() + 60_000), '/late']);

    const run = await cli(['rollup', '--level', 'hourly', '--from', iso(4), '--to', iso(7)]);
    expect(run.code).toBe(1);
    const lines = run.stdout.split('\n');
    expect(lines.find((line) => line.includes(`${short(5)} → ${short(6)}`))).toMatch(
      new RegExp(
        `FAILED .*error 7003 \\(RollupSourceIncomplete\\): the source of the hourly window ${iso(5)} \\(analytics_realtime\\) holds 1 page views, fewer than the ${rolledUp} already rolled up \\(it was pruned or deleted\\); the rolled-up rows were kept`,
      ),
    );
    // The windows before and after it were rolled up as asked, and the watermark (past them all) is said as it is.
    expect(lines.filter((line) => / → .* ok /.test(line)).map((line) => line.split(/\s+/)[1])).toEqual([short(4), short(6)]);
    expect(run.stdout).toMatch(new RegExp(`shard0 +watermark ${short(24)} \\(unchanged\\)`));
    expect(run.stdout).toMatch(/NOT OK: hourly rollup/);

    expect(await rowsOf('analytics_hourly', 'hour_start', at(5), at(6))).toEqual(before);
    const recorded = await latestRun('hourly', at(5));
    expect(recorded).toMatchObject({ outcome: 'failed', rowsWritten: 0 });
    expect(recorded?.error).toMatch(/^error 7003 \(RollupSourceIncomplete\): the source of the hourly window .* holds 1 page views, fewer than the \d+ already rolled up/);
  });

  it('a day whose hourly rows were deleted keeps its daily rows (JSON names the code) and exits 1', async () => {
    const before = await rowsOf('analytics_daily', 'date', at(0), at(24));
    const rolledUp = await pageViews('analytics_daily', 'date', at(0), at(24));
    await query('DELETE FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [at(12), at(24)]);
    const left = await pageViews('analytics_hourly', 'hour_start', at(0), at(24));
    expect(left).toBeLessThan(rolledUp);

    const run = await cli(['rollup', '--level', 'daily', '--from', iso(0), '--to', iso(24), '--json']);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as RollupReport;
    expect(report.ok).toBe(false);
    expect(report.shards[0]?.windows).toEqual([
      expect.objectContaining({
        windowStart: iso(0),
        outcome: 'failed',
        code: 7003,
        error: `the source of the daily window ${iso(0)} (analytics_hourly) holds ${left} page views, fewer than the ${rolledUp} already rolled up (it was pruned or deleted); the rolled-up rows were kept`,
      }),
    ]);
    expect(await rowsOf('analytics_daily', 'date', at(0), at(24))).toEqual(before);
    expect((await latestRun('daily', at(0)))?.outcome).toBe('failed');
  });

  it('a due run does not move the watermark over a kept window; the windows after it still run', async () => {
    await query('UPDATE strata_watermarks SET watermark = ? WHERE level = ?', [at(5), 'hourly']);
    const before = await rowsOf('analytics_hourly', 'hour_start', at(5), at(6));
    const report = await cluster.services.rollup.runDue('hourly', { trigger: 'manual' });
    const windows = report.shards[0]?.windows ?? [];
    // The 3 trailing hours before the watermark, the kept hour 05:00, then every later hour up to now.
    expect(windows.slice(0, 4).map((window) => [window.windowStart, window.outcome])).toEqual([
      [iso(2), 'ok'],
      [iso(3), 'ok'],
      [iso(4), 'ok'],
      [iso(5), 'failed'],
    ]);
    expect(windows.length).toBeGreaterThan(5);
    expect(windows.slice(4).every((window) => window.outcome === 'ok' && window.watermark === 'unchanged')).toBe(true);
    expect(report.shards[0]).toMatchObject({ watermarkBefore: iso(5), watermarkAfter: iso(5) });
    expect(await rowsOf('analytics_hourly', 'hour_start', at(5), at(6))).toEqual(before);
  });
});
