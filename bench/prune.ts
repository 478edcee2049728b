/**
 * Retention benchmark on a 2-shard sandbox it starts and stops itself:
 *   npm run bench:prune                                                10 days × 1,000,000 raw rows a day, 8 expire
 *   npm run bench:prune -- --days 3 --rows-per-day 100000 --expire-days 1   a quick run
 *
 * The raw table gets one partition per hour for the whole range (as partition maintenance would have made them),
 * each day is generated with Strata's generator (its own seed), and the hourly level is rolled up over the whole
 * range, since a prune only removes what the next level holds. The raw retention is the days that do not expire, so
 * the oldest --expire-days days are past it. That table is then set aside untouched, and every contender gets its own
 * copy of it (CREATE TABLE … LIKE, INSERT … SELECT, ANALYZE), checked to hold the very same rows and written out to
 * disk before the clock starts (as days-old rows are), and removes the expired rows on both shards at once:
 * - Strata: services.retention.prune for the raw table, the real service (its gate, the reconciliation of every
 *   window against the hourly level, the run records), its clock fixed at the benchmark's start;
 * - pt-archiver --purge, one process per shard, with its documented batching options (see PT_ARCHIVER_OPTIONS);
 * - one DELETE … WHERE created_at < cutoff per shard.
 * Afterwards the expired rows must all be gone and every other row still there (count and checksum per shard).
 * --repeat N runs every contender N times and keeps each one's best; --pt-limit sets pt-archiver's chunk size; --trace
 * lists the statements of Strata's prune with their server times (through the shards' slow log, which adds a little
 * to Strata's time); --json prints the figures as JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClusterConnections, ShardHandle } from '../src/main/cluster/connections';
import { MAX_SITES, MAX_VIEWS } from '../src/main/generate/spec';
import { silentLogger } from '../src/main/log';
import { partitionAt, partitionDefinitionSql, partitionsFor, partitionStartFromName } from '../src/main/schema/partitions';
import { EnvSecretResolver } from '../src/main/secrets';
import { createServices, type StrataServices } from '../src/main/services';
import type { PruneProgress, PruneReport } from '../src/shared/retention';
import { startBenchCluster } from './cluster';
import { benchArguments, clientOptionFile, highWaterMark, onPath } from './tools';

const { values: options } = parseArgs({
  options: {
    days: { type: 'string', default: '10' },
    'rows-per-day': { type: 'string', default: '1000000' },
    'expire-days': { type: 'string', default: '8' },
    sites: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '20250301' },
    'pt-limit': { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '1' },
    trace: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;
const GOAL = 100;
const TABLE = 'analytics_realtime';
const PRISTINE = 'bench_raw_pristine';
/** Dirty pages a shard may still hold when a contender starts: its own bookkeeping, not the copy. */
const QUIET_DIRTY_PAGES = 16;
const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 3 : 1)} s`;
const times = (ratio: number) => `${ratio.toFixed(ratio >= 10 ? 0 : ratio >= 1 ? 1 : 2)}×`;
const sqlTime = (at: Date) => at.toISOString().slice(0, 19).replace('T', ' ');

const { wholeNumber } = benchArguments('prune');

// ---------------------------------------------------------------------------------------------------------------
// Preparing the data

/** Splits the raw table's first partition so that every hour from `from` on has its own, as maintenance makes them. */
async function addPastHours(connections: ClusterConnections, shard: number, from: Date): Promise<number> {
  const [first] = await connections.query<Array<{ name: string; bound: string }>>(
    shard,
    `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION LIMIT 1`,
    [TABLE],
  );
  const firstStart = first ? partitionStartFromName(first.name, 'hour') : undefined;
  if (!first || !firstStart) throw new Error(`${TABLE} on shard ${shard}: the first partition ${first?.name ?? '(none)'} is not one of Strata's`);
  const firstSpec = partitionAt(TABLE, firstStart);
  if (String(firstSpec.lessThan) !== String(first.bound)) throw new Error(`${TABLE} on shard ${shard}: ${first.name} ends at ${first.bound}, expected ${firstSpec.lessThan}`);
  if (from >= firstStart) return 0;
  const specs = partitionsFor(TABLE, from, new Date(firstStart.getTime() - 1));
  const definitions = [...specs, firstSpec].map(partitionDefinitionSql);
  await connections.query(shard, `ALTER TABLE ${TABLE} REORGANIZE PARTITION ${first.name} INTO (${definitions.join(', ')})`);
  return specs.length;
}

