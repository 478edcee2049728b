import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheInvalidationResult, CacheKeysReport, CacheStats } from '../../src/shared/cache';
import { ErrorCode } from '../../src/shared/errors';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: its raw rows are within retention, so a backfill of the day can read them. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const date = (offsetDays: number) => new Date(D0 + offsetDays * DAY).toISOString().slice(0, 10);
const YESTERDAY = date(0);
const TODAY = date(1);
const PREFIX = 'laravel_database_laravel_cache_:';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The application's keys as Laravel writes them. Sites 2 and 4 live on shard 0, site 3 on shard 1 (site_id % 2).
 * A daily backfill of yesterday on shard 0 makes `stale` wrong; `fresh` must survive it.
 */
const stale = [`site_2_stats_24h`, `chart_2_1d_${YESTERDAY}_${YESTERDAY}`, `chart_2_30d_${date(-29)}_${YESTERDAY}`, `chart_4_7d_${date(-6)}_${TODAY}`].map((key) => PREFIX + key);
const fresh = [
  `${PREFIX}chart_2_1d_${date(-2)}_${date(-2)}`,
  `${PREFIX}chart_2_1d_${TODAY}_${TODAY}`,
  `${PREFIX}chart_3_1d_${YESTERDAY}_${YESTERDAY}`,
  `${PREFIX}site_3_stats_24h`,
  `${PREFIX}user_2_profile`,
  `other_app:chart_2_1d_${YESTERDAY}_${YESTERDAY}`,
];

