import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hourlyInsertSql } from '../../src/main/rollup/planner';
import { ClusterRollupService } from '../../src/main/rollup/service';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { silentLogger } from '../../src/main/log';
import { DENSE_SKETCH_BYTES, estimateSketch, mergeSketches, sketchOf, SKETCH_SQL, sparseEntry, visitorHash } from '../../src/main/sketch/hll';
import type { RollupReport } from '../../src/shared/rollup';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: the whole day lies inside the hourly raw partitions the schema created at start. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const at = (offsetHours: number) => new Date(D0 + offsetHours * HOUR);
/** The "now" of the scheduled runs: 03:30 today, so the raw retention (48 h) begins at D0 - 20 h. */
const NOW = at(27.5);

const windowsOf = (report: RollupReport, shard: number) => report.shards.find((entry) => entry.shard === shard)?.windows ?? [];

describe('rollups on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const rollup = () => cluster.services.rollup;
  const bothShards = [0, 1];

  async function sumOf(shard: number, table: string, column: string, from: Date, to: Date, extra = 'COALESCE(SUM(page_views), 0)'): Promise<number> {
    const [row] = await query<Array<{ total: number | string }>>(shard, `SELECT ${extra} AS total FROM ${table} WHERE ${column} >= ? AND ${column} < ?`, [from, to]);
    return Number(row?.total ?? 0);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    // 48 hours of raw data: the day before yesterday and yesterday.
    await cluster.services.generator.run({ from: at(-24).toISOString(), to: at(24).toISOString(), sites: 40, views: 80_000, seed: 11 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('migration 2 leaves every shard matching the expected schema', async () => {
    const report = await cluster.services.schema.check();
    expect(report.shards.map((shard) => shard.drift)).toEqual([[], []]);
  });

  it('computes the same sketch entry, register and rank in SQL as in Node, for any visitor id', async () => {
    const ids = ['0', '1', '42', '9007199254740991', '18446744073709551615', ...Array.from({ length: 60 }, (_, index) => String(index * 7919 + 1_000_000_007))];
    for (const id of ids) {
      const [row] = await query<Array<{ entry: string; register: number; rank: number }>>(
        0,
        `SELECT HEX(${SKETCH_SQL.entry('v')}) AS entry, ${SKETCH_SQL.register('h')} AS register, ${SKETCH_SQL.rank('h')} AS \`rank\`
           FROM (SELECT v, ${SKETCH_SQL.hash('v')} AS h FROM (SELECT CAST(? AS UNSIGNED) AS v) AS t) AS u`,
        [id],
      );
      const { hash, register, rank } = visitorHash(id);
      expect(row?.entry).toBe(sparseEntry(hash).toString('hex').toUpperCase());
      expect([Number(row?.register), Number(row?.rank)]).toEqual([register, rank]);
    }
    for (let bits = 1; bits <= 32; bits++) {
      for (const value of [2 ** bits - 1, 2 ** (bits - 1)]) {
        const [row] = await query<Array<{ rank: number }>>(0, 'SELECT 32 - FLOOR(LOG2(?)) AS `rank`', [value]);
        expect(Number(row?.rank)).toBe(Math.clz32(value) + 1);
      }
    }
  });

  it('rolls one hour up from that hour only: EXPLAIN lists exactly one raw partition', async () => {
    const start = at(10);
    const end = at(11);
    for (const shard of bothShards) {
      const plan = await query<Array<{ table: string; partitions: string | null }>>(shard, `EXPLAIN PARTITIONS ${hourlyInsertSql()}`, [start, start, end]);
      const raw = plan.filter((row) => row.table === 'analytics_realtime');
      expect(raw).toHaveLength(1);
      expect(raw[0]?.partitions).toBe(`p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`);
    }
    const report = await rollup().runRange('hourly', start, end, { trigger: 'manual' });
    expect(report.ok).toBe(true);
    for (const shard of bothShards) {
      const rawRows = await sumOf(shard, 'analytics_realtime', 'created_at', start, end, 'COUNT(*)');
      expect(rawRows).toBeGreaterThan(0);
      expect(windowsOf(report, shard)).toEqual([expect.objectContaining({ outcome: 'ok', rowsRead: rawRows, watermark: 'unchanged' })]);
      const [hours] = await query<Array<{ hours: number }>>(shard, 'SELECT COUNT(DISTINCT hour_start) AS hours FROM analytics_hourly');
      expect(Number(hours?.hours)).toBe(1);
      expect(await sumOf(shard, 'analytics_hourly', 'hour_start', start, end)).toBe(rawRows);
    }
  });

  it('a scheduled run rolls every finished hour retention still holds, exactly, and records each window', async () => {
    const report = await rollup().runDue('hourly', { trigger: 'schedule', now: NOW });
    expect(report.ok).toBe(true);
    for (const shard of bothShards) {
      const windows = windowsOf(report, shard);
      // Raw retention at 03:30 today holds hours from D0-20h; today's 00:00-03:00 are over, 03:00 is not.
      expect(windows[0]?.windowStart).toBe(at(-20).toISOString());
      expect(windows.at(-1)?.windowEnd).toBe(at(27).toISOString());
      expect(windows).toHaveLength(47);
      expect(report.shards[shard]?.watermarkAfter).toBe(at(27).toISOString());
      expect(await sumOf(shard, 'analytics_hourly', 'hour_start', at(-24), at(-20))).toBe(0);
      expect(await sumOf(shard, 'analytics_hourly', 'hour_start', at(-20), at(27))).toBe(await sumOf(shard, 'analytics_realtime', 'created_at', at(-20), at(27), 'COUNT(*)'));
      // Hourly visitors are exact: the distinct visitors of each site in each hour.
      const [mismatch] = await query<Array<{ wrong: number }>>(
        shard,
        `SELECT COUNT(*) AS wrong FROM analytics_hourly h
           JOIN (SELECT site_id, FROM_UNIXTIME(UNIX_TIMESTAMP(created_at) DIV 3600 * 3600) AS hour_start, COUNT(DISTINCT visitor_id) AS visitors, COUNT(*) AS page_views
                   FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY 1, 2) r USING (site_id, hour_start)
          WHERE h.visitors <> r.visitors OR h.page_views <> r.page_views`,
        [at(-20), at(27)],
      );
      expect(Number(mismatch?.wrong)).toBe(0);
    }
    const watermarks = await rollup().watermarks();
    expect(watermarks.filter((row) => row.level === 'hourly').map((row) => [row.watermark, row.coveredFrom, row.fencingToken])).toEqual([
      [at(27).toISOString(), at(-20).toISOString(), 0],
      [at(27).toISOString(), at(-20).toISOString(), 0],
    ]);
    const runs = await rollup().runs({ limit: 1000, level: 'hourly' });
    const scheduled = runs.filter((run) => run.runId === report.runId);
    expect(scheduled).toHaveLength(94);
    expect(scheduled.every((run) => run.trigger === 'schedule' && run.outcome === 'ok' && run.host.length > 0 && run.durationMs !== null)).toBe(true);
    expect(scheduled.reduce((sum, run) => sum + run.rowsRead, 0)).toBe(
      (await sumOf(0, 'analytics_realtime', 'created_at', at(-20), at(27), 'COUNT(*)')) + (await sumOf(1, 'analytics_realtime', 'created_at', at(-20), at(27), 'COUNT(*)')),
    );
  });

  it('re-running a window gives byte-identical rows', async () => {
    const snapshot = () =>
      Promise.all(bothShards.map((shard) => query<unknown[]>(shard, 'SELECT site_id, hour_start, page_views, visitors, HEX(visitors_sketch) AS sketch FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? ORDER BY site_id, hour_start', [at(14), at(17)])));
    const before = await snapshot();
    expect(before.every((rows) => rows.length > 0)).toBe(true);
    expect((await rollup().runRange('hourly', at(14), at(17), { trigger: 'manual' })).ok).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it('stores each hourly sketch as the set of the hour\'s visitors, never larger than the dense form; a sketch SQL cut short is rebuilt from raw', async () => {
    const start = at(15);
    const end = at(16);
    const sketches = (shard: number) =>
      query<Array<{ site_id: number; page_views: number; visitors: number; visitors_sketch: Buffer }>>(shard, 'SELECT site_id, page_views, visitors, visitors_sketch FROM analytics_hourly WHERE hour_start = ? ORDER BY site_id', [start]);
    const visitorIds = async (shard: number, site: number) =>
      (await query<Array<{ v: string }>>(shard, 'SELECT CAST(visitor_id AS CHAR) AS v FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?', [site, start, end])).map((row) => row.v);
    expect((await rollup().runRange('hourly', start, end, { trigger: 'manual' })).ok).toBe(true);
    let repeated = 0;
    for (const shard of bothShards) {
      for (const row of await sketches(shard)) {
        const ids = await visitorIds(shard, row.site_id);
        // As SQL wrote it (one entry a page view) up to 4,096 page views, compacted from Node beyond.
        expect(row.visitors_sketch.length).toBeLessThanOrEqual(DENSE_SKETCH_BYTES);
        expect(mergeSketches([row.visitors_sketch]).equals(sketchOf(ids))).toBe(true);
        if (Number(row.page_views) > Number(row.visitors)) repeated += 1;
      }
    }
    expect(repeated).toBeGreaterThan(5);
    // A GROUP_CONCAT limit of 10 entries cuts every busier site's SQL sketch; those are rebuilt from raw.
    const cutShort = new ClusterRollupService(cluster.services.connections, cluster.services.state, silentLogger.scope('rollup'), { tuning: { sqlSketchBytes: 2 + 4 * 10 } });
    try {
      expect((await cutShort.runRange('hourly', start, end, { trigger: 'manual' })).ok).toBe(true);
    } finally {
      await cutShort.dispose();
    }
    let rebuilt = 0;
    for (const shard of bothShards) {
      for (const row of await sketches(shard)) {
        const ids = await visitorIds(shard, row.site_id);
        expect(Number(row.page_views)).toBe(ids.length);
        expect(Number(row.visitors)).toBe(new Set(ids).size);
        if (Number(row.page_views) > 10) {
          rebuilt += 1;
          expect(row.visitors_sketch.equals(sketchOf(ids))).toBe(true);
        } else {
          expect(mergeSketches([row.visitors_sketch]).equals(sketchOf(ids))).toBe(true);
        }
      }
    }
    expect(rebuilt).toBeGreaterThan(5);
    expect((await rollup().runRange('hourly', start, end, { trigger: 'manual' })).ok).toBe(true);
  });

  it('takes in late raw rows by re-rolling the trailing 3 hours; older ones only with a range', async () => {
    const site = 3;
    const shard = cluster.services.connections.shardOfSite(site).index;
    const viewsAt = async (hour: Date) => {
      const [row] = await query<Array<{ page_views: number; visitors: number }>>(shard, 'SELECT page_views, visitors FROM analytics_hourly WHERE site_id = ? AND hour_start = ?', [site, hour]);
      return { pageViews: Number(row?.page_views ?? 0), visitors: Number(row?.visitors ?? 0) };
    };
    const insertLate = (hour: Date, visitors: number[]) =>
      query(shard, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES ?', [visitors.map((visitor) => [site, new Date(hour.getTime() + 60_000), visitor, '/late'])]);
    const recent = at(25);
    const older = at(20);
    const [recentBefore, olderBefore] = [await viewsAt(recent), await viewsAt(older)];
    await insertLate(recent, [900_000_001, 900_000_002, 900_000_002]);
    await insertLate(older, [900_000_003]);
    const report = await rollup().runDue('hourly', { trigger: 'schedule', now: NOW });
    expect(windowsOf(report, shard).map((window) => window.windowStart)).toEqual([at(24), at(25), at(26)].map((hour) => hour.toISOString()));
    expect(await viewsAt(recent)).toEqual({ pageViews: recentBefore.pageViews + 3, visitors: recentBefore.visitors + 2 });
    expect(await viewsAt(older)).toEqual(olderBefore);
    await rollup().runRange('hourly', older, at(21), { trigger: 'backfill' });
    expect(await viewsAt(older)).toEqual({ pageViews: olderBefore.pageViews + 1, visitors: olderBefore.visitors + 1 });
  });

  it('daily waits for the whole day, reconciles page views with raw and hourly, and keeps visitors within 2 %', async () => {
    const report = await rollup().runDue('daily', { trigger: 'schedule', now: NOW });
    expect(report.ok).toBe(true);
    for (const shard of bothShards) {
      // The day before yesterday lacks hours before retention's start, so only yesterday is complete.
      expect(windowsOf(report, shard).map((window) => [window.windowStart, window.watermark])).toEqual([[at(0).toISOString(), 'advanced']]);
      const raw = await sumOf(shard, 'analytics_realtime', 'created_at', at(0), at(24), 'COUNT(*)');
      expect(await sumOf(shard, 'analytics_hourly', 'hour_start', at(0), at(24))).toBe(raw);
      expect(await sumOf(shard, 'analytics_daily', 'date', at(0), at(24))).toBe(raw);
      const sites = await query<Array<{ site_id: number; visitors: number; exact: number; sketch: Buffer }>>(
        shard,
        `SELECT d.site_id, d.visitors, r.exact, d.visitors_sketch AS sketch FROM analytics_daily d
           JOIN (SELECT site_id, COUNT(DISTINCT visitor_id) AS exact FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY site_id) r USING (site_id)
          WHERE d.date = ?`,
        [at(0), at(24), at(0)],
      );
      expect(sites.length).toBeGreaterThan(10);
      const sumOfHourlyVisitors = await sumOf(shard, 'analytics_hourly', 'hour_start', at(0), at(24), 'SUM(visitors)');
      expect(sites.reduce((sum, site) => sum + Number(site.visitors), 0)).toBeLessThan(sumOfHourlyVisitors);
      for (const site of sites) {
        expect(Math.abs(Number(site.visitors) - Number(site.exact)) / Number(site.exact)).toBeLessThanOrEqual(0.02);
        expect(Math.round(estimateSketch(site.sketch))).toBeGreaterThan(0);
      }
    }
    const again = await rollup().runDue('daily', { trigger: 'schedule', now: NOW });
    expect(again.shards.map((shard) => shard.windows.length)).toEqual([0, 0]);
  });

  it('recomputes imported history of any age: raw = hourly = daily = monthly, monthly visitors within 2 %', async () => {
    const from = new Date('2024-02-01T00:00:00Z');
    const to = new Date('2024-03-01T00:00:00Z');
    await cluster.services.generator.run({ from: from.toISOString(), to: to.toISOString(), sites: 30, views: 12_000, seed: 5 });
    for (const level of ['hourly', 'daily', 'monthly'] as const) {
      const report = await rollup().runRange(level, from, to, { trigger: 'backfill' });
      expect(report.ok).toBe(true);
      expect(report.shards.map((shard) => shard.windows.length)).toEqual(level === 'hourly' ? [696, 696] : level === 'daily' ? [29, 29] : [1, 1]);
    }
    for (const shard of bothShards) {
      const raw = await sumOf(shard, 'analytics_realtime', 'created_at', from, to, 'COUNT(*)');
      expect(raw).toBeGreaterThan(4000);
      expect(await sumOf(shard, 'analytics_hourly', 'hour_start', from, to)).toBe(raw);
      expect(await sumOf(shard, 'analytics_daily', 'date', from, to)).toBe(raw);
      expect(await sumOf(shard, 'analytics_monthly', 'month_start', from, to)).toBe(raw);
      const sites = await query<Array<{ visitors: number; exact: number; page_views: number; raw_views: number }>>(
        shard,
        `SELECT m.visitors, r.exact, m.page_views, r.raw_views FROM analytics_monthly m
           JOIN (SELECT site_id, COUNT(DISTINCT visitor_id) AS exact, COUNT(*) AS raw_views FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY site_id) r USING (site_id)
          WHERE m.month_start = ?`,
        [from, to, from],
      );
      expect(sites.length).toBe(15);
      for (const site of sites) {
        expect(Number(site.page_views)).toBe(Number(site.raw_views));
        expect(Math.abs(Number(site.visitors) - Number(site.exact)) / Number(site.exact)).toBeLessThanOrEqual(0.02);
      }
    }
    // A range never starts a watermark that a schedule has not begun.
    expect((await rollup().watermarks()).filter((row) => row.level === 'monthly').map((row) => row.watermark)).toEqual([null, null]);
  });

  it('rolls windows up out of order to the same rows, and the watermark closes over them once the gap is filled', async () => {
    const site = 8;
    const shard = cluster.services.connections.shardOfSite(site).index;
    const later = { trigger: 'manual' as const, now: at(40), shards: [shard] };
    await query(shard, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES ?', [
      [27, 28, 29].flatMap((hour) => [1, 2, 3].map((visitor) => [site, new Date(at(hour).getTime() + visitor * 1000), visitor, '/'])),
    ]);
    const third = await rollup().runRange('hourly', at(29), at(30), later);
    const second = await rollup().runRange('hourly', at(28), at(29), later);
    expect([...windowsOf(third, shard), ...windowsOf(second, shard)].map((window) => window.watermark)).toEqual(['unchanged', 'unchanged']);
    const first = await rollup().runRange('hourly', at(27), at(28), later);
    expect(windowsOf(first, shard)[0]?.watermark).toBe('advanced');
    expect(first.shards[0]?.watermarkAfter).toBe(at(30).toISOString());
    const snapshot = () => query<unknown[]>(shard, 'SELECT site_id, hour_start, page_views, visitors, HEX(visitors_sketch) AS sketch FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? ORDER BY site_id, hour_start', [at(27), at(30)]);
    const outOfOrder = await snapshot();
    expect(outOfOrder).toHaveLength(3);
    await rollup().runRange('hourly', at(27), at(30), later);
    expect(await snapshot()).toEqual(outOfOrder);
  });

  it('a shard killed mid-rollup keeps its watermark while the other shard finishes; the failure is recorded', async () => {
    const [before] = (await rollup().watermarks()).filter((row) => row.level === 'hourly' && row.shard === 1);
    const pid = Number(readFileSync(join(cluster.dir, 'shard1', 'mysqld.pid'), 'utf8').trim());
    const report = await rollup().runDue('hourly', {
      trigger: 'catch-up',
      now: at(34.5),
      onProgress: (event) => {
        if (event.kind === 'window-started' && event.shard === 1 && event.windowStart === at(31).toISOString()) process.kill(pid, 'SIGKILL');
      },
    });
    expect(report.ok).toBe(false);
    expect(windowsOf(report, 0).every((window) => window.outcome === 'ok')).toBe(true);
    expect(report.shards[0]?.watermarkAfter).toBe(at(34).toISOString());
    const shard1 = windowsOf(report, 1);
    const failed = shard1.at(-1);
    expect(failed).toMatchObject({ windowStart: at(31).toISOString(), outcome: 'failed' });
    expect(shard1.slice(0, -1).every((window) => window.outcome === 'ok')).toBe(true);
    expect(report.shards[1]?.watermarkAfter).toBe(at(31).toISOString());

    const failures = (await rollup().runs({ limit: 20, level: 'hourly' })).filter((run) => run.runId === report.runId && run.outcome === 'failed');
    expect(failures).toEqual([expect.objectContaining({ shard: 1, windowStart: at(31).toISOString(), trigger: 'catch-up' })]);

    await cluster.startShard(1);
    const after = (await rollup().watermarks()).filter((row) => row.level === 'hourly' && row.shard === 1)[0];
    expect(after?.watermark).toBe(at(31).toISOString());
    expect(after?.watermark).not.toBe(before?.watermark);
    const resumed = await rollup().runDue('hourly', { trigger: 'catch-up', now: at(34.5), shards: [1] });
    expect(resumed.ok).toBe(true);
    expect(resumed.shards[0]?.watermarkAfter).toBe(at(34).toISOString());
  });

  it('fences: a stale lease holder cannot move a watermark, and its run says so', async () => {
    const onShard0 = (sql: string, params?: unknown[]) => query(0, sql, params);
    const move = (to: Date, fencingToken?: number) => advanceWatermark(onShard0, { level: 'monthly', to, fencingToken, by: 'test', at: new Date() });
    expect(await move(new Date('2024-03-01T00:00:00Z'), 5)).toBe('advanced');
    expect(await move(new Date('2024-04-01T00:00:00Z'), 3)).toBe('fenced');
    expect(await move(new Date('2024-04-01T00:00:00Z'))).toBe('fenced');
    expect(await move(new Date('2024-02-01T00:00:00Z'), 5)).toBe('unchanged');
    expect(await move(new Date('2024-04-01T00:00:00Z'), 6)).toBe('advanced');
    const [row] = await query<Array<{ watermark: Date; fencing_token: number }>>(0, "SELECT watermark, fencing_token FROM strata_watermarks WHERE level = 'monthly'");
    expect([row?.watermark.toISOString(), Number(row?.fencing_token)]).toEqual(['2024-04-01T00:00:00.000Z', 6]);

    expect((await rollup().runDue('hourly', { trigger: 'schedule', now: at(35.5), shards: [0], fencingToken: 9 })).ok).toBe(true);
    const stale = await rollup().runDue('hourly', { trigger: 'schedule', now: at(36.5), shards: [0], fencingToken: 4 });
    expect(stale.ok).toBe(false);
    expect(windowsOf(stale, 0).at(-1)).toMatchObject({ windowStart: at(35).toISOString(), outcome: 'fenced', watermark: 'fenced' });
    expect(stale.shards[0]?.watermarkAfter).toBe(at(35).toISOString());
    const [recorded] = await rollup().runs({ limit: 1, level: 'hourly' });
    expect(recorded).toMatchObject({ outcome: 'fenced', fencingToken: 4, windowStart: at(35).toISOString() });
  });

  it('strata rollup and strata runs on the command line; bad input is refused with one line and nothing run', async () => {
    const countRuns = async () => Number((await query<Array<{ n: number }>>(0, 'SELECT COUNT(*) AS n FROM strata_job_runs'))[0]?.n);
    const before = await countRuns();
    const profile = ['--profile', cluster.profilePath];
    const refusals: Array<[string[], RegExp]> = [
      [['rollup', '--level', 'weekly'], /--level must be one of hourly, daily, monthly, got 'weekly'/],
      [['rollup', '--level', 'hourly', '--from', at(5).toISOString(), '--to', at(4).toISOString()], /--from .* must be before --to/],
      [['rollup', '--level', 'hourly', '--from', at(5).toISOString()], /--from and --to go together/],
      [['rollup', '--level', 'hourly', '--from', 'yesterday', '--to', at(4).toISOString()], /--from must be an ISO-8601 UTC time/],
      [['rollup', '--level', 'hourly', '--shards', '0,5'], /shard 5 does not exist; the profile has 2 shards/],
      [['runs', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    ];
    for (const [args, message] of refusals) {
      const run = await runCli([...args, ...profile]);
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
    expect(await countRuns()).toBe(before);

    const run = await runCli(['rollup', '--level', 'hourly', '--from', at(12).toISOString(), '--to', at(13).toISOString(), '--shards', '1', '--json', ...profile]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as RollupReport;
    expect(report).toMatchObject({ ok: true, trigger: 'manual', shards: [{ shard: 1, windows: [{ windowStart: at(12).toISOString(), outcome: 'ok' }] }] });
    const runs = await runCli(['runs', '--limit', '1', '--json', ...profile]);
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([expect.objectContaining({ runId: report.runId, shard: 1, trigger: 'manual', outcome: 'ok' })]);
    const text = await runCli(['runs', '--limit', '2', '--level', 'hourly', ...profile]);
    expect(text.stdout.split('\n')[0]).toMatch(/^STARTED\s+SHARD\s+LEVEL\s+WINDOW START\s+TRIGGER\s+OUTCOME\s+READ\s+WRITTEN\s+MS\s+HOST/);
  });
});
