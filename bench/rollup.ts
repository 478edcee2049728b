/**
 * Hourly rollup benchmark on a 2-shard sandbox:
 *   npm run bench:rollup                       5 M raw rows in one hour over 10,000 Zipf sites, plus 47 other hours
 *   npm run bench:rollup -- --rows 500000      a quick run
 *
 * Ways to compute the same hour, each on both shards in parallel, with the same session settings
 * (READ COMMITTED, tmp_table_size = max_heap_table_size = 512 MiB), best of --repeat rounds:
 * - Strata: services.rollup.runRange, the whole window as it runs in production (its transaction, the rollup
 *   statement with every site's visitor sketch, compacting the large sketches, the run record);
 * - bare SQL, counts only, into a scratch table in a transaction: every plain statement we know for the same
 *   counts, and the fastest of them is the baseline:
 *     two-level hash    INSERT … SELECT, GROUP BY site and visitor, then site (MariaDB's in-memory hash tables);
 *     two-level sorted  the same with SQL_BIG_RESULT on the inner GROUP BY, which groups by sorting;
 *     one-level sorted  SQL_BIG_RESULT, GROUP BY site with COUNT(*) and COUNT(DISTINCT visitor_id);
 * - one read of the hour: COUNT(*) and MAX(visitor_id) over the window, no grouping; no rollup can read its rows
 *   faster, so loop ÷ this bounds the speed-up any rollup could show over the loop;
 * - the seed's loop: per site, one COUNT(*), COUNT(DISTINCT visitor_id) query (on the (site_id, created_at)
 *   index) and one INSERT, autocommitted, sequentially on one connection per shard, shards in parallel.
 * The results are compared per shard (page views and visitors of every site) to prove they agree.
 */
import { parseArgs } from 'node:util';
import type { PoolConnection } from 'mysql2/promise';
import { DEFAULT_ROLLUP_TUNING, sessionSetupSql } from '../src/main/rollup/planner';
import type { ClusterConnections } from '../src/main/cluster/connections';
import type { TestCluster } from '../test/support/cluster';
import { startBenchCluster } from './cluster';
import { highWaterMark } from './tools';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '5000000' },
    'other-rows': { type: 'string', default: '1000000' },
    sites: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20250301' },
    repeat: { type: 'string', default: '2' },
    'no-loop': { type: 'boolean', default: false },
  },
});

const HOUR = 3_600_000;
const rows = Number(options.rows);
const otherRows = Number(options['other-rows']);
const sites = Number(options.sites);
const repeat = Math.max(1, Number(options.repeat));
// The last whole hour, and the 47 before it: all inside the hourly raw partitions the sandbox schema creates.
const hourEnd = new Date(Math.floor(Date.now() / HOUR) * HOUR);
const hourStart = new Date(hourEnd.getTime() - HOUR);
const MIB = 1024 * 1024;
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** One session per shard with the rollup's own settings, so every contender runs under the same rules. */
async function sessions(connections: ClusterConnections): Promise<PoolConnection[]> {
  return Promise.all(
    connections.shards.map(async (shard) => {
      const session = await (await connections.pool(shard.index)).getConnection();
      for (const sql of sessionSetupSql(DEFAULT_ROLLUP_TUNING.sessionTempTableBytes)) await session.query(sql);
      return session;
    }),
  );
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function runStrata(cluster: TestCluster): Promise<{ ms: number; peakRss: number; rowsRead: number }> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  try {
    let rowsRead = 0;
    const ms = await timed(async () => {
      const report = await cluster.services.rollup.runRange('hourly', hourStart, hourEnd, { trigger: 'manual' });
      if (!report.ok) throw new Error(`the Strata rollup failed: ${JSON.stringify(report)}`);
      rowsRead = report.shards.reduce((sum, shard) => sum + shard.windows.reduce((total, window) => total + window.rowsRead, 0), 0);
    });
    return { ms, peakRss: Math.max(peakRss, process.memoryUsage().rss), rowsRead };
  } finally {
    clearInterval(sampler);
  }
}

