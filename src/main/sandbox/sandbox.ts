import mysql from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { Profile } from '../../shared/profile';
import type { ScopedLogger } from '../log';
import { planSandbox, SANDBOX_DATABASE, withNodeExporter, type SandboxPlan, type SandboxState, type SandboxTls, type ServerBinaries, type ShardProcessPlan } from './planner';
import {
  findProgram,
  isPortFree,
  ownedPid,
  pickFreePorts,
  programOutput,
  redisPing,
  runToCompletion,
  spawnDetached,
  stopProcess,
  tailOf,
  waitFor,
  isProcessAlive,
  isProcessStopped,
} from './processes';

const MAX_SANDBOX_SHARDS = 16;
/** How long a SIGSTOP may take to stop every thread of a server (it takes well under a millisecond when idle). */
const STOP_WAIT_MS = 5000;
const READY_TIMEOUT_MS = 60_000;

const stateSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['mariadb', 'mysql']),
  database: z.string(),
  shardPorts: z.array(z.number().int().min(1).max(65535)).min(1),
  redisPort: z.number().int().min(1).max(65535),
  tls: z.object({ ca: z.string(), cert: z.string(), key: z.string(), clientCert: z.string().optional(), clientKey: z.string().optional() }).optional(),
  nodeExporterPort: z.number().int().min(1).max(65535).optional(),
});

export interface SandboxUpOptions {
  dir: string;
  shards: number;
  /** First port to use (shards take base…base+N-1, Redis base+N); random free ports when absent. */
  basePort?: number;
  /** Servers that accept only TLS, with these certificates (a new sandbox only; an existing one keeps its own). */
  tls?: SandboxTls;
  /** Start prometheus-node-exporter (when installed) so the profile names each shard's host metrics; default true. */
  nodeExporter?: boolean;
  onProgress?: (message: string) => void;
}

export interface SandboxInfo {
  dir: string;
  profilePath: string;
  profile: Profile;
  shardPorts: number[];
  redisPort: number;
  /** True when `up` found an existing sandbox in the folder and restarted its data. */
  restarted: boolean;
}

/** Finds mariadbd (or mysqld) and redis-server, or says exactly what to install. */
export async function findServerBinaries(): Promise<ServerBinaries> {
  const mariadbd = await findProgram('mariadbd');
  const mysqld = mariadbd ?? (await findProgram('mysqld'));
  const redis = await findProgram('redis-server');
  // Optional: without it the sandbox runs and its CPU and memory show as "not configured".
  const nodeExporter = (await findProgram('prometheus-node-exporter')) ?? (await findProgram('prometheus-node-exporter', { PATH: '/usr/bin:/usr/local/bin' }));
  const missing: string[] = [];
  if (!mysqld) missing.push('mariadbd or mysqld (apt-get install -y mariadb-server)');
  if (!redis) missing.push('redis-server (apt-get install -y redis-server)');
  if (!mysqld || !redis) throw new StrataError(ErrorCode.BinaryMissing, `not found on PATH: ${missing.join('; ')}`);
  const version = await programOutput(mysqld, ['--version']).catch(() => '');
  const kind = mariadbd || /mariadb/i.test(version) ? 'mariadb' : 'mysql';
  if (kind === 'mariadb') {
    const installDb = (await findProgram('mariadb-install-db')) ?? (await findProgram('mysql_install_db'));
    if (!installDb) throw new StrataError(ErrorCode.BinaryMissing, 'not found on PATH: mariadb-install-db (apt-get install -y mariadb-server)');
    return { kind, server: mysqld, installDb, redis, ...(nodeExporter ? { nodeExporter } : {}) };
  }
  return { kind, server: mysqld, redis, ...(nodeExporter ? { nodeExporter } : {}) };
}

/** redis-server rewrites its process title to `redis-server HOST:PORT`, so the folder is not on it; the address is. */
function redisMarker(plan: SandboxPlan): string {
  return `redis-server 127.0.0.1:${plan.redis.port}`;
}

/** The node exporter's listen address is on its command line, and names this sandbox's port. */
function nodeExporterMarker(port: number): string {
  return `--web.listen-address=127.0.0.1:${port}`;
}

/** Like Promise.all, but waits for every task before failing, so cleanup never races a task still writing files. */
async function settleAll(tasks: Array<Promise<unknown>>): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** The harness's own root connection to a shard; over TLS, verified against the sandbox's CA, when the sandbox has it. */
function adminConnection(port: number, tls: SandboxTls | undefined, connectTimeout?: number) {
  const ssl = tls ? { ssl: { ca: readFileSync(tls.ca), rejectUnauthorized: true } } : {};
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', ...(connectTimeout ? { connectTimeout } : {}), ...ssl });
}

