import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartitionApplyReport, PartitionPlanReport } from '../../src/shared/partitions';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

describe('partitions for imported history on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const cli = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);
  const names = async (shard: number, table: string) =>
    (await cluster.services.connections.query<Array<{ name: string }>>(shard, 'SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION', [table])).map((row) => row.name);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('adds one partition per month of older daily history on every shard, and imported rows land in them', async () => {
    const before = await names(0, 'analytics_daily');
    const first = before[0]!;
    const firstMonth = new Date(Date.UTC(Number(first.slice(1, 5)), Number(first.slice(5, 7)) - 1, 1));
    const from = new Date(Date.UTC(firstMonth.getUTCFullYear() - 1, firstMonth.getUTCMonth(), 1));

    const dry = await cli('partitions', 'add-history', '--table', 'analytics_daily', '--from', from.toISOString(), '--to', firstMonth.toISOString(), '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as PartitionPlanReport;
    expect(plan.shards.map((shard) => shard.tables[0]?.adds.length)).toEqual([12, 12]);
    expect(await names(0, 'analytics_daily')).toEqual(before);

    const run = await cli('partitions', 'add-history', '--table', 'analytics_daily', '--from', from.toISOString(), '--to', firstMonth.toISOString(), '--json');
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as PartitionApplyReport).shards.map((shard) => shard.outcome)).toEqual(['applied', 'applied']);
    const after = await names(1, 'analytics_daily');
    expect(after).toHaveLength(before.length + 12);
    expect(after.slice(12)).toEqual(before);

    const oldDay = new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), 17));
    await cluster.services.connections.query(1, 'INSERT INTO analytics_daily (site_id, `date`, page_views, visitors) VALUES (1, ?, 5, 2)', [oldDay]);
    const [landed] = await cluster.services.connections.query<Array<{ name: string }>>(
      1,
      "SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_daily' AND PARTITION_NAME = ?",
      [after[0]],
    );
    expect(landed?.name).toBe(`p${from.toISOString().slice(0, 7).replace('-', '')}`);
    const [count] = await cluster.services.connections.query<Array<{ n: number | string }>>(1, `SELECT COUNT(*) AS n FROM analytics_daily PARTITION (${after[0]})`);
    expect(Number(count?.n)).toBe(1);
  });

  it('refuses an overlapping or empty range and a table it does not manage, changing nothing', async () => {
    const before = [await names(0, 'analytics_hourly'), await names(1, 'analytics_hourly')];
    const now = new Date();
    const overlap = await cli('partitions', 'add-history', '--table', 'analytics_hourly', '--from', '2020-01-01T00:00:00Z', '--to', now.toISOString());
    expect(overlap.code).not.toBe(0);
    expect(overlap.stderr).toMatch(/error 9003 \(PartitionOptionsInvalid\): shard0: the range 2020-01-01T00:00Z – .* overlaps existing partitions of analytics_hourly/);
    const empty = await cli('partitions', 'add-history', '--table', 'analytics_hourly', '--from', '2020-01-02T00:00:00Z', '--to', '2020-01-01T00:00:00Z');
    expect(empty.stderr).toContain('is empty: --from must be before --to');
    const unmanaged = await cli('partitions', 'add-history', '--table', 'strata_job_runs', '--from', '2020-01-01T00:00:00Z', '--to', '2020-02-01T00:00:00Z');
    expect(unmanaged.stderr).toContain('strata_job_runs is not a table Strata manages');
    expect([await names(0, 'analytics_hourly'), await names(1, 'analytics_hourly')]).toEqual(before);
  });
});
