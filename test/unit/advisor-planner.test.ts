import { describe, expect, it } from 'vitest';
import type { AdviceFinding } from '../../src/shared/monitor';
import type { PartitionMetadata } from '../../src/main/cluster/partition-metadata';
import { adviseShard, isLoopbackHost, memTotalFromFamilies, recommendedBufferPool, serverFlavour, type ShardSettings } from '../../src/main/advisor/planner';

const GiB = 1024 ** 3;
const TABLES = ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly'];

const partitioned = (table: string): PartitionMetadata[] =>
  ['p1', 'p2', 'pmax'].map((name, ordinal) => ({ table, name, ordinal, method: 'RANGE', expression: 'x', description: '1', estimatedRows: 0, dataBytes: 0, indexBytes: 0 }));

const SCHEMA_AS_MIGRATED = {
  tables: TABLES,
  indexes: [
    { table: 'analytics_realtime', name: 'PRIMARY', columns: ['id', 'created_at'] },
    { table: 'analytics_realtime', name: 'idx_site_created', columns: ['site_id', 'created_at'] },
    { table: 'analytics_hourly', name: 'PRIMARY', columns: ['site_id', 'hour_start'] },
    { table: 'analytics_daily', name: 'PRIMARY', columns: ['site_id', 'date'] },
    { table: 'analytics_monthly', name: 'PRIMARY', columns: ['site_id', 'month_start'] },
  ],
  partitions: TABLES.flatMap(partitioned),
};

/** SHOW GLOBAL VARIABLES of a MariaDB 11.4 shard as installed: defaults, query cache compiled in but off. */
const MARIADB_DEFAULTS = {
  version_comment: 'mariadb.org binary distribution',
  innodb_buffer_pool_size: String(128 * 1024 ** 2),
  innodb_log_file_size: String(96 * 1024 ** 2),
  innodb_flush_log_at_trx_commit: '1',
  query_cache_type: 'OFF',
  query_cache_size: '1048576',
};

/** SHOW GLOBAL VARIABLES of a MySQL 8.0.36 shard: no query cache variables, redo capacity instead of log files. */
const MYSQL8_DEFAULTS = {
  version_comment: 'MySQL Community Server - GPL',
  innodb_buffer_pool_size: String(128 * 1024 ** 2),
  innodb_log_file_size: String(48 * 1024 ** 2),
  innodb_log_files_in_group: '2',
  innodb_redo_log_capacity: String(100 * 1024 ** 2),
  innodb_flush_log_at_trx_commit: '1',
};

function settings(overrides: Partial<ShardSettings>): ShardSettings {
  return {
    shard: 1,
    shardName: 'shard1',
    version: '11.4.3-MariaDB',
    variables: MARIADB_DEFAULTS,
    ramBytes: 16 * GiB,
    ramSource: { kind: 'node-exporter', url: 'http://10.0.0.5:9100/metrics' },
    ...SCHEMA_AS_MIGRATED,
    ...overrides,
  };
}

const finding = (findings: AdviceFinding[], subject: string) => {
  const found = findings.find((candidate) => candidate.subject === subject);
  if (!found) throw new Error(`no finding for ${subject}: ${findings.map((candidate) => candidate.subject).join(', ')}`);
  return found;
};

