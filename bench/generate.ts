/**
 * Benchmark of `strata generate` against a 2-shard sandbox it starts and stops itself.
 *
 *   npm run bench:generate                         1,000,000 rows, Strata then the baseline
 *   npm run bench:generate -- --rows 10000000      the memory check (add --no-baseline to skip the slow part)
 *
 * Strata's figure is the generator service as the CLI runs it. The baseline is the seed's way of ingesting:
 * one connection at a time, serial batches of 1000 rows through a parameterised INSERT … VALUES (?,?,?,?,?),…
 * with autocommit, over the very same rows (the per-shard checksums are compared to prove it).
 */
import { parseArgs } from 'node:util';
import type { PoolConnection } from 'mysql2/promise';
import { emptyPageView, PATHS, REFERRERS, TrafficModel } from '../src/main/generate/model';
import { BATCH_ROWS, INSERT_HEAD, TimestampFormatter } from '../src/main/generate/planner';
import type { GenerateRequest } from '../src/main/generate/spec';
import { parseGenerateRequest } from '../src/main/generate/spec';
import type { ClusterConnections } from '../src/main/cluster/connections';
import type { TestCluster } from '../test/support/cluster';
import { startBenchCluster } from './cluster';
import { highWaterMark } from './tools';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    sites: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20250301' },
    'no-baseline': { type: 'boolean', default: false },
  },
});

// The last 24 whole hours: the sandbox's schema has hourly partitions there, as a live cluster would.
const lastHour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const request: GenerateRequest = {
  from: new Date(lastHour - 24 * 3_600_000).toISOString(),
  to: new Date(lastHour).toISOString(),
  sites: options.sites,
  views: options.rows,
  seed: options.seed,
};
const spec = parseGenerateRequest(request);
const MIB = 1024 * 1024;
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');

async function truncate(connections: ClusterConnections): Promise<void> {
  for (const shard of connections.shards) await connections.query(shard.index, 'TRUNCATE TABLE analytics_realtime');
}

/** Per-shard count and order-free checksum of the rows, to show both runs inserted the same data. */
async function fingerprint(connections: ClusterConnections): Promise<string[]> {
  return Promise.all(
    connections.shards.map(async (shard) => {
      const [row] = await connections.query<Array<{ n: number; sum: string }>>(
        shard.index,
        `SELECT COUNT(*) AS n, CAST(SUM(CRC32(CONCAT_WS('|', site_id, UNIX_TIMESTAMP(created_at), visitor_id, path, COALESCE(referrer, '-')))) AS CHAR) AS sum
           FROM analytics_realtime`,
      );
      return `${row?.n}:${row?.sum}`;
    }),
  );
}

async function runStrata(cluster: TestCluster) {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  let lastPrinted = 0;
  try {
    const summary = await cluster.services.generator.run(request, {
      onProgress: (progress) => {
        if (progress.rowsDone - lastPrinted >= spec.views / 10 || progress.rowsDone === progress.rowsTotal) {
          lastPrinted = progress.rowsDone;
          process.stderr.write(`  strata: ${fmt(progress.rowsDone)} rows, ${fmt(progress.rowsPerSecond)} rows/s, rss ${fmt(process.memoryUsage().rss / MIB)} MiB\n`);
        }
      },
    });
    return { summary, peakRss: Math.max(peakRss, process.memoryUsage().rss) };
  } finally {
    clearInterval(sampler);
  }
}

/** The seed's ingestion: serial, one statement in flight, prepared `VALUES (?,?,?,?,?),…` of 1000 rows. */
async function runBaseline(connections: ClusterConnections): Promise<{ rows: number; seconds: number }> {
  const sessions: PoolConnection[] = [];
  for (const shard of connections.shards) sessions.push(await (await connections.pool(shard.index)).getConnection());
  const shardBySite = Array.from({ length: spec.sites + 1 }, (_, siteId) => (siteId === 0 ? 0 : connections.shardOfSite(siteId).index));
  const pending: Array<Array<string | number | null>> = connections.shards.map(() => []);
  const timestamps = new TimestampFormatter();
  const cursor = new TrafficModel(spec).cursor();
  const view = emptyPageView();
  const started = performance.now();
  let rows = 0;
  const flush = async (shard: number) => {
    const values = pending[shard]!;
    const count = values.length / 5;
    const sql = INSERT_HEAD + Array.from({ length: count }, () => '(?,?,?,?,?)').join(',');
    await sessions[shard]!.execute(sql, values);
    rows += count;
    pending[shard] = [];
    if (rows % (BATCH_ROWS * 100) === 0) process.stderr.write(`  baseline: ${fmt(rows)} rows\n`);
  };
  try {
    while (cursor.next(view)) {
      const shard = shardBySite[view.siteId]!;
      pending[shard]!.push(view.siteId, timestamps.format(view.second), view.visitorId, PATHS[view.pathIndex]!.path, REFERRERS[view.referrerIndex]!.referrer);
      if (pending[shard]!.length === BATCH_ROWS * 5) await flush(shard);
    }
    for (const [shard, values] of pending.entries()) if (values.length > 0) await flush(shard);
  } finally {
    for (const session of sessions) session.release();
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  process.stderr.write(`starting a 2-shard sandbox…\n`);
  const { cluster, stop } = await startBenchCluster();
  try {
    const connections = cluster.services.connections;
    await truncate(connections);
    const rssBefore = process.memoryUsage().rss;
    process.stderr.write(`strata generate: ${fmt(spec.views)} rows over ${fmt(spec.sites)} sites, ${request.from} to ${request.to}, seed ${spec.seed}\n`);
    const strata = await runStrata(cluster);
    const vmHwm = highWaterMark();
    const strataPrint = await fingerprint(connections);
    const lines = [
      '',
      `Strata generate   ${fmt(strata.summary.rows)} rows in ${strata.summary.seconds.toFixed(2)} s = ${fmt(strata.summary.rowsPerSecond)} rows/s` +
        ` (${strata.summary.rowsPerShard.map((shard) => `${shard.name} ${fmt(shard.rows)}`).join(', ')})`,
      `  memory          peak RSS ${fmt(strata.peakRss / MIB)} MiB during the run (${fmt(rssBefore / MIB)} MiB before it); VmHWM ${fmt(vmHwm / MIB)} MiB`,
    ];
    if (!options['no-baseline']) {
      await truncate(connections);
      process.stderr.write(`baseline: the same rows, one connection at a time, serial parameterised INSERTs of ${BATCH_ROWS} rows…\n`);
      const baseline = await runBaseline(connections);
      const baselinePrint = await fingerprint(connections);
      const baselineRate = baseline.rows / baseline.seconds;
      lines.push(
        `Baseline          ${fmt(baseline.rows)} rows in ${baseline.seconds.toFixed(2)} s = ${fmt(baselineRate)} rows/s`,
        `Ratio             Strata is ${(strata.summary.rowsPerSecond / baselineRate).toFixed(1)}x the baseline`,
        `Same rows         ${baselinePrint.join(' ') === strataPrint.join(' ') ? 'yes' : 'NO'} (per-shard count:checksum ${strataPrint.join(' ')})`,
      );
      if (baselinePrint.join(' ') !== strataPrint.join(' ')) process.exitCode = 1;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stop();
  }
}

await main();
