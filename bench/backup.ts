/**
 * Backup benchmark on sandboxes it starts and stops itself, one with 2 shards and one with 4:
 *   npm run bench:backup                    about 300 MB of aggregates per shard (the README's figures)
 *   npm run bench:backup -- --mb 50         a quick run
 *
 * Each shard's analytics_hourly, analytics_daily and analytics_monthly are filled straight with multi-row
 * INSERT … SELECT over a sequence table (rows in primary-key order, a sketch-shaped blob of hash bytes per row, as
 * incompressible as real sketch entries), about --mb MB of dump text per shard. Then, on the same data, one after
 * the other:
 * - mysqldump (mariadb-dump) shard after shard, uncompressed: the sum, and the slowest single shard's dump;
 * - mysqldump of every shard at once, uncompressed (the floor of a parallel set on this machine);
 * - mysqldump | gzip of every shard at once;
 * - mydumper (compressed, --trx-consistency-only), one process per shard, all at once, under `timeout`;
 * - Strata's backup set: the real `strata backup run` (the bundle in out/main, with bin/strata.js's heap flags) as
 *   a child process, its resident memory read from /proc every 50 ms.
 * On the 2-shard sandbox Strata also backs up the first half of the data before the rest is written, so its peak
 * memory is seen at two data sizes. Every baseline dumps the same tables with the options Strata's dumps use; the
 * shards' password reaches the clients only through a 0600 defaults file. --json prints the figures as JSON.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ClusterConnections, ShardHandle } from '../src/main/cluster/connections';
import type { BackupSetRecord } from '../src/shared/backup';
import type { TestCluster } from '../test/support/cluster';
import { startBenchCluster } from './cluster';
import { benchArguments, clientOptionFile, onPath } from './tools';

const { values: options } = parseArgs({
  options: {
    mb: { type: 'string', default: '300' },
    sites: { type: 'string', default: '10000' },
    shards: { type: 'string', default: '2,4' },
    'mydumper-threads': { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
});

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT_CLI = 'out/main';
/**
 * The bench runs its own copy of the built CLI: a build started in the same checkout while it runs (electron-vite
 * empties out/) would otherwise take the bundle away mid-run. It sits under node_modules so its imports resolve.
 */
const CLI_COPY = join('node_modules', '.cache', `strata-bench-backup-${process.pid}`);
const STRATA_CLI = join(CLI_COPY, 'cli.js');
const LAUNCHER_FLAGS = /^#!\/usr\/bin\/env -S node (.*)$/m.exec(readFileSync(join(ROOT, 'bin/strata.js'), 'utf8'))?.[1] ?? '';
const NODE_FLAGS = LAUNCHER_FLAGS.split(/\s+/).filter(Boolean);
const SAMPLE_MS = 50;
const MB = 1e6;
const MIB = 1024 * 1024;
const WALL_GOAL = 1.3;
/** A timeout for every baseline process: mydumper 0.10 can hang instead of failing (../shared/MACHINE-NOTES.md). */
const CHILD_TIMEOUT_S = 1800;
/** What the runbook dumps, plus the state a restore needs to know which windows the data holds. */
const TABLES = ['analytics_hourly', 'analytics_daily', 'analytics_monthly', 'strata_watermarks'];
/** The options of the runbook plus what a safe dump needs; the same for every mysqldump contender. */
const DUMP_OPTIONS = ['--single-transaction', '--routines', '--triggers', '--quick', '--hex-blob'];
/** Average dump text of one generated row (tuple, date, counts, 0x + hex of a 2-byte header and 1–16 entries). */
const DUMP_BYTES_PER_ROW = 116;
const SEQUENCE_ROWS = 10_000;
const ROWS_PER_STATEMENT = 400_000;

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const mb = (bytes: number) => `${(bytes / MB).toFixed(bytes < 10 * MB ? 2 : 1)} MB`;
const mib = (bytes: number) => `${fmt(bytes / MIB)} MiB`;
const ratio = (value: number) => `${value.toFixed(2)}×`;

const { wholeNumber } = benchArguments('backup');

// ---------------------------------------------------------------------------------------------------------------
// The data

/** How many rows of each level one shard gets for a target dump size, and the periods they span per site. */
interface FillPlan {
  sites: number;
  hours: number;
  days: number;
  months: number;
}

