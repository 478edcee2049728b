import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { ErrorCode } from '../../src/shared/errors';
import type { RollupLevel } from '../../src/shared/rollup';
import type { TrafficAnswer, TrafficRequest } from '../../src/shared/traffic';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = new Date();
/** The current hour's start: shard 0 has rolled up every hour before it, shard 1 lags into yesterday's last hour. */
const T = new Date(Math.floor(NOW.getTime() / HOUR) * HOUR);
const TODAY = new Date(Math.floor(NOW.getTime() / DAY) * DAY);
const THIS_MONTH = new Date(Date.UTC(NOW.getUTCFullYear(), NOW.getUTCMonth(), 1));
// Whatever the time of day, shard 1's daily mark is yesterday: its charts join daily, hourly and raw rows.
const LAG_HOURS = (T.getTime() - TODAY.getTime()) / HOUR + 1;
const iso = (at: Date) => at.toISOString();
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const dayOf = (at: Date) => new Date(Math.floor(at.getTime() / DAY) * DAY);
const monthOf = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
function shardMarks(shard: number): Record<RollupLevel, Date> {
  const hourly = shard === 0 ? T : new Date(T.getTime() - LAG_HOURS * HOUR);
  return { hourly, daily: dayOf(hourly), monthly: monthOf(dayOf(hourly)) };
}

