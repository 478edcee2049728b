import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ErrorCode, StrataError } from '../../shared/errors';
import { BACKUP_STATE_TABLES, type BackupWatermark } from '../../shared/backup';
import type { RollupLevel } from '../../shared/rollup';

/**
 * Pure plans of verify and restore: database names, the checksum statement, the watermark reset and the filter
 * that keeps only the chosen tables of a dump. Unit-tested without a server.
 */

const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/;

/** Quotes a database, table or column name that has already been checked (or comes from information_schema). */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * The scratch database of a verify (`strata_verify_<set>_<shard>`) or the default target of a restore
 * (`strata_restore_<set>_<shard>`): letters, digits and underscores, at most 64 characters (a long set id is
 * shortened with a hash so two sets never share one).
 */
export function scratchDatabaseName(purpose: 'verify' | 'restore', setId: string, shard: number): string {
  const cleaned = setId.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  const name = `strata_${purpose}_${cleaned}_${shard}`;
  if (name.length <= 64) return name;
  const hash = createHash('sha256').update(setId).digest('hex').slice(0, 10);
  const room = 64 - `strata_${purpose}__${hash}_${shard}`.length;
  return `strata_${purpose}_${cleaned.slice(0, room)}_${hash}_${shard}`;
}

export interface RestoreTargetRequest {
  setId: string;
  shard: number;
  /** The profile's database of the shard: the live one. */
  liveDatabase: string;
  into?: string;
  replace: boolean;
}

export interface RestoreTarget {
  database: string;
  replace: boolean;
}

/** Where a restore goes: a scratch database unless --replace; never the live one by accident. */
export function restoreTarget(request: RestoreTargetRequest): RestoreTarget {
  if (request.into !== undefined && !IDENTIFIER.test(request.into)) {
    throw new StrataError(ErrorCode.BackupInvalid, `--into must be a database name of 1-64 letters, digits or underscores, got '${request.into}'`);
  }
  if (request.replace) {
    if (request.into !== undefined && request.into !== request.liveDatabase) {
      throw new StrataError(ErrorCode.BackupInvalid, `--replace restores into the shard's live database ${request.liveDatabase}; leave out --into ${request.into}, or leave out --replace to restore into ${request.into}`);
    }
    return { database: request.liveDatabase, replace: true };
  }
  if (request.into === request.liveDatabase) {
    throw new StrataError(ErrorCode.BackupRestoreRefused, `${request.into} is the shard's live database: restoring into it needs --replace (which also sets its watermarks back to the backup's)`);
  }
  if (request.into !== undefined && /^strata_verify_/.test(request.into)) {
    throw new StrataError(ErrorCode.BackupInvalid, `${request.into} is a name verify uses for its scratch databases (it drops them); choose another --into`);
  }
  return { database: request.into ?? scratchDatabaseName('restore', request.setId, request.shard), replace: false };
}

/**
 * The tables a restore writes. Into a scratch database: the chosen tables (default every table of the dump).
 * Into the live database: never the run history, which keeps what really ran; the watermarks are set from the
 * manifest instead of from the dump (see watermarkResetStatements), so a token there never goes back.
 */
export function tablesToRestore(dumped: readonly string[], chosen: readonly string[] | undefined, replace: boolean): string[] {
  const unknown = (chosen ?? []).filter((table) => !dumped.includes(table));
  if (unknown.length > 0) throw new StrataError(ErrorCode.BackupInvalid, `the backup holds no table ${unknown.join(', ')}; it holds ${dumped.join(', ')}`);
  const wanted = chosen ? dumped.filter((table) => chosen.includes(table)) : [...dumped];
  const tables = replace ? wanted.filter((table) => !(BACKUP_STATE_TABLES as readonly string[]).includes(table)) : wanted;
  if (tables.length === 0) throw new StrataError(ErrorCode.BackupInvalid, 'nothing to restore: --replace never restores the state tables (the watermarks are set from the manifest); choose an analytics table');
  return tables;
}

/** `hourly` for analytics_hourly: the level whose watermark says how far a restored table is rolled up. */
export const LEVEL_OF_TABLE: Readonly<Record<string, RollupLevel>> = { analytics_hourly: 'hourly', analytics_daily: 'daily', analytics_monthly: 'monthly' };

export interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Sets the watermark of each restored level back to the backup's (null when the level had none then), so the
 * windows after the snapshot are rolled up again instead of believed done. The move carries the restore's lease
 * token and keeps the higher token, so a scheduler that lost the lease cannot move it afterwards, and a stored
 * token newer than the restore's (another holder since) refuses it.
 */
