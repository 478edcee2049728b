import type { BackfillRecord } from '../../shared/backfill';
import { ErrorCode, StrataError } from '../../shared/errors';
import { rollupLevelSchema, type RollupLevel } from '../../shared/rollup';
import type { ScopedLogger } from '../log';
import { withNamedLock, type AuditEntry, type ClusterState, type ControlSession } from '../state';
import { BACKFILLS_TABLE, cancelRequestNote, effectiveState, type CheckedRequest, type LivenessCheck } from './planner';

/** A row of strata_backfills. */
export interface BackfillRow {
  id: number;
  level: string;
  range_from: Date;
  range_to: Date;
  shards: string;
  cascade_up: number;
  state: string;
  windows_total: number;
  windows_done: number;
  next_window_level: string | null;
  next_window_start: Date | null;
  rows_read: number;
  rows_written: number;
  estimated_ms: number;
  created_by: string;
  host: string;
  pid: number;
  created_at: Date;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  error: string | null;
}

/** Who acts on backfills from this process: written into the rows and the audit entries. */
export interface BackfillIdentity {
  /** `user@host`. */
  actor: string;
  host: string;
  pid: number;
}

/** Where a backfill stands after a window, as its row keeps it for a resume. */
export interface BackfillCheckpoint {
  windowsDone: number;
  next: { level: RollupLevel; start: Date } | undefined;
  rowsRead: number;
  rowsWritten: number;
}

const ADMISSION_LOCK = 'strata_backfill_admission';
const ADMISSION_WAIT_SECONDS = 10;
const MAX_ERROR_LENGTH = 4000;

/**
 * The row as a record. `liveness` tells a running row from one whose process is gone; the caller supplies it
 * (with the time it read the row), so this mapping stays pure.
 */
export function toBackfillRecord(row: BackfillRow, liveness: LivenessCheck): BackfillRecord {
  const id = Number(row.id);
  return {
    id,
    level: rollupLevelSchema.parse(row.level),
    from: row.range_from.toISOString(),
    to: row.range_to.toISOString(),
    shards: row.shards.split(',').filter(Boolean).map(Number),
    cascade: Number(row.cascade_up) === 1,
    state: effectiveState({ id, state: row.state, host: row.host, pid: Number(row.pid), updatedAt: row.updated_at }, liveness),
    windowsTotal: Number(row.windows_total),
    windowsDone: Number(row.windows_done),
    nextWindowLevel: row.next_window_level ? rollupLevelSchema.parse(row.next_window_level) : null,
    nextWindowStart: row.next_window_start ? row.next_window_start.toISOString() : null,
    rowsRead: Number(row.rows_read),
    rowsWritten: Number(row.rows_written),
    estimatedMs: Number(row.estimated_ms),
    createdBy: row.created_by,
    host: row.host,
    pid: Number(row.pid),
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    error: row.error,
  };
}

/** The audit entry of a cancel: who cancelled, where the backfill ran and how far it had come. */
export function cancelAuditEntry(record: BackfillRecord, by: BackfillIdentity, at: Date, detail: Record<string, unknown> = {}): AuditEntry {
  return {
    at,
    actor: by.actor,
    host: by.host,
    action: 'backfill.cancel',
    target: `backfill ${record.id}`,
    detail: JSON.stringify({ runsOn: `${record.host} (pid ${record.pid})`, state: record.state, windowsDone: record.windowsDone, windowsTotal: record.windowsTotal, ...detail }),
  };
}

/** What a write answers on a session: the result header. */
interface ResultHeader {
  insertId: number;
  affectedRows: number;
}

/**
 * The backfills table on the control shard, where every console and agent sees every backfill. Writes that
 * change who owns a backfill (admission, cancel) are conditional, so two processes acting at once cannot both win.
 */
export class BackfillStore {
  constructor(
    private readonly state: Pick<ClusterState, 'control' | 'audit'>,
    private readonly identity: BackfillIdentity,
    private readonly log: ScopedLogger,
  ) {}

  async get(id: number, liveness: LivenessCheck): Promise<BackfillRecord> {
    const [row] = await this.state.control.query<BackfillRow[]>(`SELECT * FROM ${BACKFILLS_TABLE} WHERE id = ?`, [id]);
    if (!row) throw new StrataError(ErrorCode.BackfillNotFound, `there is no backfill ${id}; strata backfill list shows the recent ones`);
    return toBackfillRecord(row, liveness);
  }

  async list(limit: number, liveness: LivenessCheck): Promise<BackfillRecord[]> {
    const rows = await this.state.control.query<BackfillRow[]>(`SELECT * FROM ${BACKFILLS_TABLE} ORDER BY id DESC LIMIT ?`, [Math.max(1, Math.min(1000, Math.floor(limit)))]);
    return rows.map((row) => toBackfillRecord(row, liveness));
  }

  /**
   * Runs `write` under the admission lock, with the backfills stored as running: the lock makes two simultaneous
   * starts see each other, so `write` can refuse an overlap before it writes.
   */
  async admit<T>(liveness: LivenessCheck, write: (session: ControlSession, live: BackfillRecord[]) => Promise<T>): Promise<T> {
    return this.state.control.session((session) =>
      withNamedLock(
        session,
        ADMISSION_LOCK,
        ADMISSION_WAIT_SECONDS,
        async () => {
          const rows = await session.query<BackfillRow[]>(`SELECT * FROM ${BACKFILLS_TABLE} WHERE state IN ('running', 'cancelling')`);
          return write(
            session,
            rows.map((row) => toBackfillRecord(row, liveness)),
          );
        },
        () => {
          throw new StrataError(ErrorCode.BackfillOverlap, 'another backfill is being started; try again in a moment');
        },
      ),
    );
  }