describe('traffic charts on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const traffic = () => cluster.services.traffic;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  let busiest: number;

  /** Page views and exact distinct visitors straight from raw rows, per shard, as an independent check. */
  async function rawTruth(from: string, to: string, siteId?: number): Promise<{ pageViews: number; visitors: number }> {
    const site = siteId === undefined ? '' : 'AND site_id = ?';
    const params = siteId === undefined ? [new Date(from), new Date(to)] : [new Date(from), new Date(to), siteId];
    let pageViews = 0;
    let visitors = 0;
    for (const shard of [0, 1]) {
      const rows = await query<Array<{ views: number | string; visitors: number | string }>>(
        shard,
        `SELECT COUNT(*) AS views, COUNT(DISTINCT visitor_id) AS visitors FROM analytics_realtime WHERE created_at >= ? AND created_at < ? ${site} GROUP BY site_id`,
        params,
      );
      for (const row of rows) {
        pageViews += Number(row.views);
        visitors += Number(row.visitors);
      }
    }
    return { pageViews, visitors };
  }

  async function rawPerPeriod(answer: TrafficAnswer, siteId?: number): Promise<Map<string, number>> {
    const bucket = { hour: "DATE_FORMAT(created_at, '%Y-%m-%d %H:00:00')", day: 'DATE(created_at)', month: "DATE_FORMAT(created_at, '%Y-%m-01')" }[answer.period];
    const site = siteId === undefined ? '' : 'AND site_id = ?';
    const counts = new Map<string, number>();
    for (const shard of [0, 1]) {
      const rows = await query<Array<{ t: number | string; views: number | string }>>(
        shard,
        `SELECT UNIX_TIMESTAMP(${bucket}) AS t, COUNT(*) AS views FROM analytics_realtime WHERE created_at >= ? AND created_at < ? ${site} GROUP BY t`,
        [new Date(answer.from), new Date(answer.to), ...(siteId === undefined ? [] : [siteId])],
      );
      for (const row of rows) {
        const key = new Date(Number(row.t) * 1000).toISOString();
        counts.set(key, (counts.get(key) ?? 0) + Number(row.views));
      }
    }
    return counts;
  }

  /** Site ids by raw page views in [from, to), busiest first, over both shards. */
  async function rawRanking(from: Date, to: Date): Promise<number[]> {
    const counts: Array<[number, number]> = [];
    for (const shard of [0, 1]) {
      const rows = await query<Array<{ site_id: number; views: number | string }>>(shard, 'SELECT site_id, COUNT(*) AS views FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY site_id', [from, to]);
      for (const row of rows) counts.push([Number(row.site_id), Number(row.views)]);
    }
    return counts.sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([site]) => site);
  }

  const chart = (request: Omit<TrafficRequest, 'cache'>) => traffic().chart({ ...request, cache: false });

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    const generate = (from: Date, to: Date, views: number, seed: number) => cluster.services.generator.run({ from: iso(from), to: iso(to), sites: 12, views, seed });
    // Dense: the last 30 days up to now. Sparse: one day in each of the 13 months before, so a year's charts have history.
    await generate(new Date(TODAY.getTime() - 30 * DAY), NOW, 24_000, 1);
    const sparseDays = Array.from({ length: 13 }, (_, index) => new Date(TODAY.getTime() - (45 + index * 30) * DAY));
    for (const [index, start] of sparseDays.entries()) await generate(start, new Date(start.getTime() + DAY), 600, 100 + index);
    const rollup = cluster.services.rollup;
    const manual = { trigger: 'manual' as const };
    const yearAgo = new Date(Date.UTC(NOW.getUTCFullYear() - 1, NOW.getUTCMonth() - 2, 1));
    for (const start of sparseDays) await rollup.runRange('hourly', start, new Date(start.getTime() + DAY), manual);
    // Shard 1's last hours are not rolled up: its hourly watermark lags, and its daily and monthly marks never pass it
    // (yesterday, and on the 1st the month before).
    for (const shard of [0, 1]) {
      const marks = shardMarks(shard);
      await rollup.runRange('hourly', new Date(TODAY.getTime() - 30 * DAY), marks.hourly, { ...manual, shards: [shard] });
      await rollup.runRange('daily', yearAgo, marks.daily, { ...manual, shards: [shard] });
      await rollup.runRange('monthly', yearAgo, marks.monthly, { ...manual, shards: [shard] });
      for (const level of ['hourly', 'daily', 'monthly'] as const) {
        await advanceWatermark((sql, params) => query(shard, sql, params), { level, to: marks[level], by: 'traffic-test', at: NOW, coveredFrom: yearAgo });
      }
    }
    busiest = (await rawRanking(new Date(TODAY.getTime() - 30 * DAY), NOW))[0]!;
  }, 600_000);

  afterAll(async () => {
    await cluster?.down();
  });

  const ranges: Array<{ name: string; from: Date; to: Date; table: string }> = [
    { name: '24 h', from: ago(DAY), to: NOW, table: 'analytics_hourly' },
    { name: '2 days', from: ago(2 * DAY), to: NOW, table: 'analytics_hourly' },
    { name: '3 days', from: ago(3 * DAY), to: NOW, table: 'analytics_daily' },
    { name: '30 days', from: ago(30 * DAY), to: NOW, table: 'analytics_daily' },
    { name: '1 year', from: ago(365 * DAY), to: NOW, table: 'analytics_daily' },
    { name: '5 years', from: ago(5 * 365 * DAY), to: NOW, table: 'analytics_monthly' },
    { name: '2 days from 10 days ago (no hourly rows kept)', from: ago(10 * DAY), to: ago(8 * DAY), table: 'analytics_daily' },
    { name: '400 days ending 20 days ago', from: ago(420 * DAY), to: ago(20 * DAY), table: 'analytics_monthly' },
  ];

  it.each(ranges)('$name: reads $table, and page views equal COUNT(*) over raw rows, period by period', async ({ from, to, table }) => {
    for (const scope of [{ kind: 'cluster' as const }, { kind: 'site' as const, siteId: busiest }]) {
      const answer = await chart({ scope, from: iso(from), to: iso(to) });
      expect(answer.table).toBe(table);
      expect(answer.reason.length).toBeGreaterThan(10);
      expect(answer.partial).toBe(false);
      const siteId = scope.kind === 'site' ? scope.siteId : undefined;
      const truth = await rawTruth(answer.from, answer.to, siteId);
      expect(answer.totals.pageViews).toBe(truth.pageViews);
      expect(answer.series.reduce((sum, point) => sum + point.pageViews, 0)).toBe(truth.pageViews);
      const perPeriod = await rawPerPeriod(answer, siteId);
      for (const point of answer.series) expect([point.t, point.pageViews]).toEqual([point.t, perPeriod.get(point.t) ?? 0]);
    }
  });

  it('says why a 2-day range from 10 days ago reads daily rows', async () => {
    const answer = await chart({ scope: { kind: 'cluster' }, from: iso(ago(10 * DAY)), to: iso(ago(8 * DAY)) });
    expect(answer.table).toBe('analytics_daily');
    expect(answer.reason).toMatch(/^the range is 2 days, under 3 days: hourly rows; hourly rows are kept 7 days \(from \d{4}-\d\d-\d\d\), the range starts \d{4}-\d\d-\d\d: daily rows$/);
  });

  it.each([
    { name: '1 day', from: ago(DAY) },
    { name: '30 days', from: ago(30 * DAY) },
    { name: 'a year', from: ago(365 * DAY) },
  ])('visitors over $name are within 2 % of COUNT(DISTINCT) over raw rows, for a site and for the cluster', async ({ from }) => {
    for (const scope of [{ kind: 'site' as const, siteId: busiest }, { kind: 'cluster' as const }]) {
      const answer = await chart({ scope, from: iso(from), to: iso(NOW) });
      const truth = await rawTruth(answer.from, answer.to, scope.kind === 'site' ? scope.siteId : undefined);
      expect(truth.visitors).toBeGreaterThan(100);
      expect(Math.abs(answer.totals.visitors - truth.visitors) / truth.visitors).toBeLessThanOrEqual(0.02);
      // Never a sum over periods: visitors return, so the sum of the points is larger than the range's uniques.
      expect(answer.series.reduce((sum, point) => sum + point.visitors, 0)).toBeGreaterThan(answer.totals.visitors);
    }
  });

  it('marks the windows past a lagging watermark provisional and takes them from raw rows', async () => {
    const answer = await chart({ scope: { kind: 'cluster' }, from: iso(ago(DAY)), to: iso(NOW) });
    const lagStart = new Date(T.getTime() - LAG_HOURS * HOUR).toISOString();
    const provisional = answer.series.filter((point) => point.provisional).map((point) => point.t);
    expect(provisional[0]).toBe(lagStart);
    expect(provisional).toHaveLength(LAG_HOURS + 1);
    expect(answer.series.at(-1)?.t).toBe(T.toISOString());
    expect(answer.provisionalNote).toContain(`${cluster.services.connections.shards[1]!.label} from`);
    // Shard 1 has no hourly rows for those hours: the points hold its raw rows all the same (no false drop).
    const [rolled] = await query<Array<{ n: number | string }>>(1, 'SELECT COUNT(*) AS n FROM analytics_hourly WHERE hour_start >= ?', [new Date(lagStart)]);
    expect(Number(rolled!.n)).toBe(0);
    const perPeriod = await rawPerPeriod(answer);
    for (const point of answer.series.filter((entry) => entry.provisional)) expect([point.t, point.pageViews]).toEqual([point.t, perPeriod.get(point.t) ?? 0]);
    // A month that is not rolled up (this one) is read from daily, hourly and raw rows, and is provisional.
    const long = await chart({ scope: { kind: 'cluster' }, from: iso(ago(5 * 365 * DAY)), to: iso(NOW) });
    expect(long.series.at(-1)).toMatchObject({ t: THIS_MONTH.toISOString(), provisional: true });
    const unrolledMonths = shardMarks(1).monthly < THIS_MONTH ? 2 : 1;
    expect(long.series.filter((point) => point.provisional)).toHaveLength(unrolledMonths);
  });

  it('ranks the top sites by page views, each with its own visitors', async () => {
    const from = iso(ago(30 * DAY));
    const answer = await chart({ scope: { kind: 'top', limit: 3 }, from, to: iso(NOW) });
    expect(answer.top!.map((row) => row.siteId)).toEqual((await rawRanking(new Date(answer.from), new Date(answer.to))).slice(0, 3));
    const views = answer.top!.map((row) => row.pageViews);
    expect([...views].sort((a, b) => b - a)).toEqual(views);
    for (const row of answer.top!) {
      const truth = await rawTruth(answer.from, answer.to, row.siteId);
      expect(row.pageViews).toBe(truth.pageViews);
      expect(Math.abs(row.visitors - truth.visitors) / truth.visitors).toBeLessThanOrEqual(0.02);
    }
    expect(answer.totals.pageViews).toBe(views.reduce((sum, value) => sum + value, 0));
  });

  it('refuses a bad range or site id with TrafficInvalid', async () => {
    await expect(traffic().chart({ scope: { kind: 'cluster' }, from: iso(NOW), to: iso(ago(DAY)) })).rejects.toMatchObject({ code: ErrorCode.TrafficInvalid });
    await expect(traffic().chart({ scope: { kind: 'cluster' }, from: 'yesterday', to: iso(NOW) })).rejects.toMatchObject({ code: ErrorCode.TrafficInvalid });
    await expect(traffic().chart({ scope: { kind: 'site', siteId: -1 }, from: iso(ago(DAY)), to: iso(NOW) })).rejects.toMatchObject({ code: ErrorCode.TrafficInvalid });
  });

  it('lists the busiest sites for the picker and finds one by id', async () => {
    const since = new Date(T.getTime() - 23 * HOUR);
    const all = await traffic().sites({});
    const ranking = await rawRanking(since, new Date(Date.now() + 1000));
    expect(all.sites.map((site) => site.siteId)).toEqual(ranking.slice(0, 20));
    expect(all.sites[0]!.pageViews24h).toBe((await rawTruth(iso(since), iso(new Date(Date.now() + 1000)), ranking[0])).pageViews);
    const found = await traffic().sites({ search: String(busiest) });
    expect(found.sites.map((site) => site.siteId)).toContain(busiest);
  });

  it('caches a chart under strata:chart:v1: and says so on the second call', async () => {
    const request = { scope: { kind: 'site' as const, siteId: busiest }, from: iso(ago(7 * DAY)), to: iso(NOW) };
    const first = await traffic().chart(request);
    expect(first.cache).toMatchObject({ state: 'miss', hit: false, ttlSeconds: 3600 });
    const second = await traffic().chart(request);
    expect(second.cache).toMatchObject({ state: 'hit', hit: true, ttlSeconds: 3600 });
    expect(second.series).toEqual(first.series);
    const redis = await cluster.services.connections.redisClient();
    const keys = await redis.keys('strata:chart:v1:*');
    expect(keys).toContain(`strata:chart:v1:site:${busiest}:${new Date(request.from).toISOString()}:${new Date(request.to).toISOString()}`);
    const ttl = await redis.ttl(keys.find((key) => key.includes(`site:${busiest}`))!);
    expect(ttl).toBeGreaterThan(3500);
    const day = await traffic().chart({ scope: { kind: 'cluster' }, from: iso(ago(DAY)), to: iso(NOW) });
    expect(day.cache).toMatchObject({ state: 'miss', ttlSeconds: 300 });
  });

  it('strata traffic prints the table and why, provisional periods and the cache, and refuses a bad scope with 13001', async () => {
    const profile = ['--profile', cluster.profilePath];
    const from = iso(ago(DAY));
    const run = await runCli(['traffic', '--cluster', '--from', from, '--to', iso(NOW), '--no-cache', ...profile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cluster: .* from analytics_hourly\nwhy: the range is 24 h, under 3 days: hourly rows\nprovisional: not rolled up hourly yet/);
    expect(run.stdout).toContain('cache: uncached: not asked to use the cache');
    expect(run.stdout).toMatch(new RegExp(`${T.toISOString().replace(':00.000Z', 'Z')}\\s+[\\d,]+\\s+[\\d,]+\\s+provisional`));
    const truth = await rawTruth(iso(new Date(Math.floor(ago(DAY).getTime() / HOUR) * HOUR)), iso(new Date(T.getTime() + HOUR)));
    expect(run.stdout).toMatch(new RegExp(`\\ntotal\\s+${truth.pageViews.toLocaleString('en-US')}\\s`));
    const json = await runCli(['traffic', '--top', '2', '--from', iso(ago(30 * DAY)), '--to', iso(NOW), '--json', ...profile]);
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout) as TrafficAnswer;
    expect([answer.table, answer.top?.length, answer.cache.state]).toEqual(['analytics_daily', 2, 'miss']);
    const again = JSON.parse((await runCli(['traffic', '--top', '2', '--from', iso(ago(30 * DAY)), '--to', iso(NOW), '--json', ...profile])).stdout) as TrafficAnswer;
    expect(again.cache).toMatchObject({ state: 'hit', hit: true, from: 'redis' });
    for (const args of [['--site', '1', '--cluster'], ['--top', '0'], ['--site', 'x']]) {
      const refused = await runCli(['traffic', ...args, '--from', from, '--to', iso(NOW), ...profile]);
      expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/^strata: error 13001 \(TrafficInvalid\): /)]);
    }
  });

  it('answers with the shards that did, names the one that did not, caches nothing, and the command exits 1', async () => {
    await cluster.stopShard(1);
    try {
      // A range no earlier test asked for, so nothing answers it from the cache.
      const answer = await traffic().chart({ scope: { kind: 'cluster' }, from: iso(ago(20 * HOUR)), to: iso(NOW) });
      const shard1 = cluster.services.connections.shards[1]!.label;
      expect(answer.partial).toBe(true);
      expect(answer.shards.answered).toEqual([0]);
      expect(answer.shards.failed.map((entry) => [entry.shard, entry.shardName])).toEqual([[1, shard1]]);
      expect(answer.cache).toMatchObject({ state: 'uncached', reason: expect.stringContaining('partial answer is not cached') });
      const [row] = await query<Array<{ n: number | string }>>(0, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [new Date(answer.from), new Date(answer.to)]);
      expect(answer.totals.pageViews).toBe(Number(row!.n));
      const run = await runCli(['traffic', '--cluster', '--from', iso(ago(20 * HOUR)), '--to', iso(NOW), '--profile', cluster.profilePath]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^strata: partial result: the chart lacks ${shard1}: error 300\\d`));
      expect(run.stdout).toContain(`PARTIAL: lacks ${shard1}`);
      // A site on the stopped shard has no shard to answer: a coded error, not an empty chart.
      const siteOnShard1 = [1, 3, 5, 7].find((site) => cluster.services.connections.shardOfSite(site).index === 1)!;
      await expect(traffic().chart({ scope: { kind: 'site', siteId: siteOnShard1 }, from: iso(ago(DAY)), to: iso(NOW) })).rejects.toMatchObject({ code: ErrorCode.TrafficUnavailable });
    } finally {
      await cluster.startShard(1);
    }
  });

  it('serves charts from the shards, marked uncached, while Redis is down, and caches again once it is back', async () => {
    await cluster.stopRedis();
    const answer = await traffic().chart({ scope: { kind: 'site', siteId: busiest }, from: iso(ago(DAY)), to: iso(NOW) });
    expect(answer.cache.state).toBe('uncached');
    expect(answer.cache.state === 'uncached' && answer.cache.reason).toMatch(/Redis is unavailable/);
    const truth = await rawTruth(answer.from, answer.to, busiest);
    expect(answer.totals.pageViews).toBe(truth.pageViews);
    // Redis back (empty): charts are cached again without a restart of the process.
    await cluster.startRedis();
    let state = answer.cache.state;
    for (let attempt = 0; attempt < 40 && state !== 'miss'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = (await traffic().chart({ scope: { kind: 'site', siteId: busiest }, from: iso(ago(DAY)), to: iso(NOW) })).cache.state;
    }
    expect(state).toBe('miss');
    expect((await traffic().chart({ scope: { kind: 'site', siteId: busiest }, from: iso(ago(DAY)), to: iso(NOW) })).cache.state).toBe('hit');
  });
  // Last: it rolls up shard 1's lagging hours, which the tests above need lagging.
  it('reads a shard again with its new watermark when a rollup moved it since the last chart', async () => {
    const range = { scope: { kind: 'cluster' as const }, from: iso(ago(DAY)), to: iso(NOW) };
    const before = await chart(range);
    expect(before.series.filter((point) => point.provisional)).toHaveLength(LAG_HOURS + 1);
    const lagStart = new Date(T.getTime() - LAG_HOURS * HOUR);
    await cluster.services.rollup.runRange('hourly', lagStart, T, { trigger: 'manual', shards: [1] });
    await advanceWatermark((sql, params) => query(1, sql, params), { level: 'hourly', to: T, by: 'traffic-test', at: NOW });
    // This process last saw shard 1 lag: the chart it plans with that is read again with the watermark now stored.
    const after = await chart(range);
    expect(after.series.filter((point) => point.provisional).map((point) => point.t)).toEqual([T.toISOString()]);
    const minute = (at: Date) => at.toISOString().replace(':00.000Z', 'Z');
    expect(after.provisionalNote).toContain(`${cluster.services.connections.shards[1]!.label} from ${minute(T)}`);
    expect(after.provisionalNote).not.toContain(minute(lagStart));
    const perPeriod = await rawPerPeriod(after);
    for (const point of after.series) expect([point.t, point.pageViews]).toEqual([point.t, perPeriod.get(point.t) ?? 0]);
    expect(after.totals.pageViews).toBe((await rawTruth(after.from, after.to)).pageViews);
  });
});