/** One generator run per day, each with its own seed, so every day holds exactly --rows-per-day rows. */
async function generateDays(services: StrataServices, from: Date, days: number, rowsPerDay: number, sites: number, seed: number): Promise<number> {
  let rows = 0;
  for (let index = 0; index < days; index++) {
    const start = new Date(from.getTime() + index * DAY_MS);
    const summary = await services.generator.run({ from: start.toISOString(), to: new Date(start.getTime() + DAY_MS).toISOString(), sites, views: rowsPerDay, seed: seed + index });
    if (summary.cancelled) throw new Error('generating the data was cancelled');
    rows += summary.rows;
    process.stderr.write(`  day ${index + 1}/${days} from ${start.toISOString()}: ${fmt(summary.rows)} rows, ${fmt(summary.rowsPerSecond)} rows/s\n`);
  }
  return rows;
}

/** What one shard's raw table holds on either side of the cutoff, and its partitions. */
interface ShardState {
  expiredRows: number;
  expiredSum: string;
  keptRows: number;
  keptSum: string;
  partitions: string;
}

const ROW_SUM = `CAST(COALESCE(SUM(CRC32(CONCAT_WS('|', id, site_id, UNIX_TIMESTAMP(created_at), visitor_id, path, COALESCE(referrer, '-')))), 0) AS CHAR)`;

async function shardState(connections: ClusterConnections, shard: number, table: string, cutoff: Date): Promise<ShardState> {
  const [[expired], [kept], partitions] = await Promise.all([
    connections.query<Array<{ n: number; sum: string }>>(shard, `SELECT COUNT(*) AS n, ${ROW_SUM} AS sum FROM ${table} WHERE created_at < ?`, [cutoff]),
    connections.query<Array<{ n: number; sum: string }>>(shard, `SELECT COUNT(*) AS n, ${ROW_SUM} AS sum FROM ${table} WHERE created_at >= ?`, [cutoff]),
    connections.query<Array<{ name: string | null; bound: string | null }>>(
      shard,
      `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound FROM information_schema.PARTITIONS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION`,
      [table],
    ),
  ]);
  return {
    expiredRows: Number(expired?.n ?? 0),
    expiredSum: String(expired?.sum ?? ''),
    keptRows: Number(kept?.n ?? 0),
    keptSum: String(kept?.sum ?? ''),
    partitions: partitions.map((partition) => `${partition.name}<${partition.bound}`).join(','),
  };
}

/** Replaces the raw table with a fresh copy of the untouched one: same partitions, same rows, fresh statistics. */
async function freshCopy(connections: ClusterConnections, shard: number): Promise<void> {
  await connections.query(shard, `DROP TABLE IF EXISTS ${TABLE}`);
  await connections.query(shard, `CREATE TABLE ${TABLE} LIKE ${PRISTINE}`);
  await connections.query(shard, `INSERT INTO ${TABLE} SELECT * FROM ${PRISTINE}`);
  await connections.query(shard, `ANALYZE TABLE ${TABLE}`);
}

/**
 * --trace: every statement a new session runs goes to the shards' slow log (long_query_time 0), so the statements of
 * Strata's prune, which opens its own sessions, can be listed with their times. It adds a little to Strata's time.
 */
async function traceOn(connections: ClusterConnections): Promise<void> {
  for (const shard of connections.shards) {
    await connections.query(shard.index, 'TRUNCATE TABLE mysql.slow_log');
    await connections.query(shard.index, "SET GLOBAL log_output = 'TABLE', long_query_time = 0, slow_query_log = ON");
  }
}

