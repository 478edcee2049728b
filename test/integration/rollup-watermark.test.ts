import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RollupPlan, RollupReport } from '../../src/shared/rollup';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: it and the day before lie inside the raw partitions the schema created at start. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const at = (offsetHours: number) => new Date(D0 + offsetHours * HOUR);
const iso = (offsetHours: number) => at(offsetHours).toISOString();

describe('a watermark moves only over windows that succeeded on the shard and whose source has not changed', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const rollup = () => cluster.services.rollup;
  const cli = (args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  async function total(table: string, column: string, from: Date, to: Date): Promise<number> {
    const [row] = await query<Array<{ total: number | string }>>(1, `SELECT COALESCE(SUM(page_views), 0) AS total FROM ${table} WHERE ${column} >= ? AND ${column} < ?`, [from, to]);
    return Number(row?.total ?? 0);
  }

  async function setWatermark(level: string, to: Date, token = 0): Promise<void> {
    await query(1, 'REPLACE INTO strata_watermarks (level, watermark, fencing_token, covered_from) VALUES (?, ?, ?, ?)', [level, to, token, at(-24)]);
  }

  /** Late raw rows for yesterday 22:00 on shard 1, re-rolled into their hour as a late-data re-roll would. */
  async function lateRowsAt22(count: number): Promise<void> {
    const rows = Array.from({ length: count }, (_, index) => [7, new Date(at(22).getTime() + index * 1000), 900_000 + index, '/late']);
    await query(1, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES ?', [rows]);
    expect((await rollup().runRange('hourly', at(22), at(23), { trigger: 'manual', shards: [1] })).ok).toBe(true);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await cluster.services.generator.run({ from: iso(-24), to: iso(24), sites: 12, views: 12_000, seed: 9 });
    expect((await rollup().runRange('hourly', at(-24), at(24), { trigger: 'manual' })).ok).toBe(true);
    expect((await rollup().runRange('daily', at(-24), at(24), { trigger: 'manual' })).ok).toBe(true);
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('a range stops the watermark before a day whose hours changed since it was rolled up; the next due run re-rolls it', async () => {
    await setWatermark('hourly', at(24));
    await setWatermark('daily', at(-24));
    await lateRowsAt22(30);
    expect(await total('analytics_daily', 'date', at(0), at(24))).toBe((await total('analytics_hourly', 'hour_start', at(0), at(24))) - 30);

    const range = await cli(['rollup', '--level', 'daily', '--from', iso(-24), '--to', iso(0), '--shards', '1', '--json']);
    expect(range.code).toBe(0);
    const report = JSON.parse(range.stdout) as RollupReport;
    // Yesterday's latest run was ok, but its hourly total has grown since: the watermark stops before it.
    expect(report.shards[0]).toMatchObject({ watermarkBefore: iso(-24), watermarkAfter: iso(0) });

    const plan = JSON.parse((await cli(['rollup', '--level', 'daily', '--dry-run', '--shards', '1', '--json'])).stdout) as RollupPlan;
    expect(plan.shards[0]?.windows.map((window) => window.windowStart)).toEqual([iso(0)]);
    const due = JSON.parse((await cli(['rollup', '--level', 'daily', '--shards', '1', '--json'])).stdout) as RollupReport;
    expect(due.ok).toBe(true);
    expect(due.shards[0]?.watermarkAfter).toBe(iso(24));
    expect(await total('analytics_daily', 'date', at(0), at(24))).toBe(await total('analytics_hourly', 'hour_start', at(0), at(24)));
  });

  it('carries a later re-roll of an hour up: the next daily run re-rolls the day it belongs to', async () => {
    expect((await rollup().watermarks()).find((row) => row.shard === 1 && row.level === 'daily')?.watermark).toBe(iso(24));
    await lateRowsAt22(12);
    const plan = await rollup().plan('daily', 'due', { shards: [1] });
    expect(plan.shards[0]?.windows.map((window) => [window.windowStart, window.reason])).toEqual([[iso(0), 'trailing']]);
    const due = JSON.parse((await cli(['rollup', '--level', 'daily', '--shards', '1', '--json'])).stdout) as RollupReport;
    expect(due.ok).toBe(true);
    expect(await total('analytics_daily', 'date', at(0), at(24))).toBe(await total('analytics_hourly', 'hour_start', at(0), at(24)));
    expect((await rollup().plan('daily', 'due', { shards: [1] })).shards[0]?.windows).toEqual([]);
  });

  it('a failed day stops the watermark there (issue 9 item 3) and the next dry run plans it again', async () => {
    await setWatermark('daily', at(-24));
    // An hourly row without a sketch makes yesterday's daily rollup fail on shard 1.
    await query(1, 'INSERT INTO analytics_hourly (site_id, hour_start, page_views, visitors, visitors_sketch) VALUES (999, ?, 5, 1, NULL)', [at(23)]);
    try {
      const run = await cli(['rollup', '--level', 'daily', '--shards', '1', '--json']);
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as RollupReport;
      expect(report.shards[0]?.windows.map((window) => [window.windowStart, window.outcome])).toEqual([
        [iso(-24), 'ok'],
        [iso(0), 'failed'],
      ]);
      expect(report.shards[0]).toMatchObject({ watermarkBefore: iso(-24), watermarkAfter: iso(0) });
      const plan = JSON.parse((await cli(['rollup', '--level', 'daily', '--dry-run', '--shards', '1', '--json'])).stdout) as RollupPlan;
      expect(plan.shards[0]?.windows[0]?.windowStart).toBe(iso(0));
    } finally {
      await query(1, 'DELETE FROM analytics_hourly WHERE site_id = 999');
    }
  });

  it('a range from the watermark beside a scheduler holding the lease writes every window and says whose the watermark is', async () => {
    await setWatermark('hourly', at(20), 7);
    const grant = await cluster.services.lease.tryAcquire();
    expect(grant).toBeDefined();
    try {
      const run = await cli(['rollup', '--level', 'hourly', '--from', iso(20), '--to', iso(23), '--shards', '1']);
      expect(run.code).toBe(0);
      const lines = run.stdout.split('\n');
      expect(lines.filter((line) => / → .*(ok|FENCED)/.test(line))).toHaveLength(3);
      expect(lines[0]).toMatch(/FENCED .*the window was written; the watermark belongs to the scheduler's lease \(fencing token 7\)/);
      expect(run.stdout).not.toMatch(/newer lease/);
      expect(run.stdout).toMatch(new RegExp(`shard1 +watermark ${iso(20).replace(':00.000Z', 'Z')} \\(unchanged\\)`));
      const written = await query<Array<{ hours: number }>>(1, 'SELECT COUNT(DISTINCT hour_start) AS hours FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [at(20), at(23)]);
      expect(Number(written[0]?.hours)).toBe(3);
    } finally {
      if (grant) await cluster.services.lease.release(grant);
    }
  });
});
