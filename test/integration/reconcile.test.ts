import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceTotalsSql } from '../../src/main/reconcile/planner';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { reconcileJobHandlers } from '../../src/main/scheduler/jobs';
import type { ReconcileReport, ShardReconcile } from '../../src/shared/reconcile';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
/** The start of the current hour when the file started: the CLI runs on the real clock, so its data is placed around it. */
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
/** The in-process service runs at a fixed instant just after a month boundary, so a late hour reaches a closed month. */
const FIXED_NOW = new Date('2026-03-01T07:30:00Z');
const LATE_HOUR = new Date('2026-02-28T21:00:00Z');

describe('reconciliation finds late rows and rolls them up', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const cli = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  /** `rows` raw page views in the hour starting at `start` for sites owned by `shard` (site_id % 2), as late rows arrive. */
  async function insertRows(shard: number, start: Date, rows: number, path = '/late'): Promise<void> {
    await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT 2 * (seq % 5) + ?, ? + INTERVAL (seq % 3600) SECOND, seq % 40, ? FROM seq_1_to_${rows}`, [shard, start, path]);
  }

  async function total(shard: number, sql: string, params: unknown[]): Promise<number> {
    const [row] = await query<Array<{ n: number | string | null }>>(shard, sql, params);
    return Number(row?.n ?? 0);
  }
  const rawIn = (shard: number, from: Date, to: Date) => total(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [from, to]);
  const hourlyIn = (shard: number, from: Date, to: Date) => total(shard, 'SELECT SUM(page_views) AS n FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [from, to]);
  const dailyIn = (shard: number, from: Date, to: Date) => total(shard, 'SELECT SUM(page_views) AS n FROM analytics_daily WHERE `date` >= ? AND `date` < ?', [from, to]);
  const monthlyIn = (shard: number, from: Date, to: Date) => total(shard, 'SELECT SUM(page_views) AS n FROM analytics_monthly WHERE month_start >= ? AND month_start < ?', [from, to]);
  const shardOf = (report: ReconcileReport, shard: number) => report.shards.find((entry) => entry.shard === shard) as ShardReconcile;
  const levelOf = (report: ReconcileReport, shard: number, level: string) => shardOf(report, shard).levels.find((entry) => entry.level === level)!;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, services: { reconcile: { clock: () => FIXED_NOW } } });
    // Twelve closed hours of traffic on both shards, rolled up as the scheduler would.
    await cluster.services.generator.run({ from: hour(-12).toISOString(), to: hour(0).toISOString(), sites: 40, views: 6_000, seed: 9 });
    for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await cluster.services.rollup.runDue(level, { trigger: 'manual' })).ok).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await cluster?.down();
  });

  it('reads raw page views per hour in one statement pruned to the partitions of the range', async () => {
    const statement = sourceTotalsSql('hourly', hour(-48), hour(0));
    const rows = await query<Array<{ partitions: string | null }>>(0, `EXPLAIN PARTITIONS ${statement.sql}`, statement.params);
    const read = rows[0]?.partitions?.split(',') ?? [];
    const [all] = await query<Array<{ n: number }>>(0, "SELECT COUNT(*) AS n FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'");
    expect(read.length).toBeGreaterThanOrEqual(48);
    expect(read.length).toBeLessThanOrEqual(50);
    expect(read.length).toBeLessThan(Number(all?.n));
  });

  it('reports an hour with rows 10 hours late, with raw and hourly totals, and changes nothing in a dry run', async () => {
    const late = hour(-10);
    const hourlyBefore = await hourlyIn(0, late, hour(-9));
    await insertRows(0, late, 30);
    const raw = await rawIn(0, late, hour(-9));
    expect(raw).toBe(hourlyBefore + 30);

    const dry = await cli('reconcile', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout) as ReconcileReport;
    expect(plan).toMatchObject({ dryRun: true, ok: true });
    const hourly = levelOf(plan, 0, 'hourly');
    expect(hourly.windowsChecked).toBeGreaterThanOrEqual(47);
    expect(hourly.windows).toEqual([{ windowStart: late.toISOString(), windowEnd: hour(-9).toISOString(), finding: 'late-rows', sourcePageViews: raw, levelPageViews: hourlyBefore, action: 'would-re-roll' }]);
    expect(shardOf(plan, 0).outcome).toBe('differs');
    expect(shardOf(plan, 1)).toMatchObject({ outcome: 'matched' });
    expect(levelOf(plan, 1, 'hourly').windows).toEqual([]);

    const text = await cli('reconcile', '--dry-run');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`raw ${raw.toLocaleString('en-US')}  hourly ${hourlyBefore.toLocaleString('en-US')}  late-rows  would-re-roll`);
    expect(text.stdout).toContain('dry run: nothing was re-rolled');

    expect(await hourlyIn(0, late, hour(-9))).toBe(hourlyBefore);
    const [history] = await query<Array<{ n: number }>>(0, "SELECT COUNT(*) AS n FROM strata_job_runs WHERE job = 'reconcile'");
    expect(Number(history?.n)).toBe(0);
  });

  it('re-rolls the hour and the closed days and months above it, records what it found, and a second run finds nothing', async () => {
    const late = hour(-10);
    const run = await cli('reconcile', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as ReconcileReport;
    expect(report).toMatchObject({ dryRun: false, ok: true });
    expect(shardOf(report, 0).outcome).toBe('repaired');
    expect(levelOf(report, 0, 'hourly').windows).toEqual([expect.objectContaining({ windowStart: late.toISOString(), action: 're-rolled' })]);
    const raw = await rawIn(0, late, hour(-9));
    expect(await hourlyIn(0, late, hour(-9))).toBe(raw);
    // Every window each level's watermark covers now adds up to its source, on both shards.
    for (const shard of [0, 1]) {
      for (const level of shardOf(report, shard).levels) {
        for (const window of level.windows) expect(window.action, `${level.level} ${window.windowStart}`).toBe('re-rolled');
        if (!level.from || !level.to) continue;
        const [from, to] = [new Date(level.from), new Date(level.to)];
        if (level.level === 'hourly') expect(await hourlyIn(shard, from, to)).toBe(await rawIn(shard, from, to));
        if (level.level === 'daily') expect(await dailyIn(shard, from, to)).toBe(await hourlyIn(shard, from, to));
        if (level.level === 'monthly') expect(await monthlyIn(shard, from, to)).toBe(await dailyIn(shard, from, to));
      }
    }

    const [history] = await query<Array<{ outcome: string; trigger_kind: string; detail: string }>>(0, "SELECT outcome, trigger_kind, detail FROM strata_job_runs WHERE job = 'reconcile' AND shard_index = 0");
    expect(history).toMatchObject({ outcome: 'repaired', trigger_kind: 'manual' });
    expect(history?.detail).toContain(`${late.toISOString().replace(':00.000Z', 'Z')} raw ${raw} vs hourly ${raw - 30} late-rows re-rolled`);
    const [audit] = await query<Array<{ target: string; detail: string }>>(0, "SELECT target, detail FROM strata_audit_log WHERE action = 'reconcile.run'");
    expect(audit?.target).toBe('shard0,shard1');
    expect(audit?.detail).toContain('shard0 repaired');
    const runs = await cluster.services.reconcile.runs();
    expect(runs.runs.map((entry) => [entry.shardName, entry.outcome])).toEqual(expect.arrayContaining([['shard0', 'repaired'], ['shard1', 'matched']]));

    const again = await cli('reconcile', '--json');
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as ReconcileReport;
    expect(second.shards.map((shard) => shard.outcome)).toEqual(['matched', 'matched']);
    expect(second.shards.flatMap((shard) => shard.levels.flatMap((level) => level.windows))).toEqual([]);
  });

  it('carries a late hour up to its day and its closed month (scheduled job, at a fixed instant after a month boundary)', async () => {
    // February 2026's last hours, rolled up by a scheduler whose clock stood at 1 March 07:30.
    for (const offset of [-5, -4, -3, -2, -1, 0]) await insertRows(1, new Date(LATE_HOUR.getTime() + offset * HOUR), 200, '/feb');
    const at = { trigger: 'manual' as const, now: FIXED_NOW, shards: [1] };
    await cluster.services.rollup.runRange('hourly', new Date('2026-02-28T00:00:00Z'), new Date('2026-03-01T07:00:00Z'), at);
    await cluster.services.rollup.runRange('daily', new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'), at);
    await cluster.services.rollup.runRange('monthly', new Date('2026-02-01T00:00:00Z'), new Date('2026-03-01T00:00:00Z'), at);
    // The 03:00 monthly run of 1 March would have begun the monthly watermark there; range runs never begin one.
    await advanceWatermark((sql, params) => query(1, sql, params), { level: 'monthly', to: new Date('2026-03-01T00:00:00Z'), coveredFrom: new Date('2026-02-01T00:00:00Z'), by: 'test', at: FIXED_NOW });
    await insertRows(1, LATE_HOUR, 30);
    const [day, month] = [new Date('2026-02-28T00:00:00Z'), new Date('2026-02-01T00:00:00Z')];
    const march = new Date('2026-03-01T00:00:00Z');
    expect(await monthlyIn(1, month, march)).toBe(1_200);

    const [handler] = Object.values(reconcileJobHandlers(cluster.services.reconcile));
    const signal = new AbortController().signal;
    expect(await handler!({ trigger: 'catch-up', fencingToken: 1, signal, now: FIXED_NOW })).toEqual({ ok: true, summary: 'waits for its scheduled run' });
    const result = await handler!({ trigger: 'schedule', fencingToken: 0, signal, now: FIXED_NOW });
    expect(result.ok).toBe(true);
    expect(result.summary).toContain('shard1 repaired (1 hourly, 1 daily, 1 monthly re-rolled)');

    expect(await hourlyIn(1, LATE_HOUR, new Date(LATE_HOUR.getTime() + HOUR))).toBe(230);
    expect(await dailyIn(1, day, march)).toBe(await rawIn(1, day, march));
    expect(await monthlyIn(1, month, march)).toBe(1_230);
    expect(await monthlyIn(1, month, march)).toBe(await rawIn(1, month, march));
    const [history] = await query<Array<{ trigger_kind: string; detail: string }>>(1, "SELECT trigger_kind, detail FROM strata_job_runs WHERE job = 'reconcile' AND trigger_kind = 'schedule'");
    expect(history?.detail).toContain('2026-02-28T21:00Z raw 230 vs hourly 200 late-rows re-rolled');
    expect(history?.detail).toContain('2026-02-28T00:00Z hourly 1230 vs daily 1200 cascade re-rolled');
    expect(history?.detail).toContain('2026-02-01T00:00Z daily 1230 vs monthly 1200 cascade re-rolled');
  });

  it('with one shard stopped, reconciles the other, names the stopped one and exits 1', async () => {
    const late = hour(-8);
    await insertRows(0, late, 30);
    await cluster.stopShard(1);
    try {
      const run = await cli('reconcile');
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^shard1 +FAILED: shard1 \(127\.0\.0\.1:\d+\): /m);
      expect(run.stdout).toMatch(/^shard0 +repaired$/m);
      expect(run.stdout).toContain('NOT OK: reconciliation');
      expect(run.stdout).toContain('shard1 failed');
      expect(await hourlyIn(0, late, hour(-7))).toBe(await rawIn(0, late, hour(-7)));
    } finally {
      await cluster.startShard(1);
    }
  });

  it('refuses bad input with a one-line numbered error and exit 2, before reading the profile', async () => {
    const bad = await runCli(['reconcile', '--shards', '0,a', '--profile', `${cluster.dir}/missing.json`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("strata: error 7010 (ReconcileInvalid): --shards must be shard indexes separated by commas, such as 0,2, got '0,a'\n");
    const half = await cli('reconcile', '--from', hour(-3).toISOString());
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/^strata: error 7010 \(ReconcileInvalid\): --from and --to go together/);
  });
});
