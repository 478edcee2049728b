import type { MaintenanceRun, MaintenanceRunHistory } from '../../shared/retention';
import type { ShardHandle } from '../cluster/connections';
import type { HistoryStatement, JobRunEntry, RunHistory } from '../state/run-history';

/** Jobs whose runs the Retention page and `strata prune --history` list (rollups have their own history). */
export const MAINTENANCE_JOBS = ['prune', 'partitions'] as const;
export type MaintenanceJob = (typeof MAINTENANCE_JOBS)[number];

/** A run of a maintenance job on one shard, as RunHistory.record writes it. */
export interface MaintenanceRunEntry extends JobRunEntry {
  job: MaintenanceJob;
  /** ok, partial (stopped by its time budget), cancelled, failed, blocked (a conflicting job held the shard). */
  outcome: 'ok' | 'partial' | 'cancelled' | 'failed' | 'blocked';
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

const SELECT: HistoryStatement = {
  sql: `SELECT id, run_id, job, shard_index, level, trigger_kind, host, started_at, finished_at, duration_ms, outcome, rows_removed, detail, error
          FROM strata_job_runs WHERE job IN (?) ORDER BY started_at DESC, id DESC LIMIT ?`,
  params: [MAINTENANCE_JOBS],
};

/** The latest maintenance runs over every reachable shard, newest first, and the shards that could not be read. */
export async function readMaintenanceRuns(history: RunHistory, limit: number): Promise<MaintenanceRunHistory> {
  const read = await history.read(SELECT, limit, (row: RunRow, readFrom: ShardHandle): MaintenanceRun => {
    const shard = row.shard_index === null ? readFrom.index : Number(row.shard_index);
    return {
      id: Number(row.id),
      runId: row.run_id,
      job: row.job,
      shard,
      shardName: history.shardName(shard),
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
  return { runs: read.records, unreadShards: read.unread };
}
