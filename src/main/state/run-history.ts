import type { Problem } from '../../shared/problem';
import type { ClusterConnections, ShardHandle } from '../cluster/connections';
import { describeShardError } from '../cluster/connections';
import type { ScopedLogger } from '../log';
import { asProblem } from '../lifecycle/problem';

/**
 * Outcomes of a rollup run that committed the window's rows. `fenced` counts: a fenced run wrote and committed its
 * window exactly as an `ok` run does; only the watermark move was refused, because a newer lease holder owns it.
 * `failed` and `cancelled` runs rolled back and wrote nothing.
 */
export const COMMITTED_ROLLUP_OUTCOMES = ['ok', 'fenced'] as const;

/** One run of a job on one shard, as written to strata_job_runs. */
export interface JobRunEntry {
  job: string;
  /** Rollup level, or the table's short name for maintenance runs; null for a run over a whole shard. */
  level: string | null;
  shard: number;
  windowStart: Date | null;
  windowEnd: Date | null;
  trigger: string;
  host: string;
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  outcome: string;
  rowsRead?: number;
  rowsWritten?: number;
  rowsRemoved?: number;
  durationMs?: number;
  fencingToken?: number | null;
  error?: string | null;
  detail?: string | null;
  /** The process that ran it; by default the pid RunHistory was built with (this process's). */
  pid?: number;
}

/** A statement and its parameters. */
export interface HistoryStatement {
  sql: string;
  params: unknown[];
}

/** What reading every shard's history gave: the records, and the shards that could not be read. */
export interface HistoryRead<T> {
  records: T[];
  unread: Array<{ shard: number; shardName: string; problem: Problem }>;
}

const INSERT_SQL = `INSERT INTO strata_job_runs (job, level, window_start, window_end, trigger_kind, host, started_at, finished_at, outcome, rows_read, rows_written,
                     rows_removed, error, run_id, shard_index, duration_ms, fencing_token, detail, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/**
 * The windows of a level that count as completed on a shard: the latest run of the window recorded for that shard
 * committed its rows (see COMMITTED_ROLLUP_OUTCOMES). A later failed or cancelled run makes the window not
 * completed again, even though it rolled back, because a re-run that failed is often one whose source changed
 * (late rows) and the committed rows no longer match it. Runs another shard recorded here while its own shard was
 * down are not this shard's. Answers `w`, the window start in epoch seconds, in window order.
 */
export function completedWindowsSql(level: string, shard: number, from: Date, to: Date): HistoryStatement {
  const ofShard = (alias: string) => `(${alias}.shard_index = ? OR ${alias}.shard_index IS NULL)`;
  return {
    sql: `SELECT UNIX_TIMESTAMP(r.window_start) AS w FROM strata_job_runs r
           WHERE r.job = 'rollup' AND r.level = ? AND r.window_start >= ? AND r.window_start < ? AND ${ofShard('r')}
             AND r.outcome IN (${COMMITTED_ROLLUP_OUTCOMES.map(() => '?').join(', ')})
             AND NOT EXISTS (SELECT 1 FROM strata_job_runs l
                              WHERE l.job = 'rollup' AND l.level = r.level AND l.window_start = r.window_start AND ${ofShard('l')}
                                AND (l.started_at > r.started_at OR (l.started_at = r.started_at AND l.id > r.id)))
           ORDER BY r.window_start LIMIT 100000`,
    params: [level, from, to, shard, ...COMMITTED_ROLLUP_OUTCOMES, shard],
  };
}

/** Runs the completed-windows statement through a shard's query; answers the window starts. */
export async function readCompletedWindows(
  query: (sql: string, params: unknown[]) => Promise<unknown>,
  level: string,
  shard: number,
  from: Date,
  to: Date,
): Promise<Date[]> {
  const statement = completedWindowsSql(level, shard, from, to);
  const rows = (await query(statement.sql, statement.params)) as Array<{ w: number | string }>;
  return rows.map((row) => new Date(Number(row.w) * 1000));
}

/**
 * The run history in strata_job_runs. A run is written on its own shard, or on the first other shard that answers
 * when its own is down, so an outage still shows; reads merge every shard's rows, newest first, and name the
 * shards that could not be read.
 */
export class RunHistory {
  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    /** Written with every run that names no pid of its own. */
    private readonly pid: number = process.pid,
  ) {}

  /** Writes the run on its shard, or elsewhere; never throws (the job's outcome is already decided). */
  async record(entry: JobRunEntry): Promise<void> {
    const values = [
      entry.job,
      entry.level,
      entry.windowStart,
      entry.windowEnd,
      entry.trigger,
      entry.host.slice(0, 255),
      entry.startedAt,
      entry.finishedAt,
      entry.outcome,
      entry.rowsRead ?? 0,
      entry.rowsWritten ?? 0,
      entry.rowsRemoved ?? 0,
      entry.error?.slice(0, 4000) ?? null,
      entry.runId,
      entry.shard,
      entry.durationMs ?? Math.max(0, entry.finishedAt.getTime() - entry.startedAt.getTime()),
      entry.fencingToken ?? null,
      entry.detail?.slice(0, 60_000) ?? null,
      entry.pid ?? this.pid,
    ];
    const own = this.connections.shards[entry.shard];
    const candidates = [...(own ? [own] : []), ...this.connections.shards.filter((handle) => handle.index !== entry.shard)];
    for (const candidate of candidates) {
      try {
        await this.connections.query(candidate.index, INSERT_SQL, values);
        return;
      } catch (error) {
        this.log.warn(`could not record the ${entry.job} run of shard ${entry.shard} on ${candidate.label}`, error);
      }
    }
  }

  /**
   * Reads `select` (which must end in `ORDER BY started_at DESC, id DESC LIMIT ?`; the limit is appended) on every
   * shard, maps each row with the shard it was read from, and merges them newest first.
   */
  async read<Row, T extends { startedAt: string; shard: number; id: number }>(
    select: HistoryStatement,
    limit: number,
    toRecord: (row: Row, readFrom: ShardHandle) => T,
  ): Promise<HistoryRead<T>> {
    const capped = Math.max(1, Math.min(1000, Math.floor(limit)));
    const unread: HistoryRead<T>['unread'] = [];
    const perShard = await Promise.all(
      this.connections.shards.map(async (handle) => {
        try {
          const rows = await this.connections.query<Row[]>(handle.index, select.sql, [...select.params, capped]);
          return rows.map((row) => toRecord(row, handle));
        } catch (error) {
          this.log.warn(`cannot read the run history of ${handle.label}`, error);
          unread.push({ shard: handle.index, shardName: handle.label, problem: asProblem(describeShardError(error, handle)) });
          return [];
        }
      }),
    );
    const records = perShard
      .flat()
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.shard - b.shard || b.id - a.id)
      .slice(0, capped);
    return { records, unread: unread.sort((a, b) => a.shard - b.shard) };
  }

  /** The label of a shard index read back from history (a profile may have fewer shards than the history names). */
  shardName(index: number): string {
    return this.connections.shards[index]?.label ?? `shard${index}`;
  }
}
