/**
 * Traffic charts benchmark on a 2-shard sandbox it starts and stops itself:
 *   npm run bench:charts                  100,000 sites, 50 sample sites with a year of raw rows (the README's figures)
 *   npm run bench:charts -- --quick       2,000 sites, 12 sample sites: a couple of minutes
 *   --sites N --sample N --heavy N --samples N --seed S --json
 *
 * Data (bench/charts-data.ts): for every site 7 days of hourly rows, a year of daily rows and 5 years of monthly rows,
 * each with a valid sparse visitor sketch, written straight into the tables; the sample sites (a spread of sizes, the
 * last --heavy of them with more than 4,096 visitors a day, so their daily sketches are dense) get a year of raw page
 * views and their rollup rows rebuilt from those, plus 30 days of hourly rows. Watermarks say every level is caught up.
 *
 * Measured:
 * - services.traffic.chart for random sites of all N, each of 24 h, 30 d, 1 y and 5 y: p50/p95/p99 uncached
 *   (cache: false) and cached (a chart asked once to fill the cache, then timed), the cached ones twice: as Strata
 *   serves them (from this process's tracked in-memory copy) and through a second traffic service whose copies are
 *   off (a Redis GET each: what a console pays for a chart another process cached);
 * - side by side on the sample sites, Strata uncached against the naive application's chart of the same range
 *   (24 h GROUP BY hour over raw, 30 days summing hourly rows per day, a year summing daily rows per month, 5 years of
 *   monthly rows), with the ratios of the percentiles and a check that both give the same page views;
 * - a year's visitors: Strata's (merged from the daily sketches) against the exact COUNT(DISTINCT visitor_id) over
 *   the raw rows (timed too), the error of each, and the naive chart's sum of daily visitors.
 * Goals: uncached p99 ≤ 10 ms per chart, cached p99 ≤ 2 ms, a year's visitors ≤ 50 ms (p99 of the sample's 1 y charts).
 */
import { cpus, loadavg } from 'node:os';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { percentile } from '../src/main/monitor/planner';
import { SPARSE_LIMIT } from '../src/main/sketch/hll';
import { silentLogger } from '../src/main/log';
import { ClusterTrafficService, type TrafficService } from '../src/main/traffic/service';
import type { TestCluster } from '../test/support/cluster';
import { CHART_NAMES, aggregateRowsPlanned, chartsPlan, rawRowsPlanned, seededRandom, type ChartName, type ChartsPlan, type Span } from './charts-plan';
import { exactVisitors, loadAggregates, loadSample, mergedDailyVisitors, naiveChart, setWatermarks, tableSizes } from './charts-data';
import { startBenchCluster } from './cluster';
import { benchArguments, highWaterMark } from './tools';

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    sites: { type: 'string' },
    sample: { type: 'string' },
    heavy: { type: 'string' },
    'heavy-views': { type: 'string' },
    samples: { type: 'string' },
    rounds: { type: 'string' },
    seed: { type: 'string', default: '20261202' },
    json: { type: 'boolean', default: false },
  },
});

const { wholeNumber, fail } = benchArguments('charts');
const quick = options.quick;
const SITES = wholeNumber('sites', options.sites ?? (quick ? '2000' : '100000'), 2, 1_000_000);
const SAMPLE = wholeNumber('sample', options.sample ?? (quick ? '12' : '50'), 1, 1000);
const HEAVY = wholeNumber('heavy', options.heavy ?? (quick ? '1' : '2'), 0, 100);
const HEAVY_VIEWS = wholeNumber('heavy-views', options['heavy-views'] ?? '5000', 1, 100_000);
/** Timed charts per chart and mode over random sites. */
const SAMPLES = wholeNumber('samples', options.samples ?? (quick ? '100' : '400'), 10, 100_000);
/** Times each sample site's chart is timed, each form. */
const ROUNDS = wholeNumber('rounds', options.rounds ?? '3', 1, 100);
const SEED = wholeNumber('seed', options.seed, 0, 2 ** 32 - 1);
if (SAMPLE * 2 > SITES) fail(`--sample ${SAMPLE} must be at most half of --sites ${SITES}`);
if (HEAVY > SAMPLE) fail(`--heavy ${HEAVY} must be at most --sample ${SAMPLE}`);