describe('the config advisor on MariaDB', () => {
  const findings = adviseShard(settings({}));

  it('warns about a 128 MiB buffer pool on 16 GiB and gives SET GLOBAL plus the my.cnf line for 70 %', () => {
    const pool = finding(findings, 'innodb_buffer_pool_size');
    expect(pool).toMatchObject({ shard: 1, shardName: 'shard1', severity: 'warning', recommended: '11.1 GiB (70 % of 16.0 GiB)' });
    expect(pool.actual).toContain('1 % of 16.0 GiB RAM');
    expect(pool.fix).toBe(`SET GLOBAL innodb_buffer_pool_size = ${recommendedBufferPool(16 * GiB)}; and in my.cnf [mysqld]: innodb_buffer_pool_size = 11392M`);
  });

  it('accepts a pool between 50 and 80 % of RAM and warns above 80 %', () => {
    const ok = adviseShard(settings({ variables: { ...MARIADB_DEFAULTS, innodb_buffer_pool_size: String(10 * GiB) } }));
    expect(finding(ok, 'innodb_buffer_pool_size')).toMatchObject({ severity: 'ok' });
    const tooBig = finding(adviseShard(settings({ variables: { ...MARIADB_DEFAULTS, innodb_buffer_pool_size: String(14 * GiB) } })), 'innodb_buffer_pool_size');
    expect(tooBig.severity).toBe('warning');
    expect(tooBig.message).toContain('over 80 %');
  });

  it('says the RAM is unknown instead of guessing when no node exporter is configured', () => {
    const pool = finding(adviseShard(settings({ ramBytes: undefined, ramSource: { kind: 'unknown', reason: 'no node exporter is configured for this shard' } })), 'innodb_buffer_pool_size');
    expect(pool).toMatchObject({ severity: 'info', actual: '128.0 MiB' });
    expect(pool.message).toContain('unknown RAM (no node exporter is configured for this shard)');
    expect(pool.fix).toBeUndefined();
  });

  it('sizes the redo log with innodb_log_file_size, online from 10.9 and by restart before', () => {
    expect(finding(findings, 'innodb_log_file_size')).toMatchObject({ severity: 'warning', actual: '96.0 MiB', recommended: '1.0 GiB', fix: `SET GLOBAL innodb_log_file_size = ${GiB}; and in my.cnf [mysqld]: innodb_log_file_size = 1G` });
    const old = finding(adviseShard(settings({ version: '10.6.18-MariaDB' })), 'innodb_log_file_size');
    expect(old.fix).toBe('my.cnf [mysqld]: innodb_log_file_size = 1G, then restart the server (not settable at runtime on this version)');
  });

  it('recommends flush_log_at_trx_commit = 2 and states what an OS crash can lose', () => {
    const flush = finding(findings, 'innodb_flush_log_at_trx_commit');
    expect(flush).toMatchObject({ severity: 'info', actual: '1', recommended: '2', fix: 'SET GLOBAL innodb_flush_log_at_trx_commit = 2; and in my.cnf [mysqld]: innodb_flush_log_at_trx_commit = 2' });
    expect(flush.message).toContain('up to ~1 s of commits');
    expect(flush.message).toContain('a mysqld crash loses none');
    expect(finding(adviseShard(settings({ variables: { ...MARIADB_DEFAULTS, innodb_flush_log_at_trx_commit: '0' } })), 'innodb_flush_log_at_trx_commit').severity).toBe('warning');
  });

  it('recommends the query cache off for write-heavy ingestion, and its memory freed', () => {
    expect(finding(findings, 'query_cache_type')).toMatchObject({ severity: 'ok', actual: 'OFF' });
    expect(finding(findings, 'query_cache_size')).toMatchObject({ severity: 'info', recommended: '0', fix: 'SET GLOBAL query_cache_size = 0; and in my.cnf [mysqld]: query_cache_size = 0' });
    const on = adviseShard(settings({ variables: { ...MARIADB_DEFAULTS, query_cache_type: 'ON', query_cache_size: String(64 * 1024 ** 2) } }));
    const type = finding(on, 'query_cache_type');
    expect(type).toMatchObject({ severity: 'warning', recommended: 'OFF', fix: 'SET GLOBAL query_cache_type = OFF; and in my.cnf [mysqld]: query_cache_type = OFF' });
    expect(type.message).toContain('deprecated');
    expect(finding(on, 'query_cache_size').severity).toBe('warning');
  });

  it('finds every expected index and RANGE partitioning of the migrated schema', () => {
    for (const subject of ['index:analytics_realtime.(site_id, created_at)', 'index:analytics_hourly.(site_id, hour_start)', 'index:analytics_daily.(site_id, date)', 'index:analytics_monthly.(site_id, month_start)']) {
      expect(finding(findings, subject).severity).toBe('ok');
    }
    for (const table of TABLES) expect(finding(findings, `partitioning:${table}`)).toMatchObject({ severity: 'ok', actual: 'RANGE, 3 partitions' });
  });

  it('gives the ALTER TABLE for a missing index and the conversion command for an unpartitioned table', () => {
    const broken = adviseShard(
      settings({
        indexes: SCHEMA_AS_MIGRATED.indexes.filter((index) => index.name !== 'idx_site_created' && index.table !== 'analytics_daily').concat({ table: 'analytics_daily', name: 'PRIMARY', columns: ['date'] }),
        partitions: SCHEMA_AS_MIGRATED.partitions.filter((partition) => partition.table !== 'analytics_hourly'),
      }),
    );
    expect(finding(broken, 'index:analytics_realtime.(site_id, created_at)')).toMatchObject({ severity: 'warning', actual: 'missing', fix: 'ALTER TABLE analytics_realtime ADD INDEX idx_site_created (site_id, created_at);' });
    expect(finding(broken, 'index:analytics_daily.(site_id, date)').fix).toBe('ALTER TABLE analytics_daily DROP PRIMARY KEY, ADD PRIMARY KEY (site_id, date);');
    expect(finding(broken, 'partitioning:analytics_hourly')).toMatchObject({ severity: 'warning', actual: 'not partitioned', fix: 'strata partitions convert --table analytics_hourly --shards 1' });
  });

  it('says a missing table needs the schema applied instead of advising about its index', () => {
    const empty = adviseShard(settings({ tables: [], indexes: [], partitions: [] }));
    expect(empty.filter((candidate) => candidate.subject.startsWith('index:'))).toEqual([]);
    expect(finding(empty, 'partitioning:analytics_realtime')).toMatchObject({ actual: 'table missing', fix: 'strata schema apply' });
  });
});

