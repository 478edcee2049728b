import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { silentLogger } from '../../src/main/log';
import { LATEST_VERSION, MIGRATIONS } from '../../src/main/schema/migrations';

const ALL_VERSIONS = MIGRATIONS.map((migration) => migration.version);
import { ClusterSchemaService } from '../../src/main/schema/service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ErrorCode } from '../../src/shared/errors';
import type { Profile } from '../../src/shared/profile';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

interface PartitionRow {
  table_name: string;
  partitions: number;
  last_partition: string;
}

/** A second console: its own connections (so its own sessions and locks) to the same cluster. */
function openConsole(profile: Profile, env: NodeJS.ProcessEnv = {}) {
  const connections = new ClusterConnections(profile, new EnvSecretResolver(env));
  const schema = new ClusterSchemaService(connections, silentLogger.scope('schema'), { host: 'second-console' });
  return { connections, schema, dispose: () => connections.dispose() };
}

/** `p2024022913` for 2024-02-29 13:xx UTC: the name a partition holding that hour must have. */
function hourPartitionName(at: Date): string {
  return `p${at.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
}

describe('strata schema on a fresh 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, schema: false });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('apply creates the partitioned tables on every shard and records every migration', async () => {
    const report = await cluster.services.schema.apply();
    expect(report.ok).toBe(true);
    expect(report.shards.map(({ name, outcome, appliedVersions }) => ({ name, outcome, appliedVersions }))).toEqual([
      { name: 'shard0', outcome: 'applied', appliedVersions: ALL_VERSIONS },
      { name: 'shard1', outcome: 'applied', appliedVersions: ALL_VERSIONS },
    ]);
    for (const shard of [0, 1]) {
      const partitions = await query<PartitionRow[]>(
        shard,
        `SELECT TABLE_NAME AS table_name, COUNT(*) AS partitions,
                SUBSTRING_INDEX(GROUP_CONCAT(PARTITION_NAME ORDER BY PARTITION_ORDINAL_POSITION), ',', -1) AS last_partition
           FROM information_schema.PARTITIONS
          WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL GROUP BY TABLE_NAME ORDER BY TABLE_NAME`,
      );
      // Windows of migration 1, plus pmax: hours -48…+168, days -7…+7, months -12…+3, years -5…+1.
      expect(partitions.map((row) => ({ ...row, partitions: Number(row.partitions) }))).toEqual([
        { table_name: 'analytics_daily', partitions: 17, last_partition: 'pmax' },
        { table_name: 'analytics_hourly', partitions: 16, last_partition: 'pmax' },
        { table_name: 'analytics_monthly', partitions: 8, last_partition: 'pmax' },
        { table_name: 'analytics_realtime', partitions: 218, last_partition: 'pmax' },
      ]);
      const records = await query<Array<{ version: number; checksum: string; applied_by: string }>>(shard, 'SELECT version, checksum, applied_by FROM strata_schema_migrations');
      expect(records).toEqual(MIGRATIONS.map(({ version, checksum }) => ({ version, checksum, applied_by: expect.any(String) })));
    }
    const status = await cluster.services.status.get();
    expect(status.shards.map((shard) => shard.schemaVersion)).toEqual([LATEST_VERSION, LATEST_VERSION]);
  });

  it('stores a row of this hour in the partition named after this hour, bounded in UTC epoch seconds', async () => {
    const createdAt = new Date();
    const partition = hourPartitionName(createdAt);
    await query(0, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [42, createdAt, 7, '/pricing']);
    const [count] = await query<Array<{ rows: number }>>(0, `SELECT COUNT(*) AS \`rows\` FROM analytics_realtime PARTITION (${partition})`);
    expect(Number(count?.rows)).toBe(1);
    const [bound] = await query<Array<{ description: string }>>(
      0,
      `SELECT PARTITION_DESCRIPTION AS description FROM information_schema.PARTITIONS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime' AND PARTITION_NAME = ?`,
      [partition],
    );
    const nextHour = Math.floor(createdAt.getTime() / 3_600_000 + 1) * 3600;
    expect(Number(bound?.description)).toBe(nextHour);
  });

  it('a second apply changes nothing and says every shard is up to date', async () => {
    const report = await cluster.services.schema.apply();
    expect(report.ok).toBe(true);
    expect(report.shards.map(({ outcome, appliedVersions, schemaVersion }) => ({ outcome, appliedVersions, schemaVersion }))).toEqual([
      { outcome: 'up-to-date', appliedVersions: [], schemaVersion: LATEST_VERSION },
      { outcome: 'up-to-date', appliedVersions: [], schemaVersion: LATEST_VERSION },
    ]);
    for (const shard of [0, 1]) {
      const [records] = await query<Array<{ count: number }>>(shard, 'SELECT COUNT(*) AS count FROM strata_schema_migrations');
      expect(Number(records?.count)).toBe(MIGRATIONS.length);
    }
  });

  it('check finds the freshly migrated shards clean, on the server they really run (MariaDB or MySQL)', async () => {
    const report = await cluster.services.schema.check();
    expect(report.clean).toBe(true);
    expect(report.shards.map(({ reachable, schemaVersion, drift }) => ({ reachable, schemaVersion, drift }))).toEqual([
      { reachable: true, schemaVersion: LATEST_VERSION, drift: [] },
      { reachable: true, schemaVersion: LATEST_VERSION, drift: [] },
    ]);
  });

  it('check reports exactly the shard and the differences a DBA introduced, and the CLI exits 1', async () => {
    await query(1, 'ALTER TABLE analytics_realtime DROP INDEX idx_site_created');
    await query(1, 'ALTER TABLE analytics_daily ADD COLUMN note VARCHAR(40) NULL');
    const report = await cluster.services.schema.check();
    expect(report.clean).toBe(false);
    expect(report.shards[0]?.drift).toEqual([]);
    expect(report.shards[1]?.drift.map(({ kind, table, subject }) => ({ kind, table, subject }))).toEqual([
      { kind: 'index-missing', table: 'analytics_realtime', subject: 'idx_site_created' },
      { kind: 'column-extra', table: 'analytics_daily', subject: 'note' },
    ]);

    const run = await runCli(['schema', 'check', '--profile', cluster.profilePath]);
    expect(run.code).toBe(1);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^shard0\\s+clean\\s+v${LATEST_VERSION}$`));
    expect(lines[1]).toMatch(new RegExp(`^shard1\\s+DRIFT\\s+v${LATEST_VERSION}\\s+2 differences: analytics_realtime: index idx_site_created \\(site_id, created_at\\) is missing; analytics_daily: extra column note \\(varchar\\(40\\)\\)$`));
  });

  it('apply reports a shard with a wrong password without printing it, and still serves the other shard', async () => {
    const profile: Profile = {
      ...cluster.profile,
      shards: cluster.profile.shards.map((shard, index) => (index === 1 ? { ...shard, passwordEnv: 'STRATA_TEST_SHARD1_PASSWORD' } : shard)),
    };
    const other = openConsole(profile, { STRATA_TEST_SHARD1_PASSWORD: 'not-the-password' });
    try {
      const report = await other.schema.apply();
      expect(report.ok).toBe(false);
      expect(report.shards[0]?.outcome).toBe('up-to-date');
      expect(report.shards[1]).toMatchObject({ outcome: 'failed', problem: { code: ErrorCode.ShardAuthFailed } });
      expect(report.shards[1]?.problem?.message).toMatch(/access denied for user root/);
      expect(JSON.stringify(report)).not.toContain('not-the-password');
    } finally {
      await other.dispose();
    }
  });

  it('apply --shards migrates only the shards named and refuses an index the profile does not have', async () => {
    const run = await runCli(['schema', 'apply', '--profile', cluster.profilePath, '--shards', '0']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(new RegExp(`^shard0\\s+up to date at v${LATEST_VERSION}$`));

    const bad = await runCli(['schema', 'apply', '--profile', cluster.profilePath, '--shards', '0,5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/shard 5 does not exist; the profile has 2 shards/);
  });
});

describe('strata schema apply when a shard is down or a migration stopped half-way', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, schema: false });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('reports a stopped shard with its reason, migrates the other, and the CLI exits 1', async () => {
    await cluster.stopShard(1);
    const run = await runCli(['schema', 'apply', '--json', '--profile', cluster.profilePath]);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    expect(report.shards[0]).toMatchObject({ name: 'shard0', outcome: 'applied', appliedVersions: ALL_VERSIONS });
    expect(report.shards[1]).toMatchObject({ name: 'shard1', outcome: 'failed', problem: { code: ErrorCode.ShardUnreachable } });
    expect(report.shards[1].problem.message).toMatch(/connection refused/);

    const check = await cluster.services.schema.check();
    expect(check.clean).toBe(false);
    expect(check.shards[0]).toMatchObject({ reachable: true, drift: [] });
    expect(check.shards[1]).toMatchObject({ reachable: false, problem: { code: ErrorCode.ShardUnreachable } });
  });

  it('migrates a restarted shard exactly once when two consoles apply at the same time', async () => {
    await cluster.startShard(1);
    const other = openConsole(cluster.profile);
    try {
      const [mine, theirs] = await Promise.all([cluster.services.schema.apply(), other.schema.apply()]);
      expect(mine.ok && theirs.ok).toBe(true);
      expect([mine.shards[0]?.outcome, theirs.shards[0]?.outcome]).toEqual(['up-to-date', 'up-to-date']);
      expect([mine.shards[1]?.outcome, theirs.shards[1]?.outcome].sort()).toEqual(['applied', 'up-to-date']);
      const records = await query<Array<{ version: number }>>(1, 'SELECT version FROM strata_schema_migrations');
      expect(records).toEqual(ALL_VERSIONS.map((version) => ({ version })));
    } finally {
      await other.dispose();
    }
  });

  it('completes migration 1 on a shard where it stopped after creating some of the tables', async () => {
    // The state a failure at statement 5 leaves: the analytics tables exist, Strata's own tables and the record do not.
    await query(1, 'DELETE FROM strata_schema_migrations');
    await query(1, 'DROP TABLE strata_watermarks, strata_job_runs, strata_audit_log');
    const before = await cluster.services.schema.check();
    expect(before.shards[1]?.drift.map((drift) => drift.kind)).toEqual([...ALL_VERSIONS.map(() => 'migration-missing'), 'table-missing', 'table-missing', 'table-missing']);

    const report = await cluster.services.schema.apply();
    expect(report.ok).toBe(true);
    expect(report.shards[1]).toMatchObject({ outcome: 'applied', appliedVersions: ALL_VERSIONS });
    const after = await cluster.services.schema.check();
    expect(after.clean).toBe(true);
  });
});