/** Plain statements for the counts alone (params: hour start, window start, window end). */
const BARE_SQL = {
  'two-level hash': `SELECT site_id, ?, SUM(views), COUNT(*)
       FROM (SELECT site_id, visitor_id, COUNT(*) AS views FROM analytics_realtime
              WHERE created_at >= ? AND created_at < ? GROUP BY site_id, visitor_id ORDER BY NULL) AS per_visitor
      GROUP BY site_id ORDER BY NULL`,
  'two-level sorted': `SELECT site_id, ?, SUM(views), COUNT(*)
       FROM (SELECT SQL_BIG_RESULT site_id, visitor_id, COUNT(*) AS views FROM analytics_realtime
              WHERE created_at >= ? AND created_at < ? GROUP BY site_id, visitor_id ORDER BY NULL) AS per_visitor
      GROUP BY site_id ORDER BY NULL`,
  'one-level sorted': `SELECT SQL_BIG_RESULT site_id, ?, COUNT(*), COUNT(DISTINCT visitor_id) FROM analytics_realtime
      WHERE created_at >= ? AND created_at < ? GROUP BY site_id ORDER BY NULL`,
} as const;
type BareVariant = keyof typeof BARE_SQL;
const BARE_VARIANTS = Object.keys(BARE_SQL) as BareVariant[];
const bareTable = (variant: BareVariant) => `bench_hourly_${variant.replace(/[^a-z]+/g, '_')}`;

async function runBareSql(connections: ClusterConnections, variant: BareVariant): Promise<number> {
  const shards = await sessions(connections);
  try {
    return await timed(() =>
      Promise.all(
        shards.map(async (session) => {
          await session.query('START TRANSACTION');
          await session.query(`DELETE FROM ${bareTable(variant)} WHERE hour_start >= ? AND hour_start < ?`, [hourStart, hourEnd]);
          await session.query(`INSERT INTO ${bareTable(variant)} (site_id, hour_start, page_views, visitors) ${BARE_SQL[variant]}`, [hourStart, hourStart, hourEnd]);
          await session.query('COMMIT');
        }),
      ),
    );
  } finally {
    for (const session of shards) session.release();
  }
}

/** Reads every row of the hour once, nothing else: the floor under any rollup of it. */
async function runOneRead(connections: ClusterConnections): Promise<number> {
  const shards = await sessions(connections);
  try {
    return await timed(() =>
      Promise.all(
        shards.map((session) =>
          session.query('SELECT COUNT(*), MAX(visitor_id) FROM analytics_realtime IGNORE INDEX (idx_site_created) WHERE created_at >= ? AND created_at < ?', [hourStart, hourEnd]),
        ),
      ),
    );
  } finally {
    for (const session of shards) session.release();
  }
}

/** The seed's way: for every site, one query for its counts and one INSERT, serially on each shard. */
async function runPerSiteLoop(connections: ClusterConnections): Promise<number> {
  const shards = await sessions(connections);
  try {
    return await timed(() =>
      Promise.all(
        shards.map(async (session, shard) => {
          await session.query('DELETE FROM bench_hourly_loop');
          for (let siteId = 1; siteId <= sites; siteId++) {
            if (connections.shardOfSite(siteId).index !== shard) continue;
            const [[counts]] = (await session.query(
              'SELECT COUNT(*) AS page_views, COUNT(DISTINCT visitor_id) AS visitors FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?',
              [siteId, hourStart, hourEnd],
            )) as unknown as [[{ page_views: number; visitors: number }]];
            if (Number(counts.page_views) === 0) continue;
            await session.query('INSERT INTO bench_hourly_loop (site_id, hour_start, page_views, visitors) VALUES (?, ?, ?, ?)', [siteId, hourStart, counts.page_views, counts.visitors]);
          }
        }),
      ),
    );
  } finally {
    for (const session of shards) session.release();
  }
}

/** Per shard: site count and an order-free checksum of (site, page views, visitors). */
async function fingerprint(connections: ClusterConnections, table: string): Promise<string> {
  const prints = await Promise.all(
    connections.shards.map(async (shard) => {
      const [row] = await connections.query<Array<{ n: number; sum: string }>>(
        shard.index,
        `SELECT COUNT(*) AS n, CAST(COALESCE(SUM(CRC32(CONCAT_WS('|', site_id, page_views, visitors))), 0) AS CHAR) AS sum FROM ${table} WHERE hour_start = ?`,
        [hourStart],
      );
      return `${row?.n}:${row?.sum}`;
    }),
  );
  return prints.join(' ');
}

