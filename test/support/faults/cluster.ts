import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../src/main/log';
import { SandboxManager } from '../../../src/main/sandbox/sandbox';
import { isProcessAlive } from '../../../src/main/sandbox/processes';
import { runCli, type CliRun } from '../cli';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../cluster';
import { realSleep } from '../time';
import { faultRandom, type FaultRandom } from './random';

const STRATA_BIN = fileURLToPath(new URL('../../../bin/strata.js', import.meta.url));
/** Bounds a wait that must end (a child exiting, a watermark moving); it asserts nothing about speed. */
export const FAULT_DEADLINE_MS = 90_000;

const HOUR = 3_600_000;

/** A `strata …` child process, as a DBA, a cron job or a service manager would start it. */
export interface StrataChild {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** What it wrote to its log file so far (the services log when a run starts, which marks a kill point). */
  log(): string;
  /** Resolves once the process has exited and its output is closed. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
}

/**
 * Page views per shard, UTC hour and site that the scenario knows it committed: what the cluster must never lose.
 * Per site, because late rows use a site of their own: a late row that lands after its hour was pruned is then told
 * apart from the hour's rolled-up rows.
 */
export class RowLedger {
  private readonly hours = new Map<string, number>();

  add(shard: number, hourStart: number, rows: number, site: number): void {
    const key = `${shard}:${hourStart}:${site}`;
    this.hours.set(key, (this.hours.get(key) ?? 0) + rows);
  }

  entries(): Array<{ shard: number; hourStart: number; site: number; rows: number }> {
    return [...this.hours].map(([key, rows]) => {
      const [shard, hourStart, site] = key.split(':').map(Number) as [number, number, number];
      return { shard, hourStart, site, rows };
    });
  }

