import type { BackupPartRecord, BackupProgress, BackupSetRecord, BackupVerifyReport, BackupVerifyRequest } from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import { toFailure } from '../../shared/result';
import { ClusterConnections, type ShardHandle } from '../cluster/connections';
import type { ScopedLogger } from '../log';
import type { SecretResolver } from '../secrets';
import { checksumStatement, columnsStatement, describeMismatches, quoteIdentifier, scratchDatabaseName, type TableCheck } from './restore-planner';
import type { BackupCatalog } from './catalog';
import { checkPartFile, loadDump, loadProgress, partFilePath, readSet } from './restore-service';

type PartReport = BackupVerifyReport['parts'][number];

/** A server statements go to: a shard of `connections` by index. */
interface ServerRef {
  connections: ClusterConnections;
  index: number;
}

/** Strata's own writes to a shard since `since`: a run recorded or a watermark moved (the backup's own run aside). */
const WRITES_SINCE_SQL = `SELECT (SELECT COUNT(*) FROM strata_job_runs WHERE job <> 'backup' AND (started_at >= ? OR finished_at >= ?))
                               + (SELECT COUNT(*) FROM strata_watermarks WHERE updated_at >= ?) AS writes`;

export interface VerifyServiceOptions {
  clock?: () => Date;
}

/**
 * Verifies a set by restoring it: per part the file's size and sha256 against the manifest, then a load into a
 * scratch database (`strata_verify_<set>_<shard>`, dropped afterwards whatever happened) on its shard or on the
 * profile's `backup.verifyServer`, whose every
 * table must hold the manifest's row count and, while nothing has written to the shard since the dump, the same
 * content checksum as the source table. The outcome is recorded in the catalog per part.
 */
