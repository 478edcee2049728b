/**
 * Monitoring benchmark on a sandbox it starts and stops itself (4 shards, Redis, the node exporter when installed):
 *   npm run bench:monitor                  10 cycles, 30 s of load, 7 days of samples (the README's figures)
 *   npm run bench:monitor -- --quick       3 cycles, 8 s of load, 1 day of samples
 *
 * 1. One probe cycle (the monitor's real runCycle, recording its samples as the lease holder does): wall time and
 *    queries sent, cold (first) and warm (median and slowest of the rest). Baseline: the same number of `SELECT 1`
 *    round trips, shard by shard in parallel, each shard's one after the other (the floor of any cycle that asks
 *    each shard that many questions). Goal: a cycle ≤ 1 s on 4 shards.
 * 2. The probes' share of a shard's query time under load: --concurrency loops per shard run the dashboards' three
 *    chart queries for random sites as a separate MariaDB user while cycles run every --every seconds. Each user's
 *    BUSY_TIME comes from MariaDB's user statistics (SET GLOBAL userstat = 1), so both sides are measured by the
 *    server alike; Strata's user on a shard also carries the sample writes and alert evaluation on shard 0. The share
 *    is given as measured and scaled to the real 30 s interval. Goal: ≤ 1 %.
 * 3. Rule evaluation with --days of 30 s samples of every series of a cycle in strata_monitor_samples: the alert
 *    engine's evaluate(snapshot), median of --evaluations runs; monitor.series('7d') is timed beside it. Goal ≤ 50 ms.
 * --json prints the figures as JSON.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mysql, { type Pool } from 'mysql2/promise';
import type { MonitorSnapshot } from '../src/shared/monitor';
import { chartQueries, foldSamples } from '../src/main/monitor/planner';
import { MonitorSampleStore } from '../src/main/monitor/samples';
import type { TestCluster } from '../test/support/cluster';
import { startBenchCluster } from './cluster';
import { benchArguments } from './tools';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    shards: { type: 'string', default: '4' },
    sites: { type: 'string' },
    cycles: { type: 'string' },
    'load-seconds': { type: 'string' },
    every: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '2' },
    days: { type: 'string' },
    evaluations: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});

const { wholeNumber, fail } = benchArguments('monitor');
const quick = options.quick;
const SHARDS = wholeNumber('shards', options.shards, 1, 8);
const SITES = wholeNumber('sites', options.sites ?? (quick ? '100' : '500'), 1, 100_000);
const CYCLES = wholeNumber('cycles', options.cycles ?? (quick ? '3' : '10'), 2, 1000);
const LOAD_SECONDS = wholeNumber('load-seconds', options['load-seconds'] ?? (quick ? '8' : '30'), 1, 3600);
const EVERY_SECONDS = wholeNumber('every', options.every, 1, 300);
const CONCURRENCY = wholeNumber('concurrency', options.concurrency, 1, 32);
const DAYS = wholeNumber('days', options.days ?? (quick ? '1' : '7'), 1, 35);
const EVALUATIONS = wholeNumber('evaluations', options.evaluations, 1, 1000);

const REAL_INTERVAL_S = 30;
const SAMPLE_STEP_S = 30;
const GOALS = { cycleMs: 1000, probeShare: 0.01, evaluateMs: 50 };
const LOAD_USER = 'strata_bench_load';
const LOAD_PASSWORD = 'bench-load-only';
const HOURLY_HOURS = 7 * 24;
const DAILY_DAYS = 60;
const MONTHLY_MONTHS = 12;

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
const percent = (value: number) => `${(value * 100).toFixed(value < 0.01 ? 3 : 2)} %`;
const say = (line: string) => {
  if (!options.json) process.stdout.write(`${line}\n`);
};
const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};
const verdict = (value: number, goal: number) => (value <= goal ? 'goal met' : 'GOAL MISSED');

// ---------------------------------------------------------------------------------------------------------------
// The data the chart queries read

/** Rollup rows for sites 1..SITES: a week of hours, two months of days, a year of months, ending now. */
async function fillRollups(cluster: TestCluster): Promise<void> {
  const { connections } = cluster.services;
  await Promise.all(
    connections.shards.map(async (shard) => {
      const run = (sql: string) => connections.query(shard.index, sql, [], { kind: 'write' });
      await run(`INSERT IGNORE INTO analytics_hourly (site_id, hour_start, page_views, visitors)
        SELECT s.seq, DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%d %H:00:00') - INTERVAL h.seq HOUR, 1 + (s.seq * 7 + h.seq) % 500, 1 + (s.seq + h.seq) % 200
          FROM seq_1_to_${SITES} s, seq_0_to_${HOURLY_HOURS - 1} h`);
      await run(`INSERT IGNORE INTO analytics_daily (site_id, date, page_views, visitors)
        SELECT s.seq, UTC_DATE() - INTERVAL d.seq DAY, 100 + (s.seq * 13 + d.seq) % 9000, 10 + (s.seq + d.seq) % 3000
          FROM seq_1_to_${SITES} s, seq_0_to_${DAILY_DAYS - 1} d`);
      await run(`INSERT IGNORE INTO analytics_monthly (site_id, month_start, page_views, visitors)
        SELECT s.seq, DATE_FORMAT(UTC_DATE(), '%Y-%m-01') - INTERVAL m.seq MONTH, 3000 + (s.seq * 17 + m.seq) % 90000, 300 + (s.seq + m.seq) % 30000
          FROM seq_1_to_${SITES} s, seq_0_to_${MONTHLY_MONTHS - 1} m`);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The cycle alone

async function timedCycle(cluster: TestCluster): Promise<{ wallMs: number; snapshot: MonitorSnapshot }> {
  const started = performance.now();
  const snapshot = await cluster.services.monitor.runCycle({ record: true });
  const wallMs = performance.now() - started;
  // The alert engine evaluates each cycle on its own chain; let it finish so the next cycle starts from quiet.
  await (cluster.services.alerts as { idle?: () => Promise<void> }).idle?.();
  return { wallMs, snapshot };
}

/** `count` SELECT 1 round trips per shard, one after the other on each shard, every shard at once. */
async function roundTripFloor(cluster: TestCluster, perShard: number): Promise<number> {
  const { connections } = cluster.services;
  const started = performance.now();
  await Promise.all(
    connections.shards.map(async (shard) => {
      for (let sent = 0; sent < perShard; sent += 1) await connections.query(shard.index, 'SELECT 1');
    }),
  );
  return performance.now() - started;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. The probes' share under load

interface UserBusy {
  strata: number;
  load: number;
}

async function busySeconds(cluster: TestCluster, shard: number): Promise<UserBusy> {
  const user = cluster.profile.shards[shard]!.user;
  const rows = await cluster.services.connections.query<Array<{ user: string; busy: number | string }>>(
    shard,
    'SELECT USER AS user, BUSY_TIME AS busy FROM information_schema.USER_STATISTICS WHERE USER IN (?, ?)',
    [user, LOAD_USER],
  );
  const of = (name: string) => Number(rows.find((row) => row.user === name)?.busy ?? 0);
  return { strata: of(user), load: of(LOAD_USER) };
}

async function loadPools(cluster: TestCluster): Promise<Pool[]> {
  const { connections } = cluster.services;
  return Promise.all(
    connections.shards.map(async (shard) => {
      await connections.query(shard.index, `CREATE USER IF NOT EXISTS '${LOAD_USER}'@'%' IDENTIFIED BY '${LOAD_PASSWORD}'`);
      await connections.query(shard.index, `GRANT SELECT ON \`${shard.config.database}\`.* TO '${LOAD_USER}'@'%'`);
      await connections.query(shard.index, 'SET GLOBAL userstat = 1');
      return mysql.createPool({ host: shard.config.host, port: shard.config.port, user: LOAD_USER, password: LOAD_PASSWORD, database: shard.config.database, connectionLimit: CONCURRENCY });
    }),
  );
}

/** Chart queries for random sites on every shard until `until`; returns the queries sent per shard. */
async function chartLoad(pools: readonly Pool[], until: number): Promise<number[]> {
  const sent = pools.map(() => 0);
  await Promise.all(
    pools.flatMap((pool, shard) =>
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < until) {
          const site = 1 + Math.floor(Math.random() * SITES);
          for (const statement of chartQueries(site, new Date())) {
            await pool.query(statement.sql, statement.params);
            sent[shard]! += 1;
          }
        }
      }),
    ),
  );
  return sent;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Rule evaluation over a week of samples

/** DAYS of 30 s samples for every series the cycle measured, written on the control shard. */
async function fillSamples(cluster: TestCluster, snapshot: MonitorSnapshot): Promise<{ series: number; rows: number }> {
  const series = snapshot.figures.filter((figure) => figure.value !== null);
  const perSeries = Math.floor((DAYS * 86_400) / SAMPLE_STEP_S);
  const now = new Date(snapshot.at);
  for (const figure of series) {
    await cluster.services.connections.query(
      0,
      `INSERT IGNORE INTO strata_monitor_samples (metric, scope, at, value)
         SELECT ?, ?, ? - INTERVAL seq * ${SAMPLE_STEP_S} SECOND, ? * (0.8 + RAND() * 0.4) FROM seq_1_to_${perSeries}`,
      [figure.metric, figure.scope.key, now, figure.value],
      { kind: 'write' },
    );
  }
  return { series: series.length, rows: series.length * perSeries };
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  say(`bench monitor: ${SHARDS} shards, ${fmt(SITES)} sites, ${CYCLES} cycles, ${LOAD_SECONDS} s of load (${CONCURRENCY} loops per shard, a cycle every ${EVERY_SECONDS} s), ${DAYS} d of samples${quick ? ' (quick)' : ''}`);
  let pools: Pool[] = [];
  const { cluster, stop } = await startBenchCluster(
    {
      shards: SHARDS,
      nodeExporter: true,
      // This process plays the lease holder: it records samples and evaluates rules, as an agent does.
      services: { monitor: { isRecorder: () => true }, alerts: { leaseToken: () => 1 } },
    },
    async () => {
      await Promise.all(pools.map((pool) => pool.end()));
    },
  );
  try {
    const hostMetrics = cluster.profile.shards.every((shard) => shard.nodeExporterUrl);
    say(`sandbox up${hostMetrics ? ' with the node exporter' : ' (no prometheus-node-exporter: host CPU/memory not configured)'}; filling the rollup tables…`);
    await fillRollups(cluster);

    // 1. The cycle alone.
    const cycles: Array<{ wallMs: number; snapshot: MonitorSnapshot }> = [];
    for (let index = 0; index < CYCLES; index += 1) cycles.push(await timedCycle(cluster));
    const [cold, ...warm] = cycles;
    const warmWall = warm.map((cycle) => cycle.wallMs);
    const queries = median(warm.map((cycle) => cycle.snapshot.queries));
    const floorMs = await roundTripFloor(cluster, Math.ceil(queries / SHARDS));
    const cycle = { coldMs: cold!.wallMs, medianMs: median(warmWall), slowestMs: Math.max(...warmWall), queries, floorMs };
    say('');
    say(`1. one probe cycle on ${SHARDS} shards (recorded; the alert engine evaluating after each)`);
    say(`   cold ${ms(cycle.coldMs)}, warm median ${ms(cycle.medianMs)}, slowest ${ms(cycle.slowestMs)}; ${fmt(queries)} queries sent (${(queries / SHARDS).toFixed(1)} per shard with Redis and the samples)`);
    say(`   baseline: ${Math.ceil(queries / SHARDS)} SELECT 1 per shard, shards at once: ${ms(floorMs)} (cycle / floor ${(cycle.medianMs / floorMs).toFixed(1)}×)`);
    say(`   goal ≤ ${fmt(GOALS.cycleMs)} ms: ${verdict(cycle.slowestMs, GOALS.cycleMs)}`);

    // 2. Under load.
    pools = await loadPools(cluster);
    const before = await Promise.all(cluster.services.connections.shards.map((shard) => busySeconds(cluster, shard.index)));
    const until = performance.now() + LOAD_SECONDS * 1000;
    const loaded = chartLoad(pools, until);
    const loadedCycles: number[] = [];
    while (performance.now() < until) {
      const next = performance.now() + EVERY_SECONDS * 1000;
      loadedCycles.push((await timedCycle(cluster)).wallMs);
      const wait = Math.min(next, until) - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const loadQueries = await loaded;
    const after = await Promise.all(cluster.services.connections.shards.map((shard) => busySeconds(cluster, shard.index)));
    const shares = after.map((end, shard) => {
      const strata = end.strata - before[shard]!.strata;
      const load = end.load - before[shard]!.load;
      const perCycle = strata / loadedCycles.length;
      const loadPerSecond = load / LOAD_SECONDS;
      return {
        shard,
        strataBusyS: strata,
        loadBusyS: load,
        loadQueries: loadQueries[shard]!,
        measuredShare: strata / (strata + load),
        shareAtRealInterval: perCycle / (perCycle + REAL_INTERVAL_S * loadPerSecond),
      };
    });
    const worst = Math.max(...shares.map((share) => share.shareAtRealInterval));
    say('');
    say(`2. probes' share of each shard's query time (MariaDB user statistics, BUSY_TIME) under ${LOAD_SECONDS} s of chart-query load`);
    say(`   ${loadedCycles.length} cycles under load: median ${ms(median(loadedCycles))}, slowest ${ms(Math.max(...loadedCycles))}`);
    for (const share of shares) {
      say(
        `   shard${share.shard}: load ${fmt(share.loadQueries)} queries ${share.loadBusyS.toFixed(2)} s busy; Strata ${share.strataBusyS.toFixed(3)} s; share ${percent(share.measuredShare)} with a cycle every ${EVERY_SECONDS} s, ${percent(share.shareAtRealInterval)} at the real ${REAL_INTERVAL_S} s`,
      );
    }
    say(`   goal ≤ ${percent(GOALS.probeShare)} at ${REAL_INTERVAL_S} s: ${verdict(worst, GOALS.probeShare)} (worst shard ${percent(worst)})`);
    await Promise.all(pools.map((pool) => pool.end()));
    pools = [];

    // 3. Rule evaluation over DAYS of samples.
    const snapshot = cycles.at(-1)!.snapshot;
    const fillStarted = performance.now();
    const filled = await fillSamples(cluster, snapshot);
    const fillMs = performance.now() - fillStarted;
    const [counted] = await cluster.services.connections.query<Array<{ samples: number }>>(0, 'SELECT COUNT(*) AS samples FROM strata_monitor_samples');
    const samples = Number(counted?.samples ?? 0);
    const rules = await cluster.services.alerts.rules();
    const evaluations: number[] = [];
    for (let index = 0; index < EVALUATIONS; index += 1) {
      const started = performance.now();
      await cluster.services.alerts.evaluate(snapshot);
      evaluations.push(performance.now() - started);
    }
    const seriesStarted = performance.now();
    const report = await cluster.services.monitor.series({ range: '7d' });
    const seriesMs = performance.now() - seriesStarted;
    // The page's reads once the samples are folded, as the lease holder folds them every cycle: buckets for all, raw
    // samples only for the last 48 h.
    const store = new MonitorSampleStore(cluster.services.state.control);
    const foldStarted = performance.now();
    const bucketCount = await store.writeBuckets(foldSamples(await store.readRaw(new Date(0), new Date(Date.now() + 60_000))));
    await store.downsample(new Date());
    const foldMs = performance.now() - foldStarted;
    const foldedSeriesMs: Record<'24h' | '7d', number[]> = { '24h': [], '7d': [] };
    for (let index = 0; index < 3; index += 1) {
      for (const range of ['24h', '7d'] as const) {
        const started = performance.now();
        await cluster.services.monitor.series({ range });
        foldedSeriesMs[range].push(performance.now() - started);
      }
    }
    const evaluation = {
      series: filled.series,
      samples,
      medianMs: median(evaluations),
      slowestMs: Math.max(...evaluations),
      rules: rules.length,
      series7dRawOnlyMs: seriesMs,
      folded: { buckets: bucketCount, series24hMs: median(foldedSeriesMs['24h']), series7dMs: median(foldedSeriesMs['7d']) },
    };
    say('');
    say(`3. rule evaluation: ${rules.length} rules over a cycle of ${snapshot.figures.length} figures, ${fmt(samples)} samples of ${filled.series} series in strata_monitor_samples (${DAYS} d × ${SAMPLE_STEP_S} s, written in ${(fillMs / 1000).toFixed(1)} s)`);
    say(`   evaluate(snapshot): median ${ms(evaluation.medianMs)}, slowest ${ms(evaluation.slowestMs)} of ${EVALUATIONS}; goal ≤ ${GOALS.evaluateMs} ms: ${verdict(evaluation.medianMs, GOALS.evaluateMs)}`);
    say(`   beside it, monitor.series('7d') (the Monitoring page's week) before any folding, all raw: ${ms(seriesMs)}, ${report.series.length} series`);
    say(`   folded as the lease holder folds them (${fmt(bucketCount)} 5-min buckets in ${(foldMs / 1000).toFixed(1)} s, raw kept 48 h): series('24h') median ${ms(evaluation.folded.series24hMs)}, series('7d') median ${ms(evaluation.folded.series7dMs)} of 3`);

    if (options.json) {
      process.stdout.write(`${JSON.stringify({ shards: SHARDS, sites: SITES, quick, cycle, underLoad: { cycles: loadedCycles, shares }, evaluation, goals: GOALS }, null, 2)}\n`);
    }
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
