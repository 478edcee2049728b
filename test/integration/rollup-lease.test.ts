import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;

describe('strata rollup under the cluster lease', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    const end = new Date(Math.floor(Date.now() / HOUR) * HOUR);
    await cluster.services.generator.run({ from: new Date(end.getTime() - 6 * HOUR).toISOString(), to: end.toISOString(), sites: 12, views: 6_000, seed: 5 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('takes the lease for due windows, moves watermarks with its fencing token, and releases the lease', async () => {
    const before = await cluster.services.lease.status();
    const run = await runCli(['rollup', '--level', 'hourly', '--json', '--profile', cluster.profilePath]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.shards.every((shard: { windows: unknown[] }) => shard.windows.length > 0)).toBe(true);

    const after = await cluster.services.lease.status();
    expect(after.held).toBe(false);
    expect(after.lastToken).toBe(before.lastToken + 1);
    const watermarks = await cluster.services.rollup.watermarks();
    const hourly = watermarks.filter((row) => row.level === 'hourly');
    expect(hourly).toHaveLength(2);
    for (const row of hourly) expect(row.fencingToken).toBe(after.lastToken);
  });

  it('refuses to run due windows while another scheduler holds the lease, naming it, and still recomputes a range', async () => {
    const grant = await cluster.services.lease.tryAcquire();
    expect(grant).toBeDefined();
    try {
      const runsBefore = await cluster.services.rollup.runs({ limit: 1000 });
      const due = await runCli(['rollup', '--level', 'hourly', '--profile', cluster.profilePath]);
      expect(due.code).toBe(2);
      expect(due.stderr).toMatch(new RegExp(`the scheduler lease is held by .*pid ${process.pid}`));
      expect(await cluster.services.rollup.runs({ limit: 1000 })).toHaveLength(runsBefore.length);

      const hourAgo = new Date(Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR);
      const range = await runCli([
        'rollup', '--level', 'hourly', '--from', hourAgo.toISOString(), '--to', new Date(hourAgo.getTime() + HOUR).toISOString(), '--json', '--profile', cluster.profilePath,
      ]);
      expect(range.code).toBe(0);
      expect(JSON.parse(range.stdout).shards.map((shard: { windows: unknown[] }) => shard.windows.length)).toEqual([1, 1]);
      expect((await cluster.services.lease.status()).holder?.id).toBe(grant?.holder.id);
    } finally {
      if (grant) await cluster.services.lease.release(grant);
    }
  });

  it('records a shard that is down when a run starts as a failed run in the history, read from another shard', async () => {
    await cluster.stopShard(1);
    try {
      const report = await cluster.services.rollup.runDue('hourly', { trigger: 'manual' });
      expect(report.ok).toBe(false);
      expect(report.shards[1]?.problem?.message).toMatch(/shard1 .*connection refused/);
      const recent = await cluster.services.rollup.runs({ limit: 20 });
      const failures = recent.filter((run) => run.shard === 1 && run.outcome === 'failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ shardName: 'shard1', level: 'hourly', trigger: 'manual' });
      expect(failures[0]?.error).toMatch(/connection refused/);
    } finally {
      await cluster.startShard(1);
    }
  });
});
