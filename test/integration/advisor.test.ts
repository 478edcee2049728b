import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdviceFinding, AdviceReport } from '../../src/shared/monitor';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const onShard = (report: AdviceReport, shard: number, subject: string): AdviceFinding | undefined =>
  report.findings.find((finding) => finding.shard === shard && finding.subject === subject);

describe('strata advise on a real 2-shard cluster', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it("checks each shard's settings against this machine's RAM (loopback shards) and finds the migrated indexes and partitioning", async () => {
    const report = await cluster.services.advisor.advise();
    expect(report.unreadShards).toEqual([]);
    for (const shard of [0, 1]) {
      const pool = onShard(report, shard, 'innodb_buffer_pool_size');
      expect(pool?.recommended).toMatch(/\(70 % of [\d.]+ GiB\)$/);
      expect(onShard(report, shard, 'innodb_log_file_size')?.actual).toMatch(/iB$/);
      expect(onShard(report, shard, 'innodb_flush_log_at_trx_commit')?.message).toContain('up to ~1 s of commits');
      expect(onShard(report, shard, 'query_cache_type')?.recommended).toBe('OFF');
      for (const table of ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly']) {
        expect(onShard(report, shard, `partitioning:${table}`)?.severity).toBe('ok');
      }
      expect(onShard(report, shard, 'index:analytics_realtime.(site_id, created_at)')?.severity).toBe('ok');
      expect(onShard(report, shard, 'index:analytics_monthly.(site_id, month_start)')?.severity).toBe('ok');
    }
  });

  it('gives a fix that, run on the shard, makes the finding ok: a dropped index and a flush setting', async () => {
    const { connections } = cluster.services;
    await connections.query(1, 'ALTER TABLE analytics_realtime DROP INDEX idx_site_created', [], { kind: 'ddl' });
    const original = await connections.query<Array<{ value: string }>>(0, 'SELECT @@GLOBAL.innodb_flush_log_at_trx_commit AS value');
    await connections.query(0, 'SET GLOBAL innodb_flush_log_at_trx_commit = 1');
    try {
      const before = await cluster.services.advisor.advise();
      const index = onShard(before, 1, 'index:analytics_realtime.(site_id, created_at)');
      expect(index).toMatchObject({ severity: 'warning', actual: 'missing', fix: 'ALTER TABLE analytics_realtime ADD INDEX idx_site_created (site_id, created_at);' });
      expect(onShard(before, 0, 'index:analytics_realtime.(site_id, created_at)')?.severity).toBe('ok');
      const flush = onShard(before, 0, 'innodb_flush_log_at_trx_commit');
      expect(flush).toMatchObject({ severity: 'info', actual: '1', recommended: '2' });

      await connections.query(1, index!.fix!, [], { kind: 'ddl' });
      await connections.query(0, flush!.fix!.split(';')[0]!);
      const after = await cluster.services.advisor.advise();
      expect(onShard(after, 1, 'index:analytics_realtime.(site_id, created_at)')?.severity).toBe('ok');
      expect(onShard(after, 0, 'innodb_flush_log_at_trx_commit')).toMatchObject({ severity: 'ok', actual: '2' });
    } finally {
      await connections.query(0, `SET GLOBAL innodb_flush_log_at_trx_commit = ${Number(original[0]!.value)}`);
    }
  });

  it('prints a table grouped by shard; with a shard down, lists it as not read and exits 1 (--json too)', async () => {
    const healthy = await runCli(['advise', '--profile', cluster.profilePath]);
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toMatch(/^shard0: /m);
    expect(healthy.stdout).toMatch(/^shard1: /m);
    expect(healthy.stdout).toContain('innodb_buffer_pool_size');

    await cluster.stopShard(1);
    try {
      const partial = await runCli(['advise', '--json', '--profile', cluster.profilePath]);
      expect(partial.code).toBe(1);
      const report = JSON.parse(partial.stdout) as AdviceReport;
      expect(report.unreadShards.map((shard) => shard.shardName)).toEqual(['shard1']);
      expect(report.findings.every((finding) => finding.shard === 0)).toBe(true);
      expect(partial.stderr).toContain('strata: partial result: the advice lacks shard1');
    } finally {
      await cluster.startShard(1);
    }
  });
});