function fillPlan(targetBytes: number, sites: number): FillPlan {
  const rows = targetBytes / DUMP_BYTES_PER_ROW;
  const periods = (share: number, max: number) => Math.min(max, Math.max(1, Math.ceil((rows * share) / sites)));
  return { sites, hours: periods(0.88, SEQUENCE_ROWS), days: periods(0.11, 3650), months: periods(0.01, 60) };
}

async function createSequence(connections: ClusterConnections, shard: number): Promise<void> {
  await connections.query(shard, 'CREATE TABLE IF NOT EXISTS bench_seq (n INT NOT NULL PRIMARY KEY) ENGINE=InnoDB', [], { kind: 'ddl' });
  await connections.query(shard, 'TRUNCATE TABLE bench_seq', [], { kind: 'ddl' });
  const values = Array.from({ length: SEQUENCE_ROWS }, (_, n) => `(${n})`).join(',');
  await connections.query(shard, `INSERT INTO bench_seq (n) VALUES ${values}`, [], { kind: 'write' });
}

/**
 * Writes the rows of sites [fromSite, toSite) of one level on one shard, in primary-key order (site, then period),
 * a few hundred thousand rows a statement. Site i of shard s is site_id i × shards + s, so routing holds.
 */
async function fillLevel(
  connections: ClusterConnections,
  shard: number,
  level: { table: string; periodColumn: string; period: (offset: string) => string; count: number; tag: string },
  fromSite: number,
  toSite: number,
): Promise<void> {
  const shards = connections.shards.length;
  const sitesPerStatement = Math.max(1, Math.floor(ROWS_PER_STATEMENT / level.count));
  for (let first = fromSite; first < toSite; first += sitesPerStatement) {
    const last = Math.min(toSite, first + sitesPerStatement);
    await connections.query(
      shard,
      `INSERT INTO ${level.table} (site_id, ${level.periodColumn}, page_views, visitors, visitors_sketch)
       SELECT site_id, period, visitors + key_value % 97 * 3, visitors,
              CONCAT(X'030E', LEFT(UNHEX(SHA2(CONCAT(?, key_value), 512)), 4 * visitors))
         FROM (SELECT site.n * ? + ? AS site_id, ${level.period('period.n')} AS period, site.n * 100000 + period.n AS key_value,
                      1 + CRC32(CONCAT(?, site.n * 100000 + period.n)) % 16 AS visitors
                 FROM bench_seq site JOIN bench_seq period ON period.n < ?
                WHERE site.n >= ? AND site.n < ?
                ORDER BY site.n, period.n) generated`,
      [level.tag, shards, shard, level.tag, level.count, first, last],
      { timeoutMs: 600_000 },
    );
  }
}

/** Fills sites [fromSite, toSite) of every level on every shard, the shards at once. */
async function fill(connections: ClusterConnections, plan: FillPlan, fromSite: number, toSite: number): Promise<void> {
  const now = new Date();
  const hourEnd = new Date(Math.floor(now.getTime() / 3_600_000) * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
  const dayEnd = now.toISOString().slice(0, 10);
  const monthEnd = `${now.toISOString().slice(0, 7)}-01`;
  const levels = [
    { table: 'analytics_hourly', periodColumn: 'hour_start', period: (n: string) => `TIMESTAMPADD(HOUR, ${n} - ${plan.hours}, '${hourEnd}')`, count: plan.hours, tag: 'h' },
    { table: 'analytics_daily', periodColumn: 'date', period: (n: string) => `DATE_SUB('${dayEnd}', INTERVAL ${plan.days} - ${n} DAY)`, count: plan.days, tag: 'd' },
    { table: 'analytics_monthly', periodColumn: 'month_start', period: (n: string) => `DATE_SUB('${monthEnd}', INTERVAL ${plan.months} - ${n} MONTH)`, count: plan.months, tag: 'm' },
  ];
  await Promise.all(
    connections.shards.map(async (shard) => {
      for (const level of levels) await fillLevel(connections, shard.index, level, fromSite, toSite);
    }),
  );
}

interface ShardData {
  rows: number;
  /** InnoDB data + index bytes of the dumped tables. */
  tableBytes: number;
}

async function shardData(connections: ClusterConnections, shard: number): Promise<ShardData> {
  await connections.query(shard, `ANALYZE TABLE ${TABLES.join(', ')}`, [], { timeoutMs: 300_000 });
  const counts = await Promise.all(TABLES.map((table) => connections.query<Array<{ n: number }>>(shard, `SELECT COUNT(*) AS n FROM ${table}`, [], { timeoutMs: 300_000 })));
  const [size] = await connections.query<Array<{ bytes: number | string }>>(
    shard,
    `SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) AS bytes FROM information_schema.TABLES
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (${TABLES.map(() => '?').join(', ')})`,
    TABLES,
  );
  return { rows: counts.reduce((sum, [row]) => sum + Number(row?.n ?? 0), 0), tableBytes: Number(size?.bytes ?? 0) };
}

// ---------------------------------------------------------------------------------------------------------------
// Running the contenders

const children = new Set<ReturnType<typeof spawn>>();
const scratchDirs = new Set<string>();

async function stopChildren(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all([...scratchDirs, join(ROOT, CLI_COPY)].map((dir) => rm(dir, { recursive: true, force: true })));
}

interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The largest VmHWM read while it ran (the kernel's peak resident set of that process, start-up included). */
  peakHwm: number;
}

function readHwm(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
  } catch {
    return undefined; // gone between two samples
  }
}

