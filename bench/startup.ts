/**
 * Start-up benchmark of the `strata` command, on a 2-shard sandbox it starts and stops itself:
 *   npm run bench:startup                  20 timed runs of each (after 2 untimed ones)
 *   npm run bench:startup -- --runs 50
 *
 * The goal under test: `strata --help` in at most 150 ms, and `strata status` on a 2-shard sandbox in at most 300 ms
 * plus its round trips, judged against the start-up of a command a DBA already runs all day (`mariadb --version`)
 * and the floor under any Node program (`node -e 0`), measured in the same run. Each run is a fresh process started
 * the way a shell starts it: bin/strata.js through its shebang, with its heap flags; `npm run bench:startup` builds
 * first, so the launcher runs the bundle, and the benchmark checks that it does. The contenders take turns, so a
 * busy moment of the machine falls on all of them alike.
 *
 * Status's round trips are timed on their own, in this process with every module already loaded: the same status
 * check with fresh connections (connect, authenticate, query both shards and Redis, close), as the CLI does once.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/main/log';
import { EnvSecretResolver } from '../src/main/secrets';
import { createServices } from '../src/main/services';
import { startBenchCluster } from './cluster';

const { values: options } = parseArgs({ options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '2' } } });
const RUNS = wholeNumber('runs', options.runs, 1);
const WARMUP = wholeNumber('warmup', options.warmup, 0);
const STRATA = fileURLToPath(new URL('../bin/strata.js', import.meta.url));
const HELP_GOAL_MS = 150;
const STATUS_GOAL_MS = 300;

function fail(message: string): never {
  process.stderr.write(`bench startup: ${message}\n`);
  process.exit(2);
}

function wholeNumber(name: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) fail(`--${name} must be a whole number of at least ${min}, got '${text}'`);
  return value;
}

interface Contender {
  label: string;
  command: string;
  args: string[];
  /** Exit codes that count as the command having done its job. */
  ok?: number[];
}

/** Wall time of one run, from spawn to exit, in milliseconds. */
function timeRun(contender: Contender, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(contender.command, contender.args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if ((contender.ok ?? [0]).includes(code ?? -1)) resolve(ms);
      else reject(new Error(`${contender.label} exited ${code}: ${stderr.trim()}`));
    });
  });
}

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

interface Summary {
  median: number;
  p95: number;
}

function summarise(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95) };
}

const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

if (spawnSync('mariadb', ['--version']).status !== 0) fail('`mariadb --version` does not run here: install the MariaDB client');
const launcher = spawnSync(STRATA, ['--version'], { env: { ...process.env, STRATA_DEBUG: '1' }, encoding: 'utf8' });
if (!/running the bundle/.test(launcher.stderr)) {
  fail(`bin/strata.js does not run the bundle (${launcher.stderr.trim() || launcher.error?.message}): run \`npm run bench:startup\`, which builds first`);
}

const logDir = await mkdtemp(join(tmpdir(), 'strata-bench-logs-'));
const { cluster, stop } = await startBenchCluster({ shards: 2 });
try {
  const env: NodeJS.ProcessEnv = { ...process.env, STRATA_LOG_DIR: logDir, STRATA_PROFILE: cluster.profilePath };
  delete env.STRATA_DEBUG;
  const contenders: Contender[] = [
    { label: 'node -e 0', command: process.execPath, args: ['-e', '0'] },
    { label: 'mariadb --version', command: 'mariadb', args: ['--version'] },
    { label: 'strata --help', command: STRATA, args: ['--help'] },
    { label: 'strata status', command: STRATA, args: ['status'] },
  ];
  const samples = new Map(contenders.map((contender) => [contender.label, [] as number[]]));
  const roundTrips: number[] = [];
  const load = loadavg()[0]!;

  for (let run = 0; run < WARMUP + RUNS; run++) {
    for (const contender of contenders) {
      const took = await timeRun(contender, env);
      if (run >= WARMUP) samples.get(contender.label)!.push(took);
    }
    const started = process.hrtime.bigint();
    const services = createServices({ profile: cluster.profile, secrets: new EnvSecretResolver(), logger: silentLogger });
    try {
      const status = await services.status.get();
      if (!status.healthy) throw new Error(`the sandbox is not healthy: ${JSON.stringify(status)}`);
    } finally {
      await services.dispose();
    }
    if (run >= WARMUP) roundTrips.push(Number(process.hrtime.bigint() - started) / 1e6);
  }

  const floor = summarise(samples.get('node -e 0')!);
  const baseline = summarise(samples.get('mariadb --version')!);
  const help = summarise(samples.get('strata --help')!);
  const status = summarise(samples.get('strata status')!);
  const trips = summarise(roundTrips);
  const startupOfStatus = status.median - trips.median;
  const goal = (value: number, limit: number) => (value <= limit ? `met, ${ms(limit - value)} to spare` : `NOT met, ${ms(value - limit)} over`);

  const rows: Array<[string, Summary, string]> = [
    ['node -e 0 (the floor)', floor, ''],
    ['mariadb --version (baseline)', baseline, ''],
    ['strata --help', help, `${(help.median / baseline.median).toFixed(1)}× baseline, ${(help.median / floor.median).toFixed(1)}× floor`],
    ['strata status (2 shards + Redis)', status, `${(status.median / baseline.median).toFixed(1)}× baseline, ${(status.median / floor.median).toFixed(1)}× floor`],
    ["  status's round trips (in process)", trips, 'connect, query and close both shards and Redis'],
  ];
  process.stdout.write(`\n${RUNS} runs each, 1-minute load average ${load.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end\n\n`);
  process.stdout.write(`${'contender'.padEnd(36)}${'median'.padStart(10)}${'p95'.padStart(10)}  \n`);
  for (const [label, summary, note] of rows) process.stdout.write(`${label.padEnd(36)}${ms(summary.median).padStart(10)}${ms(summary.p95).padStart(10)}  ${note}\n`);
  process.stdout.write(`\ngoal --help ≤ ${HELP_GOAL_MS} ms: ${goal(help.median, HELP_GOAL_MS)} (median)\n`);
  process.stdout.write(
    `goal status ≤ ${STATUS_GOAL_MS} ms plus its round trips: ${ms(status.median)} − ${ms(trips.median)} = ${ms(startupOfStatus)}, ${goal(startupOfStatus, STATUS_GOAL_MS)} (medians)\n`,
  );
} finally {
  await stop();
  await rm(logDir, { recursive: true, force: true });
}
