import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { RedisLease } from '../../src/main/lease/lease';
import { silentLogger } from '../../src/main/log';
import { rollupJobHandlers, type RollupRunner } from '../../src/main/scheduler/jobs';
import { ClusterScheduler, type SchedulerEvent, type SchedulerRun } from '../../src/main/scheduler/service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices } from '../../src/main/services';
import { createClusterState } from '../../src/main/state';
import { ErrorCode } from '../../src/shared/errors';
import type { RollupLevel, RollupReport, RunTrigger, ShardRollupReport } from '../../src/shared/rollup';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { waitFor } from '../support/time';

const HOUR_MS = 3_600_000;
const RETENTION_HOURS = 48;
const hour = (start: Date, hours: number) => new Date(start.getTime() + hours * HOUR_MS);

/**
 * Stands in for the rollup engine: reads each shard's hourly watermark once, then writes one row per due window
 * (oldest first, capped by retention) together with the engine's fenced watermark move. It takes no lock of its
 * own, so two schedulers running at once would write a window twice: only the lease and the fencing token prevent that.
 */
class StandInRollup implements RollupRunner {
  constructor(
    private readonly connections: ClusterConnections,
    private readonly runner: string,
    /** Awaited before each window; a test holds the run here to act at a known point. */
    private readonly beforeEachWindow?: () => Promise<void>,
  ) {}

  async runDue(level: RollupLevel, options: { trigger: RunTrigger; fencingToken?: number; signal?: AbortSignal; now?: Date }): Promise<RollupReport> {
    const report: RollupReport = { runId: `${this.runner}-${Date.now()}`, level, trigger: options.trigger, ok: true, shards: [] };
    const due = new Date(Math.floor((options.now ?? new Date()).getTime() / HOUR_MS) * HOUR_MS);
    for (const shard of this.connections.shards) {
      const [row] = await this.connections.query<Array<{ watermark: Date | null }>>(shard.index, "SELECT watermark FROM strata_watermarks WHERE level = 'hourly'");
      const before = row?.watermark ?? null;
      const result: ShardRollupReport = { shard: shard.index, shardName: shard.label, watermarkBefore: before?.toISOString() ?? null, watermarkAfter: null, windows: [] };
      report.shards.push(result);
      if (level !== 'hourly') continue;
      const oldestKept = hour(due, -RETENTION_HOURS);
      for (let start = before && before > oldestKept ? before : oldestKept; start < due; start = hour(start, 1)) {
        await this.beforeEachWindow?.();
        if (options.signal?.aborted) return { ...report, ok: false };
        const connection = await (await this.connections.pool(shard.index)).getConnection();
        try {
          await connection.beginTransaction();
          await connection.query('INSERT INTO standin_windows (window_start, token, runner, trigger_kind) VALUES (?, ?, ?, ?)', [start, options.fencingToken ?? 0, this.runner, options.trigger]);
          const effect = await advanceWatermark(async (sql, params) => (await connection.query(sql, params))[0], {
            level: 'hourly',
            to: hour(start, 1),
            fencingToken: options.fencingToken,
            by: this.runner,
            at: new Date(),
          });
          const window = { windowStart: start.toISOString(), windowEnd: hour(start, 1).toISOString(), rowsRead: 0, rowsWritten: 1, durationMs: 0, watermark: effect };
          if (effect !== 'advanced') {
            await connection.rollback();
            result.windows.push({ ...window, outcome: 'fenced', rowsWritten: 0 });
            report.ok = false;
            break;
          }
          await connection.commit();
          result.windows.push({ ...window, outcome: 'ok' });
          result.watermarkAfter = window.windowEnd;
        } finally {
          connection.release();
        }
      }
    }
    return report;
  }
}