/** Runs a program with its stdout going to `outputPath` (or collected), and its memory sampled until it exits. */
function runChild(program: string, args: string[], outputPath?: string, env: NodeJS.ProcessEnv = process.env): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const output = outputPath ? openSync(outputPath, 'w', 0o600) : undefined;
    const child = spawn(program, args, { cwd: ROOT, env, stdio: ['ignore', output ?? 'pipe', 'pipe'] });
    if (output !== undefined) closeSync(output);
    children.add(child);
    const run: ChildRun = { code: null, stdout: '', stderr: '', ms: 0, peakHwm: 0 };
    const sample = () => {
      const hwm = child.pid ? readHwm(child.pid) : undefined;
      if (hwm !== undefined) run.peakHwm = Math.max(run.peakHwm, hwm);
    };
    const sampler = setInterval(sample, SAMPLE_MS);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (run.stdout += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (run.stderr += chunk));
    child.once('error', (error) => {
      clearInterval(sampler);
      children.delete(child);
      reject(error);
    });
    child.once('close', (code) => {
      clearInterval(sampler);
      children.delete(child);
      resolve({ ...run, code, ms: performance.now() - started });
    });
  });
}

function checked(run: ChildRun, what: string): ChildRun {
  if (run.code !== 0) throw new Error(`${what} exited with ${run.code}: ${run.stderr.trim().slice(-500)}`);
  return run;
}


async function bytesUnder(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true, recursive: true });
  let total = 0;
  for (const entry of entries) if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  return total;
}

interface Contender {
  name: string;
  ms: number;
  /** When each shard's part finished, from the contender's start. */
  shardMs: number[];
  outputBytes: number;
  compressed: boolean;
  peakHwm?: number;
  note?: string;
}

interface Context {
  cluster: TestCluster;
  dumpClient: string;
  optionFiles: string[];
  outDir: string;
}

function dumpArgs(context: Context, shard: ShardHandle): string[] {
  const { host, port, database } = shard.config;
  return [`--defaults-extra-file=${context.optionFiles[shard.index]!}`, ...DUMP_OPTIONS, `--host=${host}`, `--port=${port}`, database, ...TABLES];
}

async function forEachShard(context: Context, parallel: boolean, work: (shard: ShardHandle) => Promise<void>): Promise<{ ms: number; shardMs: number[] }> {
  const shards = context.cluster.services.connections.shards;
  const started = performance.now();
  const shardMs: number[] = [];
  const one = async (shard: ShardHandle) => {
    const shardStarted = performance.now();
    await work(shard);
    shardMs[shard.index] = performance.now() - shardStarted;
  };
  if (parallel) await Promise.all(shards.map(one));
  else for (const shard of shards) await one(shard);
  return { ms: performance.now() - started, shardMs };
}

async function mysqldumpPlain(context: Context, parallel: boolean): Promise<Contender> {
  const dir = join(context.outDir, parallel ? 'dump-parallel' : 'dump-sequential');
  await mkdir(dir);
  const timing = await forEachShard(context, parallel, async (shard) => {
    checked(await runChild(context.dumpClient, dumpArgs(context, shard), join(dir, `shard${shard.index}.sql`)), `${context.dumpClient} of ${shard.label}`);
  });
  const outputBytes = await bytesUnder(dir);
  await rm(dir, { recursive: true, force: true });
  return { name: parallel ? 'mysqldump, all shards at once' : 'mysqldump, shard after shard', ...timing, outputBytes, compressed: false };
}

