import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { LeaseKeeper, type LeaseLossReason } from '../../src/main/lease/keeper';
import { RedisLease, type ClusterLease, type LeaseGrant } from '../../src/main/lease/lease';
import { silentLogger } from '../../src/main/log';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ControlShard } from '../../src/main/state';
import { ErrorCode } from '../../src/shared/errors';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { ageKey, waitFor } from '../support/time';

/** A realistic TTL: time passes by fake timers in the process and by ageKey in Redis, so nothing lapses on its own. */
const TTL_MS = 30_000;
/** The keeper's default: it renews at a third of the TTL. */
const TICK_MS = TTL_MS / 3;

/** The lease as the keeper sees it, counting the renewals that Redis has answered. */
function countingRenewals(lease: ClusterLease) {
  const answered: boolean[] = [];
  const counted: ClusterLease = {
    key: lease.key,
    ttlMs: lease.ttlMs,
    identity: lease.identity,
    tryAcquire: () => lease.tryAcquire(),
    retoken: (grant) => lease.retoken(grant),
    renew: async (grant) => {
      const renewed = await lease.renew(grant);
      answered.push(renewed);
      return renewed;
    },
    release: (grant) => lease.release(grant),
    status: () => lease.status(),
  };
  return { lease: counted, answered };
}

