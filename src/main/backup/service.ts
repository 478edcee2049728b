import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, statfs, writeFile } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  backupFileName,
  backupManifestName,
  backupRequestSchema,
  backupTables,
  BACKUP_MANIFEST_FORMAT,
  type BackupCompression,
  type BackupManifest,
  type BackupPart,
  type BackupRequest,
  type BackupShardPlan,
  type BackupSetState,
  type BackupWatermark,
  type DumpClient,
  type NewestVerified,
} from '../../shared/backup';
import { effectiveTls } from '../../shared/profile';
import { ROLLUP_LEVELS, type RollupLevel } from '../../shared/rollup';
import type { ClusterConnections } from '../cluster/connections';
import type { ShardActivityRegistry, ActivityClaim } from '../conflicts/registry';
import { describeConflict, findConflict } from '../conflicts/rules';
import { osUser } from '../identity';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import type { ScopedLogger } from '../log';
import type { SecretResolver } from '../secrets';
import type { ClusterState } from '../state';
import { BackupCatalog } from './catalog';
import { runDump } from './dump';
import {
  checkClientVersion,
  commandLine,
  compressionRatio,
  defaultsFileText,
  DEFAULTS_FILE_PLACEHOLDER,
  dumpCommand,
  dumpOptions,
  dumpRate,
  estimateShard,
  parseDumpClient,
  roomNeeded,
  roomRefusal,
  backupSetId,
} from './planner';
import type {
  BackupList,
  BackupPlan,
  BackupProgress,
  BackupPruneReport,
  BackupPruneRequestInput,
  BackupRequestInput,
  BackupRestoreReport,
  BackupRestoreRequest,
  BackupSetRecord,
  BackupVerifyReport,
  BackupVerifyRequest,
} from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { Disposable } from '../lifecycle/disposable';

/** A set started in this process: its record at the start, and the record once every dump ended. */
export interface StartedBackup {
  record: BackupSetRecord;
  done: Promise<BackupSetRecord>;
}

/**
 * Backups of every shard (issue 10): the dry run, taking a set (dumps in parallel, streamed through compression
 * into the destination), the catalog, cancel from any host; verify, restore and retention delegate to their own
 * modules (verify-service.ts, restore-service.ts, retention.ts).
 */
