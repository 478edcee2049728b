import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { silentLogger } from '../../src/main/log';
import { ClusterTableConverter } from '../../src/main/partitions/convert-service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ErrorCode } from '../../src/shared/errors';
import type { ConversionEvent, ConversionPlanReport, ConversionReport, PartitionListReport } from '../../src/shared/partitions';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const ROWS_PER_SHARD = 6000;
/** 70 s apart: the rows reach almost five days back, well past the 48 hours retention keeps of raw rows. */
const ROW_SPACING_MS = 70_000;

interface Content {
  rows: number;
  checksum: string;
}

describe('strata partitions convert on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const cli = (...args: string[]) => runCli(['partitions', 'convert', ...args, '--profile', cluster.profilePath]);

  /** analytics_realtime as a seed's plain DDL builds it: an id primary key and no partitions, holding days of rows. */
  async function seedUnpartitioned(shard: number): Promise<void> {
    await query(shard, 'DROP TABLE analytics_realtime');
    await query(
      shard,
      `CREATE TABLE analytics_realtime (
        id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
        site_id INT UNSIGNED NOT NULL,
        created_at TIMESTAMP NOT NULL,
        visitor_id BIGINT UNSIGNED NOT NULL,
        path VARCHAR(512) NOT NULL,
        referrer VARCHAR(512) NULL,
        KEY idx_site_created (site_id, created_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
    const now = Date.now();
    for (let start = 0; start < ROWS_PER_SHARD; start += 1000) {
      const rows = Array.from({ length: 1000 }, (_, offset) => {
        const i = start + offset;
        return [(i % 40) + 1, new Date(now - i * ROW_SPACING_MS), (i * 7919) % 100_000, `/s${shard}/page/${i % 97}`, i % 3 === 0 ? null : 'https://example.com/'];
      });
      await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path, referrer) VALUES ${rows.map(() => '(?, ?, ?, ?, ?)').join(', ')}`, rows.flat());
    }
  }

  async function content(shard: number): Promise<Content> {
    const [row] = await query<Array<{ n: number; checksum: string | number }>>(
      shard,
      "SELECT COUNT(*) AS n, SUM(CRC32(CONCAT_WS('|', id, site_id, UNIX_TIMESTAMP(created_at), visitor_id, path, IFNULL(referrer, '-')))) AS checksum FROM analytics_realtime",
    );
    return { rows: Number(row?.n), checksum: String(row?.checksum) };
  }

  async function partitionCount(shard: number, table = 'analytics_realtime'): Promise<number> {
    const [row] = await query<Array<{ n: number }>>(shard, 'SELECT COUNT(PARTITION_NAME) AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [table]);
    return Number(row?.n);
  }

  let before: Content[];

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await Promise.all([0, 1].map(seedUnpartitioned));
    before = await Promise.all([0, 1].map(content));
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('refuses a table Strata does not manage with a clear error and changes nothing', async () => {
    const run = await cli('--table', 'strata_job_runs', '--yes');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'strata: error 9001 (PartitionTableUnmanaged): strata_job_runs is not a table Strata manages; it converts only analytics_realtime, analytics_hourly, analytics_daily, analytics_monthly\n',
    );
    expect(await partitionCount(0, 'strata_job_runs')).toBe(0);
    expect(await Promise.all([0, 1].map(content))).toEqual(before);
  });

  it('refuses a shard index the profile does not have before touching any shard', async () => {
    const run = await cli('--table', 'analytics_realtime', '--shards', '0,9', '--yes');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('strata: error 3005 (UnknownShard): shard 9 does not exist; the profile has 2 shards (0-1)\n');
    expect(await partitionCount(0)).toBe(0);
  });

  it('--dry-run --json shows size, estimated time, warnings and the exact ALTER per shard, and changes nothing', async () => {
    const run = await cli('--table', 'analytics_realtime', '--dry-run', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ConversionPlanReport;
    expect(report.shards.map((shard) => [shard.name, shard.reachable, shard.plan?.action])).toEqual([
      ['shard0', true, 'convert'],
      ['shard1', true, 'convert'],
    ]);
    for (const shard of report.shards) {
      const plan = shard.plan;
      expect(plan?.primaryKeyAfter).toEqual(['id', 'created_at']);
      expect(plan?.statement).toMatch(/^ALTER TABLE analytics_realtime DROP PRIMARY KEY, ADD PRIMARY KEY \(id, created_at\) PARTITION BY RANGE \(UNIX_TIMESTAMP\(created_at\)\) \(\n {2}PARTITION p\d{10} VALUES LESS THAN \(\d+\),/);
      expect(plan?.statement).toMatch(/PARTITION pmax VALUES LESS THAN MAXVALUE\n\)$/);
      expect(plan?.dataBytes).toBeGreaterThan(0);
      expect(plan?.estimatedSeconds).toBeGreaterThanOrEqual(1);
      expect(plan?.warnings[0]).toContain('writes to analytics_realtime are blocked for the whole time');
      // The rows of the days before retention's 48 hours all go into the first partition.
      expect(plan?.partitions[0]?.from).toBeNull();
      expect(plan?.warnings.some((warning) => warning.startsWith('Rows before ') && warning.includes(`first partition ${plan.partitions[0]?.name}`))).toBe(true);
    }
    expect(await Promise.all([0, 1].map((shard) => partitionCount(shard)))).toEqual([0, 0]);
    expect(await Promise.all([0, 1].map(content))).toEqual(before);
  });

  it('without --yes and without a terminal prints the plan, refuses, and changes nothing', async () => {
    const run = await cli('--table', 'analytics_realtime');
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^-- shard0: convert analytics_realtime: ~[\d,]+ rows, .*, estimated time about \d+ s$/m);
    expect(run.stdout).toMatch(/^ALTER TABLE analytics_realtime DROP PRIMARY KEY/m);
    expect(run.stderr).toBe(
      'strata: error 9007 (ConversionRefused): converting analytics_realtime rewrites it on shard0, shard1 and needs confirmation: pass --yes (or run it on a terminal and type the table name); nothing was changed\n',
    );
    expect(await Promise.all([0, 1].map((shard) => partitionCount(shard)))).toEqual([0, 0]);
    expect(await Promise.all([0, 1].map(content))).toEqual(before);
  });

  it('--yes converts every shard, keeping every row, and a second run has nothing to do', async () => {
    const run = await cli('--table', 'analytics_realtime', '--yes', '--json');
    expect(run.code).toBe(0);
    const { result } = JSON.parse(run.stdout) as { plan: ConversionPlanReport; result: ConversionReport };
    expect(result.ok).toBe(true);
    expect(result.shards.map((shard) => [shard.name, shard.outcome, shard.rowsBefore, shard.rowsAfter])).toEqual([
      ['shard0', 'converted', ROWS_PER_SHARD, ROWS_PER_SHARD],
      ['shard1', 'converted', ROWS_PER_SHARD, ROWS_PER_SHARD],
    ]);
    expect(await Promise.all([0, 1].map(content))).toEqual(before);

    for (const shard of [0, 1]) {
      const keys = await query<Array<{ name: string; columns: string }>>(
        shard,
        "SELECT INDEX_NAME AS name, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) AS columns FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime' GROUP BY INDEX_NAME",
      );
      expect(keys).toHaveLength(2);
      expect(keys).toEqual(
        expect.arrayContaining([
          { name: 'PRIMARY', columns: 'id,created_at' },
          { name: 'idx_site_created', columns: 'site_id,created_at' },
        ]),
      );
    }

    const list = await runCli(['partitions', 'list', '--json', '--profile', cluster.profilePath]);
    const listed = JSON.parse(list.stdout) as PartitionListReport;
    for (const shard of listed.shards) {
      const raw = shard.tables.find((table) => table.table === 'analytics_realtime');
      expect(raw?.partitioned).toBe(true);
      expect(raw?.partitions[0]?.from).toBeNull();
      expect(raw?.partitions.at(-1)).toMatchObject({ name: 'pmax', to: null });
      expect(raw?.warnings.map((warning) => warning.kind)).not.toContain('not-partitioned');
    }

    const again = await cli('--table', 'analytics_realtime', '--yes');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('-- shard0: analytics_realtime is already partitioned; nothing to do\n-- shard1: analytics_realtime is already partitioned; nothing to do\nnothing to convert\n');
  });

  it('a cancelled request changes nothing; with a shard stopped, that shard is reported failed and the other is converted', async () => {
    await Promise.all([0, 1].map(seedUnpartitioned));
    const seeded = await Promise.all([0, 1].map(content));
    const converterOn = (connections: ClusterConnections) => new ClusterTableConverter(connections, silentLogger.scope('conversion'));

    const cancelled = await converterOn(cluster.services.connections).convert({ table: 'analytics_realtime', signal: AbortSignal.abort() });
    expect(cancelled.ok).toBe(false);
    expect(cancelled.shards.map((shard) => shard.outcome)).toEqual(['cancelled', 'cancelled']);
    expect(await Promise.all([0, 1].map((shard) => partitionCount(shard)))).toEqual([0, 0]);

    await cluster.stopShard(1);
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver(), { connectTimeoutMs: 2000 });
    try {
      const events: ConversionEvent[] = [];
      const report = await converterOn(connections).convert({ table: 'analytics_realtime', onProgress: (event) => events.push(event) });
      expect(report.ok).toBe(false);
      expect(report.shards[0]).toMatchObject({ name: 'shard0', outcome: 'converted', rowsBefore: ROWS_PER_SHARD, rowsAfter: ROWS_PER_SHARD });
      expect(report.shards[1]).toMatchObject({ name: 'shard1', outcome: 'failed', rowsBefore: null, problem: { code: ErrorCode.ShardUnreachable } });
      expect(events.filter((event) => event.kind !== 'progress').map((event) => [event.kind, event.shardName])).toEqual(
        expect.arrayContaining([
          ['shard-started', 'shard0'],
          ['shard-finished', 'shard0'],
          ['shard-finished', 'shard1'],
        ]),
      );
      expect(events.some((event) => event.kind === 'shard-started' && event.shard === 1)).toBe(false);
      expect(await content(0)).toEqual(seeded[0]);
      expect(await partitionCount(0)).toBeGreaterThan(0);
    } finally {
      await connections.dispose();
      await cluster.startShard(1);
    }
    expect(await partitionCount(1)).toBe(0);
    expect(await content(1)).toEqual(seeded[1]);
  });
});
