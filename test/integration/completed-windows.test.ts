import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { readCompletedWindows } from '../../src/main/state';
import type { RollupLevel } from '../../src/shared/rollup';
import type { PruneReport, TablePrune } from '../../src/shared/retention';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The start of the current hour when the file started: every instant below is relative to it. */
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');

const tableOf = (report: PruneReport, shard: number, table: string): TablePrune | undefined =>
  report.shards.find((entry) => entry.index === shard)?.tables.find((entry) => entry.table === table);

/**
 * "A completed window" decides both how far a rollup watermark may jump and whether retention may delete the raw
 * rows under it. It is: the latest run of the window, recorded for that shard, committed its rows (`ok` or `fenced`).
 */
describe('completed rollup windows on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const completed = (readOn: number, level: RollupLevel, forShard: number, from: Date, to: Date) =>
    readCompletedWindows((sql, params) => query(readOn, sql, params), level, forShard, from, to);

  async function insertHour(shard: number, start: Date, rows: number): Promise<void> {
    await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT seq % 5, ? + INTERVAL (seq % 3600) SECOND, seq % 40, '/p' FROM seq_1_to_${rows}`, [start]);
  }

  async function rawRows(shard: number, from: Date, to: Date): Promise<number> {
    const [row] = await query<Array<{ n: number | string }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [from, to]);
    return Number(row?.n ?? 0);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('counts a fenced window: its rows are committed, so its raw hour may be pruned', async () => {
    const start = hour(-70);
    const end = hour(-69);
    await insertHour(1, start, 250);
    // A newer lease holder (token 10) owns shard 1's hourly watermark; this run still holds token 5.
    await advanceWatermark((sql, params) => query(1, sql, params), { level: 'hourly', to: start, fencingToken: 10, coveredFrom: start, by: 'newer-scheduler', at: new Date() });

    const report = await cluster.services.rollup.runRange('hourly', start, end, { trigger: 'manual', shards: [1], fencingToken: 5 });
    expect(report.shards[0]?.windows).toEqual([expect.objectContaining({ windowStart: start.toISOString(), outcome: 'fenced', watermark: 'fenced', rowsRead: 250 })]);
    const [hourly] = await query<Array<{ pv: number | string }>>(1, 'SELECT SUM(page_views) AS pv FROM analytics_hourly WHERE hour_start = ?', [start]);
    expect(Number(hourly?.pv)).toBe(250);
    const [watermark] = await query<Array<{ watermark: Date }>>(1, "SELECT watermark FROM strata_watermarks WHERE level = 'hourly'");
    expect(watermark?.watermark.getTime()).toBe(start.getTime());

    expect(await completed(1, 'hourly', 1, start, end)).toEqual([start]);
    // The watermark did not cover the hour, so only the fenced run's record lets retention know it was rolled up.
    const plan = await cluster.services.retention.plan({ tables: ['analytics_realtime'], shards: [1] });
    expect(tableOf(plan, 1, 'analytics_realtime')?.kept).toEqual([]);
    await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [1] });
    expect(await rawRows(1, start, end)).toBe(0);
  });

  it('does not count a window whose latest run failed after an ok run: retention keeps what lies under it', async () => {
    const day = new Date(Math.floor((H - 10 * DAY) / DAY) * DAY);
    const nextDay = new Date(day.getTime() + DAY);
    for (const offset of [0, 1, 2]) await insertHour(0, new Date(day.getTime() + offset * HOUR), 120);
    await cluster.services.rollup.runRange('hourly', day, new Date(day.getTime() + 3 * HOUR), { trigger: 'manual', shards: [0] });
    const daily = await cluster.services.rollup.runRange('daily', day, nextDay, { trigger: 'manual', shards: [0] });
    expect(daily.shards[0]?.windows.map((window) => window.outcome)).toEqual(['ok']);
    expect(await completed(0, 'daily', 0, day, nextDay)).toEqual([day]);
    const before = await cluster.services.retention.plan({ tables: ['analytics_hourly'], shards: [0] });
    expect(tableOf(before, 0, 'analytics_hourly')?.kept).toEqual([]);

    // The hourly source of the day changes under it (here: a sketch lost), and the re-run fails and rolls back.
    await query(0, 'UPDATE analytics_hourly SET visitors_sketch = NULL WHERE hour_start = ? LIMIT 1', [day]);
    const rerun = await cluster.services.rollup.runRange('daily', day, nextDay, { trigger: 'manual', shards: [0] });
    expect(rerun.shards[0]?.windows).toEqual([expect.objectContaining({ outcome: 'failed', error: expect.stringContaining('without a visitor sketch') })]);
    const [kept] = await query<Array<{ pv: number | string }>>(0, 'SELECT SUM(page_views) AS pv FROM analytics_daily WHERE `date` = ?', [day]);
    expect(Number(kept?.pv)).toBe(360);

    // The daily rows still add up, yet the day is no longer completed: its hourly rows stay until it is rolled up again.
    expect(await completed(0, 'daily', 0, day, nextDay)).toEqual([]);
    const after = await cluster.services.retention.plan({ tables: ['analytics_hourly'], shards: [0] });
    expect(tableOf(after, 0, 'analytics_hourly')?.kept).toEqual([expect.objectContaining({ windowStart: iso(day), reason: 'not-rolled-up', sourcePageViews: 360, nextLevelPageViews: 360 })]);
    const pruned = await cluster.services.retention.prune({ tables: ['analytics_hourly'], shards: [0] });
    expect(tableOf(pruned, 0, 'analytics_hourly')?.result).toMatchObject({ deletedRows: 0, droppedPartitions: 0 });
    const [hourly] = await query<Array<{ pv: number | string }>>(0, 'SELECT SUM(page_views) AS pv FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [day, nextDay]);
    expect(Number(hourly?.pv)).toBe(360);
  });

  it('does not count, for shard 0, a run that shard 0 holds on behalf of shard 1', async () => {
    const start = hour(-64);
    const end = hour(-63);
    await insertHour(0, start, 90);
    // Written here while shard 1 was down: shard 1 rolled the hour up, shard 0 never did.
    await query(
      0,
      `INSERT INTO strata_job_runs (job, level, window_start, window_end, trigger_kind, host, started_at, finished_at, outcome, rows_read, rows_written, run_id, shard_index, duration_ms)
       VALUES ('rollup', 'hourly', ?, ?, 'manual', 'another-console', ?, ?, 'ok', 90, 5, 'run-of-shard-1', 1, 12)`,
      [start, end, new Date(), new Date()],
    );

    expect(await completed(0, 'hourly', 1, start, end)).toEqual([start]);
    expect(await completed(0, 'hourly', 0, start, end)).toEqual([]);
    const plan = await cluster.services.retention.plan({ tables: ['analytics_realtime'], shards: [0] });
    expect(tableOf(plan, 0, 'analytics_realtime')?.kept).toEqual([expect.objectContaining({ windowStart: iso(start), reason: 'not-rolled-up', sourcePageViews: 90, nextLevelPageViews: 0 })]);
    const report = await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [0] });
    expect(tableOf(report, 0, 'analytics_realtime')?.kept.map((window) => window.windowStart)).toEqual([iso(start)]);
    expect(await rawRows(0, start, end)).toBe(90);
  });
});