export class ClusterBackupVerifier {
  private readonly clock: () => Date;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly secrets: SecretResolver,
    private readonly catalog: Pick<BackupCatalog, 'read' | 'recordVerification'>,
    private readonly log: ScopedLogger,
    options: VerifyServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
  }

  async verify(request: BackupVerifyRequest, options: { onProgress?: (progress: BackupProgress) => void; signal?: AbortSignal } = {}): Promise<BackupVerifyReport> {
    const record = await readSet(this.catalog, request.id);
    const wanted = request.shards ?? record.parts.filter((part) => part.outcome === 'ok').map((part) => part.shard);
    const unknown = wanted.filter((shard) => !record.parts.some((part) => part.shard === shard));
    if (unknown.length > 0) throw new StrataError(ErrorCode.BackupInvalid, `backup ${record.id} has no part of shard ${unknown.join(', ')}; it holds shards ${record.parts.map((part) => part.shard).join(', ')}`);
    if (wanted.length === 0) throw new StrataError(ErrorCode.BackupInvalid, `backup ${record.id} has no completed part to verify (${record.state})`);
    const verifyServer = this.connections.profile.backup?.verifyServer;
    // Its own connections, so the verify server is reached, and reported, by the name the profile gives it.
    const server = verifyServer ? new ClusterConnections({ ...this.connections.profile, shards: [{ ...verifyServer, name: verifyServer.name ? `backup.verifyServer ${verifyServer.name}` : 'backup.verifyServer' }] }, this.secrets) : undefined;
    try {
      // Parts verify in parallel: each loads into its own scratch database.
      const parts = await Promise.all(record.parts.filter((part) => wanted.includes(part.shard)).map((part) => this.verifyPart(record, part, server, options)));
      return { setId: record.id, parts: parts.sort((a, b) => a.shard - b.shard) };
    } finally {
      await server?.dispose();
    }
  }

  private async verifyPart(record: BackupSetRecord, part: BackupPartRecord, server: ClusterConnections | undefined, options: { onProgress?: (progress: BackupProgress) => void; signal?: AbortSignal }): Promise<PartReport> {
    const verifiedAt = this.clock();
    const started = performance.now();
    const path = partFilePath(record, part);
    let tables: TableCheck[] = [];
    let error: string | null = null;
    try {
      if (part.outcome !== 'ok' || !part.sha256) throw new StrataError(ErrorCode.BackupVerifyFailed, `${part.shardName}'s part did not complete (${part.outcome}); there is no dump to verify`);
      await checkPartFile(path, part, options.signal);
      const scratchOn: ServerRef = server ? { connections: server, index: 0 } : { connections: this.connections, index: part.shard };
      tables = await this.restoreAndCompare(record, part, path, scratchOn, started, options);
      const mismatch = describeMismatches(path, tables);
      if (mismatch) throw new StrataError(ErrorCode.BackupVerifyFailed, mismatch);
    } catch (failure) {
      error = toFailure(failure).message;
      this.log.warn(`verify of backup ${record.id} ${part.shardName} failed: ${error}`);
    }
    const verifyMs = Math.round(performance.now() - started);
    const outcome = error ? 'failed' : 'ok';
    try {
      await this.catalog.recordVerification(record.id, part.shard, { verifiedAt: verifiedAt.toISOString(), verifyOutcome: outcome, verifyMs, verifyError: error?.slice(0, 60_000) ?? null });
    } catch (failure) {
      this.log.warn(`could not record the verification of backup ${record.id} ${part.shardName} in the catalog`, failure);
      error ??= `verified, but the catalog could not record it: ${toFailure(failure).message}`;
    }
    return {
      shard: part.shard,
      shardName: part.shardName,
      outcome: error ? 'failed' : 'ok',
      verifyMs,
      error,
      tables: tables.map((check) => ({ table: check.table, expectedRows: check.expectedRows, actualRows: check.actualRows, checksumMatches: check.checksumMatches })),
    };
  }

  /** Loads the dump into the part's scratch database on `scratchOn`, compares each table, and always drops the scratch database. */
  private async restoreAndCompare(record: BackupSetRecord, part: BackupPartRecord, path: string, scratchOn: ServerRef, started: number, options: { onProgress?: (progress: BackupProgress) => void; signal?: AbortSignal }): Promise<TableCheck[]> {
    const scratch = scratchDatabaseName('verify', record.id, part.shard);
    const live = this.connections.shard(part.shard).config.database;
    const scratchServer: ShardHandle = scratchOn.connections.shard(scratchOn.index);
    const drop = () => scratchOn.connections.query(scratchOn.index, `DROP DATABASE IF EXISTS ${quoteIdentifier(scratch)}`, [], { kind: 'ddl' });
    // A scratch database left by a verify that was killed is this set's own: start afresh.
    await drop();
    await scratchOn.connections.query(scratchOn.index, `CREATE DATABASE ${quoteIdentifier(scratch)}`, [], { kind: 'ddl' });
    try {
      await loadDump({
        connections: this.connections,
        secrets: this.secrets,
        record,
        part,
        database: scratch,
        server: scratchServer,
        signal: options.signal,
        onProgress: (readBytes, totalBytes, dumpBytes) =>
          options.onProgress?.(loadProgress({ setId: record.id, part, tablesTotal: part.tables.length, startedMs: started }, readBytes, totalBytes, dumpBytes)),
      });
      const sourceUnchanged = await this.sourceUnchangedSince(part);
      const checks: TableCheck[] = [];
      for (const table of part.tables) {
        const expectedRows = part.rowCounts.find((entry) => entry.table === table)?.rows ?? 0;
        const restored = await this.tableChecksum(scratchOn, scratch, table);
        if (!restored) {
          checks.push({ table, expectedRows, actualRows: null, checksumMatches: null });
          continue;
        }
        const source = sourceUnchanged ? await this.tableChecksum({ connections: this.connections, index: part.shard }, live, table) : undefined;
        checks.push({ table, expectedRows, actualRows: restored.rows, checksumMatches: source ? source.rows === restored.rows && source.checksum === restored.checksum : null });
      }
      return checks;
    } finally {
      await drop().catch((failure: unknown) => this.log.warn(`could not drop the scratch database ${scratch} on ${scratchServer.label}; drop it by hand`, failure));
    }
  }

  /**
   * Whether the source tables still hold the dump's snapshot, as far as Strata can tell: no run recorded and no
   * watermark moved on the shard since the dump started. Only then is the restored copy compared with the source.
   */
  private async sourceUnchangedSince(part: BackupPartRecord): Promise<boolean> {
    if (!part.startedAt) return false;
    const since = new Date(part.startedAt);
    const [row] = await this.connections.query<Array<{ writes: number | string }>>(part.shard, WRITES_SINCE_SQL, [since, since, since]);
    return Number(row?.writes ?? 1) === 0;
  }

  /** Rows and content checksum of a table, or undefined when the database has no such table. */
  private async tableChecksum(server: ServerRef, database: string, table: string): Promise<{ rows: number; checksum: string } | undefined> {
    const columns = columnsStatement(database, table);
    const names = (await server.connections.query<Array<{ name: string }>>(server.index, columns.sql, columns.params)).map((row) => row.name);
    if (names.length === 0) return undefined;
    const statement = checksumStatement(database, table, names);
    const [row] = await server.connections.query<Array<{ row_count: number | string; checksum: number | string }>>(server.index, statement.sql, statement.params, { kind: 'write' });
    return { rows: Number(row?.row_count ?? 0), checksum: String(row?.checksum ?? '0') };
  }
}