describe('the cluster lease on real Redis, with fencing checked by MariaDB', () => {
  let cluster: TestCluster;
  const opened: ClusterConnections[] = [];

  /** A separate process in all but name: its own Redis connection, pools and holder identity. */
  function contender(name: string, ttlMs: number, leaseName = 'scheduler') {
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver());
    opened.push(connections);
    return { connections, lease: new RedisLease(connections, new ControlShard(connections), { name: leaseName, ttlMs, identity: { host: `${name}-host` } }) };
  }

  /** The rollup engine's own watermark move on shard 0, carrying the lease's fencing token. */
  function moveWatermark(connections: ClusterConnections, to: Date, token: number, by: string) {
    return advanceWatermark((sql, params) => connections.query(0, sql, params), { level: 'hourly', to, fencingToken: token, by, at: new Date() });
  }

  /** Lets `ms` pass on the Redis server for the lease named `name`. */
  const passOnRedis = (name: string, ms: number) => ageKey(cluster.services.connections.redis(), `strata:lease:${name}`, ms);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await Promise.all(opened.map((connections) => connections.dispose()));
    await cluster?.down();
  });

  it('goes to one contender at a time, names its holder, and hands out a new fencing token each time it is taken', async () => {
    const a = contender('a', 10_000, 'exclusive');
    const b = contender('b', 10_000, 'exclusive');
    const [grantA, grantB] = await Promise.all([a.lease.tryAcquire(), b.lease.tryAcquire()]);
    const winner = grantA ?? grantB;
    expect([grantA, grantB].filter(Boolean)).toHaveLength(1);
    const status = await b.lease.status();
    expect(status).toMatchObject({ key: 'strata:lease:exclusive', held: true, holder: winner?.holder, lastToken: winner?.holder.token });
    expect(status.holder).toMatchObject({ pid: process.pid, host: expect.stringMatching(/^[ab]-host$/), id: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(status.expiresInMs).toBeGreaterThan(0);

    const winnerLease = grantA ? a.lease : b.lease;
    const loserLease = grantA ? b.lease : a.lease;
    expect(await winnerLease.release(winner as LeaseGrant)).toBe(true);
    const next = await loserLease.tryAcquire();
    expect(next?.holder.token).toBe((winner?.holder.token ?? 0) + 1);
    expect(await loserLease.release(next as LeaseGrant)).toBe(true);
    expect((await a.lease.status()).held).toBe(false);
  });

  it('stays with its holder while renewed, through several TTLs, and is free once released', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const a = contender('a', TTL_MS, 'renewed');
    const b = contender('b', TTL_MS, 'renewed');
    const renewals = countingRenewals(a.lease);
    const events: string[] = [];
    const keeper = new LeaseKeeper(renewals.lease, {
      log: silentLogger.scope('lease'),
      listener: { onAcquired: (grant) => events.push(`acquired ${grant.holder.token}`), onLost: (grant, reason) => events.push(`lost ${grant.holder.token} ${reason}`) },
    });
    await keeper.start();
    const held = keeper.current();
    expect(held).toBeDefined();
    // Five TTLs, a keeper tick at a time: without renewal the lease would have lapsed after the third.
    for (let tick = 1; tick <= 15; tick++) {
      await passOnRedis('renewed', TICK_MS);
      await vi.advanceTimersByTimeAsync(TICK_MS);
      await waitFor(() => renewals.answered.length === tick, `renewal ${tick}`);
    }
    expect(renewals.answered.every(Boolean)).toBe(true);
    vi.useRealTimers();
    expect(await b.lease.tryAcquire()).toBeUndefined();
    expect((await b.lease.status()).holder?.id).toBe(a.lease.identity.id);
    await keeper.stop();
    expect(events).toEqual([`acquired ${held?.holder.token}`, `lost ${held?.holder.token} stopped`]);
    expect((await b.lease.status()).held).toBe(false);
  });

  it('never renews or deletes a lease that has passed to someone else (compare-and-delete)', async () => {
    const a = contender('a', TTL_MS, 'handover');
    const b = contender('b', 10_000, 'handover');
    const grantA = (await a.lease.tryAcquire()) as LeaseGrant;
    // A whole TTL without renewal: the lease lapses.
    await passOnRedis('handover', TTL_MS);
    expect((await b.lease.status()).held).toBe(false);
    const grantB = (await b.lease.tryAcquire()) as LeaseGrant;
    expect(grantB.holder.token).toBe(grantA.holder.token + 1);

    expect(await a.lease.renew(grantA)).toBe(false);
    expect(await a.lease.release(grantA)).toBe(false);
    const status = await a.lease.status();
    expect(status.holder).toEqual(grantB.holder);
    expect(await b.lease.release(grantB)).toBe(true);
  });

  it('tells a keeper whose lease was taken over that it lost it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const a = contender('a', TTL_MS, 'taken');
    const b = contender('b', 10_000, 'taken');
    const lost: LeaseLossReason[] = [];
    const keeper = new LeaseKeeper(a.lease, { tickMs: TICK_MS, log: silentLogger.scope('lease'), listener: { onAcquired() {}, onLost: (_grant, reason) => lost.push(reason) } });
    await keeper.start();
    // A process paused longer than its TTL: the lease lapses in Redis while the keeper's next renewal waits.
    await passOnRedis('taken', TTL_MS);
    expect((await b.lease.status()).held).toBe(false);
    const grantB = (await b.lease.tryAcquire()) as LeaseGrant;
    expect(lost).toEqual([]);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    await waitFor(() => lost.length > 0, 'the keeper to notice');
    vi.useRealTimers();
    expect(lost).toEqual(['taken']);
    expect(keeper.current()).toBeUndefined();
    await keeper.stop();
    expect((await b.lease.status()).holder).toEqual(grantB.holder);
    await b.lease.release(grantB);
  });

  it('hands out a token above every watermark and every token before, even when Redis and the counter forgot them', async () => {
    const a = contender('a', TTL_MS, 'forgetful');
    await moveWatermark(a.connections, new Date('2020-01-01T00:00:00Z'), 40, 'an older scheduler');
    const first = (await a.lease.tryAcquire()) as LeaseGrant;
    expect(first.holder.token).toBe(41);
    expect(await a.lease.release(first)).toBe(true);
    // Redis restarted without persistence: its counter is gone. The control shard still knows 41.
    await cluster.services.connections.redis().del('strata:lease:forgetful:fencing-token');
    const second = (await a.lease.tryAcquire()) as LeaseGrant;
    expect(second.holder.token).toBe(42);
    expect(await a.lease.status()).toMatchObject({ holder: second.holder, lastToken: 42 });
    expect(await a.lease.release(second)).toBe(true);
  });

  it('takes a new, higher token for a held lease when a watermark passed it, and only while it holds the lease', async () => {
    const a = contender('a', TTL_MS, 'retoken');
    const grant = (await a.lease.tryAcquire()) as LeaseGrant;
    // A shard that was away when the lease was taken comes back holding a higher token.
    await moveWatermark(a.connections, new Date('2020-02-01T00:00:00Z'), grant.holder.token + 5, 'a shard that was away');
    const next = (await a.lease.retoken(grant)) as LeaseGrant;
    expect(next.holder).toEqual({ ...grant.holder, token: grant.holder.token + 6 });
    expect(await a.lease.renew(grant)).toBe(false);
    expect(await a.lease.renew(next)).toBe(true);
    expect(await a.lease.retoken(grant)).toBeUndefined();
    expect((await a.lease.status()).holder).toEqual(next.holder);
    expect(await a.lease.release(next)).toBe(true);
  });

  it("rejects a stale holder's watermark write after a newer holder moved it", async () => {
    const a = contender('a', TTL_MS, 'scheduler');
    const b = contender('b', 10_000, 'scheduler');
    const grantA = (await a.lease.tryAcquire()) as LeaseGrant;
    const n = grantA.holder.token;
    // A "pauses" (a long GC, a suspended laptop) and its lease lapses; B takes the lease and does newer work.
    await passOnRedis('scheduler', TTL_MS);
    expect((await b.lease.status()).held).toBe(false);
    const grantB = (await b.lease.tryAcquire()) as LeaseGrant;
    expect(grantB.holder.token).toBe(n + 1);
    const newer = new Date('2024-03-10T12:00:00Z');
    expect(await moveWatermark(b.connections, newer, grantB.holder.token, 'b')).toBe('advanced');

    // A wakes up and finishes the window it had started, still believing it holds the lease; even a watermark
    // further ahead than B's is refused, because B's token is newer.
    expect(await moveWatermark(a.connections, new Date('2024-03-10T13:00:00Z'), n, 'a')).toBe('fenced');

    const [watermark] = await cluster.services.connections.query<Array<{ watermark: Date; fencing_token: number; updated_by: string }>>(
      0,
      "SELECT watermark, fencing_token, updated_by FROM strata_watermarks WHERE level = 'hourly'",
    );
    expect(watermark).toEqual({ watermark: newer, fencing_token: n + 1, updated_by: 'b' });

    const shown = await runCli(['lease', '--json', '--profile', cluster.profilePath]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ held: true, holder: { host: 'b-host', token: n + 1 }, lastToken: n + 1 });
    await b.lease.release(grantB);
  });

  it('is not taken while the control shard is down, and says why instead of naming a holder', async () => {
    const a = contender('a', TTL_MS, 'scheduler');
    await cluster.stopShard(0);
    try {
      await expect(a.lease.tryAcquire()).rejects.toMatchObject({ code: ErrorCode.LeaseUnavailable, message: expect.stringMatching(/the lease is not taken: its fencing token is recorded on the control shard shard0, which did not answer/) });
      expect((await a.lease.status()).held).toBe(false);
      const run = await runCli(['rollup', '--level', 'hourly', '--profile', cluster.profilePath]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/the lease is not taken: its fencing token is recorded on the control shard/);
      expect(run.stderr).not.toMatch(/held by/);
    } finally {
      await cluster.startShard(0);
    }
  });
});
