import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { ClusterRetentionService, type RetentionServiceOptions } from '../../src/main/retention/service';
import { ErrorCode } from '../../src/shared/errors';
import type { PruneProgress, PruneReport, RetentionTable, TablePrune } from '../../src/shared/retention';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');
const partitionName = (start: Date) => `p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;

const tableOf = (report: PruneReport, shard: number, table: RetentionTable): TablePrune | undefined =>
  report.shards.find((entry) => entry.index === shard)?.tables.find((entry) => entry.table === table);

describe('a prune racing late rows and a dying shard', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const service = (options: RetentionServiceOptions) => new ClusterRetentionService(cluster.services.connections, cluster.services.state, silentLogger.scope('retention'), cluster.services.activities, options);
  /** Seen from three days ahead, rows written in the last hours are past the 48 h raw retention. */
  const ahead = () => new Date(Date.now() + 3 * DAY);

  async function insertHour(shard: number, start: Date, rows: number): Promise<void> {
    await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT seq % 5, ? + INTERVAL (seq % 3600) SECOND, seq % 40, '/p' FROM seq_1_to_${rows}`, [start]);
  }
  const insertLate = (shard: number, at: Date) => query(shard, "INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (2, ?, 7, '/late')", [at]);
  async function rawRows(shard: number, from: Date, to: Date): Promise<number> {
    const [row] = await query<Array<{ n: number | string }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [from, to]);
    return Number(row?.n ?? 0);
  }
  async function hourlyPageViews(shard: number, start: Date): Promise<number> {
    const [row] = await query<Array<{ pv: number | string | null }>>(shard, 'SELECT SUM(page_views) AS pv FROM analytics_hourly WHERE hour_start = ?', [start]);
    return Number(row?.pv ?? 0);
  }
  const partitionNames = async (shard: number) =>
    (await query<Array<{ name: string }>>(shard, "SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'")).map((row) => row.name);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('keeps a partition a late row landed in right after the gate, says so, and the hourly rollup then takes the row in', async () => {
    const hours = [-8, -7, -6].map(hour);
    for (const start of hours) await insertHour(0, start, 100);
    await cluster.services.rollup.runRange('hourly', hours[0]!, hour(-5), { trigger: 'manual', shards: [0] });
    const lateAt = new Date(hours[1]!.getTime() + 5 * 60_000);
    let injected = false;
    const racing = service({
      clock: ahead,
      afterGate: async ({ shard, table }) => {
        if (injected || shard !== 0 || table !== 'analytics_realtime') return;
        injected = true;
        await insertLate(0, lateAt);
      },
    });

    const report = await racing.prune({ tables: ['analytics_realtime'], shards: [0] });
    expect(injected).toBe(true);
    const raw = tableOf(report, 0, 'analytics_realtime');
    expect(raw?.kept.filter((kept) => kept.reason === 'late-rows')).toEqual([
      expect.objectContaining({ windowStart: iso(hours[1]!), windowEnd: iso(hours[2]!), message: expect.stringContaining(`1 row was written into it after the prune checked it (partition ${partitionName(hours[1]!)})`) }),
    ]);
    expect(await rawRows(0, hours[1]!, hours[2]!)).toBe(101);
    expect(await rawRows(0, hours[0]!, hours[1]!)).toBe(0);
    expect(await rawRows(0, hours[2]!, hour(-5))).toBe(0);
    const names = await partitionNames(0);
    expect(names).toContain(partitionName(hours[1]!));
    expect(names).not.toContain(partitionName(hours[0]!));

    // Re-rolling the hour takes the late row in; the next prune then drops its partition.
    await cluster.services.rollup.runRange('hourly', hours[1]!, hours[2]!, { trigger: 'manual', shards: [0] });
    expect(await hourlyPageViews(0, hours[1]!)).toBe(101);
    const next = await racing.prune({ tables: ['analytics_realtime'], shards: [0] });
    expect(tableOf(next, 0, 'analytics_realtime')?.kept.filter((kept) => kept.reason === 'late-rows')).toEqual([]);
    expect(await rawRows(0, hours[1]!, hours[2]!)).toBe(0);
    await racing.dispose();
  });

  it('leaves a window deleted in batches untouched when a late row landed in it after the gate', async () => {
    // Older than the first raw partition: these hours share it with an hour not rolled up, so they go by DELETE.
    const [a, b, c] = [hour(-62), hour(-61), hour(-60)];
    for (const start of [a, b, c]) await insertHour(1, start, 100);
    await cluster.services.rollup.runRange('hourly', a, c, { trigger: 'manual', shards: [1] });
    let injected = false;
    const racing = service({
      afterGate: async ({ shard, table }) => {
        if (injected || shard !== 1 || table !== 'analytics_realtime') return;
        injected = true;
        await insertLate(1, new Date(b.getTime() + 60_000));
      },
    });
    const report = await racing.prune({ tables: ['analytics_realtime'], shards: [1] });
    const raw = tableOf(report, 1, 'analytics_realtime');
    expect(raw?.result).toMatchObject({ droppedPartitions: 0, deletedRows: 100 });
    expect(raw?.kept.find((kept) => kept.reason === 'late-rows')).toMatchObject({ windowStart: iso(b), message: expect.stringContaining('1 row was written into it after the prune checked it (before its delete began)') });
    expect(await rawRows(1, a, b)).toBe(0);
    expect(await rawRows(1, b, c)).toBe(101);
    // Untouched, the hour can still be re-rolled from its raw rows; then it goes.
    expect(await query(1, 'SELECT * FROM strata_prune_partial')).toEqual([]);
    await cluster.services.rollup.runRange('hourly', b, c, { trigger: 'manual', shards: [1] });
    expect(await hourlyPageViews(1, b)).toBe(101);
    await racing.prune({ tables: ['analytics_realtime'], shards: [1] });
    expect(await rawRows(1, b, c)).toBe(0);
    await racing.dispose();
  });

  it('stops a shard at the first lost connection, names it, and keeps what it had already removed in the report and the history', async () => {
    const hours = [-12, -11].map(hour);
    for (const shard of [0, 1]) for (const start of hours) await insertHour(shard, start, 50);
    await cluster.services.rollup.runRange('hourly', hours[0]!, hour(-10), { trigger: 'manual' });
    const events: PruneProgress[] = [];
    let stopping: Promise<void> | undefined;
    const dying = service({
      clock: ahead,
      // Shard 1 goes down once its raw table is pruned, before the hourly table is touched.
      afterGate: async ({ shard, table }) => {
        if (shard === 1 && table === 'analytics_hourly') await (stopping ??= cluster.stopShard(1));
      },
    });
    const report = await dying.prune({ tables: ['analytics_realtime', 'analytics_hourly', 'analytics_daily'], onProgress: (event) => events.push(event) });
    expect(stopping).toBeDefined();
    const shard1 = report.shards.find((shard) => shard.index === 1)!;
    expect(shard1.problem).toMatchObject({ code: ErrorCode.ShardUnreachable, message: expect.stringMatching(/^shard1 \(127\.0\.0\.1:\d+\): connection lost$/) });
    expect(shard1.reachable).toBe(false);
    const raw1 = tableOf(report, 1, 'analytics_realtime');
    expect(raw1?.result?.droppedPartitions).toBeGreaterThanOrEqual(2);
    expect(raw1?.drops.map((drop) => drop.name)).toEqual(expect.arrayContaining(hours.map(partitionName)));
    // Nothing ran on the dead session after the loss: the daily table was never started on shard 1.
    expect(events.filter((event) => event.shard === 1 && event.table === 'analytics_daily')).toEqual([]);
    expect(report.ok).toBe(false);
    const everyTable = report.shards.flatMap((shard) => shard.tables);
    expect(report.totals.partitions).toBe(everyTable.reduce((sum, table) => sum + (table.result?.droppedPartitions ?? 0), 0));
    expect(everyTable).toContain(raw1);
    expect(report.totals.rows).toBeGreaterThanOrEqual(200);

    await cluster.startShard(1);
    const runs = (await dying.runs(50)).filter((run) => run.runId === report.runId && run.shard === 1);
    expect(runs.find((run) => run.table === 'raw')).toMatchObject({ outcome: 'ok', rowsRemoved: 100 });
    const failed = runs.find((run) => run.outcome === 'failed');
    expect(failed?.error).toMatch(/^shard1 \(127\.0\.0\.1:\d+\): connection lost$/);
    expect(JSON.stringify(runs)).not.toContain("Can't add new command");
    await dying.dispose();
  });
});