const GOALS = { uncachedP99Ms: 10, cachedP99Ms: 2, yearVisitorsMs: 50 };
const WARMUP = 20;

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 1)} ms`;
const say = (line: string) => {
  if (!options.json) process.stdout.write(`${line}\n`);
};
const note = (line: string) => process.stderr.write(`${line}\n`);
const verdict = (value: number, goal: number) => (value <= goal ? 'met' : 'MISSED');

interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50) ?? Number.NaN, p95: percentile(sorted, 95) ?? Number.NaN, p99: percentile(sorted, 99) ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN };
}
const line = (p: Percentiles) => `p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}  (max ${ms(p.max)}, n ${p.count})`;

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T; start: number }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value, start };
}

/** This process's garbage collections on performance.now()'s clock, to tell which timed charts one of them paused. */
const collections: Array<{ start: number; end: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) collections.push({ start: entry.startTime, end: entry.startTime + entry.duration });
});

/** The timings of the calls no garbage collection of this process overlapped (the observer reports a tick late). */
async function withoutCollections(calls: ReadonlyArray<{ start: number; ms: number }>): Promise<number[]> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return calls.filter((call) => !collections.some((gc) => gc.start < call.start + call.ms && gc.end > call.start)).map((call) => call.ms);
}

// ---------------------------------------------------------------------------------------------------------------
// Strata's charts

const strataChart = (traffic: TrafficService, siteId: number, span: Span, cache: boolean) =>
  traffic.chart({ scope: { kind: 'site', siteId }, from: span.from.toISOString(), to: span.to.toISOString(), cache });

interface RandomSiteFigures {
  uncached: Record<ChartName, Percentiles>;
  cached: Record<ChartName, Percentiles>;
  /** The same, over the calls no garbage collection of this process paused. */
  uncachedNoGc: Record<ChartName, Percentiles>;
  cachedNoGc: Record<ChartName, Percentiles>;
  cacheHits: Record<ChartName, number>;
  /** Cached again, through a traffic service without in-memory copies: each hit a Redis GET. */
  cachedFromRedis: Record<ChartName, Percentiles>;
  /** The table each chart read, and why (from its first answer). */
  tables: Record<ChartName, string>;
}

async function randomSiteCharts(traffic: TrafficService, fromRedis: TrafficService, plan: ChartsPlan): Promise<RandomSiteFigures> {
  const random = seededRandom(SEED);
  const site = () => 1 + Math.floor(random() * SITES);
  const uncached = {} as Record<ChartName, Percentiles>;
  const cached = {} as Record<ChartName, Percentiles>;
  const uncachedNoGc = {} as Record<ChartName, Percentiles>;
  const cachedNoGc = {} as Record<ChartName, Percentiles>;
  const cacheHits = {} as Record<ChartName, number>;
  const cachedFromRedis = {} as Record<ChartName, Percentiles>;
  const tables = {} as Record<ChartName, string>;
  for (let index = 0; index < WARMUP; index++) await strataChart(traffic, site(), plan.charts['30d'], false);
  for (const chart of CHART_NAMES) {
    const span = plan.charts[chart];
    const calls: Array<{ start: number; ms: number }> = [];
    for (let index = 0; index < SAMPLES; index++) {
      const siteId = site();
      const answer = await timed(() => strataChart(traffic, siteId, span, false));
      calls.push(answer);
      tables[chart] ??= `${answer.value.table} (${answer.value.reason})${answer.value.provisionalNote ? `; ${answer.value.provisionalNote}` : ''}`;
    }
    uncached[chart] = percentiles(calls.map((call) => call.ms));
    uncachedNoGc[chart] = percentiles(await withoutCollections(calls));
    const cachedCalls: Array<{ start: number; ms: number }> = [];
    let hits = 0;
    for (let index = 0; index < SAMPLES; index++) {
      const siteId = site();
      await strataChart(traffic, siteId, span, true);
      const answer = await timed(() => strataChart(traffic, siteId, span, true));
      cachedCalls.push(answer);
      if (answer.value.cache.hit) hits += 1;
    }
    cached[chart] = percentiles(cachedCalls.map((call) => call.ms));
    cachedNoGc[chart] = percentiles(await withoutCollections(cachedCalls));
    cacheHits[chart] = hits;
    const redisCalls: number[] = [];
    for (let index = 0; index < SAMPLES; index++) {
      const siteId = site();
      await strataChart(fromRedis, siteId, span, true);
      const answer = await timed(() => strataChart(fromRedis, siteId, span, true));
      if (!answer.value.cache.hit) throw new Error(`the chart of site ${siteId} asked twice was not a hit the second time (${answer.value.cache.state})`);
      redisCalls.push(answer.ms);
    }
    cachedFromRedis[chart] = percentiles(redisCalls);
    note(`random sites, ${chart}: uncached ${line(uncached[chart])}; cached ${line(cached[chart])}; cached, a Redis GET each ${line(cachedFromRedis[chart])}`);
  }
  return { uncached, cached, uncachedNoGc, cachedNoGc, cacheHits, cachedFromRedis, tables };
}

/**
 * One SELECT 1 to each shard in turn and one Redis PING, timed like a chart: what a round trip costs on this machine
 * before any work, the floor under an uncached and a cached chart.
 */
async function roundTripFloor(cluster: TestCluster): Promise<{ shard: Percentiles; redis: Percentiles }> {
  const { connections } = cluster.services;
  const redis = await connections.redisClient();
  const shard: number[] = [];
  const ping: number[] = [];
  for (let index = 0; index < SAMPLES; index++) {
    shard.push((await timed(() => connections.query(index % connections.shards.length, 'SELECT 1'))).ms);
    ping.push((await timed(() => redis.ping())).ms);
  }
  return { shard: percentiles(shard), redis: percentiles(ping) };
}

// ---------------------------------------------------------------------------------------------------------------
// Side by side on the sample sites

interface SideBySide {
  naive: Record<ChartName, Percentiles>;
  strata: Record<ChartName, Percentiles>;
  /** Sample sites whose Strata chart has other page views than the naive chart of the same range. */
  pageViewMismatches: string[];
  visitors: {
    exact: Percentiles;
    benchMerge: Percentiles;
    sites: Array<{ siteId: number; heavy: boolean; exact: number; strata: number; benchMerge: number; naiveSum: number; sketchBytes: number }>;
    /** Strata's 1 y charts of the ordinary and of the heavy sample sites apart. */
    strataYearOrdinary: Percentiles;
    strataYearHeavy: Percentiles | null;
  };
}

async function sideBySide(cluster: TestCluster, traffic: TrafficService, plan: ChartsPlan): Promise<SideBySide> {
  const { connections } = cluster.services;
  const naive = {} as Record<ChartName, Percentiles>;
  const strata = {} as Record<ChartName, Percentiles>;
  const mismatches: string[] = [];
  const strataVisitors = new Map<number, number>();
  const naiveYear = new Map<number, number>();
  const yearTimes = { ordinary: [] as number[], heavy: [] as number[] };
  for (const chart of CHART_NAMES) {
    const span = plan.charts[chart];
    const naiveTimes: number[] = [];
    const strataTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const site of plan.sample) {
        const naiveAnswer = await timed(() => naiveChart(connections, chart, site.siteId, span));
        naiveTimes.push(naiveAnswer.ms);
        if (chart === '1y') naiveYear.set(site.siteId, naiveAnswer.value.summedVisitors);
        const answer = await timed(() => strataChart(traffic, site.siteId, span, false));
        strataTimes.push(answer.ms);
        if (round === 0 && answer.value.totals.pageViews !== naiveAnswer.value.pageViews) {
          mismatches.push(`${chart} site ${site.siteId}: Strata ${answer.value.totals.pageViews}, naive ${naiveAnswer.value.pageViews}`);
        }
        if (chart === '1y') {
          strataVisitors.set(site.siteId, answer.value.totals.visitors);
          yearTimes[site.heavy ? 'heavy' : 'ordinary'].push(answer.ms);
        }
      }
    }
    naive[chart] = percentiles(naiveTimes);
    strata[chart] = percentiles(strataTimes);
    note(`sample sites, ${chart}: naive ${line(naive[chart])}; Strata ${line(strata[chart])}`);
  }
  const exactTimes: number[] = [];
  const mergeTimes: number[] = [];
  const sites: SideBySide['visitors']['sites'] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const site of plan.sample) {
      const exact = await timed(() => exactVisitors(connections, site.siteId, plan.charts['1y']));
      const merged = await timed(() => mergedDailyVisitors(connections, site.siteId, plan.charts['1y']));
      exactTimes.push(exact.ms);
      mergeTimes.push(merged.ms);
      if (round > 0) continue;
      sites.push({
        siteId: site.siteId,
        heavy: site.heavy,
        exact: exact.value,
        strata: strataVisitors.get(site.siteId) ?? Number.NaN,
        benchMerge: merged.value.visitors,
        naiveSum: naiveYear.get(site.siteId) ?? 0,
        sketchBytes: merged.value.sketchBytes,
      });
    }
  }
  return {
    naive,
    strata,
    pageViewMismatches: mismatches,
    visitors: {
      exact: percentiles(exactTimes),
      benchMerge: percentiles(mergeTimes),
      sites,
      strataYearOrdinary: percentiles(yearTimes.ordinary),
      strataYearHeavy: yearTimes.heavy.length > 0 ? percentiles(yearTimes.heavy) : null,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

const NAIVE_FORM: Record<ChartName, string> = {
  '24h': 'GROUP BY hour over analytics_realtime',
  '30d': 'SUM of hourly rows per day',
  '1y': 'SUM of daily rows per month',
  '5y': 'monthly rows, visitors summed',
};

const relativeError = (estimate: number, exact: number) => (exact === 0 ? 0 : (estimate - exact) / exact);
const signedPercent = (value: number) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(2)} %`;