async function pingShard(port: number, tls: SandboxTls | undefined): Promise<boolean> {
  try {
    const connection = await adminConnection(port, tls, 1000);
    await connection.query('SELECT 1');
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts and stops a local cluster: N mariadbd (or mysqld) processes and one redis-server, all on loopback
 * under one folder. The same harness backs `strata sandbox`, the demo, the tests and the benchmarks.
 */
export class SandboxManager {
  constructor(
    private readonly log: ScopedLogger,
    private readonly runAsRoot = process.getuid?.() === 0,
  ) {}

  async up(options: SandboxUpOptions): Promise<SandboxInfo> {
    const dir = resolve(options.dir);
    const progress = options.onProgress ?? (() => {});
    const binaries = await findServerBinaries();
    const existing = await this.readState(dir);
    if (existing && existing.shardPorts.length !== options.shards) {
      throw new StrataError(
        ErrorCode.InvalidInput,
        `${dir} already holds a sandbox with ${existing.shardPorts.length} shards; use --shards ${existing.shardPorts.length} or another --dir`,
      );
    }
    if (!existing) {
      if (!Number.isInteger(options.shards) || options.shards < 1 || options.shards > MAX_SANDBOX_SHARDS) {
        throw new StrataError(ErrorCode.InvalidInput, `--shards must be a whole number from 1 to ${MAX_SANDBOX_SHARDS}`);
      }
      if (options.basePort !== undefined && (!Number.isInteger(options.basePort) || options.basePort < 1024 || options.basePort + options.shards > 65535)) {
        throw new StrataError(ErrorCode.InvalidInput, `--base-port must leave room for ${options.shards + 1} ports between 1024 and 65535`);
      }
      if ((await exists(dir)) && !(await this.isEmptyDir(dir))) {
        throw new StrataError(ErrorCode.InvalidInput, `${dir} exists and is not a Strata sandbox; choose an empty or new folder`);
      }
    }
    const state: SandboxState = existing ?? (await this.newState(binaries, options));
    const wantsNodeExporter = options.nodeExporter ?? true;
    if (wantsNodeExporter && binaries.nodeExporter && state.nodeExporterPort === undefined) {
      state.nodeExporterPort = options.basePort !== undefined && !existing ? options.basePort + options.shards + 1 : (await pickFreePorts(1))[0];
    }
    const { nodeExporter: exporterBinary, ...serverBinaries } = binaries;
    const plan = planSandbox(dir, state, wantsNodeExporter ? binaries : serverBinaries, this.runAsRoot);
    await this.checkPorts(plan);

    const createdDir = !existing;
    const started: number[] = [];
    let profile = plan.profile;
    try {
      if (createdDir) {
        progress(`initialising ${plan.shards.length} ${binaries.kind} data directories`);
        await mkdir(plan.redis.dir, { recursive: true });
        await settleAll(plan.shards.map((shard) => this.initialise(shard)));
      }
      progress('starting servers');
      await settleAll([
        ...plan.shards.map(async (shard) => {
          const pid = await this.startShardProcess(shard, plan.tls);
          if (pid) started.push(pid);
        }),
        (async () => {
          const pid = await this.startRedis(plan);
          if (pid) started.push(pid);
        })(),
      ]);
      await Promise.all(plan.shards.map((shard) => this.createDatabase(shard.port, state.database, plan.tls)));
      let exporterUrl: string | undefined;
      if (plan.nodeExporter) {
        const exporter = await this.startNodeExporter(plan, progress);
        if (exporter.pid) started.push(exporter.pid);
        exporterUrl = exporter.url;
      } else if (wantsNodeExporter && !exporterBinary) {
        progress('prometheus-node-exporter is not installed (apt-get install -y prometheus-node-exporter): host CPU and memory will show as not configured');
      }
      profile = exporterUrl ? withNodeExporter(plan.profile, exporterUrl) : plan.profile;
      await writeFile(plan.statePath, `${JSON.stringify(state, null, 2)}\n`);
      await writeFile(plan.profilePath, `${JSON.stringify(profile, null, 2)}\n`);
    } catch (error) {
      // Nothing is left half-created: stop what this call started and remove a folder it made.
      await Promise.allSettled(started.map((pid) => stopProcess(pid)));
      if (createdDir) await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch((cleanupError) => this.log.error(`could not remove ${dir}`, cleanupError));
      throw error;
    }
    this.log.info(`sandbox up in ${dir}`, { shards: state.shardPorts, redis: state.redisPort });
    return { dir, profilePath: plan.profilePath, profile, shardPorts: state.shardPorts, redisPort: state.redisPort, restarted: !createdDir };
  }

  async down(dirOption: string): Promise<{ stopped: number }> {
    const plan = await this.requirePlan(dirOption);
    const pids = await Promise.all([
      ...plan.shards.map((shard) => ownedPid(shard.pidFile, shard.dataDir)),
      ownedPid(plan.redis.pidFile, redisMarker(plan)),
      ...(plan.nodeExporter ? [ownedPid(plan.nodeExporter.pidFile, nodeExporterMarker(plan.nodeExporter.port))] : []),
    ]);
    const running = pids.filter((pid): pid is number => pid !== undefined);
    await Promise.all(running.map((pid) => stopProcess(pid)));
    this.log.info(`sandbox down in ${plan.dir}`, { stopped: running.length });
    return { stopped: running.length };
  }

  /** Stops one shard's server, as an outage would; used by tests and failure drills. */
  async stopShard(dirOption: string, index: number): Promise<void> {
    const plan = await this.requirePlan(dirOption);
    const shard = this.shardOf(plan, index);
    const pid = await ownedPid(shard.pidFile, shard.dataDir);
    if (pid) await stopProcess(pid);
  }

  /**
   * Sends a signal to one server of the sandbox, a shard by index or Redis, for fault drills: SIGKILL is a crash,
   * SIGSTOP/SIGCONT a freeze. Returns the pid signalled, or undefined when that server is not running. After SIGSTOP
   * it returns only once every thread of the server has stopped, so nothing sent afterwards is answered.
   */
  async signalServer(dirOption: string, server: number | 'redis', signal: NodeJS.Signals): Promise<number | undefined> {
    const plan = await this.requirePlan(dirOption);
    const pid =
      server === 'redis' ? await ownedPid(plan.redis.pidFile, redisMarker(plan)) : await ownedPid(this.shardOf(plan, server).pidFile, this.shardOf(plan, server).dataDir);
    if (pid === undefined) return undefined;
    process.kill(pid, signal);
    if (signal === 'SIGSTOP' && !(await waitFor(() => isProcessStopped(pid), STOP_WAIT_MS, 1))) {
      throw new StrataError(ErrorCode.SandboxSignalFailed, `${server === 'redis' ? 'redis' : `shard${server}`} (pid ${pid}) did not stop within ${STOP_WAIT_MS / 1000} s of SIGSTOP`);
    }
    return pid;
  }

  async startShard(dirOption: string, index: number): Promise<void> {
    const plan = await this.requirePlan(dirOption);
    const shard = this.shardOf(plan, index);
    if (!(await isPortFree(shard.port)) && !(await ownedPid(shard.pidFile, shard.dataDir))) {
      throw new StrataError(ErrorCode.PortInUse, `port ${shard.port} (shard${index}) is in use by another process`);
    }
    await this.startShardProcess(shard, plan.tls);
  }

  /** Stops Redis, as an outage would; it keeps nothing on disk, so it comes back empty. Used by fault tests. */
  async stopRedisServer(dirOption: string): Promise<void> {
    const plan = await this.requirePlan(dirOption);
    const pid = await ownedPid(plan.redis.pidFile, redisMarker(plan));
    if (pid) await stopProcess(pid);
  }

  async startRedisServer(dirOption: string): Promise<void> {
    await this.startRedis(await this.requirePlan(dirOption));
  }

  private shardOf(plan: SandboxPlan, index: number): ShardProcessPlan {
    const shard = plan.shards[index];
    if (!shard) throw new StrataError(ErrorCode.UnknownShard, `the sandbox has no shard ${index}`);
    return shard;
  }

  private async requirePlan(dirOption: string): Promise<SandboxPlan> {
    const dir = resolve(dirOption);
    const state = await this.readState(dir);
    if (!state) throw new StrataError(ErrorCode.SandboxNotFound, `no sandbox in ${dir} (no sandbox.json); start one with strata sandbox up --dir ${dirOption}`);
    const binaries = await findServerBinaries();
    return planSandbox(dir, state, binaries, this.runAsRoot);
  }

  private async readState(dir: string): Promise<SandboxState | undefined> {
    let text: string;
    try {
      text = await readFile(resolve(dir, 'sandbox.json'), 'utf8');
    } catch {
      return undefined;
    }
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new StrataError(ErrorCode.SandboxNotFound, `${dir}/sandbox.json is damaged: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  private async isEmptyDir(dir: string): Promise<boolean> {
    return (await readdir(dir)).length === 0;
  }

  private async newState(binaries: ServerBinaries, options: SandboxUpOptions): Promise<SandboxState> {
    const ports =
      options.basePort !== undefined
        ? Array.from({ length: options.shards + 1 }, (_, offset) => (options.basePort as number) + offset)
        : await pickFreePorts(options.shards + 1);
    return {
      version: 1,
      kind: binaries.kind,
      database: SANDBOX_DATABASE,
      shardPorts: ports.slice(0, options.shards),
      redisPort: ports[options.shards] as number,
      ...(options.tls ? { tls: options.tls } : {}),
    };
  }

  /** Every port must be free or already served by this sandbox's own process, before anything starts. */
  private async checkPorts(plan: SandboxPlan): Promise<void> {
    const checks = [
      ...plan.shards.map((shard) => ({ port: shard.port, role: `shard${shard.index}`, pidFile: shard.pidFile, marker: shard.dataDir })),
      { port: plan.redis.port, role: 'redis', pidFile: plan.redis.pidFile, marker: redisMarker(plan) },
    ];
    for (const check of checks) {
      if (await ownedPid(check.pidFile, check.marker)) continue;
      if (!(await isPortFree(check.port))) {
        throw new StrataError(ErrorCode.PortInUse, `port ${check.port} (${check.role}) is already in use by another process; free it or use another --dir/--base-port`);
      }
    }
  }

  private async initialise(shard: ShardProcessPlan): Promise<void> {
    await mkdir(shard.dataDir, { recursive: true });
    await runToCompletion(shard.initCommand.file, shard.initCommand.args, `initialising shard${shard.index}`);
  }

  /** Returns the pid it started, or undefined when the shard was already running. */
  private async startShardProcess(shard: ShardProcessPlan, tls: SandboxTls | undefined): Promise<number | undefined> {
    if (await ownedPid(shard.pidFile, shard.dataDir)) return undefined;
    const pid = spawnDetached(shard.serverCommand.file, shard.serverCommand.args);
    const ready = await waitFor(async () => (await pingShard(shard.port, tls)) || !(await this.alive(pid)), READY_TIMEOUT_MS, 50);
    if (!ready || !(await pingShard(shard.port, tls))) {
      await stopProcess(pid, 5000);
      throw new StrataError(ErrorCode.SandboxStartFailed, `shard${shard.index} did not start on port ${shard.port}: ${(await tailOf(shard.errorLog, 3)) || 'no error log'}`);
    }
    return pid;
  }

  private async startRedis(plan: SandboxPlan): Promise<number | undefined> {
    if (await ownedPid(plan.redis.pidFile, redisMarker(plan))) return undefined;
    const pid = spawnDetached(plan.redis.command.file, plan.redis.command.args);
    const ready = await waitFor(async () => (await redisPing(plan.redis.port, plan.tls)) || !(await this.alive(pid)), READY_TIMEOUT_MS, 50);
    if (!ready || !(await redisPing(plan.redis.port, plan.tls))) {
      await stopProcess(pid, 5000);
      throw new StrataError(ErrorCode.SandboxStartFailed, `redis did not start on port ${plan.redis.port}: ${(await tailOf(plan.redis.logFile, 3)) || 'no log'}`);
    }
    return pid;
  }

  /**
   * Starts the node exporter, or says why not: it is optional, so a port taken or a failed start leaves the
   * sandbox running without host metrics rather than failing it. Answers its URL when it serves.
   */
  private async startNodeExporter(plan: SandboxPlan, progress: (message: string) => void): Promise<{ pid?: number; url?: string }> {
    const exporter = plan.nodeExporter;
    if (!exporter) return {};
    if (await ownedPid(exporter.pidFile, nodeExporterMarker(exporter.port))) return { url: exporter.url };
    if (!(await isPortFree(exporter.port))) {
      progress(`port ${exporter.port} (node exporter) is in use by another process: host CPU and memory will show as not configured`);
      return {};
    }
    const pid = spawnDetached(exporter.command.file, exporter.command.args);
    await writeFile(exporter.pidFile, `${pid}\n`);
    const serves = async () => {
      try {
        return (await fetch(exporter.url, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        return false;
      }
    };
    const ready = await waitFor(async () => (await serves()) || !(await this.alive(pid)), 10_000, 50);
    if (!ready || !(await serves())) {
      await stopProcess(pid, 5000);
      progress(`the node exporter did not start on port ${exporter.port}: host CPU and memory will show as not configured`);
      return {};
    }
    progress(`node exporter on ${exporter.url}`);
    return { pid, url: exporter.url };
  }

  private async alive(pid: number): Promise<boolean> {
    return isProcessAlive(pid);
  }

  private async createDatabase(port: number, database: string, tls: SandboxTls | undefined): Promise<void> {
    const connection = await adminConnection(port, tls);
    try {
      await connection.query(`CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await connection.end();
    }
  }
}
