/**
 * Memory benchmark of a month-long backfill, on a 2-shard sandbox it starts and stops itself:
 *   npm run bench:backfill                                  a calendar month, 30,000 raw rows/hour over 10,000 Zipf sites
 *   npm run bench:backfill -- --rows-per-hour 5000          a quick run
 *   npm run bench:backfill -- --month 2026-09 --no-baseline
 *
 * The claim under test: "a backfill of a month of this traffic stays under 300 MB resident". The month is the last
 * complete calendar month before the schema's hourly raw partitions; its raw partition is first split into one
 * partition per hour (and the hourly table's into one per day), as a cluster holding a month of raw history has.
 *
 * Strata's figure is the real `strata backfill --level hourly --from … --to … --cascade --json` run as a child
 * process (the built CLI, out/main/cli.js, as an installed Strata runs it; `npm run bench:backfill` builds it first), its resident memory read from /proc/<pid>/status every 50 ms (VmHWM, the
 * kernel's own high-water mark, and VmRSS). The baseline, in the same run and measured the same way, is the naive
 * merge: a child process that loads one day's hourly rows (counts and visitor sketches) into Node at once and merges
 * them per site. Afterwards the rows are checked: raw page views = hourly = daily = monthly, per shard and per site,
 * the monthly visitors of the top sites against an exact COUNT(DISTINCT), and the naive day against Strata's.
 *
 * `--naive-day ISO --profile FILE` is the baseline's child mode; the benchmark starts it itself.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClusterConnections } from '../src/main/cluster/connections';
import { MAX_VIEWS } from '../src/main/generate/spec';
import {
  partitionAt,
  partitionDefinitionSql,
  partitionsFor,
  partitionStartFromName,
  PARTITION_SCHEMES,
  shiftPeriod,
  type PartitionedTable,
} from '../src/main/schema/partitions';
import { DENSE_SKETCH_BYTES, SketchAccumulator } from '../src/main/sketch/hll';
import type { TestCluster } from '../test/support/cluster';

const { values: options } = parseArgs({
  options: {
    'rows-per-hour': { type: 'string', default: '30000' },
    sites: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20250301' },
    month: { type: 'string' },
    'no-baseline': { type: 'boolean', default: false },
    // V8 flags for the measured Strata processes instead of the launcher's, to try others: "--node-flags=--max-semi-space-size=8".
    'node-flags': { type: 'string', default: '' },
    // The baseline's child mode.
    'naive-day': { type: 'string' },
    profile: { type: 'string' },
  },
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;
/** The issue's budget: 300 MB, taken as 300 × 10^6 bytes (286 MiB), the stricter reading. */
const BUDGET_BYTES = 300_000_000;
const SAMPLE_MS = 50;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The CLI as installed: the bundle `npm run build` writes, run by plain Node (bin/strata.js compiles the sources). */
const STRATA_CLI = 'out/main/cli.js';
/** The V8 flags the `strata` command starts node with (its shebang), or the ones given to try others. */
const LAUNCHER_FLAGS = /^#!\/usr\/bin\/env -S node (.*)$/m.exec(readFileSync(join(ROOT, 'bin/strata.js'), 'utf8'))?.[1] ?? '';
const NODE_FLAGS = (options['node-flags'] || LAUNCHER_FLAGS).split(/\s+/).filter(Boolean);
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const mib = (bytes: number) => `${fmt(bytes / MIB)} MiB`;
const day = (at: Date) => at.toISOString().slice(0, 10);

function fail(message: string): never {
  process.stderr.write(`bench backfill: ${message}\n`);
  process.exit(2);
}

function wholeNumber(name: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) fail(`--${name} must be a whole number of at least ${min}, got '${text}'`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring a child process

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** The largest VmHWM read while it ran (the kernel's peak resident set, start-up included). */
  peakHwm: number;
  /** The largest VmRSS sampled every 50 ms. */
  peakRss: number;
  samples: number;
}

/** The child process the benchmark is waiting for, so Ctrl-C can stop it before the sandbox goes down. */
let activeChild: ReturnType<typeof spawn> | undefined;

function readStatus(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return undefined; // gone between two samples
  }
}

