import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackfillOutcome } from '../../src/main/backfill/service';
import type { BackfillPlan, BackfillProgress, BackfillRecord } from '../../src/shared/backfill';
import { ErrorCode } from '../../src/shared/errors';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: every hour of it lies within the raw retention (48 h) and the raw partitions. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const at = (offsetHours: number) => new Date(D0 + offsetHours * HOUR);
const monthStart = (day: Date) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
const nextMonthStart = (day: Date) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1));
const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
/** A deadline for things that must happen, not a speed target. */
const DEADLINE_MS = 60_000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}


/** One hourly row per shard for each of the hours, as an older rollup left them. */
async function holdHourlyRows(cluster: TestCluster, from: Date, hours: number): Promise<void> {
  for (let hour = 0; hour < hours; hour += 1) {
    for (const shard of [0, 1]) {
      await cluster.services.connections.query(shard, 'INSERT IGNORE INTO analytics_hourly (site_id, hour_start, page_views, visitors) VALUES (?, ?, 3, 2)', [shard, new Date(from.getTime() + hour * 3_600_000)]);
    }
  }
}

describe('backfills on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const profile = () => ['--profile', cluster.profilePath];
  const bothShards = [0, 1];

  async function total(shard: number, sql: string, params: unknown[]): Promise<number> {
    const [row] = await query<Array<{ total: number | string | null }>>(shard, sql, params);
    return Number(row?.total ?? 0);
  }
  const rawCount = (shard: number, from: Date, to: Date) => total(shard, 'SELECT COUNT(*) AS total FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [from, to]);
  const hourlyViews = (shard: number, from: Date, to: Date) => total(shard, 'SELECT SUM(page_views) AS total FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [from, to]);
  const dailyViews = (shard: number, from: Date, to: Date) => total(shard, 'SELECT SUM(page_views) AS total FROM analytics_daily WHERE date >= ? AND date < ?', [from, to]);
  const monthlyViews = (shard: number, month: Date) => total(shard, 'SELECT SUM(page_views) AS total FROM analytics_monthly WHERE month_start = ?', [month]);
  const backfillCount = () => total(0, 'SELECT COUNT(*) AS total FROM strata_backfills', []);
  const runCount = () => total(0, 'SELECT COUNT(*) AS total FROM strata_job_runs', []);

  /** Late page views of one hour, as if they had arrived after it was rolled up: on each shard, for a site it owns. */
  async function addLateViews(hour: Date, views: number, visitorBase: number): Promise<void> {
    for (const shard of bothShards) {
      const site = 2 + shard;
      const rows = Array.from({ length: views }, (_, index) => [site, new Date(hour.getTime() + 600_000 + index * 1000), visitorBase + index, '/late']);
      await query(shard, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES ?', [rows]);
    }
  }

  /**
   * Holds row locks on a day's daily rows on every shard, so a backfill whose cascade reaches that day waits inside
   * the window (its DELETE blocks) until the lock is released or the backfill is cancelled or killed. Its hourly
   * windows write another table and pass.
   */
  async function holdDay(day: Date): Promise<() => Promise<void>> {
    const sessions = await Promise.all(bothShards.map(async (shard) => (await cluster.services.connections.pool(shard)).getConnection()));
    for (const session of sessions) {
      await session.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await session.query('START TRANSACTION');
      const [locked] = (await session.query('SELECT site_id FROM analytics_daily WHERE date = ? FOR UPDATE', [day])) as unknown as [unknown[]];
      expect(locked.length).toBeGreaterThan(0);
    }
    return async () => {
      for (const session of sessions) {
        await session.query('ROLLBACK');
        session.release();
      }
    };
  }

  async function expectHoursMatchRaw(from: Date, to: Date): Promise<void> {
    for (const shard of bothShards) {
      for (let hour = from.getTime(); hour < to.getTime(); hour += HOUR) {
        const start = new Date(hour);
        const end = new Date(hour + HOUR);
        expect(await hourlyViews(shard, start, end), `shard${shard} ${start.toISOString()}`).toBe(await rawCount(shard, start, end));
      }
    }
  }

  const children = new Set<ChildProcess>();

  /** `strata backfill …` in a child process, as a DBA on another host would run it; resolves with its exit and output. */
  function spawnCli(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> } {
    const child = spawn(process.execPath, [STRATA_BIN, ...args, ...profile()], { env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' }, stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(child);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout })));
    return { child, exited };
  }

  /** The id of the backfill a child runs, once it has finished `windows` windows. */
  const backfillOf = (child: ChildProcess, from: Date, windows: number) =>
    eventually(`the child's first ${windows} windows`, async () => {
      const [row] = await query<Array<{ id: number; windows_done: number }>>(0, 'SELECT id, windows_done FROM strata_backfills WHERE range_from = ? AND pid = ?', [from, child.pid]);
      return row && Number(row.windows_done) >= windows ? Number(row.id) : undefined;
    });

  /** True once a window's DELETE waits on the held rows on shard 0: the window is in flight. */
  const windowBlocked = async () => ((await total(0, "SELECT COUNT(*) AS total FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'", [])) > 0 ? true : undefined);

  const cancelAudit = (id: number) =>
    query<Array<{ actor: string; host: string; detail: string }>>(0, "SELECT actor, host, detail FROM strata_audit_log WHERE action = 'backfill.cancel' AND target = ? ORDER BY id", [`backfill ${id}`]);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await cluster.services.generator.run({ from: at(0).toISOString(), to: at(24).toISOString(), sites: 8, views: 9_600, seed: 7 });
    // The scheduled hourly rollup, up to the current hour, and yesterday's day.
    expect((await cluster.services.rollup.runDue('hourly', { trigger: 'schedule' })).ok).toBe(true);
    expect((await cluster.services.rollup.runRange('daily', at(0), at(24), { trigger: 'manual' })).ok).toBe(true);
    for (const shard of bothShards) await query(shard, 'ANALYZE TABLE analytics_realtime, analytics_hourly');
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cluster?.down();
  });

  it('migration 4 leaves every shard matching the expected schema', async () => {
    const report = await cluster.services.schema.check();
    expect(report.shards.map((shard) => shard.drift)).toEqual([[], []]);
  });

  it('a dry run lists the windows with estimated rows and time, and changes nothing', async () => {
    const before = [await backfillCount(), await runCount(), await hourlyViews(0, at(0), at(24)), await hourlyViews(1, at(0), at(24))];
    const run = await runCli(['backfill', '--level', 'hourly', '--from', at(5).toISOString(), '--to', at(7).toISOString(), '--cascade', '--dry-run', '--json', ...profile()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as BackfillPlan;
    expect(plan.windows.map((window) => [window.level, window.windowStart, window.kind])).toEqual([
      ['hourly', at(5).toISOString(), 'range'],
      ['hourly', at(6).toISOString(), 'range'],
      ['daily', at(0).toISOString(), 'cascade'],
      ['monthly', monthStart(at(0)).toISOString(), 'cascade'],
    ]);
    expect(plan.refused).toEqual([]);
    expect(plan.windows[0]!.estimatedSourceRows).toBeGreaterThan(0);
    expect(plan.estimatedMs).toBe(plan.windows.reduce((sum, window) => sum + window.estimatedMs, 0));
    // The scheduled run above left hourly history; daily has only the manual run; monthly none.
    expect(plan.estimates.hourly?.basis).toBe('history');
    expect(plan.estimates.monthly).toMatchObject({ basis: 'fallback', note: expect.stringContaining('no monthly run history yet') });
    const text = await runCli(['backfill', '--level', 'hourly', '--from', at(5).toISOString(), '--to', at(7).toISOString(), '--dry-run', ...profile()]);
    expect(text.stdout).toMatch(/^backfill hourly .* 2 windows\n/);
    expect(text.stdout).toMatch(/estimated [\d,]+ source rows, /);
    expect([await backfillCount(), await runCount(), await hourlyViews(0, at(0), at(24)), await hourlyViews(1, at(0), at(24))]).toEqual(before);
  });

  it('rewrites an hour whose raw data changed, and with cascade its day and (once complete) its month: sums reconcile', async () => {
    const hour = at(5);
    const oldHourly = [await hourlyViews(0, hour, at(6)), await hourlyViews(1, hour, at(6))];
    await addLateViews(hour, 40, 9_000_000);
    const run = await runCli(['backfill', '--level', 'hourly', '--from', hour.toISOString(), '--to', at(6).toISOString(), '--cascade', '--json', ...profile()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as BackfillOutcome;
    expect(outcome.record).toMatchObject({ state: 'done', windowsTotal: 3, windowsDone: 3, cascade: true, nextWindowStart: null, error: null });
    expect(outcome.windows.map((window) => [window.level, window.outcome, window.skippedShards])).toEqual([
      ['hourly', 'ok', []],
      ['daily', 'ok', []],
      // No daily watermark says the month's days are all in: the month waits for its scheduled rollup.
      ['monthly', 'skipped', [0, 1]],
    ]);
    for (const shard of bothShards) {
      expect(await hourlyViews(shard, hour, at(6))).toBe(oldHourly[shard]! + 40);
      expect(await dailyViews(shard, at(0), at(24))).toBe(await hourlyViews(shard, at(0), at(24)));
      expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));
    }
    await expectHoursMatchRaw(hour, at(6));

    // As if the daily rollup had run through the whole month: now the month's source is complete.
    for (const shard of bothShards) {
      await query(shard, "INSERT INTO strata_watermarks (level, watermark, fencing_token) VALUES ('daily', ?, 0) ON DUPLICATE KEY UPDATE watermark = VALUES(watermark)", [nextMonthStart(at(0))]);
    }
    await addLateViews(hour, 5, 9_100_000);
    const daily = await runCli(['backfill', '--level', 'hourly', '--from', hour.toISOString(), '--to', at(6).toISOString(), '--cascade', '--json', ...profile()]);
    expect(daily.code).toBe(0);
    expect((JSON.parse(daily.stdout) as BackfillOutcome).windows.map((window) => [window.level, window.outcome])).toEqual([
      ['hourly', 'ok'],
      ['daily', 'ok'],
      ['monthly', 'ok'],
    ]);
    for (const shard of bothShards) {
      const month = monthStart(at(0));
      expect(await monthlyViews(shard, month)).toBe(await dailyViews(shard, month, nextMonthStart(at(0))));
      expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));
      expect(await hourlyViews(shard, hour, at(6))).toBe(oldHourly[shard]! + 45);
    }
  });

  it('cancel rolls the current window back and leaves the backfill cancelled; resume finishes it', async () => {
    await addLateViews(at(9), 25, 9_200_000);
    const dailyBefore = [await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))];
    const release = await holdDay(at(0));
    const events: BackfillProgress[] = [];
    const unsubscribe = cluster.services.backfill.onProgress((event) => events.push(event));
    let record: BackfillRecord;
    try {
      const run = await cluster.services.backfill.start({ level: 'hourly', from: at(8).toISOString(), to: at(10).toISOString(), cascade: true });
      await eventually('the backfill to reach the held day', async () =>
        events.find((event) => event.backfillId === run.record.id && event.kind === 'window-started' && event.window?.level === 'daily'),
      );
      record = await cluster.services.backfill.cancel(run.record.id);
    } finally {
      unsubscribe();
      await release();
    }
    expect(record).toMatchObject({ state: 'cancelled', windowsDone: 2, windowsTotal: 4, nextWindowLevel: 'daily', nextWindowStart: at(0).toISOString() });
    expect(record.error).toMatch(/^cancelled by .+@.+; the window in progress was rolled back$/);
    expect(events.filter((event) => event.kind === 'window-finished').map((event) => event.window?.windowStart)).toEqual([at(8).toISOString(), at(9).toISOString()]);
    expect(events.at(-1)).toMatchObject({ kind: 'finished', state: 'cancelled', windowsDone: 2, windowsTotal: 4 });
    // The hours were rewritten; the day, whose window was rolled back, still has its old figures.
    await expectHoursMatchRaw(at(8), at(10));
    expect([await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))]).toEqual(dailyBefore);

    const resumed = await cluster.services.backfill.resume(record.id);
    const outcome = await resumed.finished;
    expect(outcome.record).toMatchObject({ state: 'done', windowsDone: 4 });
    expect(outcome.windows.map((window) => [window.level, window.outcome])).toEqual([
      ['daily', 'ok'],
      ['monthly', 'ok'],
    ]);
    for (const shard of bothShards) {
      expect(await dailyViews(shard, at(0), at(24))).toBe(dailyBefore[shard]! + 25);
      expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));
    }
  });

  it('resumes after its process is killed, running exactly the windows that were not finished', async () => {
    const from = at(12);
    const to = at(20);
    await addLateViews(at(13), 10, 9_300_000);
    await addLateViews(at(17), 10, 9_400_000);
    const release = await holdDay(at(0));
    const child = spawn(process.execPath, [STRATA_BIN, 'backfill', '--level', 'hourly', '--from', from.toISOString(), '--to', to.toISOString(), '--cascade', '--json', ...profile()], {
      env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    let id: number;
    try {
      // The eight hours finish; the day waits on the held rows.
      id = await eventually('the hourly windows to finish', async () => {
        const [row] = await query<Array<{ id: number; windows_done: number }>>(0, 'SELECT id, windows_done FROM strata_backfills WHERE range_from = ? AND pid = ?', [from, child.pid]);
        return row && Number(row.windows_done) >= 8 ? Number(row.id) : undefined;
      });
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
    } finally {
      await release();
    }
    const interrupted = await cluster.services.backfill.get(id);
    expect(interrupted).toMatchObject({ state: 'interrupted', windowsDone: 8, windowsTotal: 10, nextWindowLevel: 'daily', nextWindowStart: at(0).toISOString() });
    const list = await runCli(['backfill', 'list', '--json', ...profile()]);
    expect((JSON.parse(list.stdout) as BackfillRecord[]).find((record) => record.id === id)?.state).toBe('interrupted');

    const run = await runCli(['backfill', '--resume', String(id), '--json', ...profile()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const outcome = JSON.parse(run.stdout) as BackfillOutcome;
    expect(outcome.record).toMatchObject({ id, state: 'done', windowsDone: 10 });
    expect(outcome.windows.map((window) => [window.level, window.windowStart, window.outcome])).toEqual([
      ['daily', at(0).toISOString(), 'ok'],
      ['monthly', monthStart(at(0)).toISOString(), 'ok'],
    ]);
    await expectHoursMatchRaw(from, to);
    // Each hour was finished exactly once on each shard, by the killed process; the resumed one did not redo them.
    for (const shard of bothShards) {
      const runs = await query<Array<{ window_start: Date; runs: number }>>(
        shard,
        `SELECT window_start, COUNT(*) AS runs FROM strata_job_runs WHERE trigger_kind = 'backfill' AND outcome = 'ok' AND level = 'hourly' AND shard_index = ?
           AND window_start >= ? AND window_start < ? GROUP BY window_start ORDER BY window_start`,
        [shard, from, to],
      );
      expect(runs.map((row) => [row.window_start.toISOString(), Number(row.runs)])).toEqual([12, 13, 14, 15, 16, 17, 18, 19].map((hour) => [at(hour).toISOString(), 1]));
      expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));
      expect(await monthlyViews(shard, monthStart(at(0)))).toBe(await dailyViews(shard, monthStart(at(0)), nextMonthStart(at(0))));
    }
  });

  it('cancels a backfill a CLI process runs from here: the window in flight rolls back, the CLI exits 130, --resume finishes it', async () => {
    await addLateViews(at(1), 15, 9_500_000);
    const dailyBefore = [await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))];
    const release = await holdDay(at(0));
    const cli = spawnCli(['backfill', '--level', 'hourly', '--from', at(0).toISOString(), '--to', at(2).toISOString(), '--cascade', '--json']);
    let id: number;
    let record: BackfillRecord;
    try {
      id = await backfillOf(cli.child, at(0), 2);
      await eventually('the daily window to wait on the held rows', windowBlocked);
      record = await cluster.services.backfill.cancel(id);
    } finally {
      await release();
    }
    expect(record).toMatchObject({ id, state: 'cancelled', windowsDone: 2, windowsTotal: 4, nextWindowLevel: 'daily', nextWindowStart: at(0).toISOString(), pid: cli.child.pid });
    expect(record.error).toMatch(/^cancelled by .+@.+; the window in progress was rolled back$/);
    const exit = await cli.exited;
    expect(exit.code).toBe(130);
    expect((JSON.parse(exit.stdout) as BackfillOutcome).record).toMatchObject({ id, state: 'cancelled', windowsDone: 2, error: record.error });
    // The hours were rewritten; the day, whose window was in flight, keeps its old figures.
    await expectHoursMatchRaw(at(0), at(2));
    expect([await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))]).toEqual(dailyBefore);
    const audit = await cancelAudit(id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ host: hostname(), actor: expect.stringMatching(/@/) });
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ runsOn: `${record.host} (pid ${cli.child.pid})`, state: 'running', windowsDone: 2 });

    const resumed = await runCli(['backfill', '--resume', String(id), '--json', ...profile()]);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as BackfillOutcome).windows.map((window) => [window.level, window.outcome])).toEqual([
      ['daily', 'ok'],
      ['monthly', 'ok'],
    ]);
    for (const shard of bothShards) {
      expect(await dailyViews(shard, at(0), at(24))).toBe(dailyBefore[shard]! + 15);
      expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));
    }
  });

  it('strata backfill cancel ID stops a backfill another CLI runs; a finished one is refused with its state', async () => {
    await addLateViews(at(11), 12, 9_600_000);
    const dailyBefore = [await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))];
    const release = await holdDay(at(0));
    const cli = spawnCli(['backfill', '--level', 'hourly', '--from', at(10).toISOString(), '--to', at(12).toISOString(), '--cascade']);
    let id: number;
    let cancel: Awaited<ReturnType<typeof runCli>>;
    try {
      id = await backfillOf(cli.child, at(10), 2);
      await eventually('the daily window to wait on the held rows', windowBlocked);
      cancel = await runCli(['backfill', 'cancel', String(id), ...profile()]);
    } finally {
      await release();
    }
    expect(cancel.stderr).toBe('');
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^backfill ${id} cancelled: 2/4 windows done\n  cancelled by .+@.+; the window in progress was rolled back\n  continue with: strata backfill --resume ${id}\n$`));
    const exit = await cli.exited;
    expect(exit.code).toBe(130);
    expect(exit.stdout).toMatch(new RegExp(`backfill ${id} cancelled: 2/4 windows`));
    expect(await cluster.services.backfill.get(id)).toMatchObject({ state: 'cancelled', windowsDone: 2, nextWindowLevel: 'daily' });
    expect([await dailyViews(0, at(0), at(24)), await dailyViews(1, at(0), at(24))]).toEqual(dailyBefore);
    expect(await cancelAudit(id)).toHaveLength(1);

    const again = await runCli(['backfill', 'cancel', String(id), ...profile()]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`^strata: error 7009 \\(BackfillNotRunning\\): backfill ${id} is cancelled since .*; only a running or interrupted backfill can be cancelled\n$`));
    const resumed = await runCli(['backfill', '--resume', String(id), '--json', ...profile()]);
    expect(resumed.code).toBe(0);
    expect((JSON.parse(resumed.stdout) as BackfillOutcome).record).toMatchObject({ id, state: 'done', windowsDone: 4 });
    for (const shard of bothShards) expect(await dailyViews(shard, at(0), at(24))).toBe(await rawCount(shard, at(0), at(24)));

    const finished = await runCli(['backfill', 'cancel', String(id), '--json', ...profile()]);
    expect(finished.code).toBe(2);
    expect(JSON.parse(finished.stdout)).toEqual({ ok: false, code: ErrorCode.BackfillNotRunning, message: expect.stringMatching(new RegExp(`^backfill ${id} is done since .*; only a running or interrupted backfill can be cancelled$`)) });
    await expect(cluster.services.backfill.cancel(id)).rejects.toMatchObject({ code: ErrorCode.BackfillNotRunning, message: expect.stringContaining(`backfill ${id} is done`) });
    expect(await cancelAudit(id)).toHaveLength(1);
    const bad = await runCli(['backfill', 'cancel', 'x1', ...profile()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error 7004 .*cancel takes a backfill id/);
  });

  it('cancel of a backfill whose process died marks it cancelled without waiting for anyone', async () => {
    const release = await holdDay(at(0));
    const cli = spawnCli(['backfill', '--level', 'hourly', '--from', at(20).toISOString(), '--to', at(21).toISOString(), '--cascade', '--json']);
    let id: number;
    try {
      id = await backfillOf(cli.child, at(20), 1);
      cli.child.kill('SIGKILL');
      expect((await cli.exited).signal).toBe('SIGKILL');
    } finally {
      await release();
    }
    expect((await cluster.services.backfill.get(id)).state).toBe('interrupted');
    const record = await cluster.services.backfill.cancel(id);
    expect(record).toMatchObject({ id, state: 'cancelled', windowsDone: 1, nextWindowLevel: 'daily' });
    expect(record.error).toMatch(/^cancelled by .+@.+; its process \(.+, pid \d+\) had stopped, so no window was in progress$/);
    expect(record.finishedAt).not.toBeNull();
    const audit = await cancelAudit(id);
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]!.detail)).toMatchObject({ state: 'interrupted', interrupted: true });
  });

  it('refuses a backfill that overlaps one that is running, and lets through one that does not', async () => {
    const release = await holdDay(at(0));
    const events: BackfillProgress[] = [];
    const unsubscribe = cluster.services.backfill.onProgress((event) => events.push(event));
    try {
      // Runs on shard 0 only, with cascade: it rewrites the whole month there.
      const first = await cluster.services.backfill.start({ level: 'hourly', from: at(21).toISOString(), to: at(23).toISOString(), shards: [0], cascade: true });
      await eventually('the first backfill to wait on the held day', async () => events.find((event) => event.backfillId === first.record.id && event.window?.level === 'daily'));
      const backfillsBefore = await backfillCount();
      const overlapping = await runCli(['backfill', '--level', 'hourly', '--from', at(3).toISOString(), '--to', at(4).toISOString(), '--shards', '0,1', ...profile()]);
      expect(overlapping.code).toBe(2);
      expect(overlapping.stderr).toMatch(new RegExp(`error 7006 \\(BackfillOverlap\\): backfill ${first.record.id} \\(hourly .* with cascade, shards 0\\) is running on .* and rewrites some of the same windows`));
      await expect(cluster.services.backfill.start({ level: 'monthly', from: at(0).toISOString(), to: at(24).toISOString() })).rejects.toMatchObject({ code: ErrorCode.BackfillOverlap });
      expect(await backfillCount()).toBe(backfillsBefore);
      const otherShard = await runCli(['backfill', '--level', 'hourly', '--from', at(3).toISOString(), '--to', at(4).toISOString(), '--shards', '1', '--json', ...profile()]);
      expect(otherShard.stderr).toBe('');
      expect(otherShard.code).toBe(0);
      expect((await cluster.services.backfill.cancel(first.record.id)).state).toBe('cancelled');
    } finally {
      unsubscribe();
      await release();
    }
  });

  it('refuses bad input and pruned sources with one line, and runs nothing', async () => {
    const before = [await backfillCount(), await runCount()];
    const fiveDaysAgo = new Date(D0 - 4 * DAY);
    // The raw rows of that hour are past retention while the hourly level still holds the hour: a daily backfill can rebuild from it.
    await holdHourlyRows(cluster, fiveDaysAgo, 2);
    const refusals: Array<[string[], RegExp]> = [
      [['backfill', '--level', 'weekly', '--from', at(1).toISOString(), '--to', at(2).toISOString()], /error 7004 .*--level must be one of hourly, daily, monthly, got 'weekly'/],
      [['backfill', '--level', 'hourly', '--from', at(5).toISOString(), '--to', at(4).toISOString()], /--from .* must be before --to/],
      [['backfill', '--level', 'hourly', '--from', at(4).toISOString()], /--from and --to are both required/],
      [['backfill', '--level', 'hourly', '--from', at(1).toISOString(), '--to', at(2).toISOString(), '--shards', '0,5'], /error 3005 .*shard 5 does not exist; the profile has 2 shards/],
      [
        ['backfill', '--level', 'hourly', '--from', fiveDaysAgo.toISOString(), '--to', new Date(fiveDaysAgo.getTime() + 2 * HOUR).toISOString()],
        /error 7005 \(BackfillSourcePruned\): nothing was started: the raw page views of .* were pruned on shard 0, shard 1 \(kept 48 h\); the hourly rows still hold it: backfill --level daily rebuilds from them/,
      ],
      [['backfill', '--resume', '999999'], /error 7007 .*there is no backfill 999999/],
    ];
    for (const [args, message] of refusals) {
      const run = await runCli([...args, ...profile()]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    }
    const dryRun = await runCli(['backfill', '--level', 'hourly', '--from', fiveDaysAgo.toISOString(), '--to', new Date(fiveDaysAgo.getTime() + 2 * HOUR).toISOString(), '--dry-run', '--json', ...profile()]);
    expect(dryRun.code).toBe(1);
    const plan = JSON.parse(dryRun.stdout) as BackfillPlan;
    expect(plan.refused).toEqual([expect.objectContaining({ level: 'hourly', from: fiveDaysAgo.toISOString(), rebuildFrom: 'hourly' })]);
    // A finished backfill cannot be resumed.
    const [done] = (await cluster.services.backfill.list(50)).filter((record) => record.state === 'done');
    await expect(cluster.services.backfill.resume(done!.id)).rejects.toMatchObject({ code: ErrorCode.BackfillNotResumable });
    expect([await backfillCount(), await runCount()]).toEqual(before);
  });
});