/** mysqldump piped through a compressor (`gzip -6`, `zstd -3`: Strata's level) into a file, every shard at once. */
async function mysqldumpCompressed(context: Context, compressor: 'gzip' | 'zstd'): Promise<Contender> {
  const dir = join(context.outDir, `dump-${compressor}`);
  await mkdir(dir);
  const command = compressor === 'gzip' ? 'gzip -6' : 'zstd -3 -q -c';
  const timing = await forEachShard(context, true, async (shard) => {
    // bash's pipefail, so a failed dump fails the pipeline instead of leaving a short, valid compressed file.
    const script = `set -o pipefail; "$1" "\${@:3}" | ${command} > "$2"`;
    checked(await runChild('bash', ['-c', script, 'bash', context.dumpClient, join(dir, `shard${shard.index}.sql.${compressor}`), ...dumpArgs(context, shard)]), `${context.dumpClient} | ${compressor} of ${shard.label}`);
  });
  const outputBytes = await bytesUnder(dir);
  await rm(dir, { recursive: true, force: true });
  return { name: `mysqldump | ${command.split(' -q')[0]}, all shards at once`, ...timing, outputBytes, compressed: true };
}

async function mydumper(context: Context, threads: number): Promise<Contender> {
  const dir = join(context.outDir, 'mydumper');
  await mkdir(dir);
  const timing = await forEachShard(context, true, async (shard) => {
    const { host, port, database } = shard.config;
    const output = join(dir, `shard${shard.index}`);
    const args = [
      String(CHILD_TIMEOUT_S),
      'mydumper',
      `--defaults-file=${context.optionFiles[shard.index]!}`,
      `--host=${host}`,
      `--port=${port}`,
      // The user too: mydumper 0.10 reads only the password from the defaults file. -T names bare tables of -B.
      `--user=${shard.config.user}`,
      '-B',
      database,
      '-T',
      TABLES.join(','),
      '--trx-consistency-only',
      '--routines',
      '--triggers',
      '--compress',
      `--threads=${threads}`,
      `--outputdir=${output}`,
    ];
    checked(await runChild('timeout', args), `mydumper of ${shard.label}`);
  });
  const outputBytes = await bytesUnder(dir);
  await rm(dir, { recursive: true, force: true });
  return { name: `mydumper -c -t ${threads}, one per shard at once`, ...timing, outputBytes, compressed: true };
}

/** Whether the built CLI has `strata backup run` (the backup feature may land after this benchmark). */
async function strataHasBackup(): Promise<boolean> {
  if (!existsSync(join(ROOT, BUILT_CLI, 'cli.js'))) return false;
  await rm(join(ROOT, CLI_COPY), { recursive: true, force: true });
  await cp(join(ROOT, BUILT_CLI), join(ROOT, CLI_COPY), { recursive: true });
  const run = await runChild(process.execPath, [...NODE_FLAGS, STRATA_CLI, 'backup', 'run', '--help']);
  return run.code === 0 && run.stdout.includes('--dest');
}