/** Runs `node <args>` from the repository root and samples its memory until it exits. */
function measureChild(args: string[], env: NodeJS.ProcessEnv): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    activeChild = child;
    const run: ChildRun = { code: null, signal: null, stdout: '', stderr: '', seconds: 0, peakHwm: 0, peakRss: 0, samples: 0 };
    const sample = () => {
      const status = child.pid ? readStatus(child.pid) : undefined;
      if (!status) return;
      run.samples += 1;
      run.peakHwm = Math.max(run.peakHwm, status.hwm);
      run.peakRss = Math.max(run.peakRss, status.rss);
    };
    sample();
    const sampler = setInterval(sample, SAMPLE_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (run.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
    // By 'close' the process is reaped and /proc/<pid> is gone: the last sample, at most 50 ms old, stands.
    child.once('error', (error) => {
      clearInterval(sampler);
      activeChild = undefined;
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearInterval(sampler);
      activeChild = undefined;
      run.code = code;
      run.signal = signal;
      run.seconds = (performance.now() - started) / 1000;
      resolve(run);
    });
  });
}

/** Asks a child to stop like Ctrl-C would (its window rolls back), then kills it if it does not within 30 s. */
async function stopChild(): Promise<void> {
  const child = activeChild;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------------------------
// The naive baseline (child mode): one day's hourly rows loaded at once, then merged per site

interface NaiveShardResult {
  shard: number;
  hourlyRows: number;
  sketchBytes: number;
  sites: number;
  digest: string;
}

interface NaiveResult {
  day: string;
  shards: NaiveShardResult[];
  /** Resident memory once the modules are loaded and before the first row: the loader's own floor. */
  rssBeforeLoad: number;
  rssAfterLoad: number;
  loadSeconds: number;
  mergeSeconds: number;
}

interface HourlyRow {
  site_id: number;
  page_views: number | string;
  visitors: number;
  visitors_sketch: Buffer;
}

/** Per shard: the digest of `site:page_views:visitors` lines in site order, the way both sides compute it. */
function digestLines(lines: string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

async function naiveChild(dayText: string, profilePath: string): Promise<void> {
  const [{ loadProfile }, { ClusterConnections }, { EnvSecretResolver }] = await Promise.all([
    import('../src/main/profile-loader'),
    import('../src/main/cluster/connections'),
    import('../src/main/secrets'),
  ]);
  const start = new Date(dayText);
  const end = new Date(start.getTime() + DAY_MS);
  const connections = new ClusterConnections(await loadProfile(profilePath), new EnvSecretResolver());
  try {
    const rssBeforeLoad = process.memoryUsage().rss;
    const loadStarted = performance.now();
    // The naive way: the whole day of every shard in one buffered result each, all in Node at once.
    const loaded = await Promise.all(
      connections.shards.map((shard) =>
        connections.query<HourlyRow[]>(shard.index, 'SELECT site_id, page_views, visitors, visitors_sketch FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?', [start, end]),
      ),
    );
    const loadSeconds = (performance.now() - loadStarted) / 1000;
    const rssAfterLoad = process.memoryUsage().rss;
    const mergeStarted = performance.now();
    const shards = loaded.map((rows, shard): NaiveShardResult => {
      const bySite = new Map<number, HourlyRow[]>();
      for (const row of rows) {
        const list = bySite.get(row.site_id);
        if (list) list.push(row);
        else bySite.set(row.site_id, [row]);
      }
      const accumulator = new SketchAccumulator();
      // Every merged row is kept until the day is done, as a loader that writes at the end would.
      const merged: Array<{ site: number; pageViews: number; visitors: number; sketch: Buffer }> = [];
      for (const [site, list] of bySite) {
        accumulator.reset();
        let pageViews = 0;
        let mostVisitors = 0;
        let visitorSum = 0;
        for (const row of list) {
          pageViews += Number(row.page_views);
          mostVisitors = Math.max(mostVisitors, Number(row.visitors));
          visitorSum += Number(row.visitors);
          accumulator.merge(row.visitors_sketch);
        }
        // The same bounds Strata's merge puts on the estimate, so the two results can be compared exactly.
        const visitors = Math.min(Math.max(Math.round(accumulator.estimate()), mostVisitors), visitorSum);
        merged.push({ site, pageViews, visitors, sketch: accumulator.encode() });
      }
      merged.sort((a, b) => a.site - b.site);
      return {
        shard,
        hourlyRows: rows.length,
        sketchBytes: rows.reduce((sum, row) => sum + row.visitors_sketch.length, 0),
        sites: merged.length,
        digest: digestLines(merged.map((row) => `${row.site}:${row.pageViews}:${row.visitors}`)),
      };
    });
    const result: NaiveResult = { day: day(start), shards, rssBeforeLoad, rssAfterLoad, loadSeconds, mergeSeconds: (performance.now() - mergeStarted) / 1000 };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await connections.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Preparing the month

/**
 * Splits the table's first partition (which holds everything older than the schema's window) so that [from, to)
 * gets one partition per period of the table's granularity, as partition maintenance would have made them.
 * Returns the number of partitions the first one became.
 */
async function splitFirstPartition(connections: ClusterConnections, shard: number, table: PartitionedTable, from: Date, to: Date): Promise<number> {
  const { granularity } = PARTITION_SCHEMES[table];
  const [first] = await connections.query<Array<{ name: string; bound: string }>>(
    shard,
    `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1`,
    [table],
  );
  const firstStart = first ? partitionStartFromName(first.name, granularity) : undefined;
  if (!first || !firstStart) throw new Error(`${table} on shard ${shard}: the first partition ${first?.name ?? '(none)'} is not one of Strata's`);
  const firstSpec = partitionAt(table, firstStart);
  if (String(firstSpec.lessThan) !== String(first.bound)) throw new Error(`${table} on shard ${shard}: ${first.name} ends at ${first.bound}, expected ${firstSpec.lessThan}`);
  const until = Math.min(to.getTime(), firstStart.getTime());
  if (from.getTime() >= until) return 1;
  const specs = partitionsFor(table, from, new Date(until - 1)).filter((spec) => spec.end <= firstStart);
  // The first partition keeps its name and bound and now starts where the new ones end.
  const definitions = [...specs, firstSpec].map(partitionDefinitionSql);
  await connections.query(shard, `ALTER TABLE ${table} REORGANIZE PARTITION ${first.name} INTO (${definitions.join(', ')})`);
  return definitions.length;
}

/** The month to backfill: --month, or the last calendar month that ends before the schema's hourly raw partitions. */
async function chooseMonth(connections: ClusterConnections): Promise<{ start: Date; end: Date }> {
  const [first] = await connections.query<Array<{ name: string }>>(
    0,
    `SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'
      AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1`,
  );
  const firstStart = first ? partitionStartFromName(first.name, 'hour') : undefined;
  if (!firstStart) throw new Error(`analytics_realtime's first partition ${first?.name ?? '(none)'} is not one of Strata's`);
  const start = options.month ? new Date(`${options.month}-01T00:00:00Z`) : shiftPeriod(firstStart, 'month', -1);
  const end = shiftPeriod(start, 'month', 1);
  if (end > firstStart) throw new Error(`--month ${options.month} does not end before the schema's hourly raw partitions (${firstStart.toISOString()}); choose an earlier month`);
  return { start, end };
}

/**
 * Generates the month with Strata's generator: one run when it fits in the generator's limit (so visitors return
 * across the whole month), otherwise in runs of whole days with their own seeds.
 */
async function generateMonth(cluster: TestCluster, month: { start: Date; end: Date }, rowsPerHour: number, sites: number, seed: number): Promise<{ rows: number; seconds: number }> {
  const days = Math.round((month.end.getTime() - month.start.getTime()) / DAY_MS);
  const daysPerRun = Math.max(1, Math.min(days, Math.floor(MAX_VIEWS / (rowsPerHour * 24))));
  let rows = 0;
  const started = performance.now();
  for (let first = 0, run = 0; first < days; first += daysPerRun, run += 1) {
    const from = new Date(month.start.getTime() + first * DAY_MS);
    const to = new Date(Math.min(month.end.getTime(), from.getTime() + daysPerRun * DAY_MS));
    const views = Math.round(((to.getTime() - from.getTime()) / HOUR_MS) * rowsPerHour);
    let lastPrinted = 0;
    const summary = await cluster.services.generator.run(
      { from: from.toISOString(), to: to.toISOString(), sites, views, seed: seed + run },
      {
        onProgress: (progress) => {
          if (progress.rowsDone - lastPrinted >= views / 5 || progress.rowsDone === progress.rowsTotal) {
            lastPrinted = progress.rowsDone;
            process.stderr.write(`  generate ${day(from)} – ${day(to)}: ${fmt(progress.rowsDone)} / ${fmt(views)} rows, ${fmt(progress.rowsPerSecond)} rows/s\n`);
          }
        },
      },
    );
    if (summary.cancelled) throw new Error('generating the month was cancelled');
    rows += summary.rows;
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

// ---------------------------------------------------------------------------------------------------------------
// Checks, all computed inside the shards

interface LevelTotals {
  pageViews: number;
  sites: number;
  /** Order-free checksum of (site, page views of the month) over the sites. */
  perSite: string;
}

const LEVEL_SOURCES = {
  raw: { sql: 'SELECT site_id, COUNT(*) AS pv FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY site_id' },
  hourly: { sql: 'SELECT site_id, SUM(page_views) AS pv FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? GROUP BY site_id' },
  daily: { sql: 'SELECT site_id, SUM(page_views) AS pv FROM analytics_daily WHERE date >= ? AND date < ? GROUP BY site_id' },
  monthly: { sql: 'SELECT site_id, SUM(page_views) AS pv FROM analytics_monthly WHERE month_start >= ? AND month_start < ? GROUP BY site_id' },
} as const;
type CheckedLevel = keyof typeof LEVEL_SOURCES;

async function levelTotals(connections: ClusterConnections, shard: number, level: CheckedLevel, month: { start: Date; end: Date }): Promise<LevelTotals> {
  const [row] = await connections.query<Array<{ pv: string | null; sites: number; sum: string | null }>>(
    shard,
    `SELECT CAST(COALESCE(SUM(pv), 0) AS CHAR) AS pv, COUNT(*) AS sites, CAST(COALESCE(SUM(CRC32(CONCAT(site_id, ':', pv))), 0) AS CHAR) AS sum
       FROM (${LEVEL_SOURCES[level].sql}) AS per_site`,
    [month.start, month.end],
  );
  return { pageViews: Number(row?.pv ?? 0), sites: Number(row?.sites ?? 0), perSite: `${row?.sites ?? 0}:${row?.sum ?? 0}` };
}

/** Strata's daily rows of one day in the naive child's digest form. */
async function strataDayDigest(connections: ClusterConnections, shard: number, date: Date): Promise<string> {
  const rows = await connections.query<Array<{ site_id: number; page_views: number | string; visitors: number }>>(
    shard,
    'SELECT site_id, page_views, visitors FROM analytics_daily WHERE date = ? ORDER BY site_id',
    [day(date)],
  );
  return digestLines(rows.map((row) => `${row.site_id}:${Number(row.page_views)}:${Number(row.visitors)}`));
}

interface BackfillJson {
  record?: { id: number; state: string; windowsDone: number; windowsTotal: number; rowsRead: number; rowsWritten: number; error: string | null };
  windows?: Array<{ level: string; outcome: string; skippedShards: number[] }>;
  ok?: false;
  message?: string;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rowsPerHour = wholeNumber('rows-per-hour', options['rows-per-hour'], 1000);
  const sites = wholeNumber('sites', options.sites, 1);
  const seed = wholeNumber('seed', options.seed, 0);
  if (options.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(options.month)) fail(`--month must be YYYY-MM, got '${options.month}'`);
  process.stderr.write('starting a 2-shard sandbox…\n');
  // Imported here, so the baseline's child process loads only what a plain loader script would.
  const { startBenchCluster } = await import('./cluster');
  const { cluster, stop } = await startBenchCluster({ shards: 2 }, stopChild);
  try {
    const connections = cluster.services.connections;
    const shards = connections.shards.map((shard) => shard.index);
    const month = await chooseMonth(connections);
    const hours = Math.round((month.end.getTime() - month.start.getTime()) / HOUR_MS);
    const monthName = month.start.toISOString().slice(0, 7);

    process.stderr.write(`splitting the first raw partition into the ${hours} hours of ${monthName}, the first hourly one into its days…\n`);
    const split = { raw: 0, hourly: 0 };
    for (const shard of shards) {
      split.raw = await splitFirstPartition(connections, shard, 'analytics_realtime', month.start, month.end);
      split.hourly = await splitFirstPartition(connections, shard, 'analytics_hourly', month.start, month.end);
    }

    process.stderr.write(`generating ${monthName}: ${fmt(rowsPerHour)} rows/hour on average over ${fmt(sites)} Zipf sites, seed ${seed}…\n`);
    const generated = await generateMonth(cluster, month, rowsPerHour, sites, seed);

    if (!existsSync(join(ROOT, STRATA_CLI))) throw new Error(`${STRATA_CLI} is missing: run npm run build (npm run bench:backfill builds it first)`);
    const env = { ...process.env, STRATA_LOG_DIR: join(cluster.dir, 'logs'), STRATA_PROFILE: cluster.profilePath };
    process.stderr.write('strata backfill list (the CLI process with nothing to do: its start-up floor)…\n');
    const floor = await measureChild([...NODE_FLAGS, STRATA_CLI, 'backfill', 'list', '--json'], env);
    if (floor.code !== 0) throw new Error(`strata backfill list failed: ${floor.stderr.trim()}`);

    const backfillArgs = ['backfill', '--level', 'hourly', '--from', month.start.toISOString(), '--to', month.end.toISOString(), '--cascade', '--json'];
    process.stderr.write(`strata ${backfillArgs.join(' ')}…\n`);
    const strata = await measureChild([...NODE_FLAGS, STRATA_CLI, ...backfillArgs], env);
    let outcome: BackfillJson = {};
    try {
      outcome = JSON.parse(strata.stdout) as BackfillJson;
    } catch {
      // reported below with stderr
    }
    if (strata.code !== 0 || outcome.record?.state !== 'done') {
      throw new Error(`strata backfill did not finish (exit ${strata.code ?? strata.signal}): ${outcome.record?.error ?? outcome.message ?? strata.stderr.trim()}`);
    }
    const windows = outcome.windows ?? [];
    const byLevel = (level: string) => windows.filter((window) => window.level === level).length;
    const skipped = windows.filter((window) => window.outcome !== 'ok' || window.skippedShards.length > 0);
    // A month the cascade skipped (on some shard) is rolled up with a monthly backfill, measured the same way, so
    // the monthly merge's memory is still seen; the skip itself is reported and fails the benchmark.
    const skippedMonths = windows.filter((window) => window.level === 'monthly' && (window.outcome !== 'ok' || window.skippedShards.length > 0));
    let monthly: ChildRun | undefined;
    if (skippedMonths.length > 0) {
      const monthlyArgs = ['backfill', '--level', 'monthly', '--from', month.start.toISOString(), '--to', month.end.toISOString(), '--json'];
      process.stderr.write(`the cascade skipped ${skippedMonths.length} monthly window(s); strata ${monthlyArgs.join(' ')}…\n`);
      monthly = await measureChild([...NODE_FLAGS, STRATA_CLI, ...monthlyArgs], env);
      const monthlyOutcome = JSON.parse(monthly.stdout || '{}') as BackfillJson;
      if (monthly.code !== 0 || monthlyOutcome.record?.state !== 'done') {
        throw new Error(`strata backfill --level monthly did not finish (exit ${monthly.code ?? monthly.signal}): ${monthlyOutcome.record?.error ?? monthly.stderr.trim()}`);
      }
    }

    process.stderr.write('checking the rows (raw = hourly = daily = monthly)…\n');
    const levels: CheckedLevel[] = ['raw', 'hourly', 'daily', 'monthly'];
    const totals = await Promise.all(shards.map(async (shard) => Promise.all(levels.map((level) => levelTotals(connections, shard, level, month)))));
    const pageViewsAgree = totals.every((perLevel) => perLevel.every((level) => level.pageViews === perLevel[0]!.pageViews));
    const perSiteAgree = totals.every((perLevel) => perLevel.every((level) => level.perSite === perLevel[0]!.perSite));
    const rawRows = totals.reduce((sum, perLevel) => sum + perLevel[0]!.pageViews, 0);

    // Visitors: the top sites' monthly estimate against the exact count, and how many sketches went dense.
    const topSites = [1, 2, 3].filter((site) => site <= sites);
    const visitorChecks = await Promise.all(
      topSites.map(async (site) => {
        const shard = connections.shardOfSite(site).index;
        const [exact] = await connections.query<Array<{ n: number }>>(shard, 'SELECT COUNT(DISTINCT visitor_id) AS n FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?', [site, month.start, month.end]);
        const [monthly] = await connections.query<Array<{ visitors: number }>>(shard, 'SELECT visitors FROM analytics_monthly WHERE site_id = ? AND month_start = ?', [site, day(month.start)]);
        const [daily] = await connections.query<Array<{ visitors: number }>>(shard, 'SELECT MAX(visitors) AS visitors FROM analytics_daily WHERE site_id = ? AND date >= ? AND date < ?', [site, day(month.start), day(month.end)]);
        const error = exact && monthly ? (Number(monthly.visitors) - Number(exact.n)) / Number(exact.n) : Number.NaN;
        return { site, exact: Number(exact?.n ?? 0), estimate: Number(monthly?.visitors ?? 0), busiestDay: Number(daily?.visitors ?? 0), error };
      }),
    );
    const dense = await Promise.all(
      shards.map(async (shard) => {
        const [row] = await connections.query<Array<{ daily: number; monthly: number; hourly: number }>>(
          shard,
          `SELECT (SELECT COUNT(*) FROM analytics_daily WHERE date >= ? AND date < ? AND LENGTH(visitors_sketch) = ${DENSE_SKETCH_BYTES}) AS daily,
                  (SELECT COUNT(*) FROM analytics_monthly WHERE month_start = ? AND LENGTH(visitors_sketch) = ${DENSE_SKETCH_BYTES}) AS monthly,
                  (SELECT COUNT(*) FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? AND LENGTH(visitors_sketch) = ${DENSE_SKETCH_BYTES}) AS hourly`,
          [day(month.start), day(month.end), day(month.start), month.start, month.end],
        );
        return { daily: Number(row?.daily ?? 0), monthly: Number(row?.monthly ?? 0), hourly: Number(row?.hourly ?? 0) };
      }),
    );
    const denseDaily = dense.reduce((sum, shard) => sum + shard.daily, 0);
    const denseMonthly = dense.reduce((sum, shard) => sum + shard.monthly, 0);
    const denseHourly = dense.reduce((sum, shard) => sum + shard.hourly, 0);
    const visitorsWithin = visitorChecks.every((check) => Math.abs(check.error) <= 0.02);

    const strataPeak = Math.max(strata.peakHwm, strata.peakRss, monthly?.peakHwm ?? 0, monthly?.peakRss ?? 0);
    const lines = [
      '',
      `month                ${monthName}: ${hours} hours, raw partitions split into ${split.raw} (hourly table into ${split.hourly})`,
      `traffic              ${fmt(rawRows)} raw rows (${fmt(rowsPerHour)}/hour on average, Zipf over ${fmt(sites)} sites, seed ${seed}), generated in ${generated.seconds.toFixed(0)} s`,
      `                     per shard: ${totals.map((perLevel, shard) => `shard${shard} ${fmt(perLevel[0]!.pageViews)}`).join(', ')}`,
      `large sites          ${visitorChecks.map((check) => `site ${check.site}: ${fmt(check.busiestDay)} visitors on its busiest day`).join('; ')}`,
      `                     dense sketches (≥ 4,096 visitors): ${fmt(denseDaily)} daily rows, ${fmt(denseMonthly)} monthly rows, ${fmt(denseHourly)} hourly rows`,
      `strata backfill      ${windows.length} windows (${byLevel('hourly')} hourly, ${byLevel('daily')} daily, ${byLevel('monthly')} monthly; ${skipped.length} skipped or not ok), read ${fmt(outcome.record.rowsRead)} rows, wrote ${fmt(outcome.record.rowsWritten)}, ${strata.seconds.toFixed(1)} s`,
      ...(monthly
        ? [
            `  SKIPPED            the cascade skipped the monthly window(s) ${skippedMonths.map((window) => JSON.stringify(window)).join(', ')}: rolled up by \`strata backfill --level monthly\` instead`,
            `  monthly backfill   ${monthly.seconds.toFixed(1)} s, peak RSS ${mib(Math.max(monthly.peakHwm, monthly.peakRss))} (the cascade run's own: ${mib(Math.max(strata.peakHwm, strata.peakRss))})`,
          ]
        : []),
      `  peak RSS           ${mib(strataPeak)} = ${fmt(strataPeak / 1e6)} MB (of every strata backfill process above; the cascade run: VmHWM ${mib(strata.peakHwm)}, largest VmRSS sample ${mib(strata.peakRss)}, ${fmt(strata.samples)} samples every ${SAMPLE_MS} ms; start-up included; node ${NODE_FLAGS.join(" ")} out/main/cli.js)`,
      `  budget             ${fmt(strataPeak / 1e6)} MB / 300 MB = ${(strataPeak / BUDGET_BYTES).toFixed(2)} of the budget: ${strataPeak <= BUDGET_BYTES ? 'WITHIN' : 'OVER'}`,
      `  start-up floor     ${mib(Math.max(floor.peakHwm, floor.peakRss))} for \`strata backfill list\` (same process, no data); the backfill adds ${mib(strataPeak - Math.max(floor.peakHwm, floor.peakRss))}`,
    ];
    if (strataPeak > BUDGET_BYTES || skipped.length > 0) process.exitCode = 1;

    if (!options['no-baseline']) {
      // The busiest day by hourly rows: the most the naive loader has to hold.
      const [busiest] = await connections.query<Array<{ d: string }>>(
        0,
        `SELECT DATE_FORMAT(hour_start, '%Y-%m-%d') AS d FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? GROUP BY d ORDER BY COUNT(*) DESC, d LIMIT 1`,
        [month.start, month.end],
      );
      const naiveDay = new Date(`${busiest?.d ?? day(month.start)}T00:00:00Z`);
      process.stderr.write(`baseline: one day (${day(naiveDay)}) of hourly rows loaded into Node at once and merged…\n`);
      const naive = await measureChild(['bin/strata-bench.js', 'backfill', '--naive-day', naiveDay.toISOString(), '--profile', cluster.profilePath], env);
      if (naive.code !== 0) throw new Error(`the naive loader failed (exit ${naive.code ?? naive.signal}): ${naive.stderr.trim()}`);
      const result = JSON.parse(naive.stdout) as NaiveResult;
      const strataDigests = await Promise.all(shards.map((shard) => strataDayDigest(connections, shard, naiveDay)));
      const sameDay = result.shards.every((shard) => shard.digest === strataDigests[shard.shard]);
      const naivePeak = Math.max(naive.peakHwm, naive.peakRss);
      const hourlyRows = result.shards.reduce((sum, shard) => sum + shard.hourlyRows, 0);
      const sketchBytes = result.shards.reduce((sum, shard) => sum + shard.sketchBytes, 0);
      lines.push(
        `naive daily merge    one day (${result.day}): ${fmt(hourlyRows)} hourly rows with ${fmt(sketchBytes / 1e6)} MB of sketches loaded at once in ${result.loadSeconds.toFixed(1)} s, merged in ${result.mergeSeconds.toFixed(1)} s`,
        `  peak RSS           ${mib(naivePeak)} = ${fmt(naivePeak / 1e6)} MB (VmHWM ${mib(naive.peakHwm)}; ${mib(result.rssBeforeLoad)} before the load, ${mib(result.rssAfterLoad)} right after it), ${(naivePeak / BUDGET_BYTES).toFixed(2)} of the budget`,
        `Strata vs naive      Strata's whole month ${mib(strataPeak)} vs the naive loader's one day ${mib(naivePeak)}: ratio ${(strataPeak / naivePeak).toFixed(2)} (naive / Strata = ${(naivePeak / strataPeak).toFixed(2)}x)`,
        `  same daily rows    ${sameDay ? 'yes' : 'NO'} (per shard site:page views:visitors digests, naive ${result.shards.map((shard) => shard.digest).join(' ')} vs Strata ${strataDigests.join(' ')})`,
      );
      if (!sameDay) process.exitCode = 1;
    }

    lines.push(
      `correct page views   ${pageViewsAgree ? 'yes' : 'NO'}: raw = hourly = daily = monthly per shard (${totals.map((perLevel, shard) => `shard${shard} ${perLevel.map((level) => fmt(level.pageViews)).join(' = ')}`).join('; ')})`,
      `  per site           ${perSiteAgree ? 'yes' : 'NO'}: every site's month has the same page views at every level (sites:checksum ${totals.map((perLevel) => perLevel[0]!.perSite).join(' ')})`,
      `  monthly visitors   ${visitorsWithin ? 'within 2 %' : 'OFF BY MORE THAN 2 %'}: ${visitorChecks.map((check) => `site ${check.site} ${fmt(check.estimate)} vs exact ${fmt(check.exact)} (${(check.error * 100).toFixed(2)} %)`).join('; ')}`,
    );
    if (!pageViewsAgree || !perSiteAgree || !visitorsWithin) process.exitCode = 1;
    if (denseDaily === 0) {
      lines.push('WARNING: no daily sketch went dense; raise --rows-per-hour for a meaningful measurement');
      process.exitCode = 1;
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await stop();
  }
}

if (options['naive-day'] !== undefined) {
  if (!options.profile) fail('--naive-day needs --profile');
  await naiveChild(options['naive-day'], options.profile);
} else {
  await main();
}
