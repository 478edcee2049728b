import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisShardActivities } from '../../src/main/conflicts/registry';
import { silentLogger } from '../../src/main/log';
import { ClusterRetentionService } from '../../src/main/retention/service';
import { maintenanceJobHandlers } from '../../src/main/scheduler/jobs';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices } from '../../src/main/services';
import { ErrorCode } from '../../src/shared/errors';
import type { MaintenanceRun, PruneProgress, PruneReport, RetentionPolicyEntry, TablePrune } from '../../src/shared/retention';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The start of the current hour when the file started: every instant below is relative to it. */
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');

const tableOf = (report: PruneReport, shard: number, table: string): TablePrune | undefined =>
  report.shards.find((entry) => entry.index === shard)?.tables.find((entry) => entry.table === table);

describe('retention and pruning on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const cli = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  /** `rows` raw page views in the hour starting at `start`, spread over 5 sites and 40 visitors. */
  async function insertHour(shard: number, start: Date, rows: number): Promise<void> {
    await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT seq % 5, ? + INTERVAL (seq % 3600) SECOND, seq % 40, '/p' FROM seq_1_to_${rows}`, [start]);
  }

  async function rawRows(shard: number, from: Date, to: Date): Promise<number> {
    const [row] = await query<Array<{ n: number | string }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [from, to]);
    return Number(row?.n ?? 0);
  }

  async function partitionNames(shard: number, table: string): Promise<string[]> {
    const rows = await query<Array<{ name: string }>>(shard, 'SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION', [table]);
    return rows.map((row) => row.name);
  }

  /** A retention service whose clock stands `days` ahead, so data written now is already past retention. */
  const serviceAhead = (days: number) =>
    new ClusterRetentionService(cluster.services.connections, cluster.services.state, silentLogger.scope('retention'), cluster.services.activities, { clock: () => new Date(Date.now() + days * DAY) });

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('shows the default policy and refuses a retention shorter than the next level\'s rollup lag, changing nothing', async () => {
    const shown = await cli('retention', 'show', '--json');
    expect(shown.code).toBe(0);
    const entry = JSON.parse(shown.stdout) as RetentionPolicyEntry;
    expect(entry).toMatchObject({ isDefault: true, policy: { rawHours: 48, hourlyDays: 7, dailyDays: 365, monthlyMonths: 60 } });

    const refused = await cli('retention', 'set', '--raw-hours', '2');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/rawHours 2 is shorter than the next level's rollup lag: keep at least 5 hours/);
    const after = JSON.parse((await cli('retention', 'show', '--json')).stdout) as RetentionPolicyEntry;
    expect(after.policy).toEqual(entry.policy);

    const bad = await cli('retention', 'set', '--daily-days', 'ten');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--daily-days takes a whole number, got 'ten'/);
  });

  it('stores a valid change for every console and agent, and audits it', async () => {
    const set = await cli('retention', 'set', '--batch-rows', '100', '--hourly-days', '9', '--json');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ isDefault: false, policy: { batchRows: 100, hourlyDays: 9, rawHours: 48 } });
    // Another process (a console) reads the same policy from the cluster.
    expect((await cluster.services.retention.policy()).policy).toMatchObject({ batchRows: 100, hourlyDays: 9 });
    const [audit] = await query<Array<{ action: string; detail: string }>>(0, "SELECT action, detail FROM strata_audit_log WHERE action = 'retention.set' ORDER BY id DESC LIMIT 1");
    expect(audit).toEqual({ action: 'retention.set', detail: 'hourlyDays 7 → 9, batchRows 5000 → 100' });
    await cluster.services.retention.setPolicy({ hourlyDays: 7 });
  });

  it('prunes rolled-up raw hours past retention in batches, keeps the hour not rolled up, and asks before it deletes', async () => {
    // Three hours older than the 48 h raw retention, on shard 0; they land in the first raw partition.
    const [a, b, c] = [hour(-60), hour(-59), hour(-58)];
    for (const start of [a, b, c]) await insertHour(0, start, 300);
    const rolled = await cli('rollup', '--level', 'hourly', '--from', iso(a), '--to', iso(c), '--json');
    expect(rolled.code).toBe(0);

    const dry = await cli('prune', '--dry-run', '--tables', 'raw', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as PruneReport;
    expect(plan.dryRun).toBe(true);
    const raw0 = tableOf(plan, 0, 'analytics_realtime');
    expect(raw0?.deletes).toEqual([
      { from: iso(a), to: iso(b), rows: 300, nextLevelPageViews: 300 },
      { from: iso(b), to: iso(c), rows: 300, nextLevelPageViews: 300 },
    ]);
    expect(raw0?.kept).toEqual([expect.objectContaining({ windowStart: iso(c), reason: 'not-rolled-up', sourcePageViews: 300, nextLevelPageViews: 0 })]);
    expect(raw0?.kept[0]?.message).toContain(`strata rollup --level hourly --from ${iso(c)} --to ${iso(hour(-57))}`);
    expect(tableOf(plan, 1, 'analytics_realtime')?.deletes).toEqual([]);
    expect(await rawRows(0, a, hour(-57))).toBe(900);

    // No terminal and no --yes: refused, nothing removed.
    const unconfirmed = await cli('prune', '--tables', 'raw');
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('not pruned: confirm on a terminal, or pass --yes');
    expect(await rawRows(0, a, hour(-57))).toBe(900);

    const pruned = await cli('prune', '--tables', 'raw', '--yes', '--json');
    expect(pruned.code).toBe(0);
    const report = JSON.parse(pruned.stdout) as PruneReport;
    // batchRows is 100 (set above): 600 rows go in bounded batches.
    expect(tableOf(report, 0, 'analytics_realtime')?.result).toMatchObject({ deletedRows: 600, droppedPartitions: 0, complete: true });
    expect(await rawRows(0, a, c)).toBe(0);
    expect(await rawRows(0, c, hour(-57))).toBe(300);

    const runs = JSON.parse((await cli('retention', 'runs', '--json')).stdout) as MaintenanceRun[];
    expect(runs.find((run) => run.shard === 0 && run.table === 'raw')).toMatchObject({ job: 'prune', outcome: 'ok', rowsRemoved: 600, trigger: 'manual' });
    const [audit] = await query<Array<{ detail: string }>>(0, "SELECT detail FROM strata_audit_log WHERE action = 'retention.prune' ORDER BY id DESC LIMIT 1");
    expect(audit?.detail).toContain('shard0: raw: dropped 0 partitions, deleted 600 rows; kept 1 window (not-rolled-up 1)');
  });

  it('holds back an hour whose raw rows no longer add up to the hourly rollup, with both totals', async () => {
    const d = hour(-56);
    await insertHour(1, d, 200);
    await cluster.services.rollup.runRange('hourly', d, hour(-55), { trigger: 'manual', shards: [1] });
    // A late row arrives after the rollup: hourly now says 200 page views, raw holds 201.
    await query(1, "INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (3, ?, 9, '/late')", [new Date(d.getTime() + 60_000)]);

    const plan = await cluster.services.retention.plan({ tables: ['analytics_realtime'], shards: [1] });
    const raw1 = tableOf(plan, 1, 'analytics_realtime');
    expect(raw1?.deletes).toEqual([]);
    expect(raw1?.kept).toEqual([expect.objectContaining({ windowStart: iso(d), reason: 'totals-differ', sourcePageViews: 201, nextLevelPageViews: 200 })]);
    expect(raw1?.kept[0]?.message).toContain('holds 201 page views but hourly holds 200');

    await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [1] });
    expect(await rawRows(1, d, hour(-55))).toBe(201);

    // Re-rolling the hour takes the late row in; then the hour may go.
    await cluster.services.rollup.runRange('hourly', d, hour(-55), { trigger: 'manual', shards: [1] });
    const report = await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [1] });
    expect(tableOf(report, 1, 'analytics_realtime')?.result?.deletedRows).toBe(201);
    expect(await rawRows(1, d, hour(-55))).toBe(0);
  });

  it('skips a shard while a backup of it runs, and prunes the other', async () => {
    const e = hour(-54);
    for (const shard of [0, 1]) await insertHour(shard, e, 50);
    await cluster.services.rollup.runRange('hourly', e, hour(-53), { trigger: 'manual' });
    const backups = new RedisShardActivities(cluster.services.connections, silentLogger.scope('backup'));
    const backup = await backups.claim(1, 'backup', 'nightly dump');
    try {
      const dry = await cluster.services.retention.plan({ tables: ['analytics_realtime'] });
      expect(dry.shards.find((shard) => shard.index === 1)?.blockedBy).toMatch(/^a backup of shard1 has been running since .* nightly dump$/);
      const report = await cluster.services.retention.prune({ tables: ['analytics_realtime'] });
      expect(report.shards.find((shard) => shard.index === 1)).toMatchObject({ blockedBy: expect.stringContaining('a backup of shard1'), tables: [] });
      expect(await rawRows(1, e, hour(-53))).toBe(50);
      expect(await rawRows(0, e, hour(-53))).toBe(0);
      const runs = await cluster.services.retention.runs(10);
      expect(runs.find((run) => run.shard === 1 && run.runId === report.runId)).toMatchObject({ outcome: 'blocked', detail: expect.stringContaining('skipped: a backup of shard1') });
    } finally {
      await backup.release();
      await backups.dispose();
    }
    await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [1] });
    expect(await rawRows(1, e, hour(-53))).toBe(0);
  });

  it('stops at its time budget and reports the rest as kept for the next run', async () => {
    const f = hour(-52);
    await insertHour(0, f, 1000);
    await cluster.services.rollup.runRange('hourly', f, hour(-51), { trigger: 'manual', shards: [0] });
    await cluster.services.retention.setPolicy({ batchRows: 100, batchPauseMs: 0, timeBudgetSeconds: 1 });
    // A console whose budget clock moves 600 ms at every look: the budget of 1 s is spent after the first batch.
    let elapsedMs = 0;
    const timed = createServices({ profile: cluster.profile, secrets: new EnvSecretResolver(), logger: silentLogger, retention: { monotonicNow: () => (elapsedMs += 600) } });
    try {
      const report = await timed.retention.prune({ tables: ['analytics_realtime'], shards: [0] });
      const raw0 = tableOf(report, 0, 'analytics_realtime');
      expect(raw0?.result).toMatchObject({ complete: false, stoppedBy: 'time-budget' });
      expect(raw0?.result?.deletedRows).toBeGreaterThan(0);
      expect(raw0?.result?.deletedRows).toBeLessThan(1000);
      expect(raw0?.kept).toContainEqual(expect.objectContaining({ reason: 'time-budget', windowStart: iso(f) }));
      expect(await rawRows(0, f, hour(-51))).toBe(1000 - (raw0?.result?.deletedRows ?? 0));
      const runs = await cluster.services.retention.runs(5);
      expect(runs.find((run) => run.runId === report.runId && run.table === 'raw')?.outcome).toBe('partial');
      // The half-deleted hour is marked with the hourly total it was checked against, so the next run may finish it.
      expect(await query(0, 'SELECT UNIX_TIMESTAMP(window_start) * 1000 AS w, next_level_page_views AS pv FROM strata_prune_partial')).toEqual([{ w: f.getTime(), pv: 1000 }]);
    } finally {
      await timed.dispose();
      await cluster.services.retention.setPolicy({ batchRows: 5000, batchPauseMs: 50, timeBudgetSeconds: 300 });
    }
    await cluster.services.retention.prune({ tables: ['analytics_realtime'], shards: [0] });
    expect(await rawRows(0, f, hour(-51))).toBe(0);
    expect(await query(0, 'SELECT * FROM strata_prune_partial')).toEqual([]);
  });

  it('deletes expired monthly rows of a table that is not partitioned, in batches', async () => {
    await query(1, 'DROP TABLE analytics_monthly');
    await query(1, 'CREATE TABLE analytics_monthly (site_id INT UNSIGNED NOT NULL, month_start DATE NOT NULL, page_views BIGINT UNSIGNED NOT NULL DEFAULT 0, visitors INT UNSIGNED NOT NULL DEFAULT 0, visitors_sketch MEDIUMBLOB NULL, PRIMARY KEY (site_id, month_start))');
    const now = new Date();
    const monthsAgo = (months: number) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - months, 1));
    // Six and seven years old (past the 5-year retention), and last month.
    for (const start of [monthsAgo(84), monthsAgo(72), monthsAgo(1)]) {
      await query(1, 'INSERT INTO analytics_monthly (site_id, month_start, page_views, visitors) SELECT seq, ?, 10, 1 FROM seq_1_to_250', [start]);
    }
    const plan = await cluster.services.retention.plan({ tables: ['analytics_monthly'], shards: [1] });
    expect(tableOf(plan, 1, 'analytics_monthly')).toMatchObject({ partitioned: false, drops: [], rows: 500, kept: [] });
    const report = await cluster.services.retention.prune({ tables: ['analytics_monthly'], shards: [1] });
    expect(tableOf(report, 1, 'analytics_monthly')?.result).toMatchObject({ deletedRows: 500, complete: true });
    const [left] = await query<Array<{ n: number | string; oldest: Date }>>(1, 'SELECT COUNT(*) AS n, MIN(month_start) AS oldest FROM analytics_monthly');
    expect(Number(left?.n)).toBe(250);
  });

  it('drops whole expired partitions once their hours are rolled up and reconciled, and leaves the others', async () => {
    // Six recent hours on both shards; all but the last are rolled up. Seen from three days ahead, all are expired.
    const hours = [-8, -7, -6, -5, -4, -3].map(hour);
    for (const shard of [0, 1]) for (const start of hours) await insertHour(shard, start, 120);
    await cluster.services.rollup.runRange('hourly', hours[0]!, hours[5]!, { trigger: 'manual' });
    const ahead = serviceAhead(3);
    const events: PruneProgress[] = [];
    const plan = await ahead.plan({ tables: ['analytics_realtime'] });
    const rolledNames = hours.slice(0, 5).map((start) => `p${start.toISOString().slice(0, 13).replace(/[-T]/g, '')}`);
    const lastName = `p${hours[5]!.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
    for (const shard of [0, 1]) {
      const raw = tableOf(plan, shard, 'analytics_realtime');
      expect(raw?.drops.map((drop) => drop.name)).toEqual(expect.arrayContaining(rolledNames));
      expect(raw?.drops.map((drop) => drop.name)).not.toContain(lastName);
      // Earlier tests left older hours kept back on purpose; these six hours are what this test is about.
      expect(raw?.kept.filter((kept) => kept.windowStart >= iso(hours[0]!))).toEqual([expect.objectContaining({ windowStart: iso(hours[5]!), reason: 'not-rolled-up' })]);
    }
    const report = await ahead.prune({ tables: ['analytics_realtime'], onProgress: (event) => events.push(event) });
    expect(report.ok).toBe(true);
    for (const shard of [0, 1]) {
      const names = await partitionNames(shard, 'analytics_realtime');
      for (const name of rolledNames) expect(names).not.toContain(name);
      expect(names).toContain(lastName);
      expect(await rawRows(shard, hours[0]!, hours[5]!)).toBe(0);
      expect(await rawRows(shard, hours[5]!, hour(-2))).toBe(120);
    }
    expect(events.filter((event) => event.kind === 'partitions-dropped').map((event) => event.shard).sort()).toEqual([0, 1]);
    await ahead.dispose();
  });

  it('the 04:00 maintenance job adds missing partitions and prunes; its catch-up only adds partitions', async () => {
    const g = hour(-50);
    await insertHour(0, g, 80);
    await cluster.services.rollup.runRange('hourly', g, hour(-49), { trigger: 'manual', shards: [0] });
    const names = await partitionNames(0, 'analytics_daily');
    const future = names.filter((name) => name !== 'pmax').slice(-2);
    await query(0, `ALTER TABLE analytics_daily REORGANIZE PARTITION ${future.join(', ')}, pmax INTO (PARTITION pmax VALUES LESS THAN MAXVALUE)`);
    const { maintenance } = maintenanceJobHandlers({ partitions: cluster.services.partitions, retention: cluster.services.retention });
    const context = { fencingToken: 0, signal: new AbortController().signal, now: new Date() };

    const catchUp = await maintenance!({ ...context, trigger: 'catch-up' });
    expect(catchUp).toEqual({ ok: true, summary: 'partitions: added on 1 shard; prune: waits for its scheduled run' });
    expect(await partitionNames(0, 'analytics_daily')).toEqual(names);
    expect(await rawRows(0, g, hour(-49))).toBe(80);

    const scheduled = await maintenance!({ ...context, trigger: 'schedule' });
    expect(scheduled.ok).toBe(true);
    expect(scheduled.summary).toMatch(/^partitions: up to date; prune: \d+ partitions? dropped, 80 rows removed, \d+ windows? kept back$/);
    expect(await rawRows(0, g, hour(-49))).toBe(0);
    const runs = await cluster.services.retention.runs(20);
    expect(runs.filter((run) => run.job === 'partitions' && run.trigger === 'catch-up').map((run) => [run.shardName, run.outcome, run.detail])).toEqual(
      expect.arrayContaining([
        ['shard0', 'ok', 'added partitions to analytics_daily'],
        ['shard1', 'ok', 'up to date'],
      ]),
    );
    expect(runs.find((run) => run.job === 'prune' && run.trigger === 'schedule' && run.shard === 0 && run.table === 'raw')).toMatchObject({ outcome: 'ok', rowsRemoved: 80 });
  });

  it('refuses an unknown shard or table before anything runs', async () => {
    const shard = await cli('prune', '--dry-run', '--shards', '7');
    expect(shard.code).not.toBe(0);
    expect(shard.stderr).toMatch(/shard 7|no shard 7/i);
    const table = await cli('prune', '--dry-run', '--tables', 'visits');
    expect(table.code).not.toBe(0);
    expect(table.stderr).toContain('visits is not a table Strata manages');
    await expect(cluster.services.retention.setPolicy({ dailyDays: 10 })).rejects.toMatchObject({ code: ErrorCode.RetentionInvalid });
  });

  it('keeps partitions as far ahead as the stored per-table setting says', async () => {
    const shown = JSON.parse((await cli('partitions', 'ahead', '--json')).stdout) as Array<{ table: string; description: string; isDefault: boolean }>;
    expect(shown.find((entry) => entry.table === 'analytics_daily')).toMatchObject({ description: '3 months', isDefault: true });
    expect((await cli('partitions', 'ahead', '--table', 'analytics_daily', '--months', '0')).stderr).toContain('keep-ahead must be a whole number of at least 1');
    expect((await cli('partitions', 'ahead', '--table', 'visits', '--days', '3')).stderr).toContain('visits is not a table Strata manages');
    expect(JSON.parse((await cli('partitions', 'plan', '--json')).stdout).shards[0].tables.find((table: { table: string }) => table.table === 'analytics_daily').statements).toEqual([]);

    const changed = await cli('partitions', 'ahead', '--table', 'analytics_daily', '--months', '6', '--json');
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout).find((entry: { table: string }) => entry.table === 'analytics_daily')).toMatchObject({ description: '6 months', isDefault: false });
    const plan = JSON.parse((await cli('partitions', 'plan', '--json')).stdout);
    for (const shard of plan.shards) expect(shard.tables.find((table: { table: string }) => table.table === 'analytics_daily').adds.length).toBeGreaterThanOrEqual(3);
    const [audit] = await query<Array<{ detail: string }>>(0, "SELECT detail FROM strata_audit_log WHERE action = 'partitions.keep-ahead' ORDER BY id DESC LIMIT 1");
    expect(audit?.detail).toBe('3 months → 6 months');
  });
});