/** `strata backup run` as a shell would start it, into a fresh destination; its set's files are measured and removed. */
async function strataBackup(context: Context, label: string): Promise<Contender> {
  const dest = join(context.outDir, 'strata');
  await mkdir(dest);
  const env = { ...process.env, STRATA_LOG_DIR: join(context.cluster.dir, 'logs'), STRATA_DATA_DIR: join(context.cluster.dir, 'strata-data'), STRATA_PROFILE: context.cluster.profilePath };
  const run = checked(await runChild(process.execPath, [...NODE_FLAGS, STRATA_CLI, 'backup', 'run', '--dest', dest, '--json'], undefined, env), 'strata backup run');
  const record = JSON.parse(run.stdout) as BackupSetRecord;
  if (record.state !== 'ok') throw new Error(`strata backup run ended ${record.state}: ${record.error ?? record.parts.map((part) => part.error?.message).join('; ')}`);
  await rm(dest, { recursive: true, force: true });
  const shardMs: number[] = [];
  for (const part of record.parts) shardMs[part.shard] = part.durationMs;
  return {
    name: label,
    ms: run.ms,
    shardMs,
    outputBytes: record.parts.reduce((sum, part) => sum + part.bytes, 0),
    compressed: true,
    peakHwm: run.peakHwm,
    note: `${record.compression}; the set's own span ${seconds(Date.parse(record.finishedAt ?? record.startedAt) - Date.parse(record.startedAt))}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------

interface ClusterResult {
  shards: number;
  plan: FillPlan;
  data: ShardData[];
  /** Uncompressed dump bytes of the whole set (the sequential mysqldump's files). */
  dumpBytes: number;
  contenders: Contender[];
  /** Strata on the first half of the data (2 shards only): the second data size of the memory check. */
  strataHalf?: Contender;
  strataAvailable: boolean;
}

async function benchCluster(shards: number, targetBytes: number, sites: number, mydumperThreads: number): Promise<ClusterResult> {
  process.stderr.write(`\n== ${shards} shards: starting a sandbox…\n`);
  const { cluster, stop } = await startBenchCluster({ shards }, stopChildren);
  const outDir = await mkdtemp(join(tmpdir(), 'strata-bench-backup-'));
  scratchDirs.add(outDir);
  try {
    const connections = cluster.services.connections;
    const optionFiles = await Promise.all(connections.shards.map((shard) => clientOptionFile(outDir, shard)));
    const dumpClient = onPath('mariadb-dump') ? 'mariadb-dump' : 'mysqldump';
    const context: Context = { cluster, dumpClient, optionFiles, outDir };
    const plan = fillPlan(targetBytes, sites);
    const strataAvailable = await strataHasBackup();
    if (!strataAvailable) process.stderr.write(`  strata backup run is not in ${BUILT_CLI}/cli.js (not built yet, or the backup feature has not landed): only the baselines run\n`);

    await Promise.all(connections.shards.map((shard) => createSequence(connections, shard.index)));
    const filled = performance.now();
    const half = Math.floor(sites / 2);
    let strataHalf: Contender | undefined;
    if (shards === 2 && strataAvailable) {
      process.stderr.write(`  writing the first half: ${fmt(half)} sites × (${plan.hours} hours, ${plan.days} days, ${plan.months} months) per shard…\n`);
      await fill(connections, plan, 0, half);
      process.stderr.write('  Strata on the first half (the memory check at a second data size)…\n');
      strataHalf = await strataBackup(context, 'Strata backup set, half the data');
      await fill(connections, plan, half, sites);
    } else {
      process.stderr.write(`  writing ${fmt(sites)} sites × (${plan.hours} hours, ${plan.days} days, ${plan.months} months) per shard…\n`);
      await fill(connections, plan, 0, sites);
    }
    const data = await Promise.all(connections.shards.map((shard) => shardData(connections, shard.index)));
    process.stderr.write(`  ${fmt(data.reduce((sum, shard) => sum + shard.rows, 0))} rows written and analysed in ${seconds(performance.now() - filled)}\n`);

    const contenders: Contender[] = [];
    const runs: Array<() => Promise<Contender>> = [
      () => mysqldumpPlain(context, false),
      () => mysqldumpPlain(context, true),
      () => mysqldumpCompressed(context, 'gzip'),
      ...(onPath('zstd') ? [() => mysqldumpCompressed(context, 'zstd')] : []),
      () => mydumper(context, mydumperThreads),
      ...(strataAvailable ? [() => strataBackup(context, 'Strata backup set')] : []),
    ];
    for (const run of runs) {
      const result = await run();
      process.stderr.write(`  ${result.name}: ${seconds(result.ms)}, ${mb(result.outputBytes)}\n`);
      contenders.push(result);
    }
    return { shards, plan, data, dumpBytes: contenders[0]!.outputBytes, contenders, ...(strataHalf ? { strataHalf } : {}), strataAvailable };
  } finally {
    await rm(outDir, { recursive: true, force: true });
    scratchDirs.delete(outDir);
    await stop();
  }
}

function report(results: ClusterResult[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    const [sequential, parallel, gzip] = result.contenders;
    const zstd = result.contenders.find((contender) => contender.name.startsWith('mysqldump | zstd'));
    const strata = result.contenders.find((contender) => contender.name === 'Strata backup set');
    const slowestShard = Math.max(...sequential!.shardMs);
    const perShard = result.data.map((shard, index) => `shard${index} ${fmt(shard.rows)} rows, ${mb(shard.tableBytes)} in InnoDB, ${mb(result.dumpBytes / result.shards)} of dump`);
    lines.push(
      '',
      `${result.shards} shards: ${perShard.join('; ')} (about; the dump size is the set's average)`,
      `${'contender'.padEnd(40)}${'wall'.padStart(9)}${'MB/s'.padStart(8)}${'output'.padStart(11)}${'÷ slowest shard'.padStart(17)}${'÷ Strata'.padStart(10)}`,
    );
    for (const contender of result.contenders) {
      lines.push(
        `${contender.name.padEnd(40)}${seconds(contender.ms).padStart(9)}${(result.dumpBytes / MB / (contender.ms / 1000)).toFixed(1).padStart(8)}${mb(contender.outputBytes).padStart(11)}${ratio(contender.ms / slowestShard).padStart(17)}${(strata && contender !== strata ? ratio(contender.ms / strata.ms) : '').padStart(10)}${contender.note ? `   ${contender.note}` : ''}`,
      );
    }
    lines.push(`slowest single shard's dump ${seconds(slowestShard)} (shard after shard: ${sequential!.shardMs.map(seconds).join(', ')}; the sum ${seconds(sequential!.ms)})`);
    lines.push(`all at once, per shard: mysqldump ${parallel!.shardMs.map(seconds).join(', ')}; | gzip ${gzip!.shardMs.map(seconds).join(', ')}${zstd ? `; | zstd ${zstd.shardMs.map(seconds).join(', ')}` : ''}`);
    if (strata) {
      const wall = strata.ms / slowestShard;
      const smaller = strata.outputBytes <= gzip!.outputBytes;
      const faster = strata.ms <= gzip!.ms;
      lines.push(`Strata per shard: ${strata.shardMs.map(seconds).join(', ')}; ${strata.note ?? ''}; the rest of its wall time is the process starting, planning and recording the set`);
      lines.push(`goal: set wall time ≤ ${WALL_GOAL}× the slowest shard's dump: ${ratio(wall)} ${wall <= WALL_GOAL ? 'MET' : 'NOT MET'}`);
      lines.push(`goal: output no larger than gzip's at no more time: ${mb(strata.outputBytes)} vs ${mb(gzip!.outputBytes)} (${ratio(strata.outputBytes / gzip!.outputBytes)}), ${seconds(strata.ms)} vs ${seconds(gzip!.ms)}: ${smaller && faster ? 'MET' : 'NOT MET'}`);
      const half = result.strataHalf;
      lines.push(
        `Strata peak RSS ${mib(strata.peakHwm ?? 0)} on the full data${half ? `, ${mib(half.peakHwm ?? 0)} on half of it (${mb(half.outputBytes)} of output, ${seconds(half.ms)})` : ''} (VmHWM of the strata process, its dump clients not included)`,
      );
    } else {
      lines.push('Strata: not run (strata backup run is not available in out/main/cli.js)');
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const megabytes = wholeNumber('mb', options.mb, 1, 20_000);
  const sites = wholeNumber('sites', options.sites, 10, SEQUENCE_ROWS);
  const threads = wholeNumber('mydumper-threads', options['mydumper-threads'], 1, 64);
  const shardCounts = options.shards.split(',').map((text) => wholeNumber('shards', text.trim(), 1, 8));
  const missing = ['mydumper', 'gzip', 'timeout', 'bash'].filter((program) => !onPath(program));
  if (!onPath('mariadb-dump') && !onPath('mysqldump')) missing.push('mariadb-dump (or mysqldump)');
  if (missing.length > 0) {
    process.stderr.write(`bench backup: missing ${missing.join(', ')}; install with:\n  apt-get install -y mydumper mariadb-client\n`);
    process.exit(1);
  }
  const results: ClusterResult[] = [];
  if (!options.json) process.stdout.write(`tables ${TABLES.join(', ')}; every mysqldump with ${DUMP_OPTIONS.join(' ')}; MB/s is the uncompressed dump size over the wall time\n`);
  try {
    for (const shards of shardCounts) {
      const result = await benchCluster(shards, megabytes * MB, sites, threads);
      results.push(result);
      // Each sandbox's figures as soon as it is done, so a later failure does not lose them.
      if (!options.json) process.stdout.write(`${[...report([result]), `load average ${loadavg().map((value) => value.toFixed(2)).join(' ')} on ${cpus().length} cores (other work on the machine shows here)`].join('\n')}\n`);
    }
  } finally {
    await rm(join(ROOT, CLI_COPY), { recursive: true, force: true });
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ mbPerShard: megabytes, sites, tables: TABLES, dumpOptions: DUMP_OPTIONS, results }, null, 2)}\n`);
  if (results.some((result) => !result.strataAvailable)) process.exitCode = 1;
}

await main();