async function traceOff(connections: ClusterConnections): Promise<string[]> {
  const lines: string[] = [];
  for (const shard of connections.shards) {
    await connections.query(shard.index, 'SET GLOBAL slow_query_log = OFF, long_query_time = 10');
    const rows = await connections.query<Array<{ ms: number | string; examined: number | string; sql_text: string }>>(
      shard.index,
      `SELECT TIME_TO_SEC(query_time) * 1000 AS ms, rows_examined AS examined, CONVERT(sql_text USING utf8mb4) AS sql_text
         FROM mysql.slow_log WHERE db = DATABASE() ORDER BY query_time DESC`,
    );
    const total = rows.reduce((sum, row) => sum + Number(row.ms), 0);
    lines.push(`${shard.label} trace: ${rows.length} statements, ${seconds(total)} in the server; the slowest:`);
    for (const row of rows.slice(0, 6)) {
      const text = row.sql_text.replace(/\s+/g, ' ');
      lines.push(`  ${seconds(Number(row.ms)).padStart(9)}  ${fmt(Number(row.examined)).padStart(10)} rows examined  ${text.length > 110 ? `${text.slice(0, 110)}…` : text}`);
    }
  }
  return lines;
}

/**
 * Waits until the shards have written out every dirty page (the copy's, mostly), so no contender's time includes
 * the page cleaner catching up with the copy, and each starts from data at rest, as days-old rows are.
 */
