import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ShardActivityReport } from '../../src/cli/commands/activity';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { activityKey, RedisShardActivities, type ShardActivityOptions } from '../../src/main/conflicts/registry';
import { silentLogger } from '../../src/main/log';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import type { PartitionApplyEvent, PartitionApplyReport } from '../../src/shared/partitions';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { ageExpiryScores, waitFor } from '../support/time';

/** A realistic claim TTL: time passes by fake timers in the process and by ageExpiryScores in Redis, so nothing lapses on its own. */
const TTL_MS = 30_000;
/** The registry renews its claims at a third of the TTL. */
const RENEW_EVERY_MS = TTL_MS / 3;

const toSecond = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

describe('the job-conflict rule on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const opened: ClusterConnections[] = [];
  const registries: RedisShardActivities[] = [];

  /** Another Strata process in all but name: its own Redis connection and host name. */
  function otherProcess(host: string, options: ShardActivityOptions = {}): RedisShardActivities {
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver());
    opened.push(connections);
    const registry = new RedisShardActivities(connections, silentLogger.scope('activities'), { identity: { host }, ...options });
    registries.push(registry);
    return registry;
  }

  const partitionNames = async (shard: number) =>
    (
      await cluster.services.connections.query<Array<{ name: string }>>(
        shard,
        "SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_monthly'",
      )
    ).map((row) => row.name);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await Promise.all(registries.map((registry) => registry.dispose()));
    await Promise.all(opened.map((connections) => connections.dispose()));
    await cluster?.down();
  });

  it('a backup of shard1 makes partitions apply skip shard1 with the reason and do shard0; once it ends shard1 is done too', async () => {
    const year = new Date().getUTCFullYear();
    for (const shard of [0, 1]) await cluster.services.connections.query(shard, `ALTER TABLE analytics_monthly DROP PARTITION p${year}, p${year + 1}`);
    const backup = await otherProcess('db-admin-2').claim(1, 'backup', 'nightly full dump');
    const sentence = `a backup of shard1 has been running since ${toSecond(backup.record.startedAt)} on host db-admin-2 (pid ${process.pid}): nightly full dump`;

    const run = await runCli(['partitions', 'apply', '--json', '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as PartitionApplyReport;
    expect(report.shards[0]?.outcome).toBe('applied');
    expect(report.shards[0]?.statements.map((statement) => statement.table)).toContain('analytics_monthly');
    expect(report.shards[1]).toEqual({ index: 1, name: 'shard1', outcome: 'blocked', statements: [], warnings: [], problem: { code: ErrorCode.ShardBusy, message: sentence } });
    expect(await partitionNames(0)).toContain(`p${year}`);
    expect(await partitionNames(1)).not.toContain(`p${year}`);

    const text = await runCli(['partitions', 'apply', '--profile', cluster.profilePath]);
    expect(text.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^shard0\s+up to date$/), `shard1     SKIPPED: ${sentence}`]);
    // The maintenance claims of both runs are gone; only the backup is left.
    expect(await cluster.services.activities.running()).toEqual([backup.record]);

    await backup.release();
    const events: PartitionApplyEvent[] = [];
    const unsubscribe = cluster.services.partitions.onProgress((event) => events.push(event));
    const broken = cluster.services.partitions.onProgress(() => {
      throw new Error('a listener that fails');
    });
    try {
      const after = await cluster.services.partitions.apply();
      expect(after.shards.map((shard) => shard.outcome)).toEqual(['up-to-date', 'applied']);
      const finished = events.flatMap((event) => (event.kind === 'shard-finished' ? [`${event.shardName} ${event.result.outcome}`] : []));
      expect(finished.sort()).toEqual(['shard0 up-to-date', 'shard1 applied']);
      expect(events.some((event) => event.kind === 'statement-finished' && event.shard === 1 && event.table === 'analytics_monthly' && event.ok)).toBe(true);
    } finally {
      unsubscribe();
      broken();
    }
    expect(await partitionNames(1)).toContain(`p${year}`);
  });

  it('of two processes racing for conflicting jobs on one shard, exactly one wins, and the other is told which', async () => {
    const a = otherProcess('host-a');
    const b = otherProcess('host-b');
    for (const [kindA, kindB] of [
      ['backup', 'prune'],
      ['maintenance', 'backup'],
      ['backup', 'backup'],
      ['convert', 'backup'],
    ] as const) {
      const outcomes = await Promise.allSettled([a.claim(0, kindA), b.claim(0, kindB)]);
      const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
      const refusal = lost[0]?.status === 'rejected' ? (lost[0].reason as StrataError) : undefined;
      expect(refusal).toBeInstanceOf(StrataError);
      expect(refusal?.code).toBe(ErrorCode.ShardBusy);
      expect(refusal?.message).toContain(`of shard0 has been running since ${toSecond(winner?.record.startedAt ?? '')} on host ${winner?.record.host} (pid ${process.pid})`);
      expect(await cluster.services.activities.running(0)).toEqual([winner?.record]);
      await winner?.release();
    }
    expect(await cluster.services.activities.running(0)).toEqual([]);
  });

  it('lets jobs that do not conflict share a shard, and refuses a shard the profile does not have', async () => {
    const a = otherProcess('host-a');
    const claims = [await a.claim(0, 'prune'), await otherProcess('host-b').claim(0, 'maintenance'), await a.claim(0, 'convert')];
    expect((await cluster.services.activities.running(0)).map((record) => record.kind).sort()).toEqual(['convert', 'maintenance', 'prune']);
    await expect(a.claim(0, 'backup')).rejects.toMatchObject({ code: ErrorCode.ShardBusy });
    await expect(a.claim(9, 'backup')).rejects.toMatchObject({ code: ErrorCode.UnknownShard });
    for (const claim of claims) await claim.release();
  });

  it('a claim stays while its holder renews it, lapses once the holder stops, and then blocks nothing', async () => {
    const redis = cluster.services.connections.redis();
    const expiryOf = async (record: object) => Number(await redis.zscore(activityKey(1), JSON.stringify(record)));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const renewing = otherProcess('alive', { ttlMs: TTL_MS });
    const held = await renewing.claim(1, 'backup');
    // Five TTLs, a renewal at a time: without renewal the claim would have lapsed after the third.
    for (let renewal = 1; renewal <= 15; renewal++) {
      await ageExpiryScores(redis, activityKey(1), RENEW_EVERY_MS);
      const aged = await expiryOf(held.record);
      await vi.advanceTimersByTimeAsync(RENEW_EVERY_MS);
      await waitFor(async () => (await expiryOf(held.record)) > aged, `renewal ${renewal} of the claim`);
    }
    vi.useRealTimers();
    await expect(otherProcess('pruner').claim(1, 'prune')).rejects.toMatchObject({ code: ErrorCode.ShardBusy });
    await held.release();

    const dead = otherProcess('crashed', { ttlMs: TTL_MS, renew: false });
    await dead.claim(1, 'backup');
    const maintainer = otherProcess('maintainer');
    await expect(maintainer.claim(1, 'maintenance')).rejects.toMatchObject({ code: ErrorCode.ShardBusy });
    // A whole TTL passes without renewal.
    await ageExpiryScores(redis, activityKey(1), TTL_MS + 1);
    expect(await cluster.services.activities.running(1)).toEqual([]);
    const maintenance = await maintainer.claim(1, 'maintenance');
    expect(await cluster.services.activities.running(1)).toEqual([maintenance.record]);
    await maintenance.release();
  });

  it('dispose releases what a process still holds, and it claims nothing afterwards', async () => {
    const leaving = otherProcess('leaving');
    await leaving.claim(0, 'backup');
    await leaving.claim(1, 'prune');
    expect(await cluster.services.activities.running()).toHaveLength(2);
    await leaving.dispose();
    expect(await cluster.services.activities.running()).toEqual([]);
    await expect(leaving.claim(0, 'prune')).rejects.toMatchObject({ code: ErrorCode.Cancelled });
  });

  it('strata activity lists the live claims per shard, as JSON and as text', async () => {
    const backup = await otherProcess('db-admin-2').claim(1, 'backup', 'nightly full dump');
    try {
      const json = await runCli(['activity', '--json', '--profile', cluster.profilePath]);
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as ShardActivityReport;
      expect(report.shards).toEqual([
        { index: 0, name: 'shard0', running: [] },
        { index: 1, name: 'shard1', running: [backup.record] },
      ]);

      const text = await runCli(['activity', '--shards', '1', '--profile', cluster.profilePath]);
      expect(text.code).toBe(0);
      expect(text.stdout).toBe(`shard1     backup      since ${toSecond(backup.record.startedAt)} on db-admin-2 pid ${process.pid}  nightly full dump\n`);

      const unknown = await runCli(['activity', '--shards', '9', '--profile', cluster.profilePath]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('strata: error 3005 (UnknownShard): shard 9 does not exist; the profile has 2 shards (0-1)\n');
    } finally {
      await backup.release();
    }
    const idle = await runCli(['activity', '--profile', cluster.profilePath]);
    expect(idle.stdout).toBe('shard0     nothing running\nshard1     nothing running\n');
  });
});
