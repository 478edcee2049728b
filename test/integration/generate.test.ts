import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const RANGE = ['--from', '2025-03-01T00:00:00Z', '--to', '2025-03-03T00:00:00Z'];

describe('strata generate against a real 2-shard cluster', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  beforeEach(async () => {
    for (const shard of cluster.services.connections.shards) {
      await cluster.services.connections.query(shard.index, 'TRUNCATE TABLE analytics_realtime');
    }
  });

  async function shardQuery<T>(index: number, sql: string): Promise<T> {
    const [row] = await cluster.services.connections.query<T[]>(index, sql);
    return row!;
  }

  const rowCount = async (index: number) => Number((await shardQuery<{ n: number }>(index, 'SELECT COUNT(*) AS n FROM analytics_realtime')).n);

  /** An order-free fingerprint of a shard's rows: the same multiset of rows gives the same sum. */
  async function checksum(index: number): Promise<string> {
    const row = await shardQuery<{ n: number; sum: string }>(
      index,
      `SELECT COUNT(*) AS n, CAST(SUM(CRC32(CONCAT_WS('|', site_id, UNIX_TIMESTAMP(created_at), visitor_id, path, COALESCE(referrer, '-')))) AS CHAR) AS sum
         FROM analytics_realtime`,
    );
    return `${row.n}:${row.sum}`;
  }

  it('inserts exactly N rows, each on the shard that owns its site, inside [from, to)', async () => {
    const run = await runCli(['generate', ...RANGE, '--sites', '300', '--views', '25003', '--seed', '11', '--json', '--profile', cluster.profilePath]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.rows).toBe(25_003);
    expect(summary.cancelled).toBe(false);
    expect(summary.rowsPerSecond).toBeGreaterThan(0);
    const counts = [await rowCount(0), await rowCount(1)];
    expect(counts[0]! + counts[1]!).toBe(25_003);
    expect(summary.rowsPerShard.map((shard: { rows: number }) => shard.rows)).toEqual(counts);
    for (const index of [0, 1]) {
      const misplaced = await shardQuery<{ n: number }>(index, `SELECT COUNT(*) AS n FROM analytics_realtime WHERE site_id % 2 <> ${index}`);
      expect(Number(misplaced.n)).toBe(0);
      const bounds = await shardQuery<{ earliest: number; latest: number; sites: number; visitors: number }>(
        index,
        `SELECT MIN(UNIX_TIMESTAMP(created_at)) AS earliest, MAX(UNIX_TIMESTAMP(created_at)) AS latest,
                MAX(site_id) AS sites, COUNT(DISTINCT site_id, visitor_id) AS visitors FROM analytics_realtime`,
      );
      expect(Number(bounds.earliest)).toBeGreaterThanOrEqual(Date.parse('2025-03-01T00:00:00Z') / 1000);
      expect(Number(bounds.latest)).toBeLessThan(Date.parse('2025-03-03T00:00:00Z') / 1000);
      expect(Number(bounds.sites)).toBeLessThanOrEqual(300);
      // Returning visitors: far fewer distinct visitors than views.
      expect(Number(bounds.visitors)).toBeLessThan(0.7 * counts[index]!);
    }
  });

  it('inserts the same rows for the same seed, whoever runs it, and different rows for another seed', async () => {
    const request = { from: '2025-03-01T00:00:00Z', to: '2025-03-03T00:00:00Z', sites: 500, views: 30_000, seed: 2024 };
    await cluster.services.generator.run(request);
    const first = [await checksum(0), await checksum(1)];

    for (const index of [0, 1]) await cluster.services.connections.query(index, 'TRUNCATE TABLE analytics_realtime');
    const run = await runCli(['generate', ...RANGE, '--sites', '500', '--views', '30000', '--seed', '2024', '--json', '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    expect([await checksum(0), await checksum(1)]).toEqual(first);

    for (const index of [0, 1]) await cluster.services.connections.query(index, 'TRUNCATE TABLE analytics_realtime');
    await cluster.services.generator.run({ ...request, seed: 2025 });
    const other = [await checksum(0), await checksum(1)];
    expect(other[0]).not.toEqual(first[0]);
    expect(other[1]).not.toEqual(first[1]);
  });

  it('refuses bad input with one line and a non-zero exit, and inserts nothing', async () => {
    for (const args of [
      ['--from', '2025-03-03T00:00:00Z', '--to', '2025-03-01T00:00:00Z', '--sites', '10', '--views', '100'],
      ['--from', '2025-03-01T00:00:00+01:00', '--to', '2025-03-02T00:00:00Z', '--sites', '10', '--views', '100'],
      [...RANGE, '--sites', '0', '--views', '100'],
      [...RANGE, '--sites', '10', '--views', 'lots'],
    ]) {
      const run = await runCli(['generate', ...args, '--profile', cluster.profilePath]);
      expect(run.code).not.toBe(0);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/error 6001/);
    }
    expect((await rowCount(0)) + (await rowCount(1))).toBe(0);
  });

  it('stops promptly when cancelled and reports exactly the rows that went in', async () => {
    const cancel = new AbortController();
    const summary = await cluster.services.generator.run(
      { from: '2025-03-01T00:00:00Z', to: '2025-03-03T00:00:00Z', sites: 1000, views: 5_000_000, seed: 3 },
      { signal: cancel.signal, onProgress: () => cancel.abort() },
    );
    expect(summary.cancelled).toBe(true);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.rows).toBeLessThan(5_000_000);
    expect(summary.rowsPerShard.map((shard) => shard.rows)).toEqual([await rowCount(0), await rowCount(1)]);
  });

  it('inserts nothing anywhere when a shard is down at the start, and names that shard', async () => {
    await cluster.stopShard(1);
    try {
      const error = await cluster.services.generator
        .run({ from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z', sites: 10, views: 1000, seed: 1 })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StrataError);
      expect((error as StrataError).code).toBe(ErrorCode.ShardUnreachable);
      expect((error as StrataError).message).toMatch(/shard1/);
      expect(await rowCount(0)).toBe(0);
    } finally {
      await cluster.startShard(1);
    }
  });
});