export function watermarkResetStatements(levels: readonly RollupLevel[], watermarks: readonly BackupWatermark[], fencingToken: number, by: string, at: Date): Statement[] {
  return levels.flatMap((level) => {
    const backup = watermarks.find((entry) => entry.level === level);
    return [
      { sql: 'INSERT IGNORE INTO strata_watermarks (level, watermark, fencing_token) VALUES (?, NULL, 0)', params: [level] },
      {
        sql: `UPDATE strata_watermarks SET watermark = ?, covered_from = ?, fencing_token = GREATEST(fencing_token, ?), updated_at = ?, updated_by = ?
               WHERE level = ? AND fencing_token <= ?`,
        params: [backup?.watermark ? new Date(backup.watermark) : null, backup?.coveredFrom ? new Date(backup.coveredFrom) : null, fencingToken, at, by, level, fencingToken],
      },
    ];
  });
}

/** The columns of a table in order, as the checksum needs them. */
export function columnsStatement(database: string, table: string): Statement {
  return { sql: 'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', params: [database, table] };
}

/**
 * Row count and a content checksum of a table that do not depend on storage layout, partitions or row order: the
 * sum over rows of CRC32 of every column's bytes in hex (`n` for NULL, so NULL and '' differ, and hex so a `#`
 * inside a value cannot shift a column). Equal contents give equal answers on any server and in any database.
 */
export function checksumStatement(database: string, table: string, columns: readonly string[]): Statement {
  if (columns.length === 0) throw new StrataError(ErrorCode.BackupVerifyFailed, `${database}.${table} has no columns to checksum`);
  const parts = columns.map((column) => `COALESCE(HEX(CONCAT(${quoteIdentifier(column)})), 'n')`).join(', ');
  return {
    sql: `SELECT COUNT(*) AS row_count, COALESCE(SUM(CRC32(CONCAT_WS('#', ${parts}))), 0) AS checksum FROM ${quoteIdentifier(database)}.${quoteIdentifier(table)}`,
    params: [],
  };
}

export interface TableCheck {
  table: string;
  expectedRows: number;
  actualRows: number | null;
  /** Null when there is nothing to compare with (the source changed since the snapshot). */
  checksumMatches: boolean | null;
}

/** The sentence a failed check says: what did not match, per table. Undefined when everything matched. */
export function describeMismatches(file: string, checks: readonly TableCheck[]): string | undefined {
  const problems = checks.flatMap((check) => {
    if (check.actualRows === null) return [`${check.table} is missing after the restore (the manifest counts ${check.expectedRows} rows)`];
    const out: string[] = [];
    if (check.actualRows !== check.expectedRows) out.push(`${check.table} restored ${check.actualRows} rows, the manifest counts ${check.expectedRows}`);
    if (check.checksumMatches === false) out.push(`${check.table}'s content checksum differs from the source's`);
    return out;
  });
  return problems.length > 0 ? `${file}: ${problems.join('; ')}` : undefined;
}

/**
 * Keeps only the chosen tables of a mysqldump/mariadb-dump stream. The dump announces each table with a comment
 * line (`-- Table structure for table \`t\``, `-- Dumping data for table \`t\``); the header before the first
 * table and the routines section are kept. A dump that switches database (`USE`) is refused, since it would
 * write outside the target database.
 */
export class DumpTableFilter extends Transform {
  private carry = '';
  private keeping = true;
  private sawTableMarker = false;

  constructor(private readonly tables: ReadonlySet<string> | undefined) {
    super();
  }

  /** True once a table marker was seen: a filter over a dump without comments would have kept everything. */
  get recognisedTables(): boolean {
    return this.sawTableMarker;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // latin1 maps every byte to one character and back, so data bytes pass through unchanged.
    const text = this.carry + chunk.toString('latin1');
    const lastNewline = text.lastIndexOf('\n');
    if (lastNewline < 0) {
      this.carry = text;
      return callback();
    }
    this.carry = text.slice(lastNewline + 1);
    try {
      this.pushLines(text.slice(0, lastNewline + 1));
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (this.carry) this.pushLines(this.carry);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }

  private pushLines(text: string): void {
    let out = '';
    let start = 0;
    while (start < text.length) {
      const end = text.indexOf('\n', start);
      const stop = end < 0 ? text.length : end + 1;
      // Only short lines can be markers or USE; a data line of megabytes is never scanned past its start.
      const head = text.slice(start, Math.min(stop, start + 200));
      if (/^USE `/i.test(head)) throw new StrataError(ErrorCode.BackupRestoreRefused, 'the dump switches database (a USE statement); Strata restores only dumps of one database into the target it names');
      const marker = /^-- (?:Table structure for table|Dumping data for table|Temporary table structure for view) `((?:[^`]|``)+)`/.exec(head);
      if (marker) {
        this.sawTableMarker = true;
        this.keeping = !this.tables || this.tables.has(marker[1]!.replace(/``/g, '`'));
      } else if (/^-- Dumping (?:routines|events) for database/.test(head)) {
        this.keeping = true;
      }
      if (this.keeping) out += text.slice(start, stop);
      start = stop;
    }
    if (out) this.push(Buffer.from(out, 'latin1'));
  }
}
