import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants as fsConstants, createReadStream } from 'node:fs';
import { access, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import {
  BACKUP_RAW_TABLE,
  BACKUP_TABLE_CHOICES,
  type BackupPartRecord,
  type BackupProgress,
  type BackupRestoreReport,
  type BackupRestoreRequest,
  type BackupSetRecord,
} from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import { effectiveTls } from '../../shared/profile';
import type { RollupLevel } from '../../shared/rollup';
import type { ClusterConnections, ShardHandle } from '../cluster/connections';
import type { ShardActivityRegistry } from '../conflicts/registry';
import { osUser } from '../identity';
import type { ClusterLease } from '../lease/lease';
import { runUnderLease } from '../lease/exclusive';
import type { ScopedLogger } from '../log';
import type { SecretResolver } from '../secrets';
import type { ClusterState } from '../state';
import type { BackupCatalog } from './catalog';
import { cleanChildEnv, defaultsFileText } from './planner';
import { DumpTableFilter, LEVEL_OF_TABLE, quoteIdentifier, restoreTarget, tablesToRestore, watermarkResetStatements } from './restore-planner';

/** The catalog reads verify and restore need. */
export type BackupCatalogReader = Pick<BackupCatalog, 'read'>;

/** One set of the catalog, or BackupNotFound naming the id. */
export async function readSet(catalog: BackupCatalogReader, id: string): Promise<BackupSetRecord> {
  const record = await catalog.read(id);
  if (!record) throw new StrataError(ErrorCode.BackupNotFound, `no backup set ${id} in the catalog; strata backup list shows them`);
  return record;
}

/** What loading a dump reports as it goes: compressed bytes read of the file's total. */
export type LoadProgress = (readBytes: number, totalBytes: number, dumpBytes: number) => void;

/** Where a part's file is: beside its set's manifest. */
export function partFilePath(record: BackupSetRecord, part: BackupPartRecord): string {
  return join(dirname(record.manifestPath), part.file);
}

/** The part of one shard that holds a complete dump; anything else is refused with the reason. */
export function completePart(record: BackupSetRecord, shard: number): BackupPartRecord {
  const part = record.parts.find((candidate) => candidate.shard === shard);
  if (!part) throw new StrataError(ErrorCode.BackupInvalid, `backup ${record.id} has no part of shard ${shard}; it holds shards ${record.parts.map((entry) => entry.shard).join(', ')}`);
  if (part.outcome !== 'ok' || !part.sha256) throw new StrataError(ErrorCode.BackupInvalid, `backup ${record.id} of ${part.shardName} did not complete (${part.outcome}${part.error ? `: ${part.error.message}` : ''}); there is no dump to use`);
  return part;
}

/**
 * Checks a part's file against the manifest: its size first (a truncated copy says so), then its sha256. Throws
 * BackupVerifyFailed with a sentence saying what did not match.
 */
export async function checkPartFile(path: string, part: BackupPartRecord, signal?: AbortSignal): Promise<void> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    throw new StrataError(ErrorCode.BackupVerifyFailed, `${path}: the file of ${part.shardName} is missing (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (size !== part.bytes) {
    throw new StrataError(ErrorCode.BackupVerifyFailed, `${path}: the file is ${size} bytes, the manifest says ${part.bytes}: it was ${size < part.bytes ? 'truncated' : 'extended'} after the backup`);
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  const actual = hash.digest('hex');
  if (actual !== part.sha256) {
    throw new StrataError(ErrorCode.BackupVerifyFailed, `${path}: its sha256 is ${actual}, the manifest says ${part.sha256}: the file was changed or corrupted after the backup`);
  }
}

/** A program on PATH (or beside `near`), or undefined. */
async function findProgram(names: readonly string[], near?: string): Promise<string | undefined> {
  const folders = [...(near ? [dirname(near)] : []), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const name of names) {
    for (const folder of folders) {
      const candidate = join(folder, name);
      try {
        await access(candidate, fsConstants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** The command-line client that loads a dump: MariaDB's `mariadb` for a MariaDB dump, `mysql` otherwise. */
export async function findLoadClient(part: BackupPartRecord): Promise<string> {
  const names = part.client.flavor === 'mariadb' ? ['mariadb', 'mysql'] : ['mysql', 'mariadb'];
  const found = await findProgram(names, part.client.path);
  if (!found) throw new StrataError(ErrorCode.BackupClientMissing, `no ${names.join(' or ')} client found beside ${part.client.path} or on PATH; it loads the dump`);
  return found;
}

/**
 * Writes the `[client]` options of a shard (the dump's own defaultsFileText) to a 0600 file in a private 0700
 * folder, so the password never reaches a command line or the child's environment; `remove` deletes both.
 */
export async function writeClientDefaults(connections: ClusterConnections, secrets: SecretResolver, handle: ShardHandle): Promise<{ file: string; remove: () => Promise<void> }> {
  const password = await secrets.resolve(handle.config, handle.label);
  const folder = await mkdtemp(join(tmpdir(), 'strata-restore-'));
  const remove = () => rm(folder, { recursive: true, force: true });
  try {
    const tls = effectiveTls(handle.config, connections.profile);
    const text = defaultsFileText({
      host: handle.config.host,
      port: handle.config.port,
      user: handle.config.user,
      password,
      ...(tls ? { tls: { ca: tls.ca, cert: tls.cert, key: tls.key, required: tls.require } } : {}),
    });
    const file = join(folder, 'strata-restore.cnf');
    await writeFile(file, text, { mode: 0o600 });
    return { file, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** The decompressed dump of a file: zstd through the `zstd` program, gzip through zlib. */
function decompressed(path: string, compression: BackupSetRecord['compression'], children: ChildProcess[], errors: string[]): Readable {
  if (compression === 'gzip') return createReadStream(path).pipe(createGunzip());
  const zstd = spawn('zstd', ['-d', '-c', '-q', '--', path], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanChildEnv(process.env) });
  children.push(zstd);
  zstd.stderr.on('data', (data: Buffer) => errors.push(data.toString()));
  return zstd.stdout;
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

export interface LoadRequest {
  connections: ClusterConnections;
  secrets: SecretResolver;
  record: BackupSetRecord;
  part: BackupPartRecord;
  database: string;
  /** The server `database` is on, when it is not the part's shard (verify's `backup.verifyServer`). */
  server?: ShardHandle;
  /** Only these tables of the dump; all when absent. */
  tables?: readonly string[];
  signal?: AbortSignal;
  onProgress?: LoadProgress;
}

/**
 * Pipes a part's decompressed dump into the `mariadb`/`mysql` client connected to `database` on the part's
 * shard (`--defaults-extra-file` first, as the client requires), and waits until the client has loaded it.
 */
export async function loadDump(request: LoadRequest): Promise<void> {
  const { record, part } = request;
  const handle = request.server ?? request.connections.shard(part.shard);
  const path = partFilePath(record, part);
  const client = await findLoadClient(part);
  const defaults = await writeClientDefaults(request.connections, request.secrets, handle);
  const children: ChildProcess[] = [];
  const errors: string[] = [];
  try {
    const loader = spawn(client, [`--defaults-extra-file=${defaults.file}`, '--batch', '--binary-mode', '--default-character-set=utf8mb4', request.database], { stdio: ['pipe', 'ignore', 'pipe'], env: cleanChildEnv(process.env) });
    children.push(loader);
    loader.stderr.on('data', (data: Buffer) => errors.push(data.toString()));
    const loaded = exited(loader);
    loaded.catch(() => {});
    const abort = () => children.forEach((child) => child.kill('SIGTERM'));
    request.signal?.addEventListener('abort', abort, { once: true });
    const totalBytes = part.bytes;
    let readBytes = 0;
    let dumpBytes = 0;
    const fileStream = decompressed(path, record.compression, children, errors);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        dumpBytes += chunk.length;
        readBytes = Math.min(totalBytes, Math.round((dumpBytes / Math.max(1, part.dumpBytes)) * totalBytes));
        request.onProgress?.(readBytes, totalBytes, dumpBytes);
        callback(null, chunk);
      },
    });
    const filter = new DumpTableFilter(request.tables ? new Set(request.tables) : undefined);
    try {
      await pipeline(fileStream, counter, filter, loader.stdin);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') {
        abort();
        await loaded.catch(() => {});
        throw error instanceof StrataError ? error : new StrataError(ErrorCode.BackupRestoreFailed, `${path}: ${(error as Error).message}`, { cause: error });
      }
    } finally {
      request.signal?.removeEventListener('abort', abort);
    }
    const code = await loaded;
    const decompressorCodes = await Promise.all(children.filter((child) => child !== loader).map(exited));
    if (request.signal?.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
    if (request.tables && !filter.recognisedTables) throw new StrataError(ErrorCode.BackupRestoreFailed, `${path}: the dump has no table comments, so single tables cannot be picked from it; restore all of it`);
    if (code !== 0 || decompressorCodes.some((exit) => exit !== 0)) {
      const said = errors.join('').trim().split('\n').slice(0, 3).join(' ');
      throw new StrataError(ErrorCode.BackupRestoreFailed, `${path}: loading into ${handle.label} ${request.database} failed: ${said || `the client exited with ${code}`}`);
    }
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await defaults.remove();
  }
}

/** `hourly` or `analytics_hourly` (and `raw`) into the table names a dump uses. */
export function resolveTableNames(names: readonly string[] | undefined): string[] | undefined {
  if (!names) return undefined;
  const short: Record<string, string> = { ...BACKUP_TABLE_CHOICES, raw: BACKUP_RAW_TABLE };
  return names.map((name) => short[name] ?? name);
}

/** Row counts of tables in a database, exact. */
async function countRows(connections: ClusterConnections, shard: number, database: string, tables: readonly string[]): Promise<Array<{ table: string; rows: number }>> {
  const counts: Array<{ table: string; rows: number }> = [];
  for (const table of tables) {
    const [row] = await connections.query<Array<{ n: number | string }>>(shard, `SELECT COUNT(*) AS n FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)}`, [], { kind: 'write' });
    counts.push({ table, rows: Number(row?.n ?? 0) });
  }
  return counts;
}

export interface RestoreServiceOptions {
  clock?: () => Date;
  actor?: string;
  host?: string;
}

/**
 * Restores one shard's part of a set: into another database by default, or over the live one with `replace`,
 * under the scheduler lease (no scheduled rollup runs meanwhile) and a backup claim on the shard (no prune,
 * maintenance or conversion), with the restored levels' watermarks set back to the backup's.
 */
export class ClusterBackupRestorer {
  private readonly clock: () => Date;
  private readonly actor: string;
  private readonly host: string;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly secrets: SecretResolver,
    private readonly state: ClusterState,
    private readonly lease: ClusterLease,
    private readonly activities: ShardActivityRegistry,
    private readonly catalog: BackupCatalogReader,
    private readonly log: ScopedLogger,
    options: RestoreServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.actor = options.actor ?? osUser();
    this.host = options.host ?? hostname();
  }

  async restore(request: BackupRestoreRequest, options: { onProgress?: (progress: BackupProgress) => void; signal?: AbortSignal } = {}): Promise<BackupRestoreReport> {
    const record = await readSet(this.catalog, request.id);
    const part = completePart(record, request.shard);
    const handle = this.connections.shard(part.shard);
    const target = restoreTarget({ setId: record.id, shard: part.shard, liveDatabase: handle.config.database, into: request.into, replace: request.replace });
    const tables = tablesToRestore(part.tables, resolveTableNames(request.tables), target.replace);
    const started = this.clock();
    const startedMs = performance.now();
    const progress = (readBytes: number, totalBytes: number, dumpBytes: number) =>
      options.onProgress?.(loadProgress({ setId: record.id, part, tablesTotal: tables.length, startedMs }, readBytes, totalBytes, dumpBytes));
    await checkPartFile(partFilePath(record, part), part, options.signal);
    // A missing client is refused before anything changes, not after the watermarks went back.
    await findLoadClient(part);

    if (!target.replace) {
      const [exists] = await this.connections.query<Array<{ n: number | string }>>(part.shard, 'SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target.database]);
      if (Number(exists?.n ?? 0) > 0) throw new StrataError(ErrorCode.BackupRestoreRefused, `${handle.label} already has a database ${target.database}; drop it first or choose another --into`);
      await this.connections.query(part.shard, `CREATE DATABASE ${quoteIdentifier(target.database)}`, [], { kind: 'ddl' });
      try {
        await loadDump({ connections: this.connections, secrets: this.secrets, record, part, database: target.database, tables, signal: options.signal, onProgress: progress });
      } catch (error) {
        // The database is this restore's own and holds a part of the dump at best: nobody should take it for a copy.
        await this.connections.query(part.shard, `DROP DATABASE IF EXISTS ${quoteIdentifier(target.database)}`, [], { kind: 'ddl' }).catch(() => {});
        throw error;
      }
      const counts = await countRows(this.connections, part.shard, target.database, tables);
      const report = { setId: record.id, shard: part.shard, shardName: part.shardName, database: target.database, replaced: false, tables: counts, watermarks: part.watermarks, durationMs: Math.round(performance.now() - startedMs) };
      await this.audit(started, report);
      return report;
    }

    // Over the live database: the scheduler lease keeps every scheduled rollup away (refused while an agent or
    // console holds it), and a backup claim on the shard keeps prune, maintenance and conversion away.
    return runUnderLease(
      this.lease,
      this.log,
      'refuse',
      async (token, signal) => {
        const claim = await this.activities.claim(part.shard, 'backup', `restoring backup ${record.id} over ${handle.config.database}`);
        try {
          // Watermarks go back before the first table is replaced: a load that fails halfway leaves windows to be
          // rolled up again, never restored-away windows believed done.
          const levels = tables.map((table) => LEVEL_OF_TABLE[table]).filter((level): level is RollupLevel => level !== undefined);
          const by = `${this.actor}@${this.host}`.slice(0, 255);
          for (const statement of watermarkResetStatements(levels, part.watermarks, token ?? 0, by, this.clock())) await this.connections.query(part.shard, statement.sql, statement.params, { kind: 'write' });
          await loadDump({ connections: this.connections, secrets: this.secrets, record, part, database: target.database, tables, signal, onProgress: progress });
          const counts = await countRows(this.connections, part.shard, target.database, tables);
          const watermarks = part.watermarks.filter((entry) => levels.includes(entry.level));
          const report = { setId: record.id, shard: part.shard, shardName: part.shardName, database: target.database, replaced: true, tables: counts, watermarks, durationMs: Math.round(performance.now() - startedMs) };
          await this.audit(started, report, levels);
          return report;
        } finally {
          await claim.release();
        }
      },
      options.signal,
    ).catch((error: unknown) => {
      if (error instanceof StrataError && error.code === ErrorCode.LeaseUnavailable) {
        throw new StrataError(ErrorCode.BackupRestoreRefused, `a restore over the live database pauses the scheduler by taking its lease, and ${error.message.replace(/^the scheduler lease is held by /, '').replace(/, which runs due windows itself.*$/, '')} holds it: stop that agent or console first`, { cause: error });
      }
      throw error;
    });
  }

  private async audit(at: Date, report: BackupRestoreReport, levels: readonly RollupLevel[] = []): Promise<void> {
    const detail = { database: report.database, replaced: report.replaced, tables: report.tables, watermarksSetBack: report.replaced ? levels.map((level) => ({ level, to: report.watermarks.find((entry) => entry.level === level)?.watermark ?? null })) : [] };
    await this.state.audit.writeBestEffort({ at, actor: this.actor, host: this.host, action: 'backup.restore', target: `${report.setId} ${report.shardName}`, detail: JSON.stringify(detail) });
  }
}

/** Progress of loading one part's dump (restore and verify), as the backup progress event carries it. */
export function loadProgress(
  load: { setId: string; part: Pick<BackupPartRecord, 'shard' | 'shardName'>; tablesTotal: number; startedMs: number },
  readBytes: number,
  totalBytes: number,
  dumpBytes: number,
): BackupProgress {
  const elapsedMs = Math.round(performance.now() - load.startedMs);
  return {
    setId: load.setId,
    kind: 'shard',
    state: 'running',
    shard: load.part.shard,
    shardName: load.part.shardName,
    bytesWritten: readBytes,
    dumpBytes,
    tablesDone: 0,
    tablesTotal: load.tablesTotal,
    currentTable: null,
    rows: 0,
    mbPerSecond: elapsedMs > 0 ? dumpBytes / 1e6 / (elapsedMs / 1000) : 0,
    etaSeconds: readBytes > 0 && elapsedMs > 0 ? ((totalBytes - readBytes) / readBytes) * (elapsedMs / 1000) : null,
    elapsedMs,
  };
}
