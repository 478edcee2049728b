import type { PoolConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { ClusterPartitionService } from '../../src/main/partitions/service';
import { ClusterRetentionService } from '../../src/main/retention/service';
import { ErrorCode } from '../../src/shared/errors';
import type { PruneReport } from '../../src/shared/retention';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
const partitionName = (start: Date) => `p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
/** Generous: a DDL waits 1 s per attempt for the metadata lock, and inserts queued behind it wait as long. */
const STALL_BOUND_MS = 1500;

const rawOf = (report: PruneReport) => report.shards[0]?.tables.find((table) => table.table === 'analytics_realtime');

describe('prune and partition DDL next to steady ingestion and a long open transaction', () => {
  let cluster: TestCluster;
  const query = <T>(sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(0, sql, params);
  const partitionNames = async () =>
    (await query<Array<{ name: string }>>("SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'")).map((row) => row.name);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('never holds an insert up for much more than a second; the DDL is skipped while the transaction is open and done once it closes', async () => {
    const expired = [-6, -5, -4].map(hour);
    for (const start of expired) {
      await query("INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT seq % 5, ? + INTERVAL (seq % 3600) SECOND, seq % 40, '/p' FROM seq_1_to_200", [start]);
    }
    await cluster.services.rollup.runRange('hourly', expired[0]!, hour(-3), { trigger: 'manual' });
    const { connections, state, activities } = cluster.services;
    // Seen from three days ahead the three hours are past raw retention; two days ahead the raw table lacks partitions.
    const retention = new ClusterRetentionService(connections, state, silentLogger.scope('retention'), activities, { clock: () => new Date(Date.now() + 3 * DAY) });
    const partitions = new ClusterPartitionService(connections, state, silentLogger.scope('partitions'), activities, { clock: () => new Date(Date.now() + 2 * DAY) });
    const pool = await connections.pool(0);
    const inserter: PoolConnection = await pool.getConnection();
    const reader: PoolConnection = await pool.getConnection();
    const latencies: number[] = [];
    let inserting = true;
    const steady = (async () => {
      while (inserting) {
        const started = performance.now();
        await inserter.query("INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (1, NOW(), 1, '/steady')");
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      await reader.query('START TRANSACTION');
      await reader.query('SELECT COUNT(*) FROM analytics_realtime WHERE created_at < ?', [hour(-3)]);

      const skipped = await retention.prune({ tables: ['analytics_realtime'] });
      expect(skipped.ok).toBe(false);
      expect(rawOf(skipped)?.result).toMatchObject({ droppedPartitions: 0, complete: false });
      const locked = rawOf(skipped)?.kept.filter((kept) => kept.reason === 'table-locked') ?? [];
      expect(locked.map((kept) => kept.windowStart)).toEqual(expired.map((start) => start.toISOString().replace('.000Z', 'Z')));
      expect(locked[0]?.message).toMatch(/^shard0 raw .*: not removed: a transaction held the table's metadata lock for \d+ s; the next prune drops it$/);
      expect(await partitionNames()).toEqual(expect.arrayContaining(expired.map(partitionName)));
      const [run] = (await retention.runs(5)).filter((entry) => entry.runId === skipped.runId && entry.table === 'raw');
      expect(run).toMatchObject({ outcome: 'partial' });

      const applied = await partitions.apply();
      const rawStatement = applied.shards[0]?.statements.find((statement) => statement.table === 'analytics_realtime');
      expect(rawStatement).toMatchObject({ ok: false, problem: { code: ErrorCode.DdlLockBusy } });
      expect(rawStatement?.problem?.message).toMatch(/^shard0: analytics_realtime: skipped: a transaction held the table's metadata lock for \d+ s; the next run does it$/);
    } finally {
      inserting = false;
      await steady;
      await reader.query('COMMIT');
      inserter.release();
      reader.release();
    }
    const worst = Math.max(...latencies);
    console.log(`${latencies.length} inserts next to the prune and the partition apply; the slowest took ${worst.toFixed(0)} ms`);
    expect(latencies.length).toBeGreaterThan(50);
    expect(worst).toBeLessThan(STALL_BOUND_MS);

    // With the transaction closed, the same runs do what they were asked.
    const pruned = await retention.prune({ tables: ['analytics_realtime'] });
    // The three hours, and the empty hourly partitions around them that are past retention too.
    expect(rawOf(pruned)?.result?.droppedPartitions).toBeGreaterThanOrEqual(3);
    expect(rawOf(pruned)?.kept.filter((kept) => kept.reason === 'table-locked')).toEqual([]);
    const names = await partitionNames();
    for (const start of expired) expect(names).not.toContain(partitionName(start));
    const again = await partitions.apply();
    expect(again.shards[0]?.statements.find((statement) => statement.table === 'analytics_realtime')).toMatchObject({ ok: true });
    await retention.dispose();
    await partitions.dispose();
  });
});
