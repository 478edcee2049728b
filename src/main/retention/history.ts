import type { MaintenanceRun } from '../../shared/retention';
import type { ClusterConnections } from '../cluster/connections';
import type { ScopedLogger } from '../log';

/** Jobs whose runs the Retention page and `strata prune --history` list (rollups have their own history). */
export const MAINTENANCE_JOBS = ['prune', 'partitions'] as const;
export type MaintenanceJob = (typeof MAINTENANCE_JOBS)[number];

/** Where the shared history and audit log are read first: the same control shard as schedules and backfills. */
export const HISTORY_CONTROL_SHARD = 0;

export interface MaintenanceRunRow {
  job: MaintenanceJob;
  runId: string;
  shard: number;
  /** The table's short name (raw, hourly, daily, monthly); null for a run over a whole shard. */
  table: string | null;
  windowStart: Date | null;
  windowEnd: Date | null;
  trigger: string;
  host: string;
  startedAt: Date;
  finishedAt: Date;
  /** ok, partial (stopped by its time budget), cancelled, failed, blocked (a conflicting job held the shard). */
  outcome: 'ok' | 'partial' | 'cancelled' | 'failed' | 'blocked';
  rowsRemoved: number;
  fencingToken: number | null;
  detail: string;
  error: string | null;
}

export interface AuditEntry {
  at: Date;
  actor: string;
  host: string;
  action: string;
  target: string;
  detail: string;
}

/**
 * Run history and audit log of maintenance jobs. A run is written on its own shard, or on another reachable one when
 * its shard is down, so an outage still shows in the history; the audit log lives on the control shard.
 */
export class MaintenanceHistory {
  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
  ) {}

  async record(row: MaintenanceRunRow): Promise<void> {
    const sql = `INSERT INTO strata_job_runs (job, level, window_start, window_end, trigger_kind, host, started_at, finished_at, outcome, rows_read, rows_written,
                   rows_removed, error, run_id, shard_index, duration_ms, fencing_token, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?)`;
    const values = [
      row.job,
      row.table,
      row.windowStart,
      row.windowEnd,
      row.trigger,
      row.host.slice(0, 255),
      row.startedAt,
      row.finishedAt,
      row.outcome,
      row.rowsRemoved,
      row.error?.slice(0, 4000) ?? null,
      row.runId,
      row.shard,
      Math.max(0, row.finishedAt.getTime() - row.startedAt.getTime()),
      row.fencingToken,
      row.detail.slice(0, 60_000),
    ];
    const candidates = [row.shard, ...this.connections.shards.map((handle) => handle.index).filter((index) => index !== row.shard)];
    for (const candidate of candidates) {
      try {
        await this.connections.query(candidate, sql, values);
        return;
      } catch (error) {
        this.log.warn(`could not record the ${row.job} run of shard ${row.shard} on shard ${candidate}`, error);
      }
    }
  }

  async audit(entry: AuditEntry): Promise<void> {
    try {
      await this.connections.query(HISTORY_CONTROL_SHARD, 'INSERT INTO strata_audit_log (at, actor, host, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)', [
        entry.at,
        entry.actor.slice(0, 255),
        entry.host.slice(0, 255),
        entry.action,
        entry.target.slice(0, 255),
        entry.detail.slice(0, 60_000),
      ]);
    } catch (error) {
      // The run itself is in the history and the log: a control shard that is down must not fail the prune.
      this.log.warn(`could not write the audit entry ${entry.action} ${entry.target}`, error);
    }
  }

  /** The latest maintenance runs over every reachable shard, newest first. */
  async runs(limit: number): Promise<MaintenanceRun[]> {
    const capped = Math.max(1, Math.min(1000, Math.floor(limit)));
    const perShard = await Promise.all(
      this.connections.shards.map(async (handle) => {
        try {
          const rows = await this.connections.query<RunRow[]>(
            handle.index,
            `SELECT id, run_id, job, shard_index, level, trigger_kind, host, started_at, finished_at, duration_ms, outcome, rows_removed, detail, error
               FROM strata_job_runs WHERE job IN (?) ORDER BY started_at DESC, id DESC LIMIT ?`,
            [MAINTENANCE_JOBS, capped],
          );
          return rows.map((row): MaintenanceRun => {
            const shard = row.shard_index === null ? handle.index : Number(row.shard_index);
            return {
              id: Number(row.id),
              runId: row.run_id,
              job: row.job,
              shard,
              shardName: this.connections.shards[shard]?.label ?? `shard${shard}`,
              table: row.level,
              trigger: row.trigger_kind,
              host: row.host,
              startedAt: row.started_at.toISOString(),
              finishedAt: row.finished_at?.toISOString() ?? null,
              durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
              outcome: row.outcome,
              rowsRemoved: Number(row.rows_removed),
              detail: row.detail,
              error: row.error,
            };
          });
        } catch (error) {
          this.log.warn(`cannot read the maintenance history of ${handle.label}`, error);
          return [];
        }
      }),
    );
    return perShard
      .flat()
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.shard - b.shard || b.id - a.id)
      .slice(0, capped);
  }
}

interface RunRow {
  id: number;
  run_id: string | null;
  job: string;
  shard_index: number | null;
  level: string | null;
  trigger_kind: string;
  host: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | string | null;
  outcome: string;
  rows_removed: number | string;
  detail: string | null;
  error: string | null;
}