async function quiesce(connections: ClusterConnections): Promise<void> {
  await Promise.all(
    connections.shards.map(async (shard) => {
      const dirtyPages = async () => {
        const [row] = await connections.query<Array<{ Value: string }>>(shard.index, "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
        return Number(row?.Value ?? 0);
      };
      const [saved] = await connections.query<Array<{ pct: number; capacity: number; capacityMax: number }>>(
        shard.index,
        'SELECT @@GLOBAL.innodb_max_dirty_pages_pct AS pct, @@GLOBAL.innodb_io_capacity AS capacity, @@GLOBAL.innodb_io_capacity_max AS capacityMax',
      );
      // The default I/O capacity (200 pages/s) would take minutes over a copy of this size.
      await connections.query(shard.index, 'SET GLOBAL innodb_io_capacity_max = 20000, innodb_io_capacity = 20000, innodb_max_dirty_pages_pct = 0');
      try {
        const deadline = Date.now() + 300_000;
        while ((await dirtyPages()) > QUIET_DIRTY_PAGES && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await connections.query(shard.index, 'SET GLOBAL innodb_max_dirty_pages_pct = ?, innodb_io_capacity = ?, innodb_io_capacity_max = ?', [
          Number(saved?.pct ?? 90),
          Number(saved?.capacity ?? 200),
          Number(saved?.capacityMax ?? 2000),
        ]);
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The contenders

interface ContenderRun {
  ms: number;
  /** When each shard finished, from the start. */
  shardMs: number[];
  detail: string[];
}

async function timedShards(connections: ClusterConnections, work: (shard: ShardHandle) => Promise<void>): Promise<{ ms: number; shardMs: number[] }> {
  const started = performance.now();
  const shardMs = await Promise.all(
    connections.shards.map(async (shard) => {
      await work(shard);
      return performance.now() - started;
    }),
  );
  return { ms: performance.now() - started, shardMs };
}

async function runStrata(services: StrataServices): Promise<ContenderRun & { report: PruneReport }> {
  const events: Array<{ at: number; progress: PruneProgress }> = [];
  const started = performance.now();
  const report = await services.retention.prune({
    tables: [TABLE],
    trigger: 'manual',
    onProgress: (progress) => events.push({ at: performance.now() - started, progress }),
  });
  const ms = performance.now() - started;
  if (!report.ok) throw new Error(`the Strata prune failed: ${JSON.stringify(report.shards.map((shard) => ({ shard: shard.name, problem: shard.problem, blockedBy: shard.blockedBy, results: shard.tables.map((table) => table.result) })))}`);
  const shardMs = report.shards.map((shard) => Math.max(0, ...events.filter((event) => event.progress.shard === shard.index).map((event) => event.at)));
  const detail = report.shards.map((shard) => {
    const table = shard.tables.find((entry) => entry.table === TABLE);
    const steps = events
      .filter((event) => event.progress.shard === shard.index && event.progress.kind !== 'batch-deleted')
      .map((event) => `${event.progress.kind} at ${seconds(event.at)}`);
    const batches = events.filter((event) => event.progress.shard === shard.index && event.progress.kind === 'batch-deleted').length;
    return `${shard.name}: ${table?.result?.droppedPartitions ?? 0} partitions dropped, ${fmt(table?.result?.deletedRows ?? 0)} rows deleted${batches ? ` in ${batches} batches` : ''}, ${table?.kept.length ?? 0} windows kept; table took ${seconds(table?.result?.elapsedMs ?? 0)} (${steps.join(', ')})`;
  });
  return { ms, shardMs, detail, report };
}

/**
 * pt-archiver's documented way to purge in batches: 1000-row chunks (--limit), each deleted with one statement and
 * committed (--bulk-delete, --commit-each), fetching only the key (--primary-key-only, as its --purge docs advise).
 * --no-safe-auto-increment lets it remove the newest expired row too, so it removes exactly the same rows as the
 * others; the session runs in UTC like Strata's, so the cutoff means the same instant.
 */
const PT_ARCHIVER_OPTIONS = ['--purge', '--primary-key-only', '--bulk-delete', '--commit-each', '--no-safe-auto-increment'];

const children = new Set<ChildProcess>();
/** Folders holding option files with the shards' passwords, removed even when the run is interrupted. */
const optionDirs = new Set<string>();

/** Stops pt-archiver runs in flight (on Ctrl-C), killing any that has not exited 10 s later, and removes their options. */
async function stopPtArchiver(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  await Promise.all([...optionDirs].map((dir) => rm(dir, { recursive: true, force: true })));
}


function ptArchiverArgs(shard: ShardHandle, optionPath: string, sentinel: string, cutoff: Date, limit: number): string[] {
  const { host, port, database } = shard.config;
  return [
    '--source',
    `h=${host},P=${port},D=${database},t=${TABLE},A=utf8mb4,F=${optionPath}`,
    '--where',
    `created_at < '${sqlTime(cutoff)}'`,
    ...PT_ARCHIVER_OPTIONS,
    '--limit',
    String(limit),
    '--set-vars',
    "time_zone='+00:00'",
    // Its own stop file, so a stray /tmp/pt-archiver-sentinel cannot end the run early; no network version check.
    '--sentinel',
    sentinel,
    '--no-version-check',
    '--statistics',
  ];
}

function runProgram(program: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (error) => {
      children.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

async function runPtArchiver(connections: ClusterConnections, cutoff: Date, limit: number): Promise<ContenderRun> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-bench-prune-'));
  optionDirs.add(dir);
  try {
    const optionPaths = await Promise.all(connections.shards.map((shard) => clientOptionFile(dir, shard)));
    const outputs: string[] = [];
    const timing = await timedShards(connections, async (shard) => {
      const run = await runProgram('pt-archiver', ptArchiverArgs(shard, optionPaths[shard.index]!, join(dir, 'sentinel'), cutoff, limit));
      if (run.code !== 0) throw new Error(`pt-archiver on ${shard.label} exited with ${run.code}: ${run.stderr.trim() || run.stdout.trim()}`);
      outputs[shard.index] = run.stdout;
    });
    const detail = connections.shards.map((shard) => {
      const stats = outputs[shard.index] ?? '';
      const count = (action: string) => Number(new RegExp(`^${action}\\s+(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
      const actions = [...stats.matchAll(/^(\w+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)$/gm)].map((match) => `${match[1]} ${match[2]}× ${Number(match[3]).toFixed(1)} s`);
      return `${shard.label}: deleted ${fmt(count('DELETE'))} rows in ${seconds(timing.shardMs[shard.index]!)} (${actions.join(', ')})`;
    });
    return { ...timing, detail };
  } finally {
    await rm(dir, { recursive: true, force: true });
    optionDirs.delete(dir);
  }
}

async function runSingleDelete(connections: ClusterConnections, cutoff: Date): Promise<ContenderRun> {
  const affected: number[] = [];
  const timing = await timedShards(connections, async (shard) => {
    const result = await connections.query<{ affectedRows: number }>(shard.index, `DELETE FROM ${TABLE} WHERE created_at < ?`, [cutoff]);
    affected[shard.index] = result.affectedRows;
  });
  return { ...timing, detail: connections.shards.map((shard) => `${shard.label}: ${fmt(affected[shard.index] ?? 0)} rows in ${seconds(timing.shardMs[shard.index]!)}`) };
}

// ---------------------------------------------------------------------------------------------------------------

type ContenderName = 'Strata' | 'pt-archiver' | 'single DELETE';

interface ContenderResult extends ContenderRun {
  name: ContenderName;
  rowsRemoved: number;
  verified: boolean;
  problems: string[];
  /** Every round's time; `ms` is the best of them. */
  runsMs: number[];
}

async function main(): Promise<void> {
  const days = wholeNumber('days', options.days, 2, 366);
  const rowsPerDay = wholeNumber('rows-per-day', options['rows-per-day'], 1, MAX_VIEWS);
  const expireDays = wholeNumber('expire-days', options['expire-days'], 1, days - 1);
  const sites = wholeNumber('sites', options.sites, 1, MAX_SITES);
  const seed = wholeNumber('seed', options.seed, 0, 0xffffffff - days);
  const ptLimit = wholeNumber('pt-limit', options['pt-limit'], 1, 1_000_000);
  const repeat = wholeNumber('repeat', options.repeat, 1, 10);
  if (!onPath('pt-archiver')) {
    process.stderr.write('bench prune: pt-archiver is not installed; install it with:\n  apt-get install -y percona-toolkit\n');
    process.exit(1);
  }

  // One fixed "now" for the whole run: the data ends at the last whole hour before it, the raw retention keeps the
  // days that do not expire, and Strata's clock stays here, so every contender's cutoff is the same instant.
  const now = new Date();
  const rangeEnd = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  const rangeStart = new Date(rangeEnd.getTime() - days * DAY_MS);
  const rawHours = (days - expireDays) * 24;
  const cutoff = new Date(rangeEnd.getTime() - rawHours * HOUR_MS);

  process.stderr.write('starting a 2-shard sandbox…\n');
  let strataServices: StrataServices | undefined;
  const { cluster, stop } = await startBenchCluster({ shards: 2 }, async () => {
    await stopPtArchiver();
    await strataServices?.dispose();
  });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    const services = cluster.services;
    const connections = services.connections;
    const shards = connections.shards.map((shard) => shard.index);
    const entry = await services.retention.policy();
    if (entry.policy.rawHours !== rawHours) await services.retention.setPolicy({ rawHours });

    const added = await Promise.all(shards.map((shard) => addPastHours(connections, shard, rangeStart)));
    process.stderr.write(`added ${fmt(added[0] ?? 0)} past hourly partitions per shard; generating ${days} days × ${fmt(rowsPerDay)} rows over ${fmt(sites)} sites, ${rangeStart.toISOString()} to ${rangeEnd.toISOString()}…\n`);
    const generated = await generateDays(services, rangeStart, days, rowsPerDay, sites, seed);

    process.stderr.write(`rolling up the hourly level over the ${days * 24} hours…\n`);
    const rollupStarted = performance.now();
    const rollup = await services.rollup.runRange('hourly', rangeStart, rangeEnd, { trigger: 'manual' });
    if (!rollup.ok) throw new Error(`the hourly rollup failed: ${JSON.stringify(rollup.shards.map((shard) => shard.windows.filter((window) => window.outcome !== 'ok')))}`);
    process.stderr.write(`  done in ${seconds(performance.now() - rollupStarted)}\n`);

    // The generated table is set aside untouched; each contender works on its own copy of it.
    await Promise.all(shards.map((shard) => connections.query(shard, `RENAME TABLE ${TABLE} TO ${PRISTINE}`)));
    const expected = await Promise.all(shards.map((shard) => shardState(connections, shard, PRISTINE, cutoff)));
    const expectedRows = expected.reduce((sum, state) => sum + state.expiredRows, 0);
    const keptRows = expected.reduce((sum, state) => sum + state.keptRows, 0);

    const contenders: Array<{ name: ContenderName; run: () => Promise<ContenderRun> }> = [
      {
        name: 'Strata',
        run: async () => {
          // Its own services, as a `strata retention prune` process has, with the clock at the benchmark's start.
          strataServices = createServices({ profile: cluster.profile, secrets: new EnvSecretResolver(), logger: silentLogger, retention: { clock: () => now } });
          if (options.trace) await traceOn(connections);
          try {
            const run = await runStrata(strataServices);
            if (options.trace) run.detail.push(...(await traceOff(connections)));
            return run;
          } finally {
            await strataServices.dispose();
            strataServices = undefined;
          }
        },
      },
      { name: 'pt-archiver', run: () => runPtArchiver(connections, cutoff, ptLimit) },
      { name: 'single DELETE', run: () => runSingleDelete(connections, cutoff) },
    ];
    const rounds = new Map<ContenderName, ContenderResult[]>(contenders.map((contender) => [contender.name, []]));
    for (let round = 1; round <= repeat; round++) {
      for (const contender of contenders) {
        const label = repeat > 1 ? `round ${round}/${repeat}, ${contender.name}` : contender.name;
        process.stderr.write(`${label}: copying the ${fmt(generated)} rows into a fresh ${TABLE}…\n`);
        const copyStarted = performance.now();
        await Promise.all(shards.map((shard) => freshCopy(connections, shard)));
        const copied = performance.now();
        const before = await Promise.all(shards.map((shard) => shardState(connections, shard, TABLE, cutoff)));
        const differs = shards.filter((shard) => JSON.stringify(before[shard]) !== JSON.stringify(expected[shard]));
        if (differs.length > 0) throw new Error(`the copy for ${contender.name} differs from the generated data on shard(s) ${differs.join(', ')}`);
        const checked = performance.now();
        await quiesce(connections);
        process.stderr.write(`  copied in ${seconds(copied - copyStarted)}, checked in ${seconds(checked - copied)}, written out in ${seconds(performance.now() - checked)}; removing ${fmt(expectedRows)} rows older than ${cutoff.toISOString()}…\n`);
        const run = await contender.run();
        const after = await Promise.all(shards.map((shard) => shardState(connections, shard, TABLE, cutoff)));
        const problems = shards.flatMap((shard) => {
          const [want, got] = [expected[shard]!, after[shard]!];
          return [
            ...(got.expiredRows !== 0 ? [`shard ${shard}: ${fmt(got.expiredRows)} expired rows left`] : []),
            ...(got.keptRows !== want.keptRows || got.keptSum !== want.keptSum ? [`shard ${shard}: rows inside retention changed (${fmt(got.keptRows)} rows, checksum ${got.keptSum}; expected ${fmt(want.keptRows)}, ${want.keptSum})`] : []),
          ];
        });
        const rowsRemoved = before.reduce((sum, state) => sum + state.expiredRows, 0) - after.reduce((sum, state) => sum + state.expiredRows, 0);
        rounds.get(contender.name)!.push({ name: contender.name, ...run, rowsRemoved, verified: problems.length === 0, problems, runsMs: [run.ms] });
        process.stderr.write(`${label}: ${seconds(run.ms)}${problems.length ? `; ${problems.join('; ')}` : ''}\n`);
      }
    }
    // Best of the rounds per contender; any round that removed the wrong rows fails it.
    const results = contenders.map(({ name }): ContenderResult => {
      const all = rounds.get(name)!;
      const best = all.reduce((fastest, run) => (run.ms < fastest.ms ? run : fastest));
      return { ...best, verified: all.every((run) => run.verified), problems: all.flatMap((run) => run.problems), runsMs: all.map((run) => run.ms) };
    });
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const vmHwm = highWaterMark();

    const strata = results[0]!;
    const ratio = (name: ContenderName) => results.find((result) => result.name === name)!.ms / strata.ms;
    const goalMet = ratio('pt-archiver') >= GOAL;
    const allVerified = results.every((result) => result.verified);
    if (!allVerified) process.exitCode = 1;

    if (options.json) {
      const summary = {
        days,
        rowsPerDay,
        expireDays,
        sites,
        seed,
        rangeStart: rangeStart.toISOString(),
        rangeEnd: rangeEnd.toISOString(),
        cutoff: cutoff.toISOString(),
        rows: generated,
        expiredRows: expectedRows,
        keptRows,
        ptArchiverOptions: [...PT_ARCHIVER_OPTIONS, '--limit', String(ptLimit)],
        repeat,
        contenders: results.map((result) => ({ name: result.name, seconds: result.ms / 1000, runsSeconds: result.runsMs.map((ms) => ms / 1000), shardSeconds: result.shardMs.map((ms) => ms / 1000), rowsRemoved: result.rowsRemoved, verified: result.verified, problems: result.problems, detail: result.detail })),
        ratios: { ptArchiverOverStrata: ratio('pt-archiver'), singleDeleteOverStrata: ratio('single DELETE') },
        goal: { ptArchiverOverStrata: GOAL, met: goalMet },
        peakRssBytes: Math.max(peakRss, vmHwm),
      };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      return;
    }
    const lines = [
      '',
      `data                 ${fmt(generated)} raw rows: ${days} days × ${fmt(rowsPerDay)} over ${fmt(sites)} sites (seed ${seed}), ${rangeStart.toISOString()} to ${rangeEnd.toISOString()}, one partition per hour`,
      `expired              ${fmt(expectedRows)} rows of the ${expireDays} oldest days (created before ${cutoff.toISOString()}, raw retention ${rawHours} h); ${fmt(keptRows)} rows stay`,
      '',
      `${'contender'.padEnd(16)}${'time'.padStart(10)}${'rows removed'.padStart(15)}${'÷ Strata'.padStart(11)}   check`,
      ...results.map(
        (result) =>
          `${result.name.padEnd(16)}${seconds(result.ms).padStart(10)}${fmt(result.rowsRemoved).padStart(15)}${(result === strata ? '' : times(result.ms / strata.ms)).padStart(11)}   ${result.verified ? 'every expired row gone, every other row intact' : `FAILED: ${result.problems.join('; ')}`}${repeat > 1 ? ` (best of ${result.runsMs.map(seconds).join(', ')})` : ''}`,
      ),
      '',
      `pt-archiver ÷ Strata ${times(ratio('pt-archiver'))} (goal: at least ${GOAL}×): ${goalMet ? 'MET' : 'NOT MET'}`,
      `DELETE ÷ Strata      ${times(ratio('single DELETE'))}`,
      `pt-archiver options  ${[...PT_ARCHIVER_OPTIONS, '--limit', String(ptLimit)].join(' ')}, one process per shard at once`,
      ...results.flatMap((result) => result.detail.map((line, index) => `${index === 0 ? result.name.padEnd(20) : ''.padEnd(20)} ${line}`)),
      `bench memory         peak RSS ${fmt(Math.max(peakRss, vmHwm) / MIB)} MiB (VmHWM ${fmt(vmHwm / MIB)} MiB; the generator's run included)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    clearInterval(sampler);
    await stop();
  }
}

await main();