async function main(): Promise<void> {
  process.stderr.write('starting a 2-shard sandbox…\n');
  const { cluster, stop } = await startBenchCluster();
  try {
    const connections = cluster.services.connections;
    for (const shard of connections.shards) {
      for (const table of [...BARE_VARIANTS.map(bareTable), 'bench_hourly_loop']) {
        await connections.query(shard.index, `CREATE TABLE ${table} (site_id INT UNSIGNED NOT NULL, hour_start DATETIME NOT NULL, page_views BIGINT UNSIGNED NOT NULL, visitors INT UNSIGNED NOT NULL, PRIMARY KEY (site_id, hour_start)) ENGINE=InnoDB`);
      }
    }
    process.stderr.write(`generating ${fmt(rows)} rows in ${hourStart.toISOString()} over ${fmt(sites)} sites, and ${fmt(otherRows)} in the 47 hours before…\n`);
    await cluster.services.generator.run({ from: hourStart.toISOString(), to: hourEnd.toISOString(), sites, views: rows, seed: options.seed });
    if (otherRows > 0) {
      await cluster.services.generator.run({ from: new Date(hourStart.getTime() - 47 * HOUR).toISOString(), to: hourStart.toISOString(), sites, views: otherRows, seed: Number(options.seed) + 1 });
    }
    const rssBefore = process.memoryUsage().rss;
    const strataRuns: Array<{ ms: number; peakRss: number; rowsRead: number }> = [];
    const bareRuns = new Map<BareVariant, number[]>(BARE_VARIANTS.map((variant) => [variant, []]));
    const readRuns: number[] = [];
    for (let round = 0; round < repeat; round++) {
      for (const variant of BARE_VARIANTS) {
        process.stderr.write(`round ${round + 1}/${repeat}: bare SQL, ${variant}…\n`);
        bareRuns.get(variant)!.push(await runBareSql(connections, variant));
      }
      process.stderr.write(`round ${round + 1}/${repeat}: Strata…\n`);
      strataRuns.push(await runStrata(cluster));
      readRuns.push(await runOneRead(connections));
    }
    const strata = Math.min(...strataRuns.map((run) => run.ms));
    const bareBest = new Map(BARE_VARIANTS.map((variant) => [variant, Math.min(...bareRuns.get(variant)!)]));
    const [bestVariant, bare] = [...bareBest].sort((a, b) => a[1] - b[1])[0]!;
    const oneRead = Math.min(...readRuns);
    const strataPrint = await fingerprint(connections, 'analytics_hourly');
    const barePrints = new Map(await Promise.all(BARE_VARIANTS.map(async (variant) => [variant, await fingerprint(connections, bareTable(variant))] as const)));
    const allAgree = BARE_VARIANTS.every((variant) => barePrints.get(variant) === strataPrint);
    const lines = [
      '',
      `raw rows in the hour   ${fmt(strataRuns[0]!.rowsRead)} (of ${fmt(rows + otherRows)} raw rows over 48 hours)`,
      `Strata hourly rollup   ${seconds(strata)}  (runs: ${strataRuns.map((run) => seconds(run.ms)).join(', ')}; counts and visitor sketches)`,
      ...BARE_VARIANTS.map((variant) => `bare SQL ${variant.padEnd(17)} ${seconds(bareBest.get(variant)!)}  (runs: ${bareRuns.get(variant)!.map(seconds).join(', ')}; counts only)`),
      `one read of the hour   ${seconds(oneRead)}  (runs: ${readRuns.map(seconds).join(', ')}; no grouping: the floor under any rollup)`,
      `Strata / bare SQL      ${(strata / bare).toFixed(2)}x against the fastest bare SQL (${bestVariant}; goal: at most 1.25x); ${BARE_VARIANTS.filter((variant) => variant !== bestVariant)
        .map((variant) => `${(strata / bareBest.get(variant)!).toFixed(2)}x against ${variant}`)
        .join(', ')}`,
      `same counts            ${allAgree ? 'yes' : 'NO'} (per shard sites:checksum ${strataPrint})`,
      `Strata memory          peak RSS ${fmt(Math.max(...strataRuns.map((run) => run.peakRss)) / MIB)} MiB during the runs (${fmt(rssBefore / MIB)} MiB before); VmHWM ${fmt(highWaterMark() / MIB)} MiB (includes generating the data)`,
    ];
    if (!allAgree) {
      for (const [variant, print] of barePrints) if (print !== strataPrint) lines.push(`                       ${variant} differs: ${print}`);
      process.exitCode = 1;
    }
    if (!options['no-loop']) {
      process.stderr.write(`per-site loop over ${fmt(sites)} sites…\n`);
      const loop = await runPerSiteLoop(connections);
      const loopPrint = await fingerprint(connections, 'bench_hourly_loop');
      lines.push(
        `per-site loop          ${seconds(loop)}  (one COUNT/COUNT DISTINCT query and one INSERT per site)`,
        `loop / Strata          ${(loop / strata).toFixed(1)}x  (goal: at least 20x); loop / fastest bare SQL ${(loop / bare).toFixed(1)}x; loop / one read of the hour ${(loop / oneRead).toFixed(1)}x (the most any rollup could show)`,
        `same counts            ${loopPrint === strataPrint ? 'yes' : 'NO'} (per shard sites:checksum ${loopPrint})`,
      );
      if (loopPrint !== strataPrint) process.exitCode = 1;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stop();
  }
}

await main();