describe('the config advisor on MySQL 8 (from variable fixtures: no MySQL 8 server on the test machine)', () => {
  const findings = adviseShard(settings({ version: '8.0.36', variables: MYSQL8_DEFAULTS }));

  it('says MySQL 8 removed the query cache instead of recommending its variables', () => {
    const cache = findings.filter((candidate) => candidate.subject.startsWith('query_cache'));
    expect(cache).toHaveLength(1);
    expect(cache[0]).toMatchObject({ subject: 'query_cache_type', severity: 'ok', actual: 'removed' });
    expect(cache[0]!.message).toContain('MySQL 8.0 removed the query cache');
    expect(cache[0]!.fix).toBeUndefined();
  });

  it('sizes the redo log with innodb_redo_log_capacity from 8.0.30, persisted with SET PERSIST', () => {
    expect(findings.some((candidate) => candidate.subject === 'innodb_log_file_size')).toBe(false);
    expect(finding(findings, 'innodb_redo_log_capacity')).toMatchObject({ severity: 'warning', actual: '100.0 MiB', fix: `SET PERSIST innodb_redo_log_capacity = ${2 * GiB};` });
  });

  it('uses SET PERSIST_ONLY and a restart for innodb_log_file_size before 8.0.30', () => {
    const { innodb_redo_log_capacity: _ignored, ...before } = MYSQL8_DEFAULTS;
    const old = finding(adviseShard(settings({ version: '8.0.28', variables: before })), 'innodb_log_file_size');
    expect(old.fix).toBe(`SET PERSIST_ONLY innodb_log_file_size = ${GiB}; -- then restart mysqld`);
  });

  it('persists the buffer pool and flush settings with SET PERSIST', () => {
    expect(finding(findings, 'innodb_buffer_pool_size').fix).toBe(`SET PERSIST innodb_buffer_pool_size = ${recommendedBufferPool(16 * GiB)};`);
    expect(finding(findings, 'innodb_flush_log_at_trx_commit').fix).toBe('SET PERSIST innodb_flush_log_at_trx_commit = 2;');
  });
});

describe('what the advisor reads around the variables', () => {
  it('tells MariaDB from MySQL by VERSION() and version_comment', () => {
    expect(serverFlavour('11.4.3-MariaDB-1')).toEqual({ kind: 'mariadb', major: 11, minor: 4 });
    expect(serverFlavour('5.5.5-10.11.6', 'MariaDB Server')).toMatchObject({ kind: 'mariadb' });
    expect(serverFlavour('8.0.36')).toEqual({ kind: 'mysql', major: 8, minor: 0, patch: 36 });
  });

  it('treats only this machine as loopback, so os.totalmem() is never taken for a remote shard', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.1.1'].every(isLoopbackHost)).toBe(true);
    expect(['10.0.0.5', 'db1.example.com', '128.0.0.1'].some(isLoopbackHost)).toBe(false);
  });

  it("reads the host's RAM from the node exporter's MemTotal", () => {
    expect(memTotalFromFamilies([{ name: 'node_load1', metrics: [{ value: '0.5' }] }, { name: 'node_memory_MemTotal_bytes', metrics: [{ value: '1.7179869184e+10' }] }])).toBe(16 * 1024 ** 3);
    expect(memTotalFromFamilies([{ name: 'node_load1', metrics: [{ value: '0.5' }] }])).toBeUndefined();
  });
});