describe('the scheduler on a real 2-shard cluster with Redis', () => {
  let cluster: TestCluster;
  let now = new Date('2024-03-10T00:00:00Z');
  const opened: Array<{ connections: ClusterConnections; scheduler: ClusterScheduler }> = [];
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);

  /** One scheduler as a console or agent would run it: own connections, own lease identity, the shared test clock. */
  function openScheduler(name: string, leaseName: string, options: { ttlMs?: number; beforeEachWindow?: () => Promise<void> } = {}) {
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver());
    const ttlMs = options.ttlMs ?? 1_000;
    const state = createClusterState(connections, silentLogger);
    const lease = new RedisLease(connections, state.control, { name: leaseName, ttlMs, identity: { host: name } });
    const jobs = rollupJobHandlers(new StandInRollup(connections, name, options.beforeEachWindow));
    const scheduler = new ClusterScheduler(state, lease, jobs, silentLogger.scope('scheduler'), {
      clock: () => now,
      actor: `${name}-user`,
      host: `${name}-host`,
      scheduleRefreshMs: 60_000,
    });
    const events: SchedulerEvent[] = [];
    scheduler.onEvent((event) => events.push(event));
    const runs = () => events.flatMap((event) => (event.kind === 'run' ? [event.run] : []));
    opened.push({ connections, scheduler });
    return { scheduler, lease, events, runs };
  }

  async function windowsOn(shard: number) {
    return query<Array<{ window_start: Date; token: number; runner: string; trigger_kind: string }>>(shard, 'SELECT window_start, token, runner, trigger_kind FROM standin_windows ORDER BY id');
  }

  async function watermarkOn(shard: number): Promise<Date | undefined> {
    const [row] = await query<Array<{ watermark: Date | null }>>(shard, "SELECT watermark FROM strata_watermarks WHERE level = 'hourly'");
    return row?.watermark ?? undefined;
  }

  async function countRows(table: string): Promise<number> {
    const [row] = await query<Array<{ n: number }>>(0, `SELECT COUNT(*) AS n FROM ${table}`);
    return Number(row?.n);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    for (const shard of [0, 1]) {
      await query(shard, 'CREATE TABLE standin_windows (id BIGINT AUTO_INCREMENT PRIMARY KEY, window_start DATETIME NOT NULL, token BIGINT NOT NULL, runner VARCHAR(16) NOT NULL, trigger_kind VARCHAR(16) NOT NULL)');
    }
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    for (const { scheduler, connections } of opened) {
      await scheduler.dispose();
      await connections.dispose();
    }
    await cluster?.down();
  });

  /** Every test starts from an empty window log and an hourly watermark at `at` on both shards. */
  async function resetWatermarks(at: Date) {
    for (const shard of [0, 1]) {
      await query(shard, 'DELETE FROM standin_windows');
      await query(shard, "REPLACE INTO strata_watermarks (level, watermark, fencing_token) VALUES ('hourly', ?, 0)", [at]);
    }
  }

  beforeEach(async () => {
    await query(0, 'DELETE FROM strata_schedules');
  });

  it('lists the default schedules: hourly at :00, daily at 02:00, monthly on the 1st at 03:00 (UTC)', async () => {
    const run = await runCli(['schedules', 'list', '--json', '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    const { schedules } = JSON.parse(run.stdout) as { schedules: Array<{ job: string; cron: string; enabled: boolean; isDefault: boolean; nextRuns: string[] }> };
    expect(schedules.map(({ job, cron, enabled, isDefault }) => ({ job, cron, enabled, isDefault }))).toEqual([
      { job: 'rollup-hourly', cron: '0 * * * *', enabled: true, isDefault: true },
      { job: 'rollup-daily', cron: '0 2 * * *', enabled: true, isDefault: true },
      { job: 'rollup-monthly', cron: '0 3 1 * *', enabled: true, isDefault: true },
      { job: 'reconcile', cron: '30 2 * * *', enabled: true, isDefault: true },
      { job: 'maintenance', cron: '0 4 * * *', enabled: true, isDefault: true },
      { job: 'backup', cron: '0 1 * * *', enabled: true, isDefault: true },
    ]);
    const [hourly, daily, monthly] = schedules;
    expect(hourly?.nextRuns).toHaveLength(3);
    for (const at of hourly?.nextRuns ?? []) expect(at).toMatch(/T\d\d:00:00\.000Z$/);
    for (const at of daily?.nextRuns ?? []) expect(at).toMatch(/T02:00:00\.000Z$/);
    for (const at of monthly?.nextRuns ?? []) expect(at).toMatch(/-01T03:00:00\.000Z$/);
    expect(new Date(hourly?.nextRuns[0] ?? 0).getTime()).toBeGreaterThan(Date.now());
  });

  it('refuses an invalid cron expression with one line and changes nothing; a valid change is stored and audited', async () => {
    const before = { schedules: await countRows('strata_schedules'), audit: await countRows('strata_audit_log') };
    const refused = await runCli(['schedules', 'set', 'rollup-daily', '0 25 * * *', '--profile', cluster.profilePath]);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/error 8001 .*invalid cron expression "0 25 \* \* \*": hour: 25/)]);
    const unknown = await runCli(['schedules', 'set', 'rollup-weekly', '0 2 * * 1', '--profile', cluster.profilePath]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown job rollup-weekly; the jobs are rollup-hourly, rollup-daily, rollup-monthly/);
    const { scheduler } = openScheduler('editor', 'edits');
    await expect(scheduler.set({ job: 'rollup-hourly', cron: '* * * *' })).rejects.toMatchObject({ code: ErrorCode.ScheduleInvalidCron });
    expect({ schedules: await countRows('strata_schedules'), audit: await countRows('strata_audit_log') }).toEqual(before);

    const changed = await runCli(['schedules', 'set', 'rollup-daily', '15 2 * * *', '--json', '--profile', cluster.profilePath]);
    expect(changed.code).toBe(0);
    expect(JSON.parse(changed.stdout)).toMatchObject({ job: 'rollup-daily', cron: '15 2 * * *', enabled: true, isDefault: false });
    const disabled = await scheduler.set({ job: 'rollup-daily', enabled: false });
    expect(disabled).toMatchObject({ cron: '15 2 * * *', enabled: false, changedBy: 'editor-user@editor-host' });

    const listed = JSON.parse((await runCli(['schedules', 'list', '--json', '--profile', cluster.profilePath])).stdout);
    expect(listed.schedules[1]).toMatchObject({ job: 'rollup-daily', cron: '15 2 * * *', enabled: false, changedBy: 'editor-user@editor-host' });
    for (const at of listed.schedules[1].nextRuns) expect(at).toMatch(/T02:15:00\.000Z$/);
    const audit = await query<Array<{ actor: string; host: string; action: string; target: string; detail: string }>>(
      0,
      "SELECT actor, host, action, target, detail FROM strata_audit_log WHERE action = 'schedule.set' ORDER BY id",
    );
    expect(audit.slice(-2).map((row) => ({ ...row, detail: JSON.parse(row.detail), actor: row.actor.length > 0 }))).toEqual([
      { actor: true, host: expect.any(String), action: 'schedule.set', target: 'rollup-daily', detail: { from: { cron: '0 2 * * *', enabled: true }, to: { cron: '15 2 * * *', enabled: true } } },
      { actor: true, host: 'editor-host', action: 'schedule.set', target: 'rollup-daily', detail: { from: { cron: '15 2 * * *', enabled: true }, to: { cron: '15 2 * * *', enabled: false } } },
    ]);
    await scheduler.dispose();
  });

  it('catches up after a 30-hour outage: every missed hourly window runs once, oldest first, under its fencing token', async () => {
    const lastRun = new Date('2024-03-10T00:00:00Z');
    await resetWatermarks(lastRun);
    now = new Date('2024-03-11T06:07:00Z');
    const { scheduler, runs } = openScheduler('catcher', 'catch-up', { ttlMs: 10_000 });
    await scheduler.start();
    await scheduler.idle();
    const token = scheduler.holding()?.holder.token;
    expect(token).toBeGreaterThan(0);

    const expected = Array.from({ length: 30 }, (_, index) => hour(lastRun, index));
    for (const shard of [0, 1]) {
      const windows = await windowsOn(shard);
      expect(windows.map((window) => window.window_start)).toEqual(expected);
      expect(new Set(windows.map((window) => `${window.trigger_kind} ${window.token}`))).toEqual(new Set([`catch-up ${token}`]));
      expect(await watermarkOn(shard)).toEqual(new Date('2024-03-11T06:00:00Z'));
    }
    expect(runs().map(({ job, trigger, outcome, summary }) => ({ job, trigger, outcome, summary }))).toEqual([
      { job: 'rollup-hourly', trigger: 'catch-up', outcome: 'ok', summary: '60 hourly windows on 2 shards, 60 rows written' },
      { job: 'rollup-daily', trigger: 'catch-up', outcome: 'ok', summary: '0 daily windows on 2 shards, 0 rows written' },
      { job: 'rollup-monthly', trigger: 'catch-up', outcome: 'ok', summary: '0 monthly windows on 2 shards, 0 rows written' },
      // This scheduler is built with the rollup jobs only.
      { job: 'reconcile', trigger: 'catch-up', outcome: 'skipped', summary: 'this build has no handler for the job' },
      { job: 'maintenance', trigger: 'catch-up', outcome: 'skipped', summary: 'this build has no handler for the job' },
      { job: 'backup', trigger: 'catch-up', outcome: 'skipped', summary: 'this build has no handler for the job' },
    ]);
    await scheduler.stop();
  });

  it('catches up a 30-hour outage through the real rollup engine as wired in the composition root', async () => {
    const thisHour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
    const lastRun = hour(thisHour, -30);
    const services = createServices({
      profile: cluster.profile,
      secrets: new EnvSecretResolver(),
      logger: silentLogger,
      scheduler: { clock: () => hour(thisHour, 0.2), lease: { name: 'real-engine', ttlMs: 10_000 } },
    });
    try {
      await services.generator.run({ from: hour(thisHour, -31).toISOString(), to: thisHour.toISOString(), sites: 20, views: 3_000, seed: 7 });
      for (const shard of [0, 1]) {
        await query(shard, 'DELETE FROM strata_job_runs');
        await query(shard, "REPLACE INTO strata_watermarks (level, watermark, fencing_token, covered_from) VALUES ('hourly', ?, 0, ?)", [lastRun, hour(lastRun, -1)]);
      }
      const runs: SchedulerRun[] = [];
      services.scheduler.onEvent((event) => event.kind === 'run' && runs.push(event.run));
      await services.scheduler.start();
      await services.scheduler.idle();
      const token = services.scheduler.holding()?.holder.token;
      expect(runs[0]).toMatchObject({ job: 'rollup-hourly', trigger: 'catch-up', outcome: 'ok', fencingToken: token });

      const missed = Array.from({ length: 30 }, (_, index) => hour(lastRun, index));
      for (const shard of [0, 1]) {
        const recorded = await query<Array<{ window_start: Date; trigger_kind: string; fencing_token: number; outcome: string }>>(
          shard,
          "SELECT window_start, trigger_kind, fencing_token, outcome FROM strata_job_runs WHERE level = 'hourly' AND window_start >= ? ORDER BY id",
          [lastRun],
        );
        expect(recorded.map((run) => run.window_start)).toEqual(missed);
        expect(new Set(recorded.map((run) => `${run.trigger_kind} ${run.fencing_token} ${run.outcome}`))).toEqual(new Set([`catch-up ${token} ok`]));
        expect(await watermarkOn(shard)).toEqual(thisHour);
      }
      await services.scheduler.stop();
    } finally {
      await services.dispose();
    }
  });

  it('runs each window exactly once while two schedulers race for the lease, across a hand-over', async () => {
    const start = new Date('2024-04-01T00:00:00Z');
    await resetWatermarks(start);
    now = hour(start, 0.1);
    const first = openScheduler('first', 'race');
    const second = openScheduler('second', 'race');
    // Every second, so the test sees real cron ticks; only the other jobs are switched off.
    await first.scheduler.set({ job: 'rollup-hourly', cron: '* * * * * *' });
    await first.scheduler.set({ job: 'rollup-daily', enabled: false });
    await first.scheduler.set({ job: 'rollup-monthly', enabled: false });
    await Promise.all([first.scheduler.start(), second.scheduler.start()]);
    const holders = [first, second].filter((candidate) => candidate.scheduler.holding());
    expect(holders).toHaveLength(1);
    const [leader] = holders;
    const follower = leader === first ? second : first;

    const advanceOneHour = async (hours: number) => {
      now = hour(start, hours + 0.1);
      for (const shard of [0, 1]) await waitFor(async () => (await watermarkOn(shard))?.getTime() === hour(start, hours).getTime(), `the watermark of shard ${shard} to reach hour ${hours}`);
    };
    for (const hours of [1, 2, 3]) await advanceOneHour(hours);
    await leader?.scheduler.stop();
    await waitFor(() => follower.scheduler.holding() !== undefined, 'the other scheduler to take over the lease');
    for (const hours of [4, 5, 6]) await advanceOneHour(hours);

    const leaderToken = leader?.runs()[0]?.fencingToken ?? 0;
    const followerToken = follower.scheduler.holding()?.holder.token ?? 0;
    expect(followerToken).toBeGreaterThan(leaderToken);
    for (const shard of [0, 1]) {
      const windows = await windowsOn(shard);
      expect(windows.map((window) => window.window_start)).toEqual([0, 1, 2, 3, 4, 5].map((hours) => hour(start, hours)));
      expect(windows.map((window) => window.token)).toEqual([leaderToken, leaderToken, leaderToken, followerToken, followerToken, followerToken]);
    }
    const ranByFollower = follower.runs().filter((run) => !run.summary.startsWith('0 hourly windows'));
    expect(ranByFollower.length).toBeGreaterThan(0);
    expect(follower.runs().every((run: SchedulerRun) => run.fencingToken === followerToken)).toBe(true);
    await follower.scheduler.stop();
  });

  it('aborts the current run when the lease passes to another scheduler; the rest of the windows are left to it', async () => {
    const start = new Date('2024-05-01T00:00:00Z');
    await resetWatermarks(start);
    now = hour(start, 20.5);
    // The keeper renews on fake time, so the lease changes hands only when the test says so.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const ttlMs = 30_000;
    // The catch-up is held before its third window until the lease has passed to the other scheduler.
    let windowsStarted = 0;
    let atThirdWindow!: () => void;
    let resume!: () => void;
    const reachedThirdWindow = new Promise<void>((resolve) => (atThirdWindow = resolve));
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    const holdAtThirdWindow = async () => {
      if (++windowsStarted !== 3) return;
      atThirdWindow();
      await resumed;
    };
    const slow = openScheduler('slow', 'abort', { ttlMs, beforeEachWindow: holdAtThirdWindow });
    const other = openScheduler('other', 'abort', { ttlMs: 10_000 });
    await slow.scheduler.start();
    await reachedThirdWindow;
    expect((await windowsOn(0)).length).toBeGreaterThanOrEqual(2);
    // The slow scheduler's lease is taken from it, as if it had been paused past its TTL.
    await cluster.services.connections.redis().del('strata:lease:abort');
    const taken = await other.lease.tryAcquire();
    expect(taken).toBeDefined();
    // Its keeper's next renewal finds the lease gone.
    await vi.advanceTimersByTimeAsync(Math.floor(ttlMs / 3));
    await waitFor(() => slow.events.some((event) => event.kind === 'lease-lost'), 'the slow scheduler to notice');
    resume();
    await waitFor(() => slow.runs().length > 0, 'the slow run to end');
    expect(slow.runs()[0]).toMatchObject({ job: 'rollup-hourly', trigger: 'catch-up', outcome: 'aborted' });
    expect(slow.events.some((event) => event.kind === 'lease-lost' && event.reason === 'taken')).toBe(true);
    const written = (await windowsOn(0)).length + (await windowsOn(1)).length;
    expect(written).toBeLessThan(40);
    await slow.scheduler.stop();
    if (taken) await other.lease.release(taken);
  });
});
