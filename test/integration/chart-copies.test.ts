import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { LocalCopies } from '../../src/main/traffic/local-copies';
import { CHART_CACHE_PREFIX } from '../../src/main/traffic/planner';
import type { TrafficAnswer, TrafficRequest } from '../../src/shared/traffic';
import { startTestCluster, type TestCluster } from '../support/cluster';

const DAY = 86_400_000;
const TODAY = Math.floor(Date.now() / DAY) * DAY;

/** Charts of days long past: nothing provisional in them, and each test asks a range of its own. */
const request = (siteId: number, daysAgo: number): TrafficRequest => ({
  scope: { kind: 'site', siteId },
  from: new Date(TODAY - daysAgo * DAY).toISOString(),
  to: new Date(TODAY - (daysAgo - 1) * DAY).toISOString(),
});
const keyOf = (chart: TrafficRequest) => `${CHART_CACHE_PREFIX}site:${(chart.scope as { siteId: number }).siteId}:${chart.from}:${chart.to}`;

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`never happened: ${what}`);
}

/** Tracking starts with the first lookup; waits until Redis is tracking for `copies`. */
async function trackingStarted(copies: Pick<LocalCopies<unknown>, 'get' | 'live'>): Promise<void> {
  await eventually(() => {
    copies.get(`${CHART_CACHE_PREFIX}warm`);
    return copies.live;
  }, 'tracking started');
}