export interface BackupService extends Disposable {
  /** Per shard the tables, estimated sizes and time, the free space at the destination and the exact command line. */
  plan(request: BackupRequestInput): Promise<BackupPlan>;
  /** Plans, refuses what cannot work (no room, no client), records the set and starts the dumps; answers at once. */
  start(request: BackupRequestInput, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<StartedBackup>;
  /** The catalog, newest first, and per shard the age of the newest verified backup. */
  list(limit?: number): Promise<BackupList>;
  /** One set from the catalog; BackupNotFound when there is none with this id. */
  get(id: string): Promise<BackupSetRecord>;
  /** Asks the process running the set (any host) to stop every dump, and waits until it has; answers the record. */
  cancel(id: string): Promise<BackupSetRecord>;
  verify(request: BackupVerifyRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupVerifyReport>;
  restore(request: BackupRestoreRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupRestoreReport>;
  prune(request: BackupPruneRequestInput): Promise<BackupPruneReport>;
  /** Every progress event of a set this process runs. */
  onProgress(listener: (progress: BackupProgress) => void): () => void;
  /** Every progress event of a verification this process runs (per part: bytes loaded, MB/s, time left). */
  onVerifyProgress(listener: (progress: BackupProgress) => void): () => void;
}

/** What verify-service.ts provides (BK2). */
export interface BackupVerifier {
  verify(request: BackupVerifyRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupVerifyReport>;
}

/** What restore-service.ts provides (BK2). */
export interface BackupRestorer {
  restore(request: BackupRestoreRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupRestoreReport>;
}

/** What the backup retention service provides (BK2). */
export interface BackupPruner {
  prune(request: BackupPruneRequestInput): Promise<BackupPruneReport>;
}

/** The parts another module implements, handed in by the composition root once they exist. */
export interface BackupExtensions {
  verifier?: BackupVerifier;
  restorer?: BackupRestorer;
  pruner?: BackupPruner;
}

export function notAvailable(what: string): StrataError {
  return new StrataError(ErrorCode.BackupNotAvailable, `backup ${what} is not available in this build yet`);
}

const run = promisify(execFile);

/** The setting naming how many shards dump at once. */
export const BACKUP_PARALLELISM_SETTING = 'backup.parallelism';
export const DEFAULT_BACKUP_PARALLELISM = 4;

export interface BackupServiceOptions {
  clock?: () => Date;
  host?: string;
  actor?: string;
  /** The folder used when neither the request nor the profile names one. */
  defaultDest?: string;
  /** Overrides the client search (STRATA_DUMP_CLIENT does too). */
  clientPath?: string;
  /** How often a running set looks for a cancel written by another host. */
  cancelCheckMs?: number;
  /** How long cancel() waits for the running process to stop. */
  cancelWaitMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Called with each dump child's pid (tests read its /proc entries). */
  onDumpSpawn?: (shard: number, pid: number) => void;
}

/** Strata's data directory (STRATA_DATA_DIR, else ~/.strata): backups go to its `backups` folder by default. */
export function defaultBackupDest(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.STRATA_DATA_DIR ?? join(homedir(), '.strata'), 'backups');
}

interface ShardFacts {
  serverVersion: string;
  binaryLogging: boolean;
  tables: Array<{ table: string; estimatedRows: number; estimatedBytes: number }>;
}

const TERMINAL: readonly BackupSetState[] = ['ok', 'partial', 'failed', 'cancelled'];

export class ClusterBackupService implements BackupService {
  private readonly catalog: BackupCatalog;
  private readonly progress: Emitter<BackupProgress>;
  private readonly verifyProgress: Emitter<BackupProgress>;
  private readonly clock: () => Date;
  private readonly host: string;
  private readonly actor: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<BackupSetRecord> }>();
  private disposed = false;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: Pick<ClusterState, 'control' | 'settings' | 'audit'>,
    private readonly activities: ShardActivityRegistry,
    private readonly secrets: SecretResolver,
    private readonly log: ScopedLogger,
    private readonly extensions: BackupExtensions = {},
    private readonly options: BackupServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = `${options.actor ?? osUser()}@${this.host}`.slice(0, 255);
    this.env = options.env ?? process.env;
    this.catalog = new BackupCatalog(state.control, this.clock);
    this.progress = new Emitter(log, 'backup progress');
    this.verifyProgress = new Emitter(log, 'backup verify progress');
  }

  /** The catalog, for verify, restore and retention. */
  get store(): BackupCatalog {
    return this.catalog;
  }

  onProgress(listener: (progress: BackupProgress) => void): () => void {
    return this.progress.on(listener);
  }

  onVerifyProgress(listener: (progress: BackupProgress) => void): () => void {
    return this.verifyProgress.on(listener);
  }

  /** The dump client: STRATA_DUMP_CLIENT, the profile's backup.client, else mariadb-dump or mysqldump on PATH. */
  async findClient(): Promise<DumpClient> {
    const named = this.options.clientPath ?? this.env.STRATA_DUMP_CLIENT ?? this.connections.profile.backup?.client;
    const candidates = named ? [named] : ['mariadb-dump', 'mysqldump'];
    for (const candidate of candidates) {
      let versionLine: string;
      try {
        versionLine = (await run(candidate, ['--version'], { env: { PATH: this.env.PATH ?? '/usr/bin:/bin' }, timeout: 10_000 })).stdout;
      } catch {
        continue;
      }
      const client = parseDumpClient(candidate, versionLine);
      if (!client) throw new StrataError(ErrorCode.BackupClientMissing, `${candidate} --version said "${versionLine.trim()}", which is neither mysqldump nor mariadb-dump`);
      return checkClientVersion(client);
    }
    throw new StrataError(
      ErrorCode.BackupClientMissing,
      named
        ? `the dump client ${named} (from ${this.options.clientPath ? 'the options' : this.env.STRATA_DUMP_CLIENT ? 'STRATA_DUMP_CLIENT' : "the profile's backup.client"}) cannot be run`
        : 'no dump client found: looked for mariadb-dump and mysqldump on PATH; install mariadb-client or mysql-client, or name one in the profile (backup.client)',
    );
  }

  private async findZstd(): Promise<string | undefined> {
    try {
      await run('zstd', ['--version'], { env: { PATH: this.env.PATH ?? '/usr/bin:/bin' }, timeout: 10_000 });
      return 'zstd';
    } catch {
      return undefined;
    }
  }

  private destOf(request: BackupRequest): string {
    return resolve(request.dest ?? this.connections.profile.backup?.dest ?? this.options.defaultDest ?? defaultBackupDest(this.env));
  }

  private checkRequest(input: BackupRequestInput): BackupRequest {
    const parsed = backupRequestSchema.safeParse(input);
    if (!parsed.success) throw new StrataError(ErrorCode.BackupInvalid, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; '));
    for (const shard of parsed.data.shards ?? []) this.connections.shard(shard);
    return parsed.data;
  }

  private shardsOf(request: BackupRequest): number[] {
    return [...new Set(request.shards ?? this.connections.shards.map((shard) => shard.index))].sort((a, b) => a - b);
  }

  private async facts(shard: number, tables: readonly string[]): Promise<ShardFacts> {
    const [versions] = await Promise.all([this.connections.query<Array<{ version: string; logBin: number | string }>>(shard, 'SELECT VERSION() AS version, @@log_bin AS logBin')]);
    const sizes = await this.connections.query<Array<{ table: string; rows: number | string | null; bytes: number | string | null }>>(
      shard,
      'SELECT TABLE_NAME AS `table`, TABLE_ROWS AS `rows`, DATA_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)',
      [tables],
    );
    return {
      serverVersion: versions[0]?.version ?? 'unknown',
      binaryLogging: Number(versions[0]?.logBin ?? 0) === 1,
      tables: tables.map((table) => {
        const row = sizes.find((size) => size.table === table);
        return { table, estimatedRows: Number(row?.rows ?? 0), estimatedBytes: Number(row?.bytes ?? 0) };
      }),
    };
  }

  private async freeBytes(dest: string): Promise<number> {
    for (let dir = dest; ; dir = dirname(dir)) {
      try {
        const stats = await statfs(dir);
        return Number(stats.bavail) * Number(stats.bsize);
      } catch (error) {
        if (dirname(dir) === dir) throw error;
      }
    }
  }

  private async parallelism(shards: number): Promise<number> {
    const stored = await this.state.settings.read(BACKUP_PARALLELISM_SETTING).catch(() => undefined);
    const value = stored ? Number(JSON.parse(stored.value)) : DEFAULT_BACKUP_PARALLELISM;
    return Math.max(1, Math.min(shards, Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_BACKUP_PARALLELISM));
  }

  async plan(input: BackupRequestInput): Promise<BackupPlan> {
    return (await this.planInternal(this.checkRequest(input))).plan;
  }

  private async planInternal(request: BackupRequest, setId = '<set id>'): Promise<{ plan: BackupPlan; facts: Map<number, ShardFacts> }> {
    const client = await this.findClient();
    const zstd = await this.findZstd();
    const compression: BackupCompression = zstd ? 'zstd' : 'gzip';
    const dest = this.destOf(request);
    const tables = backupTables(request);
    const shards = this.shardsOf(request);
    const facts = new Map<number, ShardFacts>();
    const running = await this.activities.running().catch(() => []);
    const shardPlans = await Promise.all(
      shards.map(async (index): Promise<BackupShardPlan> => {
        const handle = this.connections.shard(index);
        const file = join(dest, backupFileName(setId, index, compression));
        const blocking = findConflict('backup', running.filter((record) => record.shard === index));
        const base = { shard: index, shardName: handle.label, file, ...(blocking ? { blockedBy: describeConflict(blocking, handle.label) } : {}) };
        try {
          const shardFacts = await this.facts(index, tables);
          facts.set(index, shardFacts);
          const earlier = await this.catalog.earlierParts(index).catch(() => []);
          const rate = dumpRate(earlier);
          const estimate = estimateShard(shardFacts.tables, rate, compressionRatio(earlier));
          const argv = dumpCommand(client, DEFAULTS_FILE_PLACEHOLDER, dumpOptions({ client, binaryLogging: shardFacts.binaryLogging, database: handle.config.database, tables }));
          return { ...base, serverVersion: shardFacts.serverVersion, binaryLogging: shardFacts.binaryLogging, tables: shardFacts.tables, ...estimate, rate, command: argv, commandLine: commandLine(argv) };
        } catch (error) {
          const argv = dumpCommand(client, DEFAULTS_FILE_PLACEHOLDER, dumpOptions({ client, binaryLogging: false, database: handle.config.database, tables }));
          return {
            ...base,
            serverVersion: null,
            binaryLogging: false,
            tables: [],
            estimatedBytes: 0,
            estimatedFileBytes: 0,
            estimatedSeconds: 0,
            rate: dumpRate([]),
            command: argv,
            commandLine: commandLine(argv),
            problem: asProblem(error),
          };
        }
      }),
    );
    const estimatedFileBytes = shardPlans.reduce((sum, shard) => sum + shard.estimatedFileBytes, 0);
    const freeBytes = await this.freeBytes(dest);
    const refusal = roomRefusal(dest, estimatedFileBytes, freeBytes);
    const plan: BackupPlan = {
      plannedAt: this.clock().toISOString(),
      dest,
      compression,
      client,
      tables,
      parallelism: await this.parallelism(shards.length),
      shards: shardPlans,
      estimatedFileBytes,
      freeBytes,
      ...(refusal ? { refusal } : {}),
    };
    return { plan, facts };
  }

  async start(input: BackupRequestInput, options: { onProgress?: (progress: BackupProgress) => void } = {}): Promise<StartedBackup> {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the backup service is shutting down');
    const request = this.checkRequest(input);
    const startedAt = this.clock();
    const setId = backupSetId(startedAt, randomBytes(2).toString('hex'));
    const { plan, facts } = await this.planInternal(request, setId);
    if (plan.refusal) throw new StrataError(ErrorCode.BackupNoRoom, plan.refusal);
    await mkdir(plan.dest, { recursive: true });
    await access(plan.dest, constants.W_OK).catch((error: unknown) => {
      throw new StrataError(ErrorCode.BackupInvalid, `the destination ${plan.dest} is not writable: ${(error as Error).message}`);
    });
    const manifestPath = join(plan.dest, backupManifestName(setId));
    const parts = plan.shards.map((shard) => this.initialPart(shard, plan, facts.get(shard.shard)));
    await this.catalog.createSet(
      { id: setId, createdBy: this.actor, host: this.host, pid: process.pid, startedAt, dest: plan.dest, manifestPath, compression: plan.compression, tables: plan.tables, includeRaw: request.includeRaw },
      parts,
    );
    await this.state.audit.writeBestEffort({
      at: startedAt,
      actor: this.actor,
      host: this.host,
      action: 'backup.run',
      target: setId,
      detail: JSON.stringify({ shards: plan.shards.map((shard) => shard.shard), tables: plan.tables, dest: plan.dest }),
    });
    const abort = new AbortController();
    const done = this.execute(setId, startedAt, plan, request, parts, manifestPath, abort, options.onProgress);
    this.running.set(setId, { abort, done });
    void done.finally(() => this.running.delete(setId)).catch(() => {});
    const record = await this.get(setId);
    return { record, done };
  }

  private initialPart(shard: BackupShardPlan, plan: BackupPlan, facts: ShardFacts | undefined): BackupPart {
    const handle = this.connections.shard(shard.shard);
    return {
      shard: shard.shard,
      shardName: shard.shardName,
      host: handle.config.host,
      port: handle.config.port,
      database: handle.config.database,
      serverVersion: shard.serverVersion,
      client: plan.client,
      options: dumpOptions({ client: plan.client, binaryLogging: facts?.binaryLogging ?? false, database: handle.config.database, tables: plan.tables }),
      tables: plan.tables,
      position: null,
      file: basename(shard.file),
      bytes: 0,
      dumpBytes: 0,
      sha256: null,
      startedAt: null,
      finishedAt: null,
      durationMs: 0,
      rowCounts: [],
      watermarks: [],
      outcome: shard.problem ? 'failed' : shard.blockedBy ? 'skipped' : 'running',
      error: shard.problem ?? (shard.blockedBy ? { code: ErrorCode.ShardBusy, message: `skipped: ${shard.blockedBy}` } : null),
    };
  }

  private async execute(
    setId: string,
    startedAt: Date,
    plan: BackupPlan,
    request: BackupRequest,
    parts: BackupPart[],
    manifestPath: string,
    abort: AbortController,
    onProgress: ((progress: BackupProgress) => void) | undefined,
  ): Promise<BackupSetRecord> {
    const emit = (progress: BackupProgress) => this.progress.emit(progress, onProgress);
    const setState = (): BackupSetState => (abort.signal.aborted ? 'cancelling' : 'running');
    const zero = { bytesWritten: 0, dumpBytes: 0, tablesDone: 0, tablesTotal: plan.tables.length, currentTable: null, rows: 0, mbPerSecond: 0, etaSeconds: null, elapsedMs: 0 };
    emit({ setId, kind: 'started', state: 'running', ...zero });
    const cancelWatch = setInterval(() => {
      this.catalog
        .cancelRequested(setId)
        .then((asked) => {
          if (asked) abort.abort();
        })
        .catch(() => {});
    }, this.options.cancelCheckMs ?? 1000);
    cancelWatch.unref();
    const queue = parts.filter((part) => part.outcome === 'running');
    for (const part of parts.filter((part) => part.outcome !== 'running')) {
      emit({ setId, kind: 'shard', state: setState(), shard: part.shard, shardName: part.shardName, outcome: part.outcome, ...zero, error: part.error?.message });
    }
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        await this.dumpShard(setId, plan, part, abort.signal, emit, setState).catch((error: unknown) => this.log.error(`backup ${setId} shard ${part!.shard} failed to record`, error));
      }
    };
    try {
      await Promise.all(Array.from({ length: plan.parallelism }, worker));
    } finally {
      clearInterval(cancelWatch);
    }
    const outcomes = parts.map((part) => part.outcome);
    const state: BackupSetState = abort.signal.aborted
      ? 'cancelled'
      : outcomes.every((outcome) => outcome === 'ok')
        ? 'ok'
        : outcomes.some((outcome) => outcome === 'ok')
          ? 'partial'
          : 'failed';
    const bytes = parts.reduce((sum, part) => sum + part.bytes, 0);
    const failures = parts.filter((part) => part.error).map((part) => `${part.shardName}: ${part.error!.message}`);
    const error = failures.length > 0 ? failures.join('; ') : null;
    const manifest: BackupManifest = {
      format: BACKUP_MANIFEST_FORMAT,
      setId,
      createdBy: this.actor,
      host: this.host,
      pid: process.pid,
      profileName: this.connections.profile.name ?? 'unnamed',
      startedAt: startedAt.toISOString(),
      finishedAt: this.clock().toISOString(),
      state,
      dest: plan.dest,
      compression: plan.compression,
      compressor: plan.compression === 'zstd' ? 'zstd -c -3 (the zstd binary)' : 'gzip (node zlib, level 6)',
      tables: plan.tables,
      includeRaw: request.includeRaw,
      parts,
      error,
    };
    if (state !== 'cancelled' && state !== 'failed') {
      await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o640 }).catch((writeError: unknown) => this.log.error(`could not write the manifest ${manifestPath}`, writeError));
    }
    await this.catalog.finishSet(setId, state, bytes, error).catch((finishError: unknown) => this.log.error(`could not finish backup ${setId} in the catalog`, finishError));
    emit({ setId, kind: 'finished', state, ...zero, bytesWritten: bytes, dumpBytes: parts.reduce((sum, part) => sum + part.dumpBytes, 0), elapsedMs: this.clock().getTime() - startedAt.getTime(), ...(error ? { error } : {}) });
    return (await this.catalog.read(setId).catch(() => undefined)) ?? { ...this.recordFromManifest(manifest, manifestPath) };
  }

  private recordFromManifest(manifest: BackupManifest, manifestPath: string): BackupSetRecord {
    return {
      id: manifest.setId,
      state: manifest.state,
      createdBy: manifest.createdBy,
      host: manifest.host,
      pid: manifest.pid,
      startedAt: manifest.startedAt,
      finishedAt: manifest.finishedAt,
      updatedAt: manifest.finishedAt ?? manifest.startedAt,
      dest: manifest.dest,
      manifestPath,
      compression: manifest.compression,
      tables: manifest.tables,
      includeRaw: manifest.includeRaw,
      bytes: manifest.parts.reduce((sum, part) => sum + part.bytes, 0),
      error: manifest.error,
      parts: manifest.parts.map((part) => ({ ...part, verifiedAt: null, verifyOutcome: null, verifyMs: null, verifyError: null })),
    };
  }

  private async dumpShard(
    setId: string,
    plan: BackupPlan,
    part: BackupPart,
    signal: AbortSignal,
    emit: (progress: BackupProgress) => void,
    setState: () => BackupSetState,
  ): Promise<void> {
    const handle = this.connections.shard(part.shard);
    const shardPlan = plan.shards.find((shard) => shard.shard === part.shard)!;
    const started = this.clock();
    part.startedAt = started.toISOString();
    let claim: ActivityClaim | undefined;
    const progressOf = (dumpBytes: number, bytes: number, scan: { tablesDone: number; currentTable: string | null; rows: Array<{ rows: number }> }) => {
      const elapsedMs = Math.max(1, this.clock().getTime() - started.getTime());
      const rate = dumpBytes / (elapsedMs / 1000);
      return {
        bytesWritten: bytes,
        dumpBytes,
        tablesDone: scan.tablesDone,
        tablesTotal: plan.tables.length,
        currentTable: scan.currentTable,
        rows: scan.rows.reduce((sum, table) => sum + table.rows, 0),
        mbPerSecond: Math.round((rate / 1e6) * 100) / 100,
        etaSeconds: shardPlan.estimatedBytes > 0 && rate > 0 ? Math.max(0, (shardPlan.estimatedBytes - dumpBytes) / rate) : null,
        elapsedMs,
      };
    };
    try {
      if (signal.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
      try {
        claim = await this.activities.claim(part.shard, 'backup', `backup set ${setId}`);
      } catch (error) {
        if (error instanceof StrataError && error.code === ErrorCode.ShardBusy) {
          part.outcome = 'skipped';
          part.error = { code: error.code, message: `skipped: ${error.message}` };
          return;
        }
        throw error;
      }
      const password = await this.secrets.resolve(handle.config, handle.label);
      const tls = effectiveTls(handle.config, this.connections.profile);
      let lastEmit = 0;
      const result = await runDump({
        client: plan.client,
        defaultsText: defaultsFileText({
          host: handle.config.host,
          port: handle.config.port,
          user: handle.config.user,
          password,
          ...(tls ? { tls: { ca: tls.ca, cert: tls.cert, key: tls.key, required: tls.require } } : {}),
        }),
        options: part.options,
        compression: plan.compression,
        path: join(plan.dest, part.file),
        dest: plan.dest,
        captureTables: new Set(['strata_watermarks']),
        signal,
        estimatedFileBytes: roomNeeded(shardPlan.estimatedFileBytes),
        onSpawn: (pid) => this.options.onDumpSpawn?.(part.shard, pid),
        onData: ({ dumpBytes, bytes, scan }) => {
          const now = Date.now();
          if (now - lastEmit < 250) return;
          lastEmit = now;
          emit({ setId, kind: 'shard', state: setState(), shard: part.shard, shardName: part.shardName, outcome: 'running', ...progressOf(dumpBytes, bytes, scan) });
        },
      });
      part.bytes = result.bytes;
      part.dumpBytes = result.dumpBytes;
      part.sha256 = result.sha256;
      part.position = result.scan.position;
      part.rowCounts = plan.tables.map((table) => ({ table, rows: result.scanner.rowsOf(table) }));
      part.watermarks = watermarksOf(result.scanner.capturedRows('strata_watermarks'));
      part.outcome = 'ok';
      part.error = null;
    } catch (error) {
      part.outcome = signal.aborted ? 'cancelled' : 'failed';
      part.error = signal.aborted ? { code: ErrorCode.Cancelled, message: 'cancelled; the partial file was removed' } : asProblem(error);
      if (!signal.aborted) this.log.warn(`backup ${setId}: ${handle.label} failed`, error);
    } finally {
      await claim?.release().catch(() => {});
      const finished = this.clock();
      part.finishedAt = finished.toISOString();
      part.durationMs = Math.max(0, finished.getTime() - started.getTime());
      await this.catalog.updatePart(setId, part);
      emit({
        setId,
        kind: 'shard',
        state: setState(),
        shard: part.shard,
        shardName: part.shardName,
        outcome: part.outcome,
        ...progressOf(part.dumpBytes, part.bytes, { tablesDone: part.outcome === 'ok' ? plan.tables.length : 0, currentTable: null, rows: part.rowCounts }),
        etaSeconds: 0,
        ...(part.error ? { error: part.error.message } : {}),
      });
    }
  }

  async list(limit = 50): Promise<BackupList> {
    const checkedAt = this.clock();
    const [sets, verified] = await Promise.all([this.catalog.list(limit), this.catalog.newestVerified()]);
    const newestVerified: NewestVerified[] = this.connections.shards.map((handle) => {
      const found = verified.find((row) => row.shard === handle.index);
      const takenAt = found?.finishedAt ?? null;
      return {
        shard: handle.index,
        shardName: handle.label,
        setId: found?.setId ?? null,
        takenAt: takenAt ? takenAt.toISOString() : null,
        verifiedAt: found ? found.verifiedAt.toISOString() : null,
        ageSeconds: takenAt ? Math.max(0, Math.floor((checkedAt.getTime() - takenAt.getTime()) / 1000)) : null,
      };
    });
    return { checkedAt: checkedAt.toISOString(), sets, newestVerified };
  }

  async get(id: string): Promise<BackupSetRecord> {
    const record = await this.catalog.read(id);
    if (!record) throw new StrataError(ErrorCode.BackupNotFound, `there is no backup set ${id}; strata backup list shows them`);
    return record;
  }

  async cancel(id: string): Promise<BackupSetRecord> {
    const record = await this.get(id);
    if (TERMINAL.includes(record.state)) throw new StrataError(ErrorCode.BackupNotRunning, `backup set ${id} is not running: it ended ${record.state}`);
    await this.catalog.requestCancel(id);
    const local = this.running.get(id);
    if (local) {
      local.abort.abort();
      return local.done;
    }
    const deadline = Date.now() + (this.options.cancelWaitMs ?? 60_000);
    for (;;) {
      const current = await this.get(id);
      if (TERMINAL.includes(current.state)) return current;
      if (Date.now() > deadline) return current;
      await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    }
  }

  verify(request: BackupVerifyRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupVerifyReport> {
    if (!this.extensions.verifier) return Promise.reject(notAvailable('verify'));
    return this.extensions.verifier.verify(request, { ...options, onProgress: (progress) => this.verifyProgress.emit(progress, options?.onProgress) });
  }

  restore(request: BackupRestoreRequest, options?: { onProgress?: (progress: BackupProgress) => void }): Promise<BackupRestoreReport> {
    if (!this.extensions.restorer) return Promise.reject(notAvailable('restore'));
    return this.extensions.restorer.restore(request, options);
  }

  prune(request: BackupPruneRequestInput): Promise<BackupPruneReport> {
    if (!this.extensions.pruner) return Promise.reject(notAvailable('prune'));
    return this.extensions.pruner.prune(request);
  }

  /** Stops every set this process runs (their parts end cancelled and their partial files are removed). */
  async dispose(): Promise<void> {
    this.disposed = true;
    const sets = [...this.running.values()];
    for (const set of sets) set.abort.abort();
    await Promise.allSettled(sets.map((set) => set.done));
    this.progress.clear();
    this.verifyProgress.clear();
  }
}

/** The strata_watermarks rows as the dump holds them (text values, DATETIME as `YYYY-MM-DD HH:MM:SS` UTC). */
function watermarksOf(rows: Array<Record<string, string | null>>): BackupWatermark[] {
  const time = (value: string | null | undefined) => (value ? `${value.replace(' ', 'T')}Z`.replace(/\.\d+Z$/, 'Z') : null);
  return rows
    .filter((row): row is Record<string, string | null> & { level: RollupLevel } => ROLLUP_LEVELS.includes(row.level as RollupLevel))
    .map((row) => ({ level: row.level, watermark: time(row.watermark), coveredFrom: time(row.covered_from), fencingToken: Number(row.fencing_token ?? 0) }));
}
