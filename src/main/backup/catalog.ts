import type { BackupPart, BackupPartRecord, BackupSetRecord, BackupSetState, BackupVerification } from '../../shared/backup';
import type { ControlShard } from '../state';

/**
 * The backup catalog on the control shard (migration 7): one strata_backup_sets row per set and one
 * strata_backup_parts row per shard, so every console and agent lists the same sets and a cancel written here
 * reaches the process running the set on whatever host. The part's manifest fields are kept as JSON in `detail`.
 */

interface SetRow {
  id: string;
  state: string;
  created_by: string;
  host: string;
  pid: number;
  started_at: Date;
  finished_at: Date | null;
  updated_at: Date;
  dest: string;
  manifest_path: string;
  compression: string;
  tables_list: string;
  include_raw: number;
  bytes: number | string;
  cancel_requested: number;
  error: string | null;
}

interface PartRow {
  set_id: string;
  shard_index: number;
  shard_name: string;
  outcome: string;
  file_name: string;
  bytes: number | string;
  dump_bytes: number | string;
  sha256: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | string;
  detail: string;
  error: string | null;
  verified_at: Date | null;
  verify_outcome: string | null;
  verify_ms: number | string | null;
  verify_error: string | null;
}

/** What `detail` holds: the manifest fields of a part that have no column of their own. */
type PartDetail = Omit<BackupPart, 'shard' | 'shardName' | 'outcome' | 'file' | 'bytes' | 'dumpBytes' | 'sha256' | 'startedAt' | 'finishedAt' | 'durationMs' | 'error'> & {
  errorCode?: number;
};

export interface NewSet {
  id: string;
  createdBy: string;
  host: string;
  pid: number;
  startedAt: Date;
  dest: string;
  manifestPath: string;
  compression: 'zstd' | 'gzip';
  tables: string[];
  includeRaw: boolean;
}

const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);

function toPart(row: PartRow): BackupPartRecord {
  const detail = JSON.parse(row.detail) as PartDetail;
  const { errorCode, ...rest } = detail;
  return {
    ...rest,
    shard: row.shard_index,
    shardName: row.shard_name,
    outcome: row.outcome as BackupPart['outcome'],
    file: row.file_name,
    bytes: Number(row.bytes),
    dumpBytes: Number(row.dump_bytes),
    sha256: row.sha256,
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
    durationMs: Number(row.duration_ms),
    error: row.error === null ? null : { code: errorCode ?? 0, message: row.error },
    verifiedAt: iso(row.verified_at),
    verifyOutcome: row.verify_outcome as BackupVerification['verifyOutcome'],
    verifyMs: row.verify_ms === null ? null : Number(row.verify_ms),
    verifyError: row.verify_error,
  };
}

function toSet(row: SetRow, parts: BackupPartRecord[]): BackupSetRecord {
  return {
    id: row.id,
    state: row.state as BackupSetState,
    createdBy: row.created_by,
    host: row.host,
    pid: row.pid,
    startedAt: row.started_at.toISOString(),
    finishedAt: iso(row.finished_at),
    updatedAt: row.updated_at.toISOString(),
    dest: row.dest,
    manifestPath: row.manifest_path,
    compression: row.compression as BackupSetRecord['compression'],
    tables: row.tables_list.split(',').filter(Boolean),
    includeRaw: row.include_raw === 1,
    bytes: Number(row.bytes),
    error: row.error,
    parts: parts.sort((a, b) => a.shard - b.shard),
  };
}

const SET_COLUMNS = 'id, state, created_by, host, pid, started_at, finished_at, updated_at, dest, manifest_path, compression, tables_list, include_raw, bytes, cancel_requested, error';
const PART_COLUMNS =
  'set_id, shard_index, shard_name, outcome, file_name, bytes, dump_bytes, sha256, started_at, finished_at, duration_ms, detail, error, verified_at, verify_outcome, verify_ms, verify_error';

