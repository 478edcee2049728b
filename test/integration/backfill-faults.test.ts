import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackfillOutcome } from '../../src/main/backfill/service';
import { silentLogger } from '../../src/main/log';
import { mergeSourcePageSql } from '../../src/main/rollup/planner';
import { ClusterRollupService } from '../../src/main/rollup/service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices, type StrataServices } from '../../src/main/services';
import type { BackfillProgress } from '../../src/shared/backfill';
import { ErrorCode } from '../../src/shared/errors';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { faultRandom } from '../support/faults/random';

const DAY = 86_400_000;
/** Imported history: eight whole days, rolled up hourly before the tests, so daily backfills have a source. */
const FROM = new Date('2024-02-01T00:00:00Z');
const DAYS = 8;
const TO = new Date(FROM.getTime() + DAYS * DAY);
/**
 * The read deadline of the test cluster's connections: a read a frozen shard never answers fails after it. A write
 * keeps its 15 min deadline; the freeze can land on the window's DELETE or COMMIT too, which the liveness check on
 * another connection ends after about twice this.
 */
const READ_DEADLINE_MS = 2000;
const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
/** How long something that must happen may take before the test gives up: not a speed target. */
const PATIENCE_MS = 60_000;

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + PATIENCE_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

describe('backfills and rollups when a shard dies or freezes mid-read', () => {
  let cluster: TestCluster;
  const children = new Set<ChildProcess>();
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const frozen = new Set<number>();

  async function total(shard: number, table: string, column: string): Promise<number> {
    const [row] = await query<Array<{ total: number | string | null }>>(shard, `SELECT SUM(page_views) AS total FROM ${table} WHERE ${column} >= ? AND ${column} < ?`, [FROM, TO]);
    return Number(row?.total ?? 0);
  }

  const dailyRows = (shard: number) =>
    query<unknown[]>(shard, 'SELECT site_id, date, page_views, visitors, HEX(visitors_sketch) AS sketch FROM analytics_daily WHERE date >= ? AND date < ? ORDER BY site_id, date', [FROM, TO]);

  /** A shard's server as the sandbox harness started it (its pid file), signalled at once: no await between the kill point and the fault. */
  const signalShard = (shard: number, signal: NodeJS.Signals) => process.kill(Number(readFileSync(join(cluster.dir, `shard${shard}`, 'mysqld.pid'), 'utf8').trim()), signal);

  function freeze(shard: number): void {
    frozen.add(shard);
    signalShard(shard, 'SIGSTOP');
  }

  function thaw(shard: number): void {
    if (frozen.delete(shard)) signalShard(shard, 'SIGCONT');
  }

  /** Injects `fault` once, when the backfill has started window `step` and `delayMs` more have passed. */
  function faultAt(services: StrataServices, step: number, delayMs: number, fault: () => void): { injected: Promise<void>; stop: () => void } {
    let fire: () => void;
    const injected = new Promise<void>((resolve) => (fire = resolve));
    const stop = services.backfill.onProgress((event: BackfillProgress) => {
      if (event.kind !== 'window-started' || event.windowsDone !== step) return;
      setTimeout(() => {
        fault();
        fire();
      }, delayMs);
    });
    return { injected, stop };
  }

  /** The run ended and nothing of it is left behind: its row is not running and the lease is free. */
  async function expectEndedCleanly(services: StrataServices, id: number): Promise<void> {
    expect(['failed', 'cancelled']).toContain((await services.backfill.get(id)).state);
    expect((await services.lease.status()).held).toBe(false);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, services: { connection: { deadlines: { read: READ_DEADLINE_MS } }, backfill: { heartbeatMs: 500, cancelCheckMs: 200 } } });
    await cluster.services.generator.run({ from: FROM.toISOString(), to: TO.toISOString(), sites: 30, views: 24_000, seed: 9 });
    expect((await cluster.services.rollup.runRange('hourly', FROM, TO, { trigger: 'backfill' })).ok).toBe(true);
    expect((await cluster.services.rollup.runRange('daily', FROM, TO, { trigger: 'backfill' })).ok).toBe(true);
  }, 180_000);

  // A test that times out never reaches its own thaw: the next one must not find the shard still frozen.
  afterEach(() => {
    for (const shard of [...frozen]) thaw(shard);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const shard of [...frozen]) thaw(shard);
    await cluster?.down();
  });

  it('reads a window in keyset pages: any page size gives byte-identical daily rows, each page an index range', async () => {
    const reference = [await dailyRows(0), await dailyRows(1)];
    expect(reference[0]!.length).toBeGreaterThan(DAYS * 10);
    for (const mergePageRows of [1, 7, 24]) {
      const paged = new ClusterRollupService(cluster.services.connections, cluster.services.state, silentLogger.scope('rollup'), { tuning: { mergePageRows } });
      expect((await paged.runRange('daily', FROM, TO, { trigger: 'backfill' })).ok).toBe(true);
      expect([await dailyRows(0), await dailyRows(1)]).toEqual(reference);
    }
    for (const shard of [0, 1]) expect(await total(shard, 'analytics_daily', 'date')).toBe(await total(shard, 'analytics_hourly', 'hour_start'));
    const [plan] = await query<Array<{ key: string | null; type: string }>>(0, `EXPLAIN ${mergeSourcePageSql('daily')}`, [FROM, new Date(FROM.getTime() + DAY), 4, 4, FROM, 500]);
    expect(plan).toMatchObject({ key: 'PRIMARY', type: 'range' });
  });

  it('a shard killed (SIGKILL) at a random point of a daily backfill fails its window naming the shard; the row ends failed, the lease is free, a resume finishes it', async () => {
    const random = faultRandom('daily backfill, shard killed');
    const step = random.int(0, DAYS - 3);
    const delayMs = random.int(0, 15);
    console.log(`fault seed ${random.seed}: SIGKILL shard1 ${delayMs} ms after daily window ${step + 1} of ${DAYS} starts (STRATA_FAULT_SEED replays it)`);
    const fault = faultAt(cluster.services, step, delayMs, () => signalShard(1, 'SIGKILL'));
    let outcome: BackfillOutcome;
    try {
      const run = await cluster.services.backfill.start({ level: 'daily', from: FROM.toISOString(), to: TO.toISOString() });
      outcome = await run.finished;
      await fault.injected;
    } finally {
      fault.stop();
    }
    expect(outcome.record.state).toBe('failed');
    expect(outcome.record.error).toMatch(/shard1 \(127\.0\.0\.1:\d+\)/);
    expect(outcome.windows.at(-1)).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/shard1/) });
    await expectEndedCleanly(cluster.services, outcome.record.id);

    await cluster.startShard(1);
    const resumed = await (await cluster.services.backfill.resume(outcome.record.id)).finished;
    expect(resumed.record).toMatchObject({ state: 'done', windowsDone: DAYS });
    for (const shard of [0, 1]) expect(await total(shard, 'analytics_daily', 'date')).toBe(await total(shard, 'analytics_hourly', 'hour_start'));
  }, 120_000);

  it('a shard that freezes (SIGSTOP) mid-backfill fails its window within the read deadline: error 3006 names the shard, the row ends failed, the lease is free', async () => {
    const random = faultRandom('daily backfill, shard frozen');
    const step = random.int(0, DAYS - 3);
    const delayMs = random.int(0, 15);
    console.log(`fault seed ${random.seed}: SIGSTOP shard1 ${delayMs} ms after daily window ${step + 1} of ${DAYS} starts`);
    const fault = faultAt(cluster.services, step, delayMs, () => freeze(1));
    let outcome: BackfillOutcome;
    try {
      const run = await cluster.services.backfill.start({ level: 'daily', from: FROM.toISOString(), to: TO.toISOString() });
      outcome = await run.finished;
      await fault.injected;
      expect(outcome.record.state).toBe('failed');
      expect(outcome.record.error).toMatch(/shard1 \(127\.0\.0\.1:\d+\): no (answer|connection) within 2\.0 s/);
      await expectEndedCleanly(cluster.services, outcome.record.id);
    } finally {
      fault.stop();
      thaw(1);
    }
    const [failedRun] = (await cluster.services.rollup.runs({ limit: 5, level: 'daily' })).filter((run) => run.outcome === 'failed');
    expect(failedRun).toMatchObject({ shard: 1, pid: process.pid, error: expect.stringMatching(/no (answer|connection) within/) });

    const resumed = await (await cluster.services.backfill.resume(outcome.record.id)).finished;
    expect(resumed.record).toMatchObject({ state: 'done', windowsDone: DAYS });
  }, 120_000);

  it('backfill cancel from another process stops a backfill stuck in a read of a frozen shard, though its deadline is far off', async () => {
    // The process that runs the backfill would wait 10 minutes for the frozen shard: only the cancel can end it.
    const patient = createServices({ profile: cluster.profile, secrets: new EnvSecretResolver(), logger: silentLogger, connection: { deadlines: { read: 600_000 } }, backfill: { cancelCheckMs: 200 } });
    try {
      const fault = faultAt(patient, 1, 0, () => freeze(1));
      let id: number;
      try {
        const run = await patient.backfill.start({ level: 'daily', from: FROM.toISOString(), to: TO.toISOString() });
        id = run.record.id;
        await fault.injected;
        // Until the window waits on the frozen shard, a cancel would only be checked between windows.
        await eventually('the backfill to wait on the frozen shard', async () => ((await cluster.services.backfill.get(id)).windowsDone === 1 ? true : undefined));
        const record = await cluster.services.backfill.cancel(id);
        expect(record).toMatchObject({ id, state: 'cancelled', windowsDone: 1 });
        expect(record.error).toMatch(/^cancelled by .+; the window in progress was rolled back$/);
      } finally {
        fault.stop();
      }
      expect((await patient.lease.status()).held).toBe(false);
    } finally {
      thaw(1);
      await patient.dispose();
    }
  }, 120_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops a strata backfill stuck on a frozen shard: the window rolls back, the row is cancelled and resumable, exit ${signal === 'SIGTERM' ? 143 : 130}`, async () => {
      const child = spawn(process.execPath, [STRATA_BIN, 'backfill', '--level', 'daily', '--from', FROM.toISOString(), '--to', TO.toISOString(), '--json', '--profile', cluster.profilePath], {
        env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.add(child);
      let stdout = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      let id: number;
      try {
        id = await eventually('the child to finish its first window', async () => {
          const [row] = await query<Array<{ id: number; windows_done: number }>>(0, 'SELECT id, windows_done FROM strata_backfills WHERE pid = ?', [child.pid]);
          return row && Number(row.windows_done) >= 1 ? Number(row.id) : undefined;
        }, 5);
        // Its windows take tens of milliseconds, so this lands while several are still to come.
        freeze(1);
        // Whatever it is doing, it soon waits on shard1, which will not answer for the CLI's 60 s read deadline.
        await new Promise((resolve) => setTimeout(resolve, 300));
        child.kill(signal);
        expect(await exited).toBe(signal === 'SIGTERM' ? 143 : 130);
      } finally {
        thaw(1);
      }
      const outcome = JSON.parse(stdout) as BackfillOutcome;
      expect(outcome.record).toMatchObject({ id, state: 'cancelled' });
      expect(await cluster.services.backfill.get(id)).toMatchObject({ state: 'cancelled' });
      expect((await cluster.services.lease.status()).held).toBe(false);
      const resumed = await (await cluster.services.backfill.resume(id)).finished;
      expect(resumed.record).toMatchObject({ state: 'done', windowsDone: DAYS });
    }, 120_000);
  }

  it('refuses a statement past its own deadline with error 3006 and a closed session, and the next statement runs', async () => {
    await expect(cluster.services.connections.query(0, 'SELECT SLEEP(5)', [], { timeoutMs: 200 })).rejects.toMatchObject({
      code: ErrorCode.ShardTimeout,
      message: expect.stringMatching(/^shard0 \(127\.0\.0\.1:\d+\): no answer within 0\.2 s \(the deadline\); the session was closed$/),
    });
    expect(await query(0, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('a write on a busy shard runs past the read deadline: the shard still answers the checks on another connection', async () => {
    const started = Date.now();
    expect(await cluster.services.connections.query(1, 'SELECT SLEEP(5) AS slept', [], { timeoutMs: 60_000, kind: 'write' })).toEqual([{ slept: 0 }]);
    expect(Date.now() - started).toBeGreaterThan(2 * READ_DEADLINE_MS);
  });

  it('a write on a shard that freezes ends once a check on another connection gets no answer, long before the write deadline', async () => {
    // Its own deadline is an hour: only the liveness check can end it.
    const writing = cluster.services.connections.query(1, 'SELECT SLEEP(3600)', [], { timeoutMs: 3_600_000, kind: 'write' });
    writing.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    const frozenAt = Date.now();
    freeze(1);
    try {
      await expect(writing).rejects.toMatchObject({
        code: ErrorCode.ShardTimeout,
        message: expect.stringMatching(/^shard1 \(127\.0\.0\.1:\d+\): no answer within 2\.0 s to a check on another connection while a write statement ran/),
      });
      // One check interval (the read deadline) plus the check's own deadline, with room for a loaded machine.
      expect(Date.now() - frozenAt).toBeLessThan(PATIENCE_MS);
    } finally {
      thaw(1);
    }
    expect(await query(1, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
  }, 120_000);
});
