import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { LeaseKeeper, type LeaseLossReason } from '../../src/main/lease/keeper';
import { RedisLease, type LeaseGrant } from '../../src/main/lease/lease';
import { silentLogger } from '../../src/main/log';
import { advanceWatermark } from '../../src/main/rollup/watermark';
import { EnvSecretResolver } from '../../src/main/secrets';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

/** Polls until `check` holds; the timeout only bounds a broken test, it asserts nothing about speed. */
async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('the cluster lease on real Redis, with fencing checked by MariaDB', () => {
  let cluster: TestCluster;
  const opened: ClusterConnections[] = [];

  /** A separate process in all but name: its own Redis connection, pools and holder identity. */
  function contender(name: string, ttlMs: number, leaseName = 'scheduler') {
    const connections = new ClusterConnections(cluster.profile, new EnvSecretResolver());
    opened.push(connections);
    return { connections, lease: new RedisLease(connections, { name: leaseName, ttlMs, identity: { host: `${name}-host` } }) };
  }

  /** The rollup engine's own watermark move on shard 0, carrying the lease's fencing token. */
  function moveWatermark(connections: ClusterConnections, to: Date, token: number, by: string) {
    return advanceWatermark((sql, params) => connections.query(0, sql, params), { level: 'hourly', to, fencingToken: token, by, at: new Date() });
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
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
    const a = contender('a', 400, 'renewed');
    const b = contender('b', 400, 'renewed');
    const events: string[] = [];
    const keeper = new LeaseKeeper(a.lease, {
      log: silentLogger.scope('lease'),
      listener: { onAcquired: (grant) => events.push(`acquired ${grant.holder.token}`), onLost: (grant, reason) => events.push(`lost ${grant.holder.token} ${reason}`) },
    });
    await keeper.start();
    const held = keeper.current();
    expect(held).toBeDefined();
    // Five TTLs: without renewal the lease would have lapsed long before.
    await sleep(2_000);
    expect(await b.lease.tryAcquire()).toBeUndefined();
    expect((await b.lease.status()).holder?.id).toBe(a.lease.identity.id);
    await keeper.stop();
    expect(events).toEqual([`acquired ${held?.holder.token}`, `lost ${held?.holder.token} stopped`]);
    expect((await b.lease.status()).held).toBe(false);
  });

  it('never renews or deletes a lease that has passed to someone else (compare-and-delete)', async () => {
    const a = contender('a', 300, 'handover');
    const b = contender('b', 10_000, 'handover');
    const grantA = (await a.lease.tryAcquire()) as LeaseGrant;
    await waitFor(async () => !(await b.lease.status()).held, 'the unrenewed lease to lapse');
    const grantB = (await b.lease.tryAcquire()) as LeaseGrant;
    expect(grantB.holder.token).toBe(grantA.holder.token + 1);

    expect(await a.lease.renew(grantA)).toBe(false);
    expect(await a.lease.release(grantA)).toBe(false);
    const status = await a.lease.status();
    expect(status.holder).toEqual(grantB.holder);
    expect(await b.lease.release(grantB)).toBe(true);
  });

  it('tells a keeper whose lease was taken over that it lost it', async () => {
    const a = contender('a', 300, 'taken');
    const b = contender('b', 10_000, 'taken');
    const lost: LeaseLossReason[] = [];
    const keeper = new LeaseKeeper(a.lease, { tickMs: 1_000, log: silentLogger.scope('lease'), listener: { onAcquired() {}, onLost: (_grant, reason) => lost.push(reason) } });
    await keeper.start();
    // A process paused longer than its TTL: the lease lapses before the keeper's next renewal.
    await waitFor(async () => !(await b.lease.status()).held, 'the lease to lapse');
    const grantB = (await b.lease.tryAcquire()) as LeaseGrant;
    await waitFor(() => lost.length > 0, 'the keeper to notice');
    expect(lost).toEqual(['taken']);
    expect(keeper.current()).toBeUndefined();
    await keeper.stop();
    expect((await b.lease.status()).holder).toEqual(grantB.holder);
    await b.lease.release(grantB);
  });

  it("rejects a stale holder's watermark write after a newer holder moved it", async () => {
    const a = contender('a', 300, 'scheduler');
    const b = contender('b', 10_000, 'scheduler');
    const grantA = (await a.lease.tryAcquire()) as LeaseGrant;
    const n = grantA.holder.token;
    // A "pauses" (a long GC, a suspended laptop) and its lease lapses; B takes the lease and does newer work.
    await waitFor(async () => !(await b.lease.status()).held, 'the lease of the paused holder to lapse');
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
});