describe('in-memory copies of cached charts, kept coherent by Redis tracking', () => {
  let cluster: TestCluster;
  /** Another console: a client of its own that writes and deletes chart keys. */
  let other: Redis;
  const traffic = () => cluster.services.traffic;

  /** How many GETs Redis has served: a chart answered from memory adds none. */
  async function getsServed(): Promise<number> {
    const stats = await other.info('commandstats');
    return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }


  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
    other = new Redis(cluster.profile.redis.url);
  });

  afterAll(async () => {
    other?.disconnect();
    await cluster?.down();
  });

  it('answers a repeated chart from memory, without a round trip to Redis, and says it is a hit of the same age', async () => {
    const chart = request(11, 40);
    // Tracking starts with the first lookup; until it runs, charts go to Redis as before.
    const first = await traffic().chart(chart);
    await eventually(async () => {
      const before = await getsServed();
      const again = await traffic().chart(chart);
      return again.cache.state === 'hit' && (await getsServed()) === before;
    }, 'a hit without a GET');
    const gets = await getsServed();
    const again = await traffic().chart(chart);
    expect(again.cache).toMatchObject({ state: 'hit', hit: true, ttlSeconds: 300, from: 'memory' });
    expect(again.computedAt).toBe(first.computedAt);
    expect(await getsServed()).toBe(gets);
  });

  it('drops a copy when another console deletes the key, and serves what another console wrote over it', async () => {
    const chart = request(12, 41);
    const miss = await traffic().chart(chart);
    expect(miss.cache.state).toBe('miss');
    expect((await traffic().chart(chart)).cache.state).toBe('hit');
    await other.del(keyOf(chart));
    await eventually(async () => (await traffic().chart(chart)).cache.state === 'miss', 'the deleted chart computed again');

    // The other console's answer (a different computedAt) replaces this process's copy.
    const stored = JSON.parse((await other.get(keyOf(chart)))!) as { storedAt: number; ttlSeconds: number; answer: TrafficAnswer };
    const theirs = { ...stored, answer: { ...stored.answer, computedAt: '2020-01-01T00:00:00.000Z' } };
    await other.set(keyOf(chart), JSON.stringify(theirs), 'EX', 3600);
    await eventually(async () => (await traffic().chart(chart)).computedAt === '2020-01-01T00:00:00.000Z', 'the other console’s chart served');
  });

  it('after a rewrite this process deleted, its very next chart is computed again, not a copy of the deleted one', async () => {
    const chart = request(13, 42);
    await traffic().chart(chart);
    expect((await traffic().chart(chart)).cache.state).toBe('hit');
    const result = await cluster.services.cache.afterRewrite({ kind: 'backfill', runId: 'copies-test' }, [{ sites: { siteId: 13 }, from: new Date(chart.from), to: new Date(chart.to) }]);
    expect(result.outcome).toBe('invalidated');
    expect((await traffic().chart(chart)).cache.state).toBe('miss');
  });

  it('drops every copy when the tracking connection is killed, reads Redis meanwhile, and tracks again', async () => {
    const chart = request(14, 43);
    await traffic().chart(chart);
    expect((await traffic().chart(chart)).cache.state).toBe('hit');
    const clients = String(await other.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    expect(clients).toContain('cmd=');
    await other.client('KILL', 'TYPE', 'pubsub');
    // Invalidations may have been missed while no connection listened: the next hits are Redis GETs, each one.
    const gets = await getsServed();
    expect((await traffic().chart(chart)).cache).toMatchObject({ state: 'hit', from: 'redis' });
    expect(await getsServed()).toBeGreaterThan(gets);
    await eventually(async () => {
      await traffic().chart(chart);
      const before = await getsServed();
      await traffic().chart(chart);
      return (await getsServed()) === before;
    }, 'copies served again after a new tracking connection');
  });

  it('keeps serving a copy after the tracking connection was quiet for longer than the silence limit: it is pinged meanwhile', async () => {
    const copies = new LocalCopies<string>(() => cluster.services.connections.openRedisConnection(), silentLogger.scope('traffic'), { prefix: 'strata:quiet:', silenceMs: 200 });
    try {
      await trackingStarted(copies);
      copies.settle(copies.begin('strata:quiet:a'), { value: 'kept', bytes: 4, ttlMs: 60_000, ownWrites: 0 });
      // No change to any key for three silence limits: only the pings are heard.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(copies.get('strata:quiet:a')).toBe('kept');
    } finally {
      await copies.dispose();
    }
  });

  describe('a copy is kept only when nothing else changed the key during the read or write that fetched it', () => {
    let copies: LocalCopies<string>;
    let now = 1_000_000;

    beforeAll(async () => {
      copies = new LocalCopies<string>(() => cluster.services.connections.openRedisConnection(), silentLogger.scope('traffic'), { prefix: 'strata:test:', clock: () => now });
      await trackingStarted(copies);
    });

    afterAll(async () => {
      await copies.dispose();
    });

    it('a GET that raced another client’s SET keeps nothing', async () => {
      const ticket = copies.begin('strata:test:a');
      const read = await other.get('strata:test:a');
      await other.set('strata:test:a', 'newer');
      await copies.sync();
      copies.settle(ticket, { value: String(read), bytes: 4, ttlMs: 60_000, ownWrites: 0 });
      expect(copies.get('strata:test:a')).toBeUndefined();
    });

    it('its own SET’s invalidation keeps the copy; the next change by anyone drops it', async () => {
      const ticket = copies.begin('strata:test:b');
      await other.set('strata:test:b', 'mine');
      copies.settle(ticket, { value: 'mine', bytes: 4, ttlMs: 60_000, ownWrites: 1 });
      await copies.sync();
      expect(copies.get('strata:test:b')).toBe('mine');
      await other.set('strata:test:b', 'theirs');
      await copies.sync();
      expect(copies.get('strata:test:b')).toBeUndefined();
    });

    it('a copy ends with the key’s TTL, by the clock, and goes on FLUSHDB', async () => {
      const ticket = copies.begin('strata:test:c');
      copies.settle(ticket, { value: 'kept', bytes: 4, ttlMs: 5_000, ownWrites: 0 });
      expect(copies.get('strata:test:c')).toBe('kept');
      now += 5_001;
      expect(copies.get('strata:test:c')).toBeUndefined();

      const again = copies.begin('strata:test:d');
      copies.settle(again, { value: 'kept', bytes: 4, ttlMs: 60_000, ownWrites: 0 });
      await other.flushdb();
      await copies.sync();
      expect(copies.get('strata:test:d')).toBeUndefined();
      expect(copies.live).toBe(true);
    });

    it('serves no copy once the connection has been silent too long, whatever it holds', async () => {
      const ticket = copies.begin('strata:test:e');
      copies.settle(ticket, { value: 'kept', bytes: 4, ttlMs: 600_000, ownWrites: 0 });
      expect(copies.get('strata:test:e')).toBe('kept');
      // The clock jumps past the silence limit: nothing is served until the next PING is answered.
      now += 10_001;
      expect(copies.get('strata:test:e')).toBeUndefined();
      await copies.sync();
      expect(copies.get('strata:test:e')).toBe('kept');
    });
  });
});