describe("the application's Redis cache on a 2-shard cluster", () => {
  let cluster: TestCluster;
  let redis: Redis;
  const profile = () => ['--profile', cluster.profilePath];
  const existing = async (keys: string[]) => (await Promise.all(keys.map(async (key) => ((await redis.exists(key)) === 1 ? key : undefined)))).filter(Boolean);

  async function seed(): Promise<void> {
    for (const [index, key] of [...stale, ...fresh].entries()) await redis.set(key, JSON.stringify({ series: Array.from({ length: 24 + index }, (_, hour) => hour) }), 'EX', 3600);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    redis = new Redis(cluster.profile.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    // Its reconnect attempts while Redis is stopped are expected; unhandled they would only clutter the output.
    redis.on('error', () => {});
    await cluster.services.generator.run({ from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString(), sites: 6, views: 3000, seed: 12 });
    // The scheduled hourly rollup (it begins the watermark a reconciliation compares up to), and yesterday's day.
    expect((await cluster.services.rollup.runDue('hourly', { trigger: 'schedule' })).ok).toBe(true);
    expect((await cluster.services.rollup.runRange('daily', new Date(D0), new Date(D0 + DAY), { trigger: 'manual' })).ok).toBe(true);
    // The month too, so a reconciliation of yesterday finds every level matching when it lies in a closed month.
    const month = new Date(D0);
    expect((await cluster.services.rollup.runRange('monthly', new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1)), new Date(Date.UTC(month.getUTCFullYear(), month.getUTCMonth() + 1, 1)), { trigger: 'manual' })).ok).toBe(true);
  });

  afterAll(async () => {
    redis?.disconnect();
    await cluster?.down();
  });

  it('migration 9 leaves every shard matching the expected schema', async () => {
    const report = await cluster.services.schema.check();
    expect(report.shards.map((shard) => shard.drift)).toEqual([[], []]);
  });

  it('a backfill of a day deletes the keys of its shard overlapping the day, keeps the others, and records the count', async () => {
    await seed();
    // Strata's own Traffic charts of the day, cached: site 2's (shard 0) and the cluster's are stale after the backfill, site 3's is not.
    const day = { from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString() };
    const charts = [{ kind: 'site', siteId: 2 }, { kind: 'site', siteId: 3 }, { kind: 'cluster' }] as const;
    for (const scope of charts) await cluster.services.traffic.chart({ scope, ...day });
    expect((await Promise.all(charts.map(async (scope) => (await cluster.services.traffic.chart({ scope, ...day })).cache.state)))).toEqual(['hit', 'hit', 'hit']);
    const run = await cluster.services.backfill.start({ level: 'daily', from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString(), shards: [0] });
    const outcome = await run.finished;
    expect(outcome.record.state).toBe('done');
    expect(await existing(stale)).toEqual([]);
    expect(await existing(fresh)).toEqual(fresh);
    expect((await Promise.all(charts.map(async (scope) => (await cluster.services.traffic.chart({ scope, ...day })).cache.state)))).toEqual(['miss', 'hit', 'miss']);

    const log = await cluster.services.cache.invalidations(5);
    expect(log.entries[0]).toMatchObject({
      runKind: 'backfill',
      runId: String(run.record.id),
      shards: [0],
      from: new Date(D0).toISOString(),
      to: new Date(D0 + DAY).toISOString(),
      keysDeleted: stale.length,
      outcome: 'invalidated',
    });
    const audit = await cluster.services.state.audit.list({ kind: 'cache', limit: 5 });
    expect(audit[0]).toMatchObject({ action: 'cache.invalidate', target: `backfill ${run.record.id}` });
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ keysDeleted: stale.length, outcome: 'invalidated' });
  });

  it('a reconciliation that re-rolls late rows of a site invalidates its keys; one that finds nothing deletes none', async () => {
    await seed();
    const nothing = await cluster.services.reconcile.runManually({ from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString() });
    expect(nothing.shards.every((shard) => shard.outcome === 'matched')).toBe(true);
    expect(await existing(stale)).toEqual(stale);

    await cluster.services.connections.query(0, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [2, new Date(D0 + 23 * HOUR + 60_000), 999_999, '/late']);
    const report = await cluster.services.reconcile.runManually({ from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString() });
    expect(report.shards[0]!.outcome).toBe('repaired');
    // The late hour is yesterday 23:00, within the last 24 h: the stats and every chart over yesterday of shard 0's sites go.
    expect(await existing(stale)).toEqual([]);
    expect(await existing(fresh)).toEqual(fresh);
    expect((await cluster.services.cache.invalidations(1)).entries[0]).toMatchObject({ runKind: 'reconcile', runId: report.runId, shards: [0], keysDeleted: stale.length });
  });

  it('cache keys and stats read the keys with TTL and size, the hit ratio, memory and the log', async () => {
    await seed();
    const keys = await cluster.services.cache.keys({ siteId: 2 });
    expect(keys.keys.map((key) => key.key).sort()).toEqual([...stale.slice(0, 3), fresh[0], fresh[1]].sort());
    for (const key of keys.keys) {
      expect(key.ttlSeconds).toBeGreaterThan(3000);
      expect(key.sizeBytes).toBeGreaterThan(20);
    }
    expect(keys.keys.find((key) => key.kind === 'chart' && key.period === '30d')).toMatchObject({ startDate: date(-29), endDate: YESTERDAY });
    await redis.get(stale[0]!);
    await redis.get(`${PREFIX}missing`);
    const stats = await cluster.services.cache.stats();
    expect(stats.keysByKind).toEqual({ stats: 2, chart: 6 });
    expect(stats.sites).toBe(3);
    expect(stats.topSites[0]).toEqual({ siteId: 2, keys: 5 });
    expect(stats.hits).toBeGreaterThan(0);
    expect(stats.misses).toBeGreaterThan(0);
    expect(stats.hitRatio).toBeGreaterThan(0);
    expect(stats.usedMemoryBytes).toBeGreaterThan(0);
    expect(stats.invalidations.entries.map((entry) => entry.runKind)).toEqual(['reconcile', 'backfill']);

    const cli = await runCli(['cache', 'stats', '--json', ...profile()]);
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as CacheStats).keysByKind).toEqual({ stats: 2, chart: 6 });
    const listed = await runCli(['cache', 'keys', '--site', '3', '--json', ...profile()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as CacheKeysReport).keys.map((key) => key.key).sort()).toEqual([fresh[2], fresh[3]].sort());
    const text = await runCli(['cache', 'stats', ...profile()]);
    expect(text.stdout).toMatch(/hit ratio \d+\.\d %/);
    expect(text.stdout).toMatch(/keys: 6 chart, 2 stats, over 3 sites/);
    expect(text.stdout).toMatch(new RegExp(`reconcile .*shards 0 .* ${stale.length}`));
  });

  it('a ranged rollup over windows already rolled up invalidates what they cover on every shard it ran on', async () => {
    await seed();
    const report = await cluster.services.rollup.runRange('hourly', new Date(D0 + 23 * HOUR), new Date(D0 + DAY), { trigger: 'manual' });
    expect(report.ok).toBe(true);
    const shard1 = [fresh[2]!, fresh[3]!];
    expect(await existing([...stale, ...shard1])).toEqual([]);
    expect(await existing(fresh)).toEqual(fresh.filter((key) => !shard1.includes(key)));
    expect((await cluster.services.cache.invalidations(1)).entries[0]).toMatchObject({
      runKind: 'rollup',
      runId: report.runId,
      shards: [0, 1],
      from: new Date(D0 + 23 * HOUR).toISOString(),
      to: new Date(D0 + DAY).toISOString(),
      keysDeleted: stale.length + shard1.length,
    });
  });

  it('a scheduled hourly run whose trailing re-roll changes nothing deletes no key; a late row in a trailing hour invalidates its shard', async () => {
    await seed();
    const before = (await cluster.services.cache.invalidations(1)).entries[0]?.id;
    expect((await cluster.services.rollup.runDue('hourly', { trigger: 'schedule' })).ok).toBe(true);
    expect(await existing([...stale, ...fresh])).toEqual([...stale, ...fresh]);
    expect((await cluster.services.cache.invalidations(1)).entries[0]?.id).toBe(before);

    const lastClosedHour = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await cluster.services.connections.query(1, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [3, new Date(lastClosedHour + 60_000), 888_888, '/late']);
    const report = await cluster.services.rollup.runDue('hourly', { trigger: 'schedule' });
    expect(report.ok).toBe(true);
    // Site 3's 24 h stats cover the late hour; its chart of yesterday and shard 0's keys do not change.
    expect(await existing([`${PREFIX}site_3_stats_24h`])).toEqual([]);
    expect(await existing([...stale, ...fresh.filter((key) => key !== `${PREFIX}site_3_stats_24h`)])).toEqual([...stale, ...fresh.filter((key) => key !== `${PREFIX}site_3_stats_24h`)]);
    expect((await cluster.services.cache.invalidations(1)).entries[0]).toMatchObject({ runKind: 'rollup', runId: report.runId, shards: [1], keysDeleted: 1 });
  });

  it('cache invalidate --dry-run counts and changes nothing; --all without a terminal or --yes is refused; --site deletes and is audited', async () => {
    await seed();
    const dry = await runCli(['cache', 'invalidate', '--site', '2', '--from', `${YESTERDAY}T00:00Z`, '--to', `${TODAY}T00:00Z`, '--dry-run', '--json', ...profile()]);
    expect(dry.code, dry.stderr).toBe(0);
    const counted = JSON.parse(dry.stdout) as CacheInvalidationResult;
    expect(counted).toMatchObject({ dryRun: true, matched: 3, deleted: 0 });
    expect(await existing([...stale, ...fresh])).toEqual([...stale, ...fresh]);

    const refused = await runCli(['cache', 'invalidate', '--all', ...profile()]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(new RegExp(`error ${ErrorCode.CacheNotConfirmed} \\(CacheNotConfirmed\\): not invalidated: --all deletes 8 keys`));
    expect(await existing([...stale, ...fresh])).toEqual([...stale, ...fresh]);

    const bad = await runCli(['cache', 'invalidate', '--site', '2', '--from', `${YESTERDAY}T00:00Z`, ...profile()]);
    expect(bad.stderr).toMatch(new RegExp(`error ${ErrorCode.CacheInvalid} \\(CacheInvalid\\): give --from and --to together`));

    const site = await runCli(['cache', 'invalidate', '--site', '2', '--from', `${YESTERDAY}T00:00Z`, '--to', `${TODAY}T00:00Z`, '--json', ...profile()]);
    expect(site.code, site.stderr).toBe(0);
    expect(JSON.parse(site.stdout)).toMatchObject({ dryRun: false, matched: 3, deleted: 3 });
    expect(await existing(stale)).toEqual([stale[3]]);
    expect(await existing(fresh)).toEqual(fresh);
    const audit = await cluster.services.state.audit.list({ kind: 'cache.invalidate', limit: 1 });
    expect(audit[0]).toMatchObject({ target: `site 2 from ${new Date(D0).toISOString()} to ${new Date(D0 + DAY).toISOString()}` });
    expect((await cluster.services.cache.invalidations(1)).entries[0]).toMatchObject({ runKind: 'manual', siteId: 2, keysDeleted: 3 });

    const all = await runCli(['cache', 'invalidate', '--all', '--yes', '--json', ...profile()]);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ deleted: 5 });
    expect(await existing([...stale, ...fresh])).toEqual([`${PREFIX}user_2_profile`, `other_app:chart_2_1d_${YESTERDAY}_${YESTERDAY}`]);
  });

  it('with Redis down cache commands fail with one clear line and a backfill still succeeds, recorded as not invalidated', async () => {
    await cluster.stopRedis();
    const url = cluster.services.connections.redisLabel();
    await expect(cluster.services.cache.stats()).rejects.toMatchObject({ code: ErrorCode.CacheUnavailable, message: expect.stringContaining(`Redis ${url}`) });
    const cli = await runCli(['cache', 'keys', ...profile()]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(new RegExp(`^strata: error ${ErrorCode.CacheUnavailable} \\(CacheUnavailable\\): the application's cache is unreachable: Redis ${escapeRegExp(url)}: `));

    const run = await cluster.services.backfill.start({ level: 'daily', from: new Date(D0).toISOString(), to: new Date(D0 + DAY).toISOString(), shards: [1] });
    const outcome = await run.finished;
    expect(outcome.record.state).toBe('done');
    const entry = (await cluster.services.cache.invalidations(1)).entries[0];
    expect(entry).toMatchObject({ runKind: 'backfill', runId: String(run.record.id), shards: [1], keysDeleted: null, outcome: 'not-invalidated' });
    expect(entry?.note).toMatch(/^not invalidated: Redis unreachable \(/);
    const rerun = await cluster.services.rollup.runRange('hourly', new Date(D0 + 22 * HOUR), new Date(D0 + 23 * HOUR), { trigger: 'manual' });
    expect(rerun.ok).toBe(true);
    expect((await cluster.services.cache.invalidations(1)).entries[0]).toMatchObject({ runKind: 'rollup', runId: rerun.runId, keysDeleted: null, outcome: 'not-invalidated' });
    const log = await runCli(['cache', 'log', ...profile()]);
    expect(log.code, log.stderr).toBe(0);
    expect(log.stdout).toMatch(new RegExp(`backfill ${run.record.id} .*not invalidated: Redis unreachable`));
  });
});