  total(): number {
    return [...this.hours.values()].reduce((sum, rows) => sum + rows, 0);
  }
}

export interface FaultCluster {
  readonly test: TestCluster;
  readonly rng: FaultRandom;
  readonly ledger: RowLedger;
  readonly shardCount: number;
  /** Faults injected so far (kills, freezes, restarts of Redis, racing writers). */
  readonly faults: number;
  query<T>(shard: number, sql: string, params?: unknown[]): Promise<T>;
  /** Generates page views and records in the ledger, per shard and hour, exactly what landed. */
  generate(request: { from: Date; to: Date; sites: number; views: number; seed: number }): Promise<void>;
  /** Inserts late page views of one hour on a shard (for a site it owns) and adds them to the ledger once committed. */
  insertLate(shard: number, hourStart: Date, rows: number, visitorBase: number): Promise<void>;
  /** SIGKILLs a shard's server or Redis, as a crash would, and waits until the process is gone. */
  kill(server: number | 'redis'): Promise<void>;
  /** Starts a killed shard or Redis again on the same data and port (Redis comes back empty: it keeps nothing on disk). */
  restart(server: number | 'redis'): Promise<void>;
  /** Counts a fault the scenario injects itself (SIGSTOP of an agent, a racing insert, a held lock). */
  countFault(): void;
  /** Says where a fault landed (which kill point, what the victim did), for the scenario's line. */
  note(text: string): void;
  readonly notes: string[];
  /** `strata ARGS --profile …` in a child process; tracked so the scenario can check it ended. */
  spawnStrata(args: string[], env?: NodeJS.ProcessEnv): StrataChild;
  /** `strata ARGS --profile …` to completion, through test/support/cli.ts. */
  strata(args: string[], env?: NodeJS.ProcessEnv): Promise<CliRun>;
  /** Every process the scenario started; the reconciliation checks that none still runs. */
  childPids(): number[];
  /** Kills what still runs, disposes the services, stops the servers, removes the folder. */
  down(): Promise<void>;
}

export interface FaultClusterOptions extends TestClusterOptions {
  /** The scenario's name: seeds its kill points. */
  scenario: string;
}

/** A real 2-shard sandbox (or as many shards as asked) with the means to hurt it. */
export async function startFaultCluster(options: FaultClusterOptions): Promise<FaultCluster> {
  const test = await startTestCluster({ shards: 2, ...options });
  const sandbox = new SandboxManager(silentLogger.scope('sandbox'));
  const rng = faultRandom(options.scenario);
  const ledger = new RowLedger();
  const children: StrataChild[] = [];
  const notes: string[] = [];
  const shardCount = test.profile.shards.length;
  let faults = 0;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => test.services.connections.query<T>(shard, sql, params);
  const withProfile = (args: string[]) => [...args, '--profile', test.profilePath];
  const childEnv = (env: NodeJS.ProcessEnv = {}) => ({ ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '', ...env });

  async function waitGone(pid: number): Promise<void> {
    const deadline = Date.now() + FAULT_DEADLINE_MS;
    while (isProcessAlive(pid)) {
      if (Date.now() > deadline) throw new Error(`process ${pid} did not end after SIGKILL`);
      await realSleep(20);
    }
  }

  return {
    test,
    rng,
    ledger,
    shardCount,
    get faults() {
      return faults;
    },
    query,
    async generate(request) {
      const before = await rawHours(query, shardCount, request.from, request.to);
      await test.services.generator.run({ from: request.from.toISOString(), to: request.to.toISOString(), sites: request.sites, views: request.views, seed: request.seed });
      const after = await rawHours(query, shardCount, request.from, request.to);
      for (const [key, rows] of after) {
        const [shard, hourStart, site] = key.split(':').map(Number) as [number, number, number];
        ledger.add(shard, hourStart, rows - (before.get(key) ?? 0), site);
      }
    },
    async insertLate(shard, hourStart, rows, visitorBase) {
      // site_id % shards routes a site to its shard; 1000 + shard is owned by this one.
      const site = lateSite(shardCount, shard);
      const values = Array.from({ length: rows }, (_, index) => [site, new Date(hourStart.getTime() + ((index * 7919) % HOUR)), visitorBase + index, '/late']);
      await query(shard, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES ?', [values]);
      ledger.add(shard, Math.floor(hourStart.getTime() / HOUR) * HOUR, rows, site);
    },
    async kill(server) {
      const pid = await sandbox.signalServer(test.dir, server, 'SIGKILL');
      if (pid === undefined) throw new Error(`${server === 'redis' ? 'redis' : `shard${server}`} is not running, nothing to kill`);
      faults += 1;
      await waitGone(pid);
    },
    async restart(server) {
      if (server === 'redis') await sandbox.up({ dir: test.dir, shards: shardCount });
      else await test.startShard(server);
    },
    countFault() {
      faults += 1;
    },
    note(text) {
      notes.push(text);
    },
    notes,
    spawnStrata(args, env) {
      const logDir = join(test.dir, `logs-${children.length}`);
      mkdirSync(logDir, { recursive: true });
      const child = spawn(process.execPath, [STRATA_BIN, ...withProfile(args)], {
        env: childEnv({ STRATA_LOG_FILE: '', STRATA_LOG_DIR: logDir, ...env }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (child.pid === undefined) throw new Error(`could not start strata ${args.join(' ')}`);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
      const handle: StrataChild = {
        child,
        pid: child.pid,
        stdout: () => stdout,
        stderr: () => stderr,
        log: () => {
          try {
            return readFileSync(join(logDir, 'strata-cli.log'), 'utf8');
          } catch {
            return '';
          }
        },
        exited,
        running: () => child.exitCode === null && child.signalCode === null,
      };
      children.push(handle);
      return handle;
    },
    strata(args, env) {
      return runCli(withProfile(args), { STRATA_PROFILE: '', ...env });
    },
    childPids: () => children.map((child) => child.pid),
    async down() {
      for (const handle of children) {
        if (!handle.running()) continue;
        // A frozen child ignores everything until it is continued.
        handle.child.kill('SIGCONT');
        handle.child.kill('SIGKILL');
        await handle.exited;
      }
      await test.down();
    },
  };
}

/** The site late rows of a shard go to: owned by that shard (site_id % shards), beyond every generated site. */
export function lateSite(shardCount: number, shard: number): number {
  return 1000 * shardCount + shard;
}

/** Raw page views per `shard:hourStart:site` in [from, to). */
export async function rawHours(
  query: <T>(shard: number, sql: string, params?: unknown[]) => Promise<T>,
  shardCount: number,
  from: Date,
  to: Date,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let shard = 0; shard < shardCount; shard += 1) {
    const rows = await query<Array<{ hour: number | string; site_id: number; views: number | string }>>(
      shard,
      'SELECT FLOOR(UNIX_TIMESTAMP(created_at) / 3600) AS hour, site_id, COUNT(*) AS views FROM analytics_realtime WHERE created_at >= ? AND created_at < ? GROUP BY hour, site_id',
      [from, to],
    );
    for (const row of rows) counts.set(`${shard}:${Number(row.hour) * HOUR}:${row.site_id}`, Number(row.views));
  }
  return counts;
}

/** Waits until `check` holds, in real time; the deadline only bounds a broken scenario. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = FAULT_DEADLINE_MS, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realSleep(intervalMs);
  }
}

/** Waits for a child to exit, or fails the scenario naming what it printed: a hang is the fault under test. */
export async function exitOf(child: StrataChild, timeoutMs = FAULT_DEADLINE_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`strata pid ${child.pid} did not exit within ${timeoutMs} ms; stdout: ${child.stdout().slice(-600)} stderr: ${child.stderr().slice(-600)}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