  /** Inside admit: stores a new running backfill owned by this process; answers its id. */
  async insert(session: ControlSession, request: CheckedRequest, estimatedMs: number, at: Date): Promise<number> {
    const result = await session.query<ResultHeader>(
      `INSERT INTO ${BACKFILLS_TABLE} (level, range_from, range_to, shards, cascade_up, state, windows_total, windows_done, next_window_level, next_window_start,
         estimated_ms, created_by, host, pid, created_at, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        request.level,
        request.from,
        request.to,
        request.shards.join(','),
        request.cascade ? 1 : 0,
        request.steps.length,
        request.steps[0]?.level ?? null,
        request.steps[0]?.start ?? null,
        estimatedMs,
        this.identity.actor,
        this.identity.host,
        this.identity.pid,
        at,
        at,
        at,
      ],
    );
    return Number(result.insertId);
  }

  /**
   * Inside admit: makes this process the owner of a stopped backfill again. Only while it is still as `stored`
   * saw it (not running, or running under the same process); false when someone else resumed it first.
   */
  async claimForResume(session: ControlSession, stored: BackfillRecord, at: Date): Promise<boolean> {
    const result = await session.query<ResultHeader>(
      `UPDATE ${BACKFILLS_TABLE} SET state = 'running', host = ?, pid = ?, started_at = ?, updated_at = ?, finished_at = NULL, error = NULL
        WHERE id = ? AND (state NOT IN ('running', 'cancelling') OR (host = ? AND pid = ?))`,
      [this.identity.host, this.identity.pid, at, at, stored.id, stored.host, stored.pid],
    );
    return result.affectedRows === 1;
  }

  /**
   * Marks a running backfill `cancelling`, naming who asked, with its audit entry in the same transaction; the
   * process running it notices at its next check. False when the row was no longer running.
   */
  async requestCancel(record: BackfillRecord, at: Date): Promise<boolean> {
    return this.state.control.transaction(async (session) => {
      const result = await session.query<ResultHeader>(`UPDATE ${BACKFILLS_TABLE} SET state = 'cancelling', error = ? WHERE id = ? AND state = 'running'`, [
        cancelRequestNote(this.identity.actor).slice(0, MAX_ERROR_LENGTH),
        record.id,
      ]);
      if (result.affectedRows !== 1) return false;
      await this.state.audit.write(cancelAuditEntry(record, this.identity, at), session);
      return true;
    });
  }

  /**
   * Marks a backfill whose process is gone cancelled, with its audit entry. Matching host, pid and the last
   * heartbeat: a resume or a late heartbeat in between wins over this cancel (false).
   */
  async cancelInterrupted(record: BackfillRecord, error: string, at: Date): Promise<boolean> {
    return this.state.control.transaction(async (session) => {
      const result = await session.query<ResultHeader>(
        `UPDATE ${BACKFILLS_TABLE} SET state = 'cancelled', finished_at = ?, updated_at = ?, error = ?
          WHERE id = ? AND state IN ('running', 'cancelling') AND host = ? AND pid = ? AND updated_at = ?`,
        [at, at, error, record.id, record.host, record.pid, new Date(record.updatedAt)],
      );
      if (result.affectedRows !== 1) return false;
      await this.state.audit.write(cancelAuditEntry(record, this.identity, at, { interrupted: true }), session);
      return true;
    });
  }

  /**
   * The audit entry of cancelling a backfill this process runs. It was running when asked, whatever the row says by
   * the time it is read: the cancel does not wait for this entry.
   */
  async auditLocalCancel(record: BackfillRecord, at: Date): Promise<void> {
    await this.state.audit.write(cancelAuditEntry({ ...record, state: 'running' }, this.identity, at));
  }

  /** The state and error column, which a cancel request from another process changes. */
  async cancelRequest(id: number): Promise<{ state: string; error: string | null } | undefined> {
    const [row] = await this.state.control.query<Array<{ state: string; error: string | null }>>(`SELECT state, error FROM ${BACKFILLS_TABLE} WHERE id = ?`, [id]);
    return row;
  }

  /** The heartbeat: other hosts tell a live backfill from a dead one by it. */
  heartbeat(id: number, at: Date): Promise<void> {
    return this.update(id, 'updated_at = ?', [at]);
  }

  checkpoint(id: number, checkpoint: BackfillCheckpoint, at: Date): Promise<void> {
    return this.update(id, 'windows_done = ?, next_window_level = ?, next_window_start = ?, rows_read = ?, rows_written = ?, updated_at = ?', [
      checkpoint.windowsDone,
      checkpoint.next?.level ?? null,
      checkpoint.next?.start ?? null,
      checkpoint.rowsRead,
      checkpoint.rowsWritten,
      at,
    ]);
  }

  finish(id: number, state: string, error: string | undefined, at: Date): Promise<void> {
    return this.update(id, 'state = ?, finished_at = ?, updated_at = ?, error = ?', [state, at, at, error?.slice(0, MAX_ERROR_LENGTH) ?? null]);
  }

  /** A control shard that does not answer costs a resume, not the running backfill: logged, never thrown. */
  private async update(id: number, assignments: string, values: unknown[]): Promise<void> {
    try {
      await this.state.control.query(`UPDATE ${BACKFILLS_TABLE} SET ${assignments} WHERE id = ?`, [...values, id]);
    } catch (error) {
      this.log.warn(`could not record the progress of backfill ${id}`, error);
    }
  }
}