export class BackupCatalog {
  constructor(
    private readonly control: ControlShard,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async createSet(set: NewSet, parts: readonly BackupPart[]): Promise<void> {
    await this.control.transaction(async (session) => {
      await session.query(
        `INSERT INTO strata_backup_sets (id, state, created_by, host, pid, started_at, updated_at, dest, manifest_path, compression, tables_list, include_raw)
         VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [set.id, set.createdBy.slice(0, 255), set.host.slice(0, 255), set.pid, set.startedAt, set.startedAt, set.dest, set.manifestPath, set.compression, set.tables.join(','), set.includeRaw ? 1 : 0],
      );
      for (const part of parts) await session.query(`INSERT INTO strata_backup_parts (${PART_COLUMNS.split(', ').slice(0, 13).join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, partValues(set.id, part));
    });
  }

  /** Writes a part's current state (outcome, sizes, manifest fields). */
  async updatePart(setId: string, part: BackupPart): Promise<void> {
    const values = partValues(setId, part);
    await this.control.query(
      `UPDATE strata_backup_parts SET shard_name = ?, outcome = ?, file_name = ?, bytes = ?, dump_bytes = ?, sha256 = ?, started_at = ?, finished_at = ?, duration_ms = ?, detail = ?, error = ?
       WHERE set_id = ? AND shard_index = ?`,
      [...values.slice(2), setId, part.shard],
    );
  }

  async finishSet(setId: string, state: BackupSetState, bytes: number, error: string | null): Promise<void> {
    const now = this.clock();
    await this.control.query('UPDATE strata_backup_sets SET state = ?, bytes = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?', [state, bytes, error, now, now, setId]);
  }

  /** Marks a running set as asked to stop; answers false when it is not running (finished, or unknown). */
  async requestCancel(setId: string): Promise<boolean> {
    const result = await this.control.query<{ affectedRows: number }>(
      "UPDATE strata_backup_sets SET cancel_requested = 1, state = 'cancelling', updated_at = ? WHERE id = ? AND state IN ('running', 'cancelling')",
      [this.clock(), setId],
    );
    return result.affectedRows > 0;
  }

  async cancelRequested(setId: string): Promise<boolean> {
    const rows = await this.control.query<Array<{ cancel_requested: number }>>('SELECT cancel_requested FROM strata_backup_sets WHERE id = ?', [setId]);
    return rows[0]?.cancel_requested === 1;
  }

  async read(setId: string): Promise<BackupSetRecord | undefined> {
    const sets = await this.control.query<SetRow[]>(`SELECT ${SET_COLUMNS} FROM strata_backup_sets WHERE id = ?`, [setId]);
    if (!sets[0]) return undefined;
    const parts = await this.control.query<PartRow[]>(`SELECT ${PART_COLUMNS} FROM strata_backup_parts WHERE set_id = ?`, [setId]);
    return toSet(sets[0], parts.map(toPart));
  }

  /** The newest sets first, with their parts. */
  async list(limit: number): Promise<BackupSetRecord[]> {
    const sets = await this.control.query<SetRow[]>(`SELECT ${SET_COLUMNS} FROM strata_backup_sets ORDER BY started_at DESC, id DESC LIMIT ?`, [limit]);
    if (sets.length === 0) return [];
    const parts = await this.control.query<PartRow[]>(`SELECT ${PART_COLUMNS} FROM strata_backup_parts WHERE set_id IN (?)`, [sets.map((set) => set.id)]);
    return sets.map((set) => toSet(set, parts.filter((part) => part.set_id === set.id).map(toPart)));
  }

  /** Per shard, the newest part whose latest verification succeeded (what an alert watches). */
  async newestVerified(): Promise<Array<{ shard: number; setId: string; finishedAt: Date | null; verifiedAt: Date }>> {
    const rows = await this.control.query<Array<{ shard_index: number; set_id: string; finished_at: Date | null; verified_at: Date }>>(
      `SELECT p.shard_index, p.set_id, p.finished_at, p.verified_at FROM strata_backup_parts p
       JOIN (SELECT shard_index, MAX(finished_at) AS newest FROM strata_backup_parts WHERE verify_outcome = 'ok' AND outcome = 'ok' GROUP BY shard_index) n
         ON n.shard_index = p.shard_index AND n.newest = p.finished_at
       WHERE p.verify_outcome = 'ok' AND p.outcome = 'ok'`,
    );
    return rows.map((row) => ({ shard: row.shard_index, setId: row.set_id, finishedAt: row.finished_at, verifiedAt: row.verified_at }));
  }

  /** Earlier successful parts of a shard, newest first, for the rate and compression estimates. */
  async earlierParts(shard: number, limit = 5): Promise<Array<{ dumpBytes: number; bytes: number; durationMs: number }>> {
    const rows = await this.control.query<Array<{ dump_bytes: number | string; bytes: number | string; duration_ms: number | string }>>(
      "SELECT dump_bytes, bytes, duration_ms FROM strata_backup_parts WHERE shard_index = ? AND outcome = 'ok' ORDER BY finished_at DESC LIMIT ?",
      [shard, limit],
    );
    return rows.map((row) => ({ dumpBytes: Number(row.dump_bytes), bytes: Number(row.bytes), durationMs: Number(row.duration_ms) }));
  }

  /** Records one part's verification (verify-service.ts calls this). */
  async recordVerification(setId: string, shard: number, verification: BackupVerification): Promise<void> {
    await this.control.query('UPDATE strata_backup_parts SET verified_at = ?, verify_outcome = ?, verify_ms = ?, verify_error = ? WHERE set_id = ? AND shard_index = ?', [
      verification.verifiedAt ? new Date(verification.verifiedAt) : null,
      verification.verifyOutcome,
      verification.verifyMs,
      verification.verifyError,
      setId,
      shard,
    ]);
  }

  /** Removes a set's rows (backup retention calls this after deleting its files). */
  async deleteSet(setId: string): Promise<void> {
    await this.control.transaction(async (session) => {
      await session.query('DELETE FROM strata_backup_parts WHERE set_id = ?', [setId]);
      await session.query('DELETE FROM strata_backup_sets WHERE id = ?', [setId]);
    });
  }
}

function partValues(setId: string, part: BackupPart): unknown[] {
  const detail: PartDetail = {
    host: part.host,
    port: part.port,
    database: part.database,
    serverVersion: part.serverVersion,
    client: part.client,
    options: part.options,
    tables: part.tables,
    position: part.position,
    rowCounts: part.rowCounts,
    watermarks: part.watermarks,
    ...(part.error ? { errorCode: part.error.code } : {}),
  };
  return [
    setId,
    part.shard,
    part.shardName.slice(0, 255),
    part.outcome,
    part.file,
    part.bytes,
    part.dumpBytes,
    part.sha256,
    part.startedAt ? new Date(part.startedAt) : null,
    part.finishedAt ? new Date(part.finishedAt) : null,
    part.durationMs,
    JSON.stringify(detail),
    part.error?.message ?? null,
  ];
}