async function main(): Promise<void> {
  const plan = chartsPlan({ sites: SITES, sampleSites: SAMPLE, heavySites: HEAVY, sampleViews: [10, 1000], heavyViews: HEAVY_VIEWS, now: new Date() });
  const planned = aggregateRowsPlanned(plan);
  say(
    `bench charts: ${fmt(SITES)} sites on 2 shards (${fmt(planned.hourly)} hourly, ${fmt(planned.daily)} daily, ${fmt(planned.monthly)} monthly rows), ` +
      `${SAMPLE} sample sites (${HEAVY} heavy at ${fmt(HEAVY_VIEWS)} views a day) with ${fmt(rawRowsPlanned(plan))} raw rows; ${SAMPLES} random-site charts per chart and mode, ${ROUNDS} rounds over the sample${quick ? ' (quick)' : ''}`,
  );
  note('starting a 2-shard sandbox…');
  const { cluster, stop } = await startBenchCluster({ shards: 2 });
  try {
    const { connections } = cluster.services;
    const loadStarted = performance.now();
    await loadAggregates(connections, plan, (text) => note(`loaded ${text}`));
    const sample = await loadSample(connections, plan, (text) => note(`loaded ${text}`));
    await setWatermarks(connections, plan);
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const sizes = await tableSizes(connections);
    const totalBytes = sizes.reduce((sum, size) => sum + size.bytes, 0);
    const plannedRaw = rawRowsPlanned(plan);
    if (sample.rawRows !== plannedRaw) throw new Error(`the sample has ${fmt(sample.rawRows)} raw rows, the plan ${fmt(plannedRaw)}: the loader and the plan disagree`);
    say(`loaded in ${loadSeconds.toFixed(0)} s: ${fmt(sample.rawRows)} raw rows; tables ${fmt(totalBytes / 1024 / 1024)} MiB on disk over both shards (InnoDB buffer pool 512 MiB a shard)`);

    const traffic = cluster.services.traffic;
    const fromRedis = new ClusterTrafficService(connections, silentLogger.scope('traffic'), { cache: { localCopies: false } });
    const loadAtStart = loadavg()[0]!;
    gcObserver.observe({ entryTypes: ['gc'] });
    const random = await randomSiteCharts(traffic, fromRedis, plan);
    await fromRedis.dispose();
    const floor = await roundTripFloor(cluster);
    const side = await sideBySide(cluster, traffic, plan);

    say('');
    say(`services.traffic.chart, random sites of ${fmt(SITES)}:`);
    say(`  (floors on this machine: a SELECT 1 round trip to a shard ${line(floor.shard)}; a Redis PING ${line(floor.redis)})`);
    for (const chart of CHART_NAMES) {
      say(`  ${chart.padEnd(3)} ${random.tables[chart]}`);
      say(`      uncached ${line(random.uncached[chart])}`);
      say(`               no GC pause in the call: ${line(random.uncachedNoGc[chart])}`);
      say(`      cached   ${line(random.cached[chart])}; ${random.cacheHits[chart]}/${SAMPLES} answered from the cache`);
      say(`               no GC pause in the call: ${line(random.cachedNoGc[chart])}`);
      say(`      cached, without in-memory copies (a Redis GET each): ${line(random.cachedFromRedis[chart])}`);
    }
    say('');
    say(`side by side on the ${SAMPLE} sample sites (${ROUNDS} rounds), uncached:`);
    for (const chart of CHART_NAMES) {
      const naive = side.naive[chart];
      const strata = side.strata[chart];
      say(`  ${chart.padEnd(3)} naive (${NAIVE_FORM[chart]}): ${line(naive)}`);
      say(`      Strata: ${line(strata)}; naive ÷ Strata: p50 ${(naive.p50 / strata.p50).toFixed(1)}×, p99 ${(naive.p99 / strata.p99).toFixed(1)}×`);
    }
    say(`  same page views as the naive charts: ${side.pageViewMismatches.length === 0 ? 'yes, every chart of every sample site' : `NO: ${side.pageViewMismatches.slice(0, 5).join('; ')}`}`);

    const visitorSites = side.visitors.sites;
    // The error of largest size, with its sign.
    const worst = (pick: (site: (typeof visitorSites)[number]) => number) =>
      visitorSites.map((site) => relativeError(pick(site), site.exact)).reduce((most, error) => (Math.abs(error) > Math.abs(most) ? error : most), 0);
    say('');
    say(`a year's visitors on the sample sites (${fmt(Math.min(...visitorSites.map((site) => site.exact)))}–${fmt(Math.max(...visitorSites.map((site) => site.exact)))} distinct a site):`);
    say(`  exact COUNT(DISTINCT visitor_id) over raw: ${line(side.visitors.exact)}`);
    say(`  the bench's own read + merge of the daily sketches (no Strata): ${line(side.visitors.benchMerge)}; worst error ${signedPercent(worst((site) => site.benchMerge))}`);
    say(`  Strata's 1 y chart (visitors merged from the sketches that tile the year): ${line(side.strata['1y'])}; exact ÷ Strata: p50 ${(side.visitors.exact.p50 / side.strata['1y'].p50).toFixed(1)}×`);
    say(`      of which the ${SAMPLE - HEAVY} ordinary sites: ${line(side.visitors.strataYearOrdinary)}`);
    if (side.visitors.strataYearHeavy) say(`      and the heavy site${HEAVY === 1 ? '' : 's'} (dense daily sketches): ${line(side.visitors.strataYearHeavy)}`);
    say(`  Strata's visitors against exact: worst error ${signedPercent(worst((site) => site.strata))} (goal within 2 %)`);
    // Above 4,096 distinct visitors the merged sketch is dense (HyperLogLog, standard error about 0.81 %); below, exact hashes.
    const dense = visitorSites.filter((site) => site.exact > SPARSE_LIMIT);
    if (dense.length > 0) {
      const errors = dense.map((site) => relativeError(site.strata, site.exact));
      const rms = Math.sqrt(errors.reduce((sum, error) => sum + error * error, 0) / errors.length);
      const mean = errors.reduce((sum, error) => sum + error, 0) / errors.length;
      const outside = dense.filter((site) => Math.abs(relativeError(site.strata, site.exact)) > 0.02);
      say(
        `      the ${dense.length} sites past ${fmt(SPARSE_LIMIT)} distinct (dense merge): mean ${signedPercent(mean)}, RMS ${(rms * 100).toFixed(2)} %, ` +
          `${errors.filter((error) => Math.abs(error) > 0.01).length} beyond 1 %, ${outside.length} beyond 2 %${outside.length > 0 ? ` (${outside.map((site) => `site ${site.siteId}: exact ${fmt(site.exact)}, Strata ${fmt(site.strata)}`).join('; ')})` : ''}`,
      );
    }
    const naiveOver = visitorSites.map((site) => relativeError(site.naiveSum, site.exact));
    say(`  the naive chart's sum of daily visitors: ${signedPercent(Math.min(...naiveOver))} to ${signedPercent(Math.max(...naiveOver))} over exact`);
    for (const site of visitorSites.filter((entry) => entry.heavy)) {
      say(`  heavy site ${site.siteId}: exact ${fmt(site.exact)}, Strata ${fmt(site.strata)}, bench merge ${fmt(site.benchMerge)}, naive sum ${fmt(site.naiveSum)}; ${fmt(site.sketchBytes / 1024)} KiB of daily sketches`);
    }

    say('');
    const worstUncached = Math.max(...CHART_NAMES.map((chart) => random.uncached[chart].p99));
    const worstCached = Math.max(...CHART_NAMES.map((chart) => random.cached[chart].p99));
    const year = side.strata['1y'].p99;
    say(`goals: uncached p99 ≤ ${GOALS.uncachedP99Ms} ms per chart: ${verdict(worstUncached, GOALS.uncachedP99Ms)} (worst ${ms(worstUncached)}); cached p99 ≤ ${GOALS.cachedP99Ms} ms: ${verdict(worstCached, GOALS.cachedP99Ms)} (worst ${ms(worstCached)}); a year's visitors ≤ ${GOALS.yearVisitorsMs} ms: ${verdict(year, GOALS.yearVisitorsMs)} (p99 ${ms(year)} over the sample's 1 y charts)`);
    say(`bench process VmHWM ${fmt(highWaterMark() / 1024 / 1024)} MiB; 1-minute load average ${loadAtStart.toFixed(1)} when the timing began, ${loadavg()[0]!.toFixed(1)} at the end (${cpus().length} cores)`);
    if (side.pageViewMismatches.length > 0) process.exitCode = 1;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ sites: SITES, sample: SAMPLE, heavy: HEAVY, quick, loadSeconds, sizes, random, floor, side, goals: GOALS }, null, 2)}\n`);
    }
  } finally {
    gcObserver.disconnect();
    await stop();
  }
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
