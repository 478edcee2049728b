import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { silentLogger } from '../../src/main/log';
import { ClusterPartitionService, type PartitionApplyEvent } from '../../src/main/partitions/service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createClusterState } from '../../src/main/state';
import { ErrorCode } from '../../src/shared/errors';
import type { PartitionListReport } from '../../src/shared/partitions';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const DAY_MS = 86_400_000;

describe('strata partitions on a 2-shard cluster', () => {
  let cluster: TestCluster;
  /** Taken before the schema was applied, so the migration's partitions reach at least this far ahead. */
  let t0: Date;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const serviceAt = (now: Date, connections = cluster.services.connections) =>
    new ClusterPartitionService(connections, createClusterState(connections, silentLogger), silentLogger.scope('partitions'), cluster.services.activities, { clock: () => now });

  beforeAll(async () => {
    t0 = new Date();
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('lists every partition of the schema per shard with contiguous UTC ranges and no warnings', async () => {
    const report = await serviceAt(t0).list();
    expect(report.shards.map((shard) => ({ name: shard.name, reachable: shard.reachable, tables: shard.tables.map((table) => [table.table, table.partitions.length]) }))).toEqual(
      ['shard0', 'shard1'].map((name) => ({
        name,
        reachable: true,
        tables: [
          ['analytics_realtime', 218],
          ['analytics_hourly', 16],
          ['analytics_daily', 17],
          ['analytics_monthly', 8],
        ],
      })),
    );
    for (const shard of report.shards) {
      for (const table of shard.tables) {
        expect(table.warnings).toEqual([]);
        expect(table.partitions[0]?.from).toBeNull();
        expect(table.partitions.at(-1)).toMatchObject({ name: 'pmax', to: null });
        table.partitions.slice(1).forEach((partition, index) => expect(partition.from).toBe(table.partitions[index]?.to));
      }
    }
    const daily = report.shards[0]?.tables.find((table) => table.table === 'analytics_daily');
    const current = daily?.partitions.find((partition) => partition.name === `p${t0.toISOString().slice(0, 7).replace('-', '')}`);
    expect(current?.from).toBe(`${t0.toISOString().slice(0, 7)}-01T00:00:00.000Z`);
  });

  it('a row beyond the last partition lands in pmax, list warns about it and --exact counts it', async () => {
    const farAhead = new Date(Date.now() + 60 * DAY_MS);
    await query(0, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [42, farAhead, 7, '/late']);

    const text = await runCli(['partitions', 'list', '--profile', cluster.profilePath]);
    expect(text.code).toBe(0);
    // Only the catch-all warning: an hour that began since the schema was applied may add a too-few-ahead one.
    expect(text.stdout.split('\n').filter((line) => line.includes('WARNING') && line.includes('pmax'))).toEqual([
      '  WARNING analytics_realtime: 1 row in pmax, past the last partition (maintenance fell behind); adding partitions moves them, which rewrites them',
    ]);
    expect(text.stdout).toMatch(/^shard1$/m);

    const json = await runCli(['partitions', 'list', '--exact', '--json', '--profile', cluster.profilePath]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as PartitionListReport;
    expect(report.exact).toBe(true);
    const pmax = (shard: number) => report.shards[shard]?.tables.find((table) => table.table === 'analytics_realtime')?.partitions.at(-1);
    expect(pmax(0)).toMatchObject({ name: 'pmax', rows: 1 });
    expect(pmax(1)).toMatchObject({ name: 'pmax', rows: 0 });
  });

  it('with the clock ten days on, plan shows REORGANIZE statements, apply runs them and a second plan is empty', async () => {
    const later = new Date(Date.now() + 10 * DAY_MS);
    const service = serviceAt(later);
    const plan = await service.plan();
    for (const shard of plan.shards) {
      const realtime = shard.tables.find((table) => table.table === 'analytics_realtime');
      expect(realtime?.statements).toHaveLength(1);
      expect(realtime?.statements[0]).toMatch(/^ALTER TABLE analytics_realtime REORGANIZE PARTITION pmax INTO \(PARTITION p\d{10} VALUES LESS THAN \(\d+\), .*, PARTITION pmax VALUES LESS THAN MAXVALUE\)$/);
      expect(shard.tables.find((table) => table.table === 'analytics_hourly')?.statements).toHaveLength(1);
    }

    const events: PartitionApplyEvent[] = [];
    const report = await service.apply({ onProgress: (event) => events.push(event) });
    expect(report.ok).toBe(true);
    expect(report.shards.map((shard) => shard.outcome)).toEqual(['applied', 'applied']);
    const statementCount = report.shards[0]?.statements.length ?? 0;
    expect(events.filter((event) => event.kind === 'statement-finished' && event.shard === 0 && event.ok)).toHaveLength(statementCount);

    const horizonHour = `p${new Date(later.getTime() + 7 * DAY_MS).toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
    for (const shard of [0, 1]) {
      const found = await query<unknown[]>(shard, "SELECT 1 FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime' AND PARTITION_NAME = ?", [horizonHour]);
      expect(found).toHaveLength(1);
    }
    const [stillThere] = await query<Array<{ n: number }>>(0, 'SELECT COUNT(*) AS n FROM analytics_realtime');
    expect(Number(stillThere?.n)).toBe(1);

    const again = await service.plan();
    expect(again.shards.flatMap((shard) => shard.tables.flatMap((table) => table.statements))).toEqual([]);
    expect((await service.apply()).shards.map((shard) => shard.outcome)).toEqual(['up-to-date', 'up-to-date']);
  });

  it('the CLI prints the exact SQL per shard, applies it with progress lines, and then has nothing to add', async () => {
    const year = new Date().getUTCFullYear();
    await query(1, `ALTER TABLE analytics_monthly DROP PARTITION p${year}, p${year + 1}`);

    const plan = await runCli(['partitions', 'plan', '--profile', cluster.profilePath]);
    expect(plan.code).toBe(0);
    const lines = plan.stdout.trim().split('\n');
    expect(lines).toContain('-- shard0: nothing to add');
    expect(lines).toContain('-- shard1: 1 statement');
    expect(lines.find((line) => line.startsWith('ALTER TABLE'))).toMatch(
      new RegExp(`^ALTER TABLE analytics_monthly REORGANIZE PARTITION pmax INTO \\(PARTITION p${year} VALUES LESS THAN \\(\\d+\\), .*PARTITION pmax VALUES LESS THAN MAXVALUE\\);$`),
    );

    const apply = await runCli(['partitions', 'apply', '--profile', cluster.profilePath]);
    expect(apply.code).toBe(0);
    expect(apply.stderr).toContain('shard1: [1/1] reorganising analytics_monthly…');
    expect(apply.stderr).toContain('shard1: [1/1] analytics_monthly done');
    expect(apply.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^shard0\s+up to date$/), expect.stringMatching(/^shard1\s+added partitions to analytics_monthly$/)]);

    const second = await runCli(['partitions', 'plan', '--json', '--profile', cluster.profilePath]);
    const report = JSON.parse(second.stdout) as { shards: Array<{ tables: Array<{ statements: string[] }> }> };
    expect(report.shards.flatMap((shard) => shard.tables.flatMap((table) => table.statements))).toEqual([]);
  });

  it('apply with one shard stopped reports that shard and still maintains the other', async () => {
    await cluster.stopShard(1);
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver(), { connectTimeoutMs: 2000 });
    try {
      const report = await serviceAt(new Date(Date.now() + 20 * DAY_MS), connections).apply();
      expect(report.ok).toBe(false);
      expect(report.shards[0]).toMatchObject({ outcome: 'applied' });
      expect(report.shards[1]).toMatchObject({ outcome: 'failed', statements: [], problem: { code: ErrorCode.ShardUnreachable } });

      const run = await runCli(['partitions', 'apply', '--profile', cluster.profilePath]);
      expect(run.code).toBe(1);
      expect(run.stdout.trim().split('\n')).toEqual([
        expect.stringMatching(/^shard0\s+up to date$/),
        expect.stringMatching(/^shard1\s+FAILED: shard1 \(127\.0\.0\.1:\d+\): connection refused; is the server running\?$/),
      ]);
    } finally {
      await connections.dispose();
      await cluster.startShard(1);
    }
  });

  it('refuses a shard index the profile does not have, in one line, before touching any shard', async () => {
    const run = await runCli(['partitions', 'apply', '--shards', '9', '--profile', cluster.profilePath]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('strata: error 3005 (UnknownShard): shard 9 does not exist; the profile has 2 shards (0-1)\n');
  });
});
