import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/main/log';
import type { SchedulerEvent } from '../../src/main/scheduler/service';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices, type StrataServices } from '../../src/main/services';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { realSleep, waitFor } from '../support/time';

const HOUR_MS = 3_600_000;
const TTL_MS = 6_000;
const TICK_MS = TTL_MS / 3;
const LEASE = 'restart';

describe('the scheduler when Redis restarts empty under it', () => {
  let cluster: TestCluster;
  let services: StrataServices | undefined;
  const thisHour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
  const hour = (hours: number) => new Date(thisHour.getTime() + hours * HOUR_MS);
  let now = hour(-0.8);
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const hourlyWatermarks = async () =>
    Promise.all([0, 1].map(async (shard) => (await query<Array<{ watermark: Date; fencing_token: number }>>(shard, "SELECT watermark, fencing_token FROM strata_watermarks WHERE level = 'hourly'"))[0]));

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await cluster.services.generator.run({ from: hour(-3).toISOString(), to: thisHour.toISOString(), sites: 10, views: 3_000, seed: 11 });
    // Where the issue found a cluster: 16 leases taken so far, the watermarks holding the last token.
    for (const shard of [0, 1]) {
      await query(shard, "REPLACE INTO strata_watermarks (level, watermark, fencing_token, covered_from) VALUES ('hourly', ?, 16, ?)", [hour(-2), hour(-3)]);
    }
    await cluster.services.connections.redis().set(`strata:lease:${LEASE}:fencing-token`, '16');
    for (const job of ['rollup-daily', 'rollup-monthly', 'maintenance'] as const) await cluster.services.scheduler.set({ job, enabled: false });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await services?.dispose();
    await cluster?.down();
  });

  it('takes a token above every watermark again and moves the watermarks within one lease TTL', async () => {
    // The keeper and the scheduler run on fake time; the servers and the rollups on real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    services = createServices({
      profile: cluster.profile,
      secrets: new EnvSecretResolver(),
      logger: silentLogger,
      scheduler: { clock: () => now, lease: { name: LEASE, ttlMs: TTL_MS }, scheduleRefreshMs: 10 * TTL_MS },
    });
    const scheduler = services.scheduler;
    const events: SchedulerEvent[] = [];
    scheduler.onEvent((event) => events.push(event));
    await scheduler.start();
    await scheduler.idle();
    const first = scheduler.holding()?.holder.token ?? 0;
    expect(first).toBe(17);
    expect(await hourlyWatermarks()).toEqual([0, 1].map(() => ({ watermark: hour(-1), fencing_token: 17 })));

    // The sandbox's own stop and start wait on timers, which are fake here: let fake time pass beside them.
    let passed = 0;
    const alongside = async (work: Promise<void>) => {
      let done = false;
      void work.finally(() => (done = true));
      while (!done) {
        await vi.advanceTimersByTimeAsync(25);
        passed += 25;
        await realSleep(10);
      }
      await work;
    };
    await alongside(cluster.stopRedis().then(() => cluster.startRedis()));
    now = hour(0.2);

    // The next renewal finds the lease gone; the tick after takes it again.
    await vi.advanceTimersByTimeAsync(TICK_MS);
    await waitFor(() => events.some((event) => event.kind === 'lease-lost'), 'the scheduler to notice the lease is gone');
    await vi.advanceTimersByTimeAsync(TICK_MS);
    await waitFor(() => events.filter((event) => event.kind === 'lease-acquired').length === 2, 'the scheduler to take the lease again');
    expect(passed + 2 * TICK_MS).toBeLessThan(TTL_MS);
    expect(await services.connections.redis().get(`strata:lease:${LEASE}:fencing-token`)).not.toBe('17');
    await scheduler.idle();

    const second = scheduler.holding()?.holder.token ?? 0;
    expect(second).toBeGreaterThan(first);
    expect(await hourlyWatermarks()).toEqual([0, 1].map(() => ({ watermark: thisHour, fencing_token: second })));
    const runs = events.flatMap((event) => (event.kind === 'run' && event.run.job === 'rollup-hourly' ? [event.run] : []));
    expect(runs.map(({ job, fencingToken, outcome }) => ({ job, fencingToken, outcome }))).toEqual([
      { job: 'rollup-hourly', fencingToken: first, outcome: 'ok' },
      { job: 'rollup-hourly', fencingToken: second, outcome: 'ok' },
    ]);
    const recent = await cluster.services.rollup.runs({ limit: 100 });
    expect(recent.filter((run) => run.outcome === 'fenced')).toEqual([]);
    expect(await services.lease.status()).toMatchObject({ held: true, lastToken: second });
    await scheduler.stop();
  });
});
